"""eventlet's monkey patching for the test processes, made to live with pytest-xdist.

`pytest -n N`: the controller only hands out tests over execnet, whose reader runs on an OS thread —
green threads there hang it, so it is not patched. Each worker runs tests (nameko needs the patch)
and keeps execnet's queues, locks and events OS-level: its reader thread sets them, its main
thread waits on them between tests.
"""
import os
import sys

import eventlet


def _xdist_controller():
    if "PYTEST_XDIST_WORKER" in os.environ:
        return False
    args = sys.argv[1:] + os.environ.get("PYTEST_ADDOPTS", "").split()
    for i, arg in enumerate(args):
        if arg in ("-n", "--numprocesses"):
            workers = args[i + 1] if i + 1 < len(args) else ""
        elif arg.startswith("--numprocesses="):
            workers = arg.split("=", 1)[1]
        elif arg.startswith("-n") and not arg.startswith("--"):
            workers = arg[2:]
        else:
            continue
        return workers not in ("0", "")  # -n 0: no workers, the tests run here
    return False


def _keep_execnet_on_os_threads():
    from eventlet import patcher
    from execnet import gateway_base

    threading, queue, thread, time = (patcher.original(m) for m in ("threading", "queue", "_thread", "time"))
    model = gateway_base.ThreadExecModel
    model.queue = property(lambda self: queue)
    model.get_ident = lambda self: thread.get_ident()
    model.sleep = lambda self, delay: time.sleep(delay)
    model.start = lambda self, func, args=(): thread.start_new_thread(func, args)
    model.Lock = model.RLock = lambda self: threading.RLock()
    model.Event = lambda self: threading.Event()


def monkey_patch():
    if _xdist_controller():
        return
    if "PYTEST_XDIST_WORKER" in os.environ:
        _keep_execnet_on_os_threads()
    eventlet.monkey_patch()
