"""``python -m tests.aws_standin``: the stand-in served from a terminal until stopped."""

from __future__ import annotations

import argparse
import time
from typing import Any

from tests.aws_standin.app import DEFAULT_REGION, StandIn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.aws_standin",
        description="Serve moto (S3, Glue, SageMaker) with an Athena that executes SQL on DuckDB, on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=5055, help="port to listen on (default 5055)")
    parser.add_argument("--bucket", help="create this bucket at start, e.g. the bucket of LAKELENS_S3_LAKE")
    args = parser.parse_args(argv)
    try:
        standin = StandIn(port=args.port).start()
    except OSError as exc:
        parser.exit(1, f"Cannot listen on 127.0.0.1:{args.port}: {exc.strerror}. Choose another --port.\n")
    if args.bucket:
        standin.client("s3", DEFAULT_REGION).create_bucket(Bucket=args.bucket)
    print(f"AWS stand-in (moto + an Athena that runs SQL) serving at {standin.url}; Ctrl-C stops it.", flush=True)
    lake = f"s3://{args.bucket}/lake/" if args.bucket else "s3://<bucket>/lake/"
    print(
        f"  export LAKELENS_BACKEND=aws LAKELENS_S3_LAKE={lake} LAKELENS_ENDPOINT_URL={standin.url} "
        f"LAKELENS_AWS_REGION={DEFAULT_REGION} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing",
        flush=True,
    )
    import signal

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()
    return 0
