"""``python -m lib.bench worker NAME LAKE ROWS``: one measurement in a fresh process (the parent reads its JSON);
``python -m lib.bench ...`` otherwise is ``python -m lib bench ...``."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from lib.bench import main, worker

if len(sys.argv) >= 2 and sys.argv[1] == "worker":
    result = worker(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]))
    print(json.dumps(asdict(result)))
    sys.exit(0)
sys.exit(main(sys.argv[1:]))
