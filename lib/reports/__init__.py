"""Reports that last: Markdown + SQL files in the lake (``document``, ``markdown``), their snapshots and versions
(``store``), the guard and refresh (``run``), what each block draws (``render``), pinned items as blocks
(``pins``) and the self-contained HTML export (``export``)."""
