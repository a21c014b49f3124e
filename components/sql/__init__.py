"""UI pieces of the SQL page: the editor and its tabs, parameters, history and saved queries, results, plans, profiles, completions, the schema sidebar and the chart builder."""
