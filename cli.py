"""The ``livecode`` command: serve, api, worker, run, plugins.

Every flag has an environment variable of the same name (``--store`` / ``LIVECODE_STORE``); a
flag given on the command line wins.

Exit status: ``livecode run`` exits with its program's own status (124 when the run timed out);
livecode's own errors (a bad flag, a server that cannot be reached, a refused start) exit with
125, as ``docker run`` does, so they are never mistaken for a program's.
"""

import argparse
import importlib.metadata
import json
import logging
import os
import signal
import sys
import threading
import traceback

from livecode import __version__
from livecode.core.config import Settings
from livecode.core.contracts import SandboxError
from livecode.core.errors import LivecodeError
from livecode.api.keys import QUOTAS, SCOPES
from livecode.core.plugins import ENTRY_POINT_GROUP, Plugins

OWN_ERROR = 125  # livecode's own failures; a program's exit status passes through unchanged
TIMED_OUT = 124
DESCRIPTION = ("Run untrusted code for other programs: the API and workers (serve, api, worker), "
               "a client (run) and the list of plugins.")


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one of livecode's own errors (125), not a 2 that a
    program run by ``livecode run`` could also exit with."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(OWN_ERROR, f"{self.prog}: error: {message}\n")


def _backend_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("backends (also LIVECODE_<NAME> environment variables)")
    group.add_argument("--store", help="store URL (default sqlite:///<data-dir>/livecode.db)")
    group.add_argument("--result-store", help="split mode: store for run results (mongodb://…)")
    group.add_argument("--queue", help="queue URL: memory://, redis://host:6379/0, amqp://…")
    group.add_argument("--queue-name", help="queue name (default livecode.executions)")
    group.add_argument("--sandbox", help="sandbox name (default subprocess)")
    group.add_argument("--data-dir", help="where the default SQLite file lives")


def _listen_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 8000; 0 picks a free one)")
    parser.add_argument("--insecure-no-auth", action="store_true", default=None,
                        help="serve a non-loopback address without API keys (everyone is admin)")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="livecode", description=DESCRIPTION,
                    epilog=f"Exit status: a program's own under run (124: timed out); "
                           f"{OWN_ERROR}: livecode's own error.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--version", action="version", version=f"livecode {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    serve = sub.add_parser("serve", help="API and worker in one process, on embedded defaults")
    _listen_flags(serve)
    _backend_flags(serve)
    serve.add_argument("--concurrency", type=int, help="concurrent runs (default: CPU count)")

    api = sub.add_parser("api", help="the API under gunicorn, without a worker")
    _listen_flags(api)
    _backend_flags(api)
    api.add_argument("--processes", type=int, dest="api_processes", help="gunicorn processes")
    api.add_argument("--threads", type=int, dest="api_threads", help="threads per process")

    worker = sub.add_parser("worker", help="run executions from the queue")
    _backend_flags(worker)
    worker.add_argument("--concurrency", type=int, help="concurrent runs (default: CPU count)")

    run = sub.add_parser("run", help="run a file on a livecode server and print its output")
    run.add_argument("file", help="the program, or - for standard input")
    run.add_argument("--url", default=os.environ.get("LIVECODE_URL", "http://127.0.0.1:8000"),
                     help="server URL (LIVECODE_URL; default http://127.0.0.1:8000)")
    run.add_argument("--language", help="language (default: from the file's extension; the "
                     "server's GET /languages lists them)")
    run.add_argument("--stdin", help="a file whose content is the program's standard input")
    run.add_argument("--with", dest="more", action="append", default=[], metavar="FILE",
                     help="another file of the program (repeat for more), named by its path "
                          "from the program's directory, which it must be under")
    run.add_argument("--arg", dest="args", action="append", default=[], metavar="ARG",
                     help="a command-line argument for the program (repeat for more)")
    run.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the result")

    keys = sub.add_parser("keys", help="create, list and revoke API keys (in the store)")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="make a key and print it, once")
    create.add_argument("--name", required=True, help="who or what the key is for")
    create.add_argument("--scope", default="client", choices=SCOPES,
                        help="client (own runs), operator (everyone's runs), admin (also keys)")
    create.add_argument("--quota", action="append", default=[], metavar="NAME=N",
                        help=f"a quota of this key's own ({', '.join(QUOTAS)}; 0: unlimited)")
    _backend_flags(create)
    listing = keys_sub.add_parser("list", help="every key, without secrets")
    listing.add_argument("--json", action="store_true", help="as JSON")
    _backend_flags(listing)
    revoke = keys_sub.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("key_id")
    _backend_flags(revoke)

    plugins = sub.add_parser("plugins", help="list the plugins: loaded, and failed with why")
    plugins.add_argument("--json", action="store_true", help="as JSON")
    return parser


