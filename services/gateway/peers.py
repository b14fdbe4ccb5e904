"""How the gateway asks the other services: nameko RPC proxies whose requests are published without
publisher confirms and not persisted.

A confirm is a broker round trip on every request, and a persistent message is written to disk when
it is not consumed at once; neither buys anything here. Every call has a deadline
(GatewayService._call): a request the broker lost (restart, dropped connection) ends in it, as a
request whose service is down does, with 503 and Retry-After, and the writes behind the gateway are
idempotent (submit, decide: Idempotency-Key) or safe to repeat. What confirms did besides: a request
to a service whose queue does not exist (never started on this vhost) raised UnknownService at once;
it now waits for the deadline too.
"""
import warnings

from nameko.constants import NON_PERSISTENT
from nameko.rpc import RpcProxy, get_rpc_exchange

# The RPC exchange is declared before the first request on a connection (kombu remembers it): a request
# sent before any service or reply listener declared it (the gateway's first look at the sessions, at
# start) would otherwise close the publishing channel with NOT_FOUND, and the next request with it.
REQUESTS = {"use_confirms": False, "delivery_mode": NON_PERSISTENT, "declare": [get_rpc_exchange({})]}

# nameko asks for mandatory delivery on every request and warns that without confirms it cannot tell.
warnings.filterwarnings("ignore", message="Mandatory delivery was requested", module="nameko")


def peer(service_name, expires=None):
    """An RpcProxy to `service_name` whose requests go out unconfirmed and transient; with `expires`
    (seconds), a request not taken by then is dropped by the broker (a look no one will wait for
    must not pile up while the service is down)."""
    return RpcProxy(service_name, **REQUESTS, **({"expiration": expires} if expires else {}))
