"""Container health check: `python -m services.common.healthcheck <service>` exits 0 when the
service answers its health RPC within the deadline."""
import eventlet

eventlet.monkey_patch()

import sys  # noqa: E402

from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from services.common.config import env  # noqa: E402


def main(argv):
    service = argv[0]
    try:
        with eventlet.Timeout(5):
            with ClusterRpcProxy({"AMQP_URI": env("AMQP_URI")}) as cluster:
                answer = getattr(cluster, service).health()
    except BaseException as exc:  # noqa: BLE001 — Timeout is a BaseException
        print(f"{service}: unhealthy: {exc!r}", file=sys.stderr)
        return 1
    print(answer)
    return 0 if answer.get("status") == "ok" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
