"""Optional bearer-token authentication: with ``LIVECODE_API_TOKEN`` set, every request but
``/health`` (for load balancers) and CORS preflights must carry ``Authorization: Bearer <token>``.
"""

import hmac

import falcon

from .errors import APIError

OPEN_PATHS = {"/health"}


class TokenAuth:
    def __init__(self, token: str):
        self.token = token

    def process_request(self, req, resp):
        if not self.token or req.path in OPEN_PATHS or req.method == "OPTIONS":
            return
        scheme, _, given = (req.get_header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), self.token):
            raise APIError(falcon.HTTP_401, "unauthorized",
                           "send the API token as Authorization: Bearer <token>")
