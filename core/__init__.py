"""The small core of livecode: hooks, models, the state machine, the service and the worker loop.

Nothing here knows about HTTP, brokers, databases, containers or terminals; those arrive as
plugins through the hooks in :mod:`livecode.core.hookspecs`.
"""
