"""The human check before an SMS code, over the database: issue a 图形验证码, pass one.

The rules are domain/captcha.py's; the image is adapters/captcha_image.py's. No nameko here.
"""
from datetime import timedelta

from sqlalchemy import delete

from services.common import clock
from services.common.masking import mask_phone
from services.contracts.errors import TooManyRequests, ValidationFailed

from .adapters import captcha_image
from .clients import client_of
from .domain import captcha
from .domain.phones import check_phone
from .models import PHONE, CaptchaChallengeRow

KEEP = timedelta(days=1)  # older challenges are useless (even the wait path) and are deleted
REQUIRED = "为保护您的手机号，请先输入图形验证码；不方便识别图片？等待5分钟后可直接获取验证码"


def new_captcha(ctx, phone, client_ip=None, device=None):
    """A fresh challenge for this phone and client (看不清可换一张): {captcha_id, image, wait_seconds}."""
    phone = check_phone(phone)
    client = client_of(ctx.cipher, client_ip, device)
    return issue(ctx, ctx.cipher.blind_index(phone, PHONE), client.index, clock.now())


def issue(ctx, phone_index, client_index, now):
    challenge, answer = captcha.new(ctx.settings.captcha_policy, phone_index, client_index, now, ctx.settings.code_key)
    image = ctx.offload(captcha_image.data_url, answer)
    with ctx.uow() as uow:
        uow.session.execute(delete(CaptchaChallengeRow).where(CaptchaChallengeRow.created_at < now - KEEP))
        uow.session.add(CaptchaChallengeRow(id=challenge.id, phone_index=phone_index, client_index=client_index,
                                            answer_hash=challenge.answer_hash, created_at=now))
    return {"captcha_id": challenge.id, "image": image,
            "wait_seconds": int(ctx.settings.captcha_policy.wait.total_seconds())}


def check(ctx, uow, sent, phone_index, client_index, now):
    """None when the check is passed (the challenge now spent), else the refusal to raise after commit."""
    sent = sent if isinstance(sent, dict) else {}
    captcha_id, answer = str(sent.get("captcha_id") or "")[:32], sent.get("captcha_answer")
    row = uow.session.get(CaptchaChallengeRow, captcha_id) if captcha_id else None
    if row is None:
        # The field says only what to type: its hint already offers the wait instead of the picture.
        return TooManyRequests(REQUIRED, code="captcha_required", details={"captcha_answer": ["请输入图片中的字符"]})
    challenge = captcha.CaptchaChallenge(id=row.id, phone_index=row.phone_index, client_index=row.client_index,
                                         answer_hash=row.answer_hash, created_at=row.created_at, used_at=row.used_at)
    try:
        captcha.check(challenge, answer, phone_index, client_index, now, ctx.settings.code_key,
                      ctx.settings.captcha_policy)
        refusal = None
    except (ValidationFailed, TooManyRequests) as exc:  # the challenge is still saved as spent
        refusal = exc
    row.used_at = challenge.used_at
    return refusal


def with_new_challenge(ctx, refusal, phone, phone_index, client_index, now, log):
    """The refusal, carrying a fresh challenge in details["captcha"] (a refused one is spent)."""
    details = {**(refusal.details or {}), "captcha": issue(ctx, phone_index, client_index, now)}
    log.warning("SMS code for %s held for a human check (%s)", mask_phone(phone), refusal.code)
    return type(refusal)(refusal.message, code=refusal.code, details=details, http_status=refusal.http_status)
