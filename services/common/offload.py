"""Where CPU-heavy work runs. The service layer takes an `offload(fn, *args, **kwargs)` callable:
the nameko service passes `eventlet.tpool.execute` (argon2, image decoding and face detection off
the event loop, so one request does not stall the others); CLIs and unit tests take `inline`."""


def inline(fn, *args, **kwargs):
    return fn(*args, **kwargs)
