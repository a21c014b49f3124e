"""UI pieces of the Reports page: the report view (list, blocks, refresh, edit, versions, slides), pins from other pages and present mode."""
