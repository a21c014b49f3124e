"""``python -m lib <command>``: the command line, one module per command group over the same domain the pages
use. ``commands`` builds the parser and runs a command; every failure ends as one line on stderr."""

from __future__ import annotations

from lib.cli.commands import build_parser, main

__all__ = ["build_parser", "main"]
