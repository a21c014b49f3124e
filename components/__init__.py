"""Reusable UI pieces the pages compose: one subpackage per page (``lake``, ``sql``, ``sentiment``, ``automl``,
``reports``) and, at the top, what every page shares (``feedback`` for errors, ``metrics``, ``plain`` text,
``result_grid``, ``routing``, ``backend_badge``, ``sign_in``)."""