def _settings(args) -> Settings:
    names = ("store", "result_store", "queue", "queue_name", "sandbox", "data_dir", "host", "port",
             "concurrency", "api_processes", "api_threads", "insecure_no_auth")
    return Settings.from_env(**{n: getattr(args, n, None) for n in names})


def cmd_serve(args) -> int:
    from livecode.api.server import LivecodeServer, check_port

    settings = _settings(args)
    check_port(settings.host, settings.port)  # first: the cheapest check, and one clear line
    os.makedirs(settings.data_dir, mode=0o700, exist_ok=True)
    _check_backends(settings)
    LivecodeServer(settings, processes=1, threads=settings.api_threads,
                   embed=EmbeddedWorker).run()
    return 0


class EmbeddedWorker:
    """The worker ``livecode serve`` runs in its API process, on a thread: the one place where
    the in-process ``memory://`` queue meets both sides."""

    label = "worker"

    def __init__(self, livecode):
        from livecode.worker.worker import Worker

        self._stop = threading.Event()
        worker = Worker(livecode, livecode.settings.concurrency)
        self._thread = threading.Thread(target=worker.serve, args=(self._stop,),
                                        name="livecode-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> None:
        self._stop.set()
        self._thread.join(timeout=timeout)


def cmd_api(args) -> int:
    from livecode.api.server import LivecodeServer, check_port

    settings = _settings(args)
    check_port(settings.host, settings.port)
    _check_backends(settings, sandboxes=False, alone="api")  # API hosts run no user code
    LivecodeServer(settings, processes=settings.api_processes,
                   threads=settings.api_threads).run()
    return 0


def _check_backends(settings: Settings, sandboxes: bool = True, alone: str | None = None) -> None:
    """Fail before forking anything when a URL is wrong, a backend is down, (where user code
    will run) a sandbox cannot start, (``alone``: an API or a worker started on its own) the
    queue cannot reach another process, or a non-loopback address would serve without keys."""
    from livecode.api.auth import is_loopback
    from livecode.api.introspection import Introspection
    from livecode.core.service import Livecode

    livecode = Livecode.open(settings)
    try:
        if alone:
            _refuse_in_process_queue(livecode, settings, alone)
        report = Introspection(livecode).health()
        checks = {**report["checks"], **(report["sandboxes"] if sandboxes else {})}
        failing = {k: v["error"] for k, v in checks.items() if not v["ok"]}
        if failing:
            raise LivecodeError(f"cannot start: {failing}")
        if not (is_loopback(settings.host) or settings.insecure_no_auth
                or livecode.store.has_keys()):
            raise LivecodeError(
                f"refusing to serve {settings.host} without API keys: anyone who can reach it "
                "could run code and read every run. Create one first (livecode keys create "
                "--name admin --scope admin), or pass --insecure-no-auth when something in "
                "front authenticates.")
    finally:
        livecode.close()


def _refuse_in_process_queue(livecode, settings: Settings, command: str) -> None:
    if livecode.queue.in_process:
        raise LivecodeError(
            f"cannot start: the queue {settings.queue} lives inside one process, so a "
            f"`livecode {command}` started on its own would never meet the other side; set "
            f"LIVECODE_QUEUE (or --queue) to redis://host:6379/0 or amqp://user:pass@host:5672// "
            f"on the API and every worker, or run `livecode serve` for both in one process on "
            f"one machine")


def cmd_worker(args) -> int:
    from livecode.core.service import Livecode
    from livecode.worker.worker import Worker

    settings = _settings(args)
    livecode = Livecode.open(settings)
    try:
        _refuse_in_process_queue(livecode, settings, "worker")
    except LivecodeError:
        livecode.close()
        raise
    stop = threading.Event()

    def drain(signum, frame):
        # The first SIGTERM or SIGINT drains: take no more work, finish what runs, exit 0.
        # A second SIGINT does not wait: the runs in flight die with the worker (their jails
        # and containers go too) and another worker recovers them.
        if stop.is_set() and signum == signal.SIGINT:
            print("livecode worker: forced to stop", file=sys.stderr, flush=True)
            os._exit(130)
        print("livecode worker: draining (SIGINT again to force)", file=sys.stderr, flush=True)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, drain)
    try:
        worker = Worker(livecode, settings.concurrency)
    except SandboxError as exc:
        livecode.close()
        raise LivecodeError(str(exc)) from None
    print(f"livecode worker {worker.worker_id} consuming {settings.queue}", flush=True)
    try:
        worker.serve(stop)
    finally:
        livecode.close()
    return 0


