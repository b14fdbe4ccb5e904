"""Domain errors travel over nameko RPC as themselves (code, message, details, status intact).

nameko rebuilds a remote exception from `registry[module path](*args)`; its args arrive as
strings where they were not. Importing this module registers every DomainError class, present
and future (services.contracts.errors.on_new_class).
"""
from nameko.exceptions import get_module_path, registry

from services.contracts.errors import DomainError, on_new_class


def _rebuild(cls):
    def build(message, code=None, details=None, http_status=None):
        # nameko sends non-string arguments as strings: restore the status and an empty details.
        http_status = int(http_status) if http_status not in (None, "None") else None
        details = None if details == "None" else details
        exc = cls.__new__(cls)
        DomainError.__init__(exc, message, code, details, http_status)
        return exc
    return build


def _register(cls):
    registry[get_module_path(cls)] = _rebuild(cls)


on_new_class(_register)
