"""Domain errors: a stable code for machines, a Chinese message for people.

Every rule that refuses something raises a DomainError (or a subclass). The gateway turns it
into `{"error": {"code", "message", "details"}}` with `http_status`. Over RPC every subclass
travels as itself: services.common.rpc_errors listens for new classes through `on_new_class`,
so this module stays free of any framework.
"""

_listeners = []  # callables(cls), told of every DomainError class, earlier ones included
_classes = []


def on_new_class(listener):
    """Call `listener(cls)` for every DomainError class defined so far and from now on."""
    _listeners.append(listener)
    for cls in _classes:
        listener(cls)


def _register(cls):
    _classes.append(cls)
    for listener in _listeners:
        listener(cls)


class DomainError(Exception):
    http_status = 422
    code = "invalid"

    def __init__(self, message, code=None, details=None, http_status=None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if http_status:
            self.http_status = http_status
        self.details = details
        # nameko RPC rebuilds the exception from args on the caller's side (see _register).
        self.args = (message, self.code, details, self.http_status)

    def __str__(self):
        return f"{self.code}: {self.message}"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _register(cls)

    def to_dict(self):
        return {"code": self.code, "message": self.message, "details": self.details,
                "http_status": self.http_status}


class ValidationFailed(DomainError):
    """Input that breaks a rule. details: {field: [Chinese message, ...]}"""
    http_status = 422
    code = "validation_failed"


class NotFound(DomainError):
    http_status = 404
    code = "not_found"


class Conflict(DomainError):
    """The request collides with the current state (already exists, wrong state, second click)."""
    http_status = 409
    code = "conflict"


class Forbidden(DomainError):
    http_status = 403
    code = "forbidden"


class Unauthenticated(DomainError):
    http_status = 401
    code = "unauthenticated"


class TooManyRequests(DomainError):
    http_status = 429
    code = "too_many_requests"


_register(DomainError)


class Unavailable(DomainError):
    """A service did not answer in time: try again later (HTTP 503)."""
    http_status = 503
    code = "unavailable"