def _read_text(path: str, what: str) -> str:
    try:
        if path == "-":
            return sys.stdin.buffer.read().decode("utf-8")
        with open(path, "rb") as file:
            return file.read().decode("utf-8")
    except UnicodeDecodeError as exc:
        name = "standard input" if path == "-" else path
        raise LivecodeError(f"{name} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at "
                            f"offset {exc.start}); {what} must be UTF-8") from None


def _program(args, source: str) -> dict:
    """The session's code: the one file, or it and the ``--with`` files, each named by its path
    from the program's own directory (the box mirrors that tree)."""
    if not args.more:
        return {"source_code": source}
    if args.file == "-":
        raise LivecodeError("--with needs the program as a file, not standard input")
    home = os.path.dirname(os.path.abspath(args.file))
    entry = os.path.basename(args.file)
    files = [{"name": entry, "content": source}]
    for path in args.more:
        name = os.path.relpath(os.path.abspath(path), home)
        if name.startswith(os.pardir + os.sep) or name == os.pardir:
            raise LivecodeError(f"{path} is not under {home}, the program's directory")
        files.append({"name": name.replace(os.sep, "/"),
                      "content": _read_text(path, "a program's file")})
    return {"files": files, "entry": entry}


def _language(api, args) -> str:
    """The language to run the file as: ``--language``, else the one whose extension the file
    has; never a guess."""
    known = api.get("/languages")["languages"]
    names = sorted(lang["name"] for lang in known)
    listing = ", ".join(f"{lang['name']} ({lang['file_extension']})" for lang in
                        sorted(known, key=lambda lang: lang["name"]))
    if args.language is not None:
        if args.language not in names:
            raise LivecodeError(f"the server has no language {args.language!r}; it has "
                                f"{listing}")
        return args.language
    if args.file == "-" and len(names) == 1:
        return names[0]  # standard input has no extension; with one language there is no doubt
    ext = os.path.splitext(args.file)[1]
    matches = [lang["name"] for lang in known if ext and lang["file_extension"] == ext]
    if not matches:
        what = (f"files ending in {ext}" if ext else "standard input" if args.file == "-"
                else "a file without an extension")
        raise LivecodeError(f"the server runs no language for {what}; it has {listing}: "
                            f"name one with --language")
    return matches[0]


def cmd_run(args) -> int:
    from livecode.client import ApiClient

    api = ApiClient(args.url, os.environ.get("LIVECODE_API_TOKEN"), timeout=30)
    source = _read_text(args.file, "a program")
    stdin = _read_text(args.stdin, "standard input for a run") if args.stdin else ""
    language = _language(api, args)
    session = api.post("/code-sessions", {"language": language, **_program(args, source)})
    queued = api.post(f"/code-sessions/{session['session_id']}/run",
                      {"stdin": stdin, "args": args.args})
    execution = api.wait(queued["execution_id"], timeout=args.wait)
    sys.stdout.write(execution["stdout"])
    sys.stderr.write(execution["stderr"])
    if execution["status"] != "COMPLETED":
        reason = f" ({execution['reason']})" if execution.get("reason") else ""
        print(f"livecode: {execution['status']}{reason}", file=sys.stderr)
    if execution["status"] == "TIMEOUT":
        return TIMED_OUT
    return execution["exit_code"] if execution["exit_code"] is not None else 1


