"""The client's address behind the reverse proxy: X-Forwarded-For, believed only from trusted proxies.

TRUSTED_PROXIES is a comma-separated list of addresses or networks (`172.30.0.10`, `10.0.0.0/8`).
Each trusted proxy appends the address of whoever connected to it, so the chain is read from the
right: the first hop that is not a trusted proxy is the client. Whatever a client writes into the
header itself lies further left and is never reached. A request that does not come from a trusted
proxy is answered by its connection's own address, whatever its headers say.
"""
import ipaddress
from functools import lru_cache

HEADER = "X-Forwarded-For"


@lru_cache(maxsize=8)
def trusted_networks(spec):
    """The parsed TRUSTED_PROXIES list (cached: the config string is the same on every request)."""
    networks = []
    for item in (spec or "").split(","):
        item = item.strip()
        if item:
            networks.append(ipaddress.ip_network(item, strict=False))
    return tuple(networks)


def _address(text):
    text = (text or "").strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:51234"
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return address.ipv4_mapped or address if address.version == 6 else address


def _trusted(address, networks):
    return address is not None and any(address in network for network in networks)


def client_address(remote_addr, forwarded_for, trusted):
    """The client's address as text ("unknown" when there is none).

    remote_addr: the peer of the TCP connection; forwarded_for: the X-Forwarded-For header (or None);
    trusted: TRUSTED_PROXIES as configured.
    """
    networks = trusted_networks(trusted)
    peer = _address(remote_addr)
    if not _trusted(peer, networks):
        return str(peer) if peer is not None else (remote_addr or "unknown")
    nearest = peer
    for hop in reversed([h for h in (forwarded_for or "").split(",") if h.strip()]):
        address = _address(hop)
        if address is None:
            # A trusted proxy always writes an address; garbage here was written by someone else,
            # so the last address we can vouch for is the best answer.
            return str(nearest)
        if not _trusted(address, networks):
            return str(address)
        nearest = address
    return str(nearest)


def from_request(request, trusted):
    """client_address() of a Werkzeug request."""
    return client_address(request.remote_addr, request.headers.get(HEADER), trusted)
