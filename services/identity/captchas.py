"""The human check before an SMS code: issue a 图形验证码, pass one (through `uow.captchas`).

The rules are domain/captcha.py's; the image is adapters/captcha_image.py's, drawn through
`offload` before the unit of work opens. No nameko, no SQLAlchemy here.
"""
from datetime import timedelta

from services.common import clock
from services.common.masking import mask_phone
from services.common.offload import inline
from services.contracts.errors import TooManyRequests, ValidationFailed

from .adapters import captcha_image
from .domain import captcha
from .domain.phones import check_phone

KEEP = timedelta(days=1)  # older challenges are useless (even the wait path) and are deleted
REQUIRED = "为保护您的手机号，请先输入图形验证码；不方便识别图片？等待5分钟后可直接获取验证码"


def new_captcha(uow_factory, settings, indexes, phone, client_ip=None, device=None, offload=inline):
    """A fresh challenge for this phone and client (看不清可换一张): {captcha_id, image, wait_seconds}."""
    phone = check_phone(phone)
    client = indexes.client(client_ip, device)
    return issue(uow_factory, settings, indexes.phone(phone), client.index, clock.now(), offload)


def issue(uow_factory, settings, phone_index, client_index, now, offload=inline):
    challenge, answer = captcha.new(settings.captcha_policy, phone_index, client_index, now, settings.code_key)
    image = offload(captcha_image.data_url, answer)
    with uow_factory() as uow:
        uow.captchas.forget_before(now - KEEP)
        uow.captchas.add(challenge)
    return {"captcha_id": challenge.id, "image": image,
            "wait_seconds": int(settings.captcha_policy.wait.total_seconds())}


def check(uow, settings, sent, phone_index, client_index, now):
    """None when the check is passed (the challenge now spent), else the refusal to raise after commit."""
    sent = sent if isinstance(sent, dict) else {}
    captcha_id, answer = str(sent.get("captcha_id") or "")[:32], sent.get("captcha_answer")
    challenge = uow.captchas.get(captcha_id) if captcha_id else None
    if challenge is None:
        # The field says only what to type: its hint already offers the wait instead of the picture.
        return TooManyRequests(REQUIRED, code="captcha_required", details={"captcha_answer": ["请输入图片中的字符"]})
    used_before = challenge.used_at
    try:
        captcha.check(challenge, answer, phone_index, client_index, now, settings.code_key, settings.captcha_policy)
        refusal = None
    except (ValidationFailed, TooManyRequests) as exc:  # the challenge is still saved as spent
        refusal = exc
    if challenge.used_at != used_before:
        uow.captchas.save(challenge)
    return refusal


def with_new_challenge(uow_factory, settings, refusal, phone, phone_index, client_index, now, log, offload=inline):
    """The refusal, carrying a fresh challenge in details["captcha"] (a refused one is spent)."""
    details = {**(refusal.details or {}), "captcha": issue(uow_factory, settings, phone_index, client_index, now,
                                                           offload)}
    log.warning("SMS code for %s held for a human check (%s)", mask_phone(phone), refusal.code)
    return type(refusal)(refusal.message, code=refusal.code, details=details, http_status=refusal.http_status)
