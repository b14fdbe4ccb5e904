"""The human check before an SMS code (图形验证码), and its non-visual alternative: a longer wait.

A challenge is bound to one phone and one client (blind indexes), kept only as an HMAC of its
answer, and single use: a wrong answer spends it (the refusal carries a fresh one). Who cannot read
the image may instead come back after `wait` with the same challenge and no answer (WCAG: the
image is not the only way through). The image itself is drawn by the `captcha` library
(adapters/captcha_image.py); this module is pure.
"""
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.contracts.errors import TooManyRequests, ValidationFailed

from .keyed import digest

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: a person cannot tell them apart


@dataclass(frozen=True)
class CaptchaPolicy:
    length: int = 4
    ttl: timedelta = timedelta(minutes=5)  # to type the answer
    wait: timedelta = timedelta(minutes=5)  # the alternative: come back after this, no answer
    wait_valid: timedelta = timedelta(minutes=30)  # …and before this much more has passed


@dataclass
class CaptchaChallenge:
    id: str
    phone_index: str
    client_index: str
    answer_hash: str
    created_at: datetime
    used_at: datetime | None = None


def new(policy, phone_index, client_index, now, key):
    """(challenge, plain answer): the answer goes into the image only."""
    answer = "".join(secrets.choice(ALPHABET) for _ in range(policy.length))
    challenge_id = secrets.token_urlsafe(18)
    return CaptchaChallenge(id=challenge_id, phone_index=phone_index, client_index=client_index,
                            answer_hash=hash_answer(key, challenge_id, answer), created_at=now), answer


def hash_answer(key, challenge_id, answer):
    return digest(key, f"captcha|{challenge_id}|{_typed(answer)}")


def check(challenge, answer, phone_index, client_index, now, key, policy=CaptchaPolicy()):
    """Pass (and spend) the challenge or raise (TooManyRequests captcha_required, else ValidationFailed);
    the caller saves used_at either way."""
    if challenge is None or challenge.phone_index != phone_index or challenge.client_index != client_index:
        _refuse("captcha_required", "请先完成图形验证码")
    if challenge.used_at is not None:
        _refuse("captcha_used", "图形验证码已使用，请输入新的图形验证码（看不清可换一张）")
    typed = _typed(answer)
    if not typed:
        ready_at = challenge.created_at + policy.wait
        if now < ready_at:
            minutes = max(1, -(-int((ready_at - now).total_seconds()) // 60))
            _refuse("captcha_required", f"请输入图形验证码；不方便识别图片？等待{minutes}分钟后可直接获取验证码")
        if now >= ready_at + policy.wait_valid:
            _refuse("captcha_expired", "等待已超时，请输入新的图形验证码，或重新等待5分钟")
        challenge.used_at = now
        return challenge
    challenge.used_at = now  # one answer per challenge, right or wrong
    if now >= challenge.created_at + policy.ttl:
        _refuse("captcha_expired", "图形验证码已过期，请输入新的图形验证码（看不清可换一张）")
    if not hmac.compare_digest(hash_answer(key, challenge.id, typed), challenge.answer_hash):
        _refuse("captcha_wrong", "图形验证码不正确，请输入新的图形验证码（看不清可换一张）")
    return challenge


def _typed(answer):
    return "".join(unicodedata.normalize("NFKC", str(answer or "")).split()).upper()


def _refuse(code, message):
    # Asked for (again): 429 like the first time; a wrong, stale or spent answer: 422.
    kind = TooManyRequests if code == "captcha_required" else ValidationFailed
    raise kind(message, code=code, details={"captcha_answer": [message]})
