"""``python -m tests.aws_standin --port N``: serve the stand-in on 127.0.0.1 until stopped."""

from tests.aws_standin.cli import main

raise SystemExit(main())
