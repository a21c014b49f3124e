"""The lake itself: objects and their previews (``objects``), ingesting files as tables (``ingest``; the
streaming path for large files in ``stream``), converting a raw table into curated Parquet (``curate``) and the
seeded demo lake (``demo``)."""
