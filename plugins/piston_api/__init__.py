"""Piston v2's API at ``/api/v2`` (its own path on a self-hosted Piston): clients move to
livecode by pointing their base URL at ``http://host/api/v2``."""

from livecode.core.hookspecs import hookimpl

from .execute import Piston

PREFIX = "/api/v2"


@hookimpl
def livecode_register_routes(register, api):
    piston = Piston(api)
    register(f"{PREFIX}/runtimes", piston, "runtimes")
    register(f"{PREFIX}/execute", piston, "execute")
