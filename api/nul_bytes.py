"""No id or query value with a NUL reaches a store. PostgreSQL's text cannot hold one (psycopg
refuses to send it), so such a request was a 500 there and a plain miss elsewhere; refused
here it is the same answer on every store, before any resource runs or any quota is counted.
``q`` is let through: it searches outputs, which may hold NULs, and every store searches them."""

from livecode.core.errors import InvalidInput, NotFound

SEARCHES_OUTPUT = {"q"}


class RefuseNul:
    def process_resource(self, req, resp, resource, params):
        for name, value in params.items():
            if isinstance(value, str) and "\0" in value:
                raise NotFound(f"no {name.removesuffix('_id')} {value!r}", **{name: value})
        for name, values in req.params.items():
            if name in SEARCHES_OUTPUT:
                continue
            if any("\0" in value for value in ([values] if isinstance(values, str) else values)):
                raise InvalidInput(f"query parameter {name} holds a NUL byte", field=name)
