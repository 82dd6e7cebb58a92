"""The small core of livecode: hooks, models, the state machine, the service, the worker loop and
the housekeeping its workers do.

Nothing here knows about HTTP, brokers, databases, containers or terminals; those arrive as
plugins through the hooks in :mod:`livecode.core.hookspecs`.
"""
