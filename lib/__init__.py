"""LakeLens's domain, plain typed Python that a test or the CLI can call (docs/ARCHITECTURE.md has the map).

At the top: ``settings`` (every setting), ``errors`` (one exceptions module), ``paths`` (lake keys), ``catalog``
(Glue-shaped tables), ``values`` and ``charts``. By domain: ``backends`` (the interface and the local and aws
backends), ``sql`` (the SQL page's domain), ``lake`` (the Lake page's), ``sentiment`` (the Sentiment page's, with
the bias metrics), ``automl`` and ``reports``; ``cli`` is ``python -m lib``. ``data`` is the one module that
imports Streamlit (the pages' cached access); ``bench`` measures the pages' paths and nothing in the domain imports
it.
"""
