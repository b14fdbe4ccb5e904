"""The client's address behind the proxy: believed only from trusted proxies, read from the right."""
import pytest

from services.gateway.client_address import client_address

PROXY = "172.30.0.10"


@pytest.mark.parametrize("remote, header, trusted, expected", [
    # no proxy configured: the header is ignored, whoever sent it
    ("203.0.113.7", "198.51.100.1", "", "203.0.113.7"),
    # a direct connection from an untrusted peer cannot choose its address
    ("203.0.113.7", "198.51.100.1", PROXY, "203.0.113.7"),
    # through the proxy: the address it appended
    (PROXY, "203.0.113.7", PROXY, "203.0.113.7"),
    # a client that forges the header: the forgery lies left of what the proxy appended
    (PROXY, "1.2.3.4, 203.0.113.7", PROXY, "203.0.113.7"),
    (PROXY, "1.2.3.4,5.6.7.8 , 203.0.113.7", "172.30.0.0/24", "203.0.113.7"),
    # two trusted proxies (a load balancer before nginx): the right-most untrusted hop
    (PROXY, "1.2.3.4, 203.0.113.7, 10.0.0.5", f"{PROXY},10.0.0.0/8", "203.0.113.7"),
    # only trusted hops (a health check from inside): the left-most of them
    (PROXY, "10.0.0.5", f"{PROXY},10.0.0.0/8", "10.0.0.5"),
    # the proxy sent no header: the proxy itself
    (PROXY, None, PROXY, PROXY),
    # garbage where a trusted proxy would have written an address: the last address vouched for
    (PROXY, "203.0.113.7, not-an-ip", PROXY, PROXY),
    # ports and IPv6 forms
    (PROXY, "203.0.113.7:51234", PROXY, "203.0.113.7"),
    (PROXY, "[2001:db8::1]:443", PROXY, "2001:db8::1"),
    ("::ffff:172.30.0.10", "203.0.113.7", PROXY, "203.0.113.7"),
    (None, None, "", "unknown"),
])
def test_client_address(remote, header, trusted, expected):
    assert client_address(remote, header, trusted) == expected


def test_a_bad_trusted_proxy_list_is_refused_not_ignored():
    with pytest.raises(ValueError):
        client_address(PROXY, "203.0.113.7", "not-a-network")
