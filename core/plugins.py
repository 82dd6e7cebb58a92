"""Loading plugins, built-in and third-party alike, and collecting what they register. Entry
points load one by one, so a broken plugin is named and skipped (or, strict, stops start-up)
instead of taking the whole CLI down; docs/plugins.md lists the settings."""

import importlib.metadata
import logging
import warnings
from urllib.parse import urlsplit

import pluggy

from . import hookspecs
from .errors import InvalidInput, PluginError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "livecode"


def _names(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {n.strip() for n in value.split(",") if n.strip()}


def make_plugin_manager(environ: dict, extra_plugins=(),
                        failed: dict | None = None) -> pluggy.PluginManager:
    """Every allowed entry point; one that fails is warned of and kept in ``failed``."""
    pm = pluggy.PluginManager("livecode")
    pm.add_hookspecs(hookspecs)
    only = _names(environ.get("LIVECODE_LOAD_PLUGINS"))
    blocked = _names(environ.get("LIVECODE_DISABLE_PLUGINS")) or set()
    strict = environ.get("LIVECODE_STRICT_PLUGINS", "") not in ("", "0", "false")
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in blocked or (only is not None and ep.name not in only):
            pm.set_blocked(ep.name)
            continue
        if pm.has_plugin(ep.name):
            continue  # the same distribution seen twice on sys.path
        try:
            pm.register(ep.load(), name=ep.name)
        except Exception as exc:
            if strict:
                raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
            reason = f"{type(exc).__name__}: {exc}"
            if failed is not None:
                failed[ep.name] = (ep, reason)
            warnings.warn(f"livecode: skipping plugin {ep.name!r} ({ep.value}): {reason}",
                          stacklevel=2)
    for plugin in extra_plugins:
        pm.register(plugin)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(str(exc)) from exc
    return pm


def _collect(pm: pluggy.PluginManager, hook_name: str, kind: str, key, **kwargs) -> dict:
    """Call a ``register`` hook through pluggy (so monitoring sees it) once per plugin, so that
    a name registered twice is refused naming both plugins."""
    found: dict = {}
    owners: dict = {}
    plugins = pm.get_plugins()
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        def register(*args, _plugin=impl.plugin_name):
            name, value = key(*args)
            if name in found:
                raise PluginError(
                    f"{kind} {name!r} is registered by both {owners[name]!r} and {_plugin!r}"
                )
            found[name], owners[name] = value, _plugin
        only_this = pm.subset_hook_caller(hook_name, [p for p in plugins if p is not impl.plugin])
        only_this(register=register, **kwargs)
    return found


class Plugins:
    """What the loaded plugins provide, looked up by name or URL scheme."""

    def __init__(self, settings, extra_plugins=()):
        self.settings = settings
        # Entry points that failed to load and were skipped: name -> (entry point, reason).
        self.failed: dict = {}
        self.pm = pm = make_plugin_manager(settings.environ, extra_plugins, self.failed)
        self.languages = _collect(pm, "livecode_register_languages", "language",
                                  lambda runner: (runner.name, runner), settings=settings)
        self.sandboxes = _collect(pm, "livecode_register_sandboxes", "sandbox",
                                  lambda cls: (cls.name, cls))
        self.stores = _collect(pm, "livecode_register_stores", "store scheme",
                               lambda scheme, factory: (scheme, factory),
                               open_store=self.open_store)
        self.queues = _collect(pm, "livecode_register_queues", "queue scheme",
                               lambda scheme, factory: (scheme, factory))
        self.event_channels = _collect(pm, "livecode_register_event_channels",
                                       "event channel scheme",
                                       lambda scheme, factory: (scheme, factory))

    def routes(self, api) -> dict:
        """The routes plugins add to the web API: ``{path: (resource, suffix)}``."""
        return _collect(self.pm, "livecode_register_routes", "route",
                        lambda path, resource, suffix=None: (path, (resource, suffix)), api=api)

    def open_store(self, url: str):
        return self._by_scheme(self.stores, "store", url)(url, self.settings)

    def open_queue(self, url: str):
        return self._by_scheme(self.queues, "queue", url)(url, self.settings)

    def open_events(self, url: str):
        return self._by_scheme(self.event_channels, "event channel", url)(url, self.settings)

    def create_sandbox(self, name: str):
        try:
            cls = self.sandboxes[name]
        except KeyError:
            raise InvalidInput(
                f"unknown sandbox {name!r}; installed: {', '.join(sorted(self.sandboxes)) or 'none'}"
            ) from None
        return cls(self.settings)

    @staticmethod
    def _by_scheme(factories: dict, kind: str, url: str):
        scheme = urlsplit(url).scheme
        try:
            return factories[scheme]
        except KeyError:
            known = ", ".join(f"{s}://" for s in sorted(factories)) or "none"
            raise InvalidInput(f"no {kind} plugin handles {url!r}; installed: {known}") from None
