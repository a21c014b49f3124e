from __future__ import annotations

import sys

from lib.cli.commands import main

sys.exit(main())
