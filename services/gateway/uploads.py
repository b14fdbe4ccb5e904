"""Uploaded files: what a raw-body upload's `X-Filename` header means.

An HTTP header carries only ISO-8859-1, so a Chinese filename cannot travel in it as it is. A
client writes it the RFC 5987 way (`UTF-8''%E5%90%8D%E5%8D%95.xlsx`, as in Content-Disposition's
`filename*`) or simply percent-encoded (`%E5%90%8D%E5%8D%95.xlsx`); a client that sent raw UTF-8
bytes anyway is understood too (the server decoded them as ISO-8859-1).
"""
import re
from urllib.parse import unquote

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_EXT_VALUE = re.compile(r"^(?P<charset>[A-Za-z0-9!#$&+.^_`|~-]+)'[A-Za-z0-9-]*'(?P<value>.*)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def header_filename(value):
    """The filename a header value names (None when there is none); only its last path segment."""
    if not value:
        return None
    match = _EXT_VALUE.match(value)
    if match:
        charset = match.group("charset").lower()
        name = unquote(match.group("value"), encoding="utf-8" if charset == "utf-8" else "latin-1",
                       errors="replace")
    elif "%" in value:
        name = unquote(value, encoding="utf-8", errors="replace")
    else:
        name = _undo_latin1(value)
    name = _CONTROL.sub("", name).replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:200] or None


def _undo_latin1(value):
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value
