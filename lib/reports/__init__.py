"""Reports that last: Markdown + SQL files in the lake (document), their snapshots and versions (store), the guard
and refresh (run), what each block draws and the HTML export (render), pinned items as blocks (pins)."""
