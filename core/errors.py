"""Domain errors, mapped to HTTP statuses in one place by the API; a stable ``code`` lets
frontends branch without parsing messages."""


class LivecodeError(Exception):
    code = "error"

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(LivecodeError):
    code = "not_found"


class InvalidInput(LivecodeError):
    """The request is well-formed but cannot be processed (unknown language, wrong type...)."""

    code = "invalid_input"


class PayloadTooLarge(LivecodeError):
    code = "payload_too_large"


class Conflict(LivecodeError):
    """The resource is not in a state that allows the operation (cancel a finished run...)."""

    code = "conflict"


class Unavailable(LivecodeError):
    """A backend the operation needs (store, queue) cannot be reached right now."""

    code = "unavailable"


class IllegalTransition(LivecodeError):
    code = "illegal_transition"


class PluginError(LivecodeError):
    """A plugin is broken or two plugins claim the same name; raised at start-up."""

    code = "plugin_error"
