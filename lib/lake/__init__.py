"""The lake itself: objects, names and listings (``objects``), what a file looks like (``preview``), ingesting
files as tables (``ingest``; the streaming path for large files in ``stream``), converting a raw table into
curated Parquet (``curate``) and the seeded demo lake (``demo``)."""