def cmd_keys(args) -> int:
    from livecode.api import keys

    settings = _settings(args)
    store = Plugins(settings).open_store(settings.store)  # keys live in the (metadata) store
    try:
        if args.keys_command == "create":
            quotas = {}
            for given in args.quota:
                name, _, value = given.partition("=")
                if not value.isdigit():
                    raise LivecodeError(f"--quota {given!r}: use NAME=N, N a whole number")
                quotas[name] = int(value)
            record, key = keys.issue(store, args.name, args.scope, quotas)
            print(f"key {record.key_id} ({record.scope}) for {record.name!r}; it is shown "
                  "only now, keep it:", file=sys.stderr)
            print(key)
            print(f"callback signing secret (GET /callbacks/signing-secret shows it again): "
                  f"{keys.signing_secret(record)}", file=sys.stderr)
        elif args.keys_command == "list":
            rows = [k.public() for k in store.list_keys()]
            if args.json:
                print(json.dumps(rows, indent=2))
            for row in [] if args.json else rows:
                state = f"revoked {row['revoked_at']}" if row["revoked_at"] else "active"
                quotas = " ".join(f"{k}={v}" for k, v in row["quotas"].items())
                print(f"{row['key_id']}  {row['scope']:<8} {state:<32} {row['name']}  {quotas}"
                      .rstrip())
        else:
            record = keys.revoke(store, args.key_id)
            print(f"key {record.key_id} revoked at {record.revoked_at}")
    finally:
        store.close()
    return 0


def describe_plugins(plugins: Plugins) -> list[dict]:
    """Name, version and hooks of every loaded plugin, and every one that failed to load with
    the reason: what ``livecode plugins`` lists."""
    dists = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dists[ep.name] = (ep.dist.name, ep.dist.version) if ep.dist else (None, None)
    rows = []
    for name, plugin in plugins.pm.list_name_plugin():
        dist, version = dists.get(name, (None, None))
        hooks = sorted(hook.name for hook in plugins.pm.get_hookcallers(plugin) or [])
        rows.append({"name": name, "package": dist, "version": version, "status": "loaded",
                     "hooks": hooks, "error": None})
    for name, (ep, reason) in plugins.failed.items():
        dist, version = dists.get(name, (None, None))
        rows.append({"name": name, "package": dist, "version": version, "status": "failed",
                     "hooks": [], "error": f"{ep.value}: {reason}"})
    return sorted(rows, key=lambda row: str(row["name"]))


def cmd_plugins(args) -> int:
    rows = describe_plugins(Plugins(Settings.from_env()))
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(f"{row['name']:<20} {row['package'] or '-'} {row['version'] or ''}".rstrip())
            if row["status"] == "failed":
                print(f"{'':<20} FAILED to load, skipped: {row['error']}")
            else:
                print(f"{'':<20} hooks: {', '.join(row['hooks'])}")
    return 0


COMMANDS = {"serve": cmd_serve, "api": cmd_api, "worker": cmd_worker, "run": cmd_run,
            "keys": cmd_keys, "plugins": cmd_plugins}


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except LivecodeError as exc:
        print(f"livecode: {exc.message}", file=sys.stderr)
        return OWN_ERROR
    except OSError as exc:
        print(f"livecode: {exc}", file=sys.stderr)
        return OWN_ERROR
    except Exception:  # a bug, or a plugin failing its own way: still livecode's, never 1
        traceback.print_exc()
        print("livecode: unexpected error (above)", file=sys.stderr)
        return OWN_ERROR


if __name__ == "__main__":
    sys.exit(main())
