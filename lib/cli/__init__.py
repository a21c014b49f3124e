"""``python -m lib <command>``: the command line, one module per command group over the same domain the pages
use (``query``, ``lake``, ``sentiment``, ``automl``, ``report``, ``bench``), with what they share in ``common``.
``commands`` assembles the parser from them and runs a command; every failure ends as one line on stderr."""

from __future__ import annotations

from lib.cli.commands import build_parser, main

__all__ = ["build_parser", "main"]
