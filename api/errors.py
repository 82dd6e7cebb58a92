"""One JSON error shape for every failure, ours or Falcon's::

    {"error": {"status": 404, "code": "not_found", "message": "no execution 'x'", ...details}}
"""

import falcon

from livecode.core import errors

STATUS_BY_ERROR = {
    errors.NotFound: falcon.HTTP_404,
    errors.InvalidInput: falcon.HTTP_422,
    errors.PayloadTooLarge: falcon.HTTP_413,
    errors.Conflict: falcon.HTTP_409,
    errors.IllegalTransition: falcon.HTTP_409,
    errors.Unavailable: falcon.HTTP_503,
}


class APIError(falcon.HTTPError):
    def __init__(self, status, code: str, message: str, details: dict | None = None):
        super().__init__(status, title=code, description=message)
        self.code = code
        self.details = details or {}

    def to_dict(self, obj_type=dict):
        body = {**self.details, "status": self.status_code, "code": self.code,
                "message": self.description}
        return obj_type(error=body)


def handle_domain_error(req, resp, exc: errors.LivecodeError, params):
    raise APIError(STATUS_BY_ERROR[type(exc)], exc.code, exc.message, exc.details)


def serialize_error(req, resp, exc: falcon.HTTPError):
    """Falcon's own errors (malformed JSON, unknown route, wrong method) get our shape too."""
    if isinstance(exc, APIError):
        body = exc.to_dict()
    else:
        code = (exc.title or "error").lower().replace(" ", "_")
        body = {"error": {"status": exc.status_code, "code": code,
                          "message": exc.description or exc.title}}
    resp.media = body
    resp.content_type = falcon.MEDIA_JSON


def register(app: falcon.App) -> None:
    for error_type in STATUS_BY_ERROR:
        app.add_error_handler(error_type, handle_domain_error)
    app.set_error_serializer(serialize_error)
