"""Who asks for an SMS code: the client's address and device id, as blind indexes (never stored clear)."""
from dataclasses import dataclass

from services.contracts.devices import DEVICE_ID

from .models import CLIENT, CLIENT_IP, DEVICE


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
