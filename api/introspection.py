"""What the API tells about the deployment itself (``/health``, ``/languages``, ``/limits``):
whether the store and queue answer, and each sandbox in use with the protections it has here.
``livecode serve`` and ``livecode api`` also ask it before they start."""

from livecode.core.service import Livecode


class Introspection:
    def __init__(self, livecode: Livecode):
        self.livecode = livecode
        self._sandbox_report: dict | None = None
        self._sandboxes: dict = {}  # each sandbox's probe instance, asked its start path live

    def sandbox_report(self) -> dict:
        """Each sandbox in use and the protections it has on this host (or why it cannot run).
        Sandboxes are probed once per process."""
        if self._sandbox_report is None:
            report = {}
            for name in sorted(self.livecode.sandbox_names()):
                try:
                    sandbox = self.livecode.plugins.create_sandbox(name)
                    report[name] = {"ok": True, "protections": sandbox.protections()}
                    if path := sandbox.start_path():
                        report[name]["start_path"] = path
                    sandbox.close()
                    self._sandboxes[name] = sandbox
                except Exception as exc:
                    report[name] = {"ok": False, "error": str(exc)}
            self._sandbox_report = report
        return self._sandbox_report

    def languages(self) -> list[dict]:
        sandboxes = self.sandbox_report()
        sandbox_of = self.livecode.sandbox_name
        return [
            {
                "name": runner.name,
                "display_name": runner.display_name or runner.name,
                "file_extension": runner.file_extension,
                "version": runner.version(),
                "sandbox": sandbox_of(runner.name),
                "protections": sandboxes[sandbox_of(runner.name)].get("protections"),
            }
            for runner in sorted(self.livecode.plugins.languages.values(), key=lambda r: r.name)
        ]

    def limits(self) -> dict:
        settings = self.livecode.settings
        return {"defaults": settings.limits.to_dict(), "caps": settings.limit_caps.to_dict(),
                "compile": settings.compile_limits.to_dict()}

    def health(self) -> dict:
        checks = {}
        try:
            self.livecode.store.ping()
            checks["store"] = {"ok": True}
        except Exception as exc:
            checks["store"] = {"ok": False, "error": str(exc)}
        try:  # the broker is asked once: its depth answers whether it is there
            depth = self.livecode.queue.depth()
            if depth is None:
                self.livecode.queue.ping()
            checks["queue"] = {"ok": True, "depth": depth}
        except Exception as exc:
            checks["queue"] = {"ok": False, "error": str(exc)}
        ok = all(c["ok"] for c in checks.values())
        sandboxes = self.sandbox_report()
        for name, sandbox in self._sandboxes.items():
            if path := sandbox.start_path():  # it may change while the process lives
                sandboxes[name]["start_path"] = path
        return {"ok": ok, "checks": checks, "sandboxes": sandboxes}
