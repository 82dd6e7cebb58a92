"""Judge0's callback: when a submission with a ``callback_url`` ends, Judge0 PUTs the
submission to it — its default fields, base64-encoded, as Judge0 CE's ``IsolateJob`` does —
and so does this layer, through livecode's callbacks (the same SSRF checks, retries and
``Livecode-Signature``, which a Judge0 receiver may ignore)."""

from livecode.plugins.callbacks.record import register_format

from .submissions import DEFAULT_FIELDS, submission_json


def render(execution, livecode) -> dict:
    return submission_json(execution, DEFAULT_FIELDS, True, livecode.plugins.languages)


register_format("judge0", "PUT", render)
