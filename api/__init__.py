"""The REST API: a Falcon WSGI app over :class:`livecode.core.service.Livecode`, served by gunicorn."""
