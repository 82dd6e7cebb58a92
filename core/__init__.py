"""The small core of livecode; HTTP, brokers, databases, containers and terminals arrive as
plugins through the hooks in :mod:`livecode.core.hookspecs`."""
