"""Password rules and argon2id hashing.

Strength: 8-64 characters, at least 3 of 4 character classes, nothing taken from the phone, the ID
number or a management-number-like run of digits (DOMAIN.md: never derive a password from the ID
or management number). ASCII only: Chinese IMEs switch between half- and full-width forms, so a
password that looks the same can differ byte for byte and lock people out.
"""
import re

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

from services.contracts.errors import ValidationFailed

MIN_LENGTH, MAX_LENGTH = 8, 64
MIN_CLASSES = 3
# Phones are 11 digits, ID and management numbers 17-18: a run this long is one of them.
LONG_DIGIT_RUN = 11
# Initial passwords "last 6 of the ID" are the classic derived password.
ID_TAIL = 6

_CLASSES = (
    ("小写字母", re.compile(r"[a-z]")),
    ("大写字母", re.compile(r"[A-Z]")),
    ("数字", re.compile(r"[0-9]")),
    ("符号", re.compile(r"[^A-Za-z0-9]")),
)
_PRINTABLE_ASCII_RE = re.compile(r"^[\x20-\x7e]*$")
_DIGIT_RUN_RE = re.compile(rf"\d{{{LONG_DIGIT_RUN},}}")


def check_strength(password, phone=None, id_number=None):
    """Raise ValidationFailed(code="weak_password") listing every unmet rule."""
    password = password or ""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"长度至少{MIN_LENGTH}位（当前{len(password)}位）")
    if len(password) > MAX_LENGTH:
        problems.append(f"长度最多{MAX_LENGTH}位（当前{len(password)}位）")
    if not _PRINTABLE_ASCII_RE.match(password):
        problems.append("只能使用英文字母、数字和英文符号（请切换到英文半角输入）")
    missing = [label for label, pattern in _CLASSES if not pattern.search(password)]
    need = MIN_CLASSES - (len(_CLASSES) - len(missing))
    if need > 0:
        problems.append(f"还需包含{'、'.join(missing)}中的至少{need}类"
                        f"（需在小写字母、大写字母、数字、符号中至少包含{MIN_CLASSES}类）")
    problems.extend(_personal_data_problems(password, phone, id_number))
    if problems:
        message = "密码不符合要求：" + "；".join(problems)
        raise ValidationFailed(message, code="weak_password", details={"password": problems})


def _personal_data_problems(password, phone, id_number):
    folded = password.upper()
    problems = []
    if phone and str(phone) in password:
        problems.append("不能包含手机号")
    id_number = str(id_number or "").upper()
    if id_number and id_number in folded:
        problems.append("不能包含证件号码")
    elif len(id_number) >= ID_TAIL and id_number[-ID_TAIL:] in folded:
        problems.append(f"不能包含证件号码的后{ID_TAIL}位")
    if not problems and _DIGIT_RUN_RE.search(password):
        problems.append(f"不能包含{LONG_DIGIT_RUN}位及以上的连续数字（如手机号、证件号码或证书管理号）")
    return problems


class PasswordHasher:
    """argon2id with explicit parameters, so a benchmark can print what it measured.

    Defaults are OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): the service runs many
    logins at once on 2 cores, where 64 MiB x 4 lanes per login would starve everything else.
    argon2 blocks the calling OS thread: under eventlet run hash/verify through eventlet.tpool.
    """

    def __init__(self, time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16):
        self.time_cost = time_cost
        self.memory_cost = memory_cost  # KiB
        self.parallelism = parallelism
        self.hash_len = hash_len
        self.salt_len = salt_len
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism,
            hash_len=hash_len, salt_len=salt_len, type=argon2.Type.ID)
        self._dummy_hash = None

    def hash(self, password):
        return self._hasher.hash(password)

    def verify(self, password_hash, password):
        """True when `password` matches; False on mismatch or a malformed stored hash."""
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash):
        return self._hasher.check_needs_rehash(password_hash)

    def dummy_verify(self, password):
        """Spend the time of a real verify when there is no account, so timing does not tell."""
        if self._dummy_hash is None:
            self._dummy_hash = self.hash("no account has this password")
        self.verify(self._dummy_hash, password)
        return False

    def describe(self):
        return (f"argon2id t={self.time_cost} m={self.memory_cost}KiB p={self.parallelism} "
                f"hash_len={self.hash_len} salt_len={self.salt_len}")
