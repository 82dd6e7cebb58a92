"""The ``callback_url`` a run request may carry: checked when the run is asked for, by the
``callbacks`` plugin (a refused URL is a 422 and nothing is queued), and kept in the run's
record. With the plugin disabled (``LIVECODE_DISABLE_PLUGINS=callbacks``) the field is
refused rather than silently dropped."""

from livecode.core.errors import InvalidInput

from .validation import Field

CALLBACK_URL = Field(str, "called once when the run ends: POST of the run's JSON, signed "
                          "(Livecode-Signature; README, Callbacks); public http(s) addresses "
                          "only, unless the operator allows a network",
                     lambda _: {"format": "uri", "maxLength": 2048})


def extra(livecode, caller, url: str | None, format: str = "livecode") -> dict:
    """What the run's record keeps for its callback (nothing without one)."""
    if url is None:
        return {}
    if not livecode.plugins.pm.has_plugin("callbacks"):
        raise InvalidInput("callbacks are turned off on this server", field="callback_url")
    from livecode.plugins.callbacks import requested

    return {"callback": requested(livecode, caller.key_id, url, format)}
