"""``livecode-console [--url URL] [--token TOKEN] [--interval SECONDS] [--allow-actions]``

Exit status: 0 when the operator quits, 1 when the console crashed, 125 when it could not
start (no terminal, no server, a bad flag), the same code ``livecode`` uses for its own errors.
"""

import argparse
import os
import sys

from livecode.client import ApiClient, ApiError

from .app import MIN_INTERVAL, LivecodeConsole

CANNOT_START = 125


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(CANNOT_START, f"{self.prog}: error: {message}\n")


def main(argv=None) -> int:
    parser = Parser(prog="livecode-console", description="Watch a livecode deployment live.")
    parser.add_argument("--url", default=os.environ.get("LIVECODE_URL", "http://127.0.0.1:8000"),
                        help="API URL (LIVECODE_URL; default http://127.0.0.1:8000)")
    parser.add_argument("--token", default=os.environ.get("LIVECODE_API_TOKEN"),
                        help="an operator API key (LIVECODE_API_TOKEN)")
    parser.add_argument("--interval", type=float, default=1.5,
                        help=f"seconds between refreshes (at least {MIN_INTERVAL})")
    parser.add_argument("--allow-actions", action="store_true",
                        help="allow cancelling and re-running runs (read-only without)")
    args = parser.parse_args(argv)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        print("livecode-console: needs a terminal (standard input and output are not one); "
              "run it in a terminal, or read the API itself with curl or `livecode run`",
              file=sys.stderr)
        return CANNOT_START
    client = ApiClient(args.url, args.token)
    try:
        client.get("/health")
    except ApiError as exc:
        if exc.status != 503:  # a degraded deployment is exactly what to look at
            print(f"livecode-console: {exc}", file=sys.stderr)
            return CANNOT_START
    app = LivecodeConsole(client, args.interval, args.allow_actions)
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())
