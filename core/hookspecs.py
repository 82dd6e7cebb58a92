"""The whole extension surface of livecode, in one file.

A plugin is a module or object with functions named like the specs below and marked with
``@hookimpl``; a package exposes it through the ``livecode`` entry-point group::

    [options.entry_points]
    livecode =
        ruby = livecode_ruby.plugin

Registration hooks receive a ``register`` callback rather than returning values, so one plugin can
register several things and livecode can name the plugin in any error (two plugins claiming the
same language, for example, stop start-up with both names). ``hookimpl`` is also importable as
``from livecode import hookimpl``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import threading

    from .config import Settings
    from .contracts import LanguageRunner, Queue, Sandbox, Store
    from .execution_states import Status
    from .models import Execution
    from .service import Livecode

    StoreFactory = Callable[[str, Settings], Store]
    QueueFactory = Callable[[str, Settings], Queue]

hookspec = pluggy.HookspecMarker("livecode")
hookimpl = pluggy.HookimplMarker("livecode")


# --- What runs ------------------------------------------------------------------------------


@hookspec
def livecode_register_languages(register: Callable[[LanguageRunner], None],
                                settings: Settings) -> None:
    """Register language runners.

    Call ``register(runner)`` with a :class:`livecode.core.contracts.LanguageRunner` instance for
    each language; ``runner.name`` is what clients send as ``language``. ``settings`` is the
    :class:`livecode.core.config.Settings`; read plugin options with
    ``settings.option("PYTHON", default)`` (environment variable ``LIVECODE_PYTHON``).
    """


@hookspec
def livecode_register_sandboxes(register: Callable[[type[Sandbox]], None]) -> None:
    """Register sandboxes.

    Call ``register(SandboxClass)`` with a subclass of :class:`livecode.core.contracts.Sandbox`;
    ``SandboxClass.name`` is what operators choose with ``LIVECODE_SANDBOX``. The class is
    instantiated once per worker process, with the settings, only if it is chosen.
    """


# --- Where things are kept and carried ------------------------------------------------------


@hookspec
def livecode_register_stores(register: Callable[[str, StoreFactory], None],
                             open_store: Callable[[str], Store]) -> None:
    """Register store backends by URL scheme.

    Call ``register("sqlite", factory)`` where ``factory(url, settings)`` returns a
    :class:`livecode.core.contracts.Store`. ``LIVECODE_STORE=sqlite:///path`` then picks it.
    A store made of other stores (the ``split:`` store) opens them by URL with ``open_store``;
    a plugin that does not need it may leave the argument out.
    """


@hookspec
def livecode_register_queues(register: Callable[[str, QueueFactory], None]) -> None:
    """Register queue backends by URL scheme.

    Call ``register("redis", factory)`` where ``factory(url, settings)`` returns a
    :class:`livecode.core.contracts.Queue`. ``LIVECODE_QUEUE=redis://host:6379/0`` picks it.
    """


# --- Front doors ----------------------------------------------------------------------------


@hookspec
def livecode_register_routes(register: Callable[..., None], api: Any) -> None:
    """Add routes to the web API (as datasette's ``register_routes``): another front door onto
    the same service, such as another judge's API that existing clients already speak.

    Call ``register(path, resource)`` or ``register(path, resource, suffix)`` with a URI
    template (``"/judge0/submissions/{token}"``) and a resource object of the web framework the
    API is served with (Falcon: a class with ``on_get``/``on_post`` methods, or
    ``on_get_<suffix>`` ones when ``suffix`` is given). ``api`` is what livecode's own resources
    are built from (``livecode.api.resources.Parts``: ``livecode``, the
    :class:`livecode.core.service.Livecode` to act through, and ``quotas``); a resource that
    subclasses ``livecode.api.resources.Resource`` acts for ``req.context.caller`` under every
    rule livecode enforces (keys and owners, scopes, quotas, sizes, limits within caps). The
    core only collects the routes; the API mounts them behind its middleware. A path registered
    twice, or one of the API's own, stops start-up naming the plugins.
    """


# --- Observing ------------------------------------------------------------------------------


@hookspec
def livecode_execution_state_changed(execution: Execution, previous: Status | None,
                                     livecode: Livecode) -> None:
    """Called after an execution's status changed and the change is stored.

    ``execution`` is the new :class:`livecode.core.models.Execution`, ``previous`` the status it
    left (``None`` when it was just created as QUEUED), ``livecode`` the service that changed
    it (an observer that needs none may leave the argument out). Called in the process that
    made the change (API or worker); keep it fast, since it runs inline. An exception is logged
    and otherwise ignored: an observer never breaks a run.
    """


@hookspec
def livecode_worker_serving(livecode: Livecode, stopped: threading.Event) -> None:
    """Called when a worker starts consuming, in its process: the place for work that goes on
    beside the runs (delivering callbacks, say) on the plugin's own threads, never the run
    slots. ``stopped`` is set once the worker has drained and stopped; end the work then."""
