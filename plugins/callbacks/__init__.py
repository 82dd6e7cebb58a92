"""Callbacks: a run may carry a ``callback_url``, called once when the run ends with the run's
JSON (``GET /executions/{id}``'s), signed with the asking key's secret (:mod:`.signing`),
retried with backoff (:mod:`.agent`), and never sent where it could reach the deployment's own
network (:mod:`.targets`).

The URL is checked when the run is asked for (:func:`requested`, which the API calls: a refused
one is a 422 and nothing is queued); the callback's state lives in the run's record
(:mod:`.record`); workers deliver, beside their run slots, from the
``livecode_worker_serving`` hook, and are told of runs that end in them by
``livecode_execution_state_changed``.
"""

import threading
import weakref

from livecode.core.errors import InvalidInput
from livecode.core.execution_states import TERMINAL
from livecode.core.hookspecs import hookimpl

from . import record
from .agent import Agent
from .targets import allowed_networks, checked_addresses

AGENTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # Livecode -> its Agent
_lock = threading.Lock()


def requested(livecode, signer: str, url: str, format: str = "livecode") -> dict:
    """The callback part of a new run's record, once ``url`` passes; :class:`InvalidInput`
    (422) otherwise."""
    if not signer:
        raise InvalidInput("callback_url needs an API key: the callback is signed with the "
                           "key's secret, and this request came without one",
                           field="callback_url")
    checked_addresses(url, allowed_networks(livecode.settings))
    return record.new(url, signer, format)


def render_execution(execution, livecode) -> dict:
    """``GET /executions/{id}``'s JSON, less the callback's own progress: every attempt sends
    the same body."""
    from livecode.api.resources import execution_json  # the API's own shape of a run

    data = execution_json(execution)
    del data["callback"]
    return data


record.register_format("livecode", "POST", render_execution)


@hookimpl
def livecode_worker_serving(livecode, stopped):
    with _lock:
        AGENTS[livecode] = Agent(livecode, stopped)


@hookimpl
def livecode_execution_state_changed(execution, previous, livecode):
    if execution.status in TERMINAL and record.of(execution) is not None:
        agent = AGENTS.get(livecode)
        if agent is not None and not agent.stopped.is_set():
            agent.later(execution.execution_id)
