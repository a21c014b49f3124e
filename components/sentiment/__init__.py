"""UI pieces of the Sentiment page: its controls (table, columns, filters, all in the URL), sections and charts."""
