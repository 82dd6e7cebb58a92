"""What each responder declares about itself: the body and query parameters it reads, the
answers it gives. :func:`operation` both checks a request against the declaration before the
responder runs (``req.context.body``, ``req.context.query``) and keeps it for the OpenAPI
document (:mod:`.openapi`), so what is refused and what is documented never drift apart.
"""

import functools
import inspect
from dataclasses import dataclass, field

from .validation import Body, Param


@dataclass(frozen=True)
class Answer:
    """A success answer: the schema of its body (a name in :mod:`.schemas`, or a plugin's own
    JSON Schema) and what it means."""

    schema: str | dict
    description: str
    media_type: str = "application/json"
    location: bool = False  # a Location header names what was made or queued
    also: dict[str, str] = field(default_factory=dict)  # other media types: their schema's name


@dataclass(frozen=True)
class Tag:
    """The group a resource's operations are listed under; livecode's own resources go by
    scope, a plugin's resources set ``tag`` to their own (the Judge0 and Piston layers)."""

    name: str
    description: str


@dataclass(frozen=True)
class Operation:
    summary: str
    answers: dict[int, Answer]
    body: Body | None = None
    query: tuple[Param, ...] = ()
    # Error statuses beyond those that follow from the rest (auth, body, query, path, quotas).
    errors: dict[int, str] = field(default_factory=dict)
    description: str = ""


def operation(summary: str, answers: dict[int, Answer], **declared):
    """Declare a responder's operation and check each request against it first."""
    op = Operation(summary, answers, **declared)

    def decorate(responder):
        if inspect.iscoroutinefunction(responder):  # the ASGI app's: they read no body
            assert op.body is None, "an async responder's body is not checked yet"

            @functools.wraps(responder)
            async def checked(resource, req, resp, **params):
                req.context.query = {p.name: p.read(req) for p in op.query}
                return await responder(resource, req, resp, **params)

            checked.operation = op
            return checked

        @functools.wraps(responder)
        def checked(resource, req, resp, **params):
            if op.body is not None:
                req.context.body = op.body.read(req, resource.settings)
            req.context.query = {p.name: p.read(req) for p in op.query}
            return responder(resource, req, resp, **params)

        checked.operation = op
        return checked

    return decorate
