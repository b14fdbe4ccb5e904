"""External identity verifiers (实名核验). The HTTP contract is in docs/identity-verifier.md.

The local rules (format, checksum, birth date, name form, one account per ID) run before any
verifier; a verifier only answers "do this name and this ID number belong together". The level
reached is recorded and shown honestly: `format_checked` when only local rules ran,
`externally_verified` when an outside service confirmed the match.
"""
import ipaddress
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from services.contracts.errors import DomainError

FORMAT_CHECKED = "format_checked"
EXTERNALLY_VERIFIED = "externally_verified"

DEFAULT_MISMATCH_REASON = "姓名与证件号码不一致，请按证件上的信息核对后重新填写"
# A verdict is a few hundred bytes; anything far larger is not one.
MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class VerificationResult:
    level: str  # FORMAT_CHECKED or EXTERNALLY_VERIFIED: which check ran
    ok: bool  # whether it passed; record the level as reached only when ok
    reason: str | None = None  # Chinese, for the applicant, when not ok


class VerifierUnavailable(DomainError):
    """The verifier could not give a verdict; nothing is known about the person."""
    http_status = 503
    code = "verifier_unavailable"

    def __init__(self, message, cause):
        super().__init__(message)
        self.cause = cause  # English, for logs; never contains personal data


class IdentityVerifier:
    def verify(self, name, id_type, id_number):
        """Return a VerificationResult or raise VerifierUnavailable."""
        raise NotImplementedError


class FormatOnlyVerifier(IdentityVerifier):
    """No outside check: the local rules already passed, and the level says only that."""

    def verify(self, name, id_type, id_number):
        return VerificationResult(level=FORMAT_CHECKED, ok=True)


class HttpIdentityVerifier(IdentityVerifier):
    """POSTs {"name", "id_type", "id_number"} with a bearer token; expects {"match", "reason"}."""

    def __init__(self, url, token, timeout=5.0, *, allow_plain_http=False, session=None):
        if not token:
            raise ValueError("HttpIdentityVerifier needs a token")
        parts = urlsplit(url)
        # The body carries a full ID number: plain HTTP only to this machine unless told otherwise.
        if parts.scheme != "https" and not (parts.scheme == "http" and
                                            (allow_plain_http or _is_loopback(parts.hostname))):
            raise ValueError(f"identity verifier URL must be https (got {parts.scheme}://{parts.hostname})")
        self.url = url
        self.timeout = timeout
        self._token = token
        self._session = session or requests.Session()

    def verify(self, name, id_type, id_number):
        body = {"name": name, "id_type": id_type, "id_number": id_number}
        try:
            with self._session.post(self.url, json=body, timeout=(self.timeout, self.timeout),
                                    headers={"Authorization": f"Bearer {self._token}",
                                             "Accept": "application/json"},
                                    allow_redirects=False, stream=True) as response:
                status = response.status_code
                raw = _read_capped(response) if status == 200 else b""
        except requests.Timeout:
            raise _unavailable(f"timeout after {self.timeout}s") from None
        except requests.RequestException as exc:
            raise _unavailable(f"request failed: {type(exc).__name__}") from None
        if status != 200:
            raise _unavailable(f"HTTP {status}")
        return _parse_verdict(raw)


def _read_capped(response):
    # iter_content turns body read errors (a read timeout too) into requests exceptions.
    raw = b""
    for chunk in response.iter_content(chunk_size=8192):
        raw += chunk
        if len(raw) > MAX_RESPONSE_BYTES:
            break
    return raw


def _parse_verdict(raw):
    if len(raw) > MAX_RESPONSE_BYTES:
        raise _unavailable("response too large")
    try:
        verdict = json.loads(raw)
    except ValueError:
        raise _unavailable("response is not JSON") from None
    if not isinstance(verdict, dict) or not isinstance(verdict.get("match"), bool):
        raise _unavailable('response has no boolean "match"')
    reason = verdict.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise _unavailable('"reason" is not a string')
    if verdict["match"]:
        return VerificationResult(level=EXTERNALLY_VERIFIED, ok=True)
    return VerificationResult(level=EXTERNALLY_VERIFIED, ok=False,
                              reason=(reason or "").strip() or DEFAULT_MISMATCH_REASON)


def _unavailable(cause):
    return VerifierUnavailable("实名核验服务暂时无法使用，请稍后再试；如多次失败，请联系客服", cause)


def _is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False
