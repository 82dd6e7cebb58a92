"""``livecode-console [--url URL] [--token TOKEN] [--interval SECONDS] [--allow-actions]``"""

import argparse
import os
import sys

from .app import MIN_INTERVAL, LivecodeConsole
from livecode.client import ApiClient, ApiError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="livecode-console",
                                     description="Watch a livecode deployment live.")
    parser.add_argument("--url", default=os.environ.get("LIVECODE_URL", "http://127.0.0.1:8000"),
                        help="API URL (LIVECODE_URL; default http://127.0.0.1:8000)")
    parser.add_argument("--token", default=os.environ.get("LIVECODE_API_TOKEN"),
                        help="API token (LIVECODE_API_TOKEN)")
    parser.add_argument("--interval", type=float, default=1.5,
                        help=f"seconds between refreshes (at least {MIN_INTERVAL})")
    parser.add_argument("--allow-actions", action="store_true",
                        help="allow cancelling and re-running runs (read-only without)")
    args = parser.parse_args(argv)
    client = ApiClient(args.url, args.token)
    try:
        client.get("/health")
    except ApiError as exc:
        if "503" not in str(exc):  # a degraded deployment is exactly what to look at
            print(f"livecode-console: {exc}", file=sys.stderr)
            return 2
    LivecodeConsole(client, args.interval, args.allow_actions).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
