"""UI pieces of the Lake page: the object browser and previews, the catalog browser and table detail, ingest and curate forms."""
