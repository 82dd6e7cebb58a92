"""The whole extension surface of livecode, in one file; docs/plugins.md ("The hooks") is the
reference. Registration hooks receive a ``register`` callback rather than returning values, so
one plugin can register several things and an error can name both plugins that claim a name."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import threading

    from .config import Settings
    from .contracts import EventChannel, LanguageRunner, Queue, Sandbox, Store
    from .execution_states import Status
    from .models import Execution
    from .service import Livecode

    StoreFactory = Callable[[str, Settings], Store]
    QueueFactory = Callable[[str, Settings], Queue]
    EventChannelFactory = Callable[[str, Settings], EventChannel]

hookspec = pluggy.HookspecMarker("livecode")
hookimpl = pluggy.HookimplMarker("livecode")


# --- What runs ------------------------------------------------------------------------------


@hookspec
def livecode_register_languages(register: Callable[[LanguageRunner], None],
                                settings: Settings) -> None:
    """Call ``register(runner)`` with a ``LanguageRunner`` for each language; its ``name`` is
    what clients send as ``language``."""


@hookspec
def livecode_register_sandboxes(register: Callable[[type[Sandbox]], None]) -> None:
    """Call ``register(SandboxClass)`` with a ``Sandbox`` subclass; operators choose it by its
    ``name``, and it is instantiated once per worker only if chosen."""


# --- Where things are kept and carried ------------------------------------------------------


@hookspec
def livecode_register_stores(register: Callable[[str, StoreFactory], None],
                             open_store: Callable[[str], Store]) -> None:
    """Call ``register(scheme, factory)``, ``factory(url, settings)`` making a ``Store``;
    ``open_store`` lets a store made of other stores (``split:``) open them by URL."""


@hookspec
def livecode_register_queues(register: Callable[[str, QueueFactory], None]) -> None:
    """Call ``register(scheme, factory)``, ``factory(url, settings)`` making a ``Queue``; the
    operator picks it by URL, with ``LIVECODE_QUEUE=<scheme>://…``."""


@hookspec
def livecode_register_event_channels(register: Callable[[str, EventChannelFactory], None]) -> None:
    """Call ``register(scheme, factory)``, ``factory(url, settings)`` making an ``EventChannel``;
    picked by ``LIVECODE_EVENTS``, by default the queue's URL, so its broker carries events."""


# --- Front doors ----------------------------------------------------------------------------


@hookspec
def livecode_register_routes(register: Callable[..., None], api: Any) -> None:
    """Add front doors to the web API (another judge's API): ``register(path, resource[,
    suffix])``, mounted by the API behind its own middleware, so every rule holds for them."""


# --- Observing ------------------------------------------------------------------------------


@hookspec
def livecode_execution_state_changed(execution: Execution, previous: Status | None,
                                     livecode: Livecode) -> None:
    """Called inline, in the process that made it, after a status change is stored, with the
    service that made it; keep it fast: an exception is logged, and an observer never breaks
    a run."""


@hookspec
def livecode_worker_serving(livecode: Livecode, stopped: threading.Event) -> None:
    """Called when a worker starts consuming: work beside its runs goes on the plugin's own
    threads, never the run slots, and ends once ``stopped`` is set."""
