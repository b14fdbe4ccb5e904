"""Who asks, and for which phone, as blind indexes (never stored clear): the keys SMS codes, human
checks and a phone's failed logins are counted and bound by. The service layer gets them from
`BlindIndexes`, built once in the service from its cipher."""
from dataclasses import dataclass

from services.contracts.devices import DEVICE_ID

from .models import CLIENT, CLIENT_IP, DEVICE, PHONE


@dataclass(frozen=True)
class Client:
    address_index: str | None  # None: address unknown
    device_index: str | None  # None: no device id sent
    index: str  # address and device together: the unit of the per-client limits


def client_of(cipher, client_ip, device=None):
    address = str(client_ip).strip() if client_ip and str(client_ip).strip().lower() not in ("unknown", "none") \
        else None
    device = device if isinstance(device, str) and DEVICE_ID.match(device) else None
    return Client(address_index=cipher.blind_index(address, CLIENT_IP) if address else None,
                  device_index=cipher.blind_index(device, DEVICE) if device else None,
                  index=cipher.blind_index(f"{address or '-'}|{device or '-'}", CLIENT))


class BlindIndexes:
    """The blind indexes of a request's phone and client (services.common.crypto.DataCipher.blind_index)."""

    def __init__(self, cipher):
        self._cipher = cipher

    def phone(self, phone):
        return self._cipher.blind_index(phone, PHONE)

    def client(self, client_ip, device=None):
        return client_of(self._cipher, client_ip, device)
