"""The device id that, with the client's address, makes a *client* for the SMS limits (docs/signin.md).

The gateway mints it into the `dev` cookie (browsers) or takes it from X-Device-Id (API clients);
identity keeps only its blind index.
"""
import re

DEVICE_COOKIE = "dev"
DEVICE_HEADER = "X-Device-Id"
DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
