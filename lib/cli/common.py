"""What every command group of the CLI shares: the settings a command runs with, and its progress lines."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from lib.settings import Settings, load_settings

if TYPE_CHECKING:
    # what ``parser.add_subparsers()`` returns; each command module's ``add_parser(sub)`` adds its commands to it
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def settings_for(args: argparse.Namespace) -> Settings:
    """The configured settings, or a local lake at ``--root`` when the command was given one."""
    settings = load_settings()
    root = getattr(args, "root", None)
    if root:
        settings = settings.replace(lake_root=root, backend="local")
    return settings


def progress_printer(every_s: float = 2.0) -> Callable[[float, str], None]:
    """Progress lines on stderr, at most one every ``every_s`` seconds (and the last one)."""
    last = [0.0]

    def show(fraction: float, message: str) -> None:
        now = time.monotonic()
        if fraction >= 1.0 or now - last[0] >= every_s:
            last[0] = now
            print(f"{int(fraction * 100):3d}%  {message}", file=sys.stderr, flush=True)

    return show
