"""How many SMS codes a phone may receive, and when a human check comes first (docs/signin.md).

A *client* is the right-most untrusted address plus the device id (`dev` cookie or X-Device-Id).
Limits are per (phone, client), so a stranger spending codes on someone's phone from their own
client spends their own allowance, not the owner's. Device ids cost nothing to mint, so the
address bounds a stranger who keeps making new ones; the overall per-phone ceiling is high enough
that the owner, from another client, still gets a code after strangers hit their own caps. Carrier
NAT puts many honest people behind one address: address counts only ever ask for the human check,
never refuse. All counts are for the current Beijing day.
"""
from dataclasses import dataclass

from services.contracts.errors import TooManyRequests

OK = "ok"
CHECK = "check"  # a human check (图形验证码, or a longer wait) before the code is sent


@dataclass(frozen=True)
class SmsLimits:
    cap_per_client: int = 5  # this phone from this client (address + device): hard
    check_per_phone_address: int = 3  # this phone from this address, any device
    cap_per_phone_address: int = 10
    check_per_phone: int = 5  # this phone from every client
    cap_per_phone: int = 30
    check_per_device: int = 5  # this device, every phone
    cap_per_device: int = 20
    check_per_address: int = 30  # this address, every phone (never a hard refusal: carrier NAT)


@dataclass(frozen=True)
class Counts:
    """Codes issued today before this one."""
    client: int
    phone_address: int
    phone: int
    device: int = 0  # 0 when the client sent no device id
    address: int = 0  # 0 when the address is unknown


def decide(limits, counts, until_tomorrow, wait_text):
    """OK or CHECK, or raise TooManyRequests (retry_after: seconds to the next Beijing day)."""
    hard = ((counts.client, limits.cap_per_client, "sms_code_daily_cap_client",
             "您今天在本设备上为该手机号获取验证码已达{cap}次上限"),
            (counts.phone_address, limits.cap_per_phone_address, "sms_code_daily_cap_client",
             "当前网络今天为该手机号获取验证码已达{cap}次上限"),
            (counts.device, limits.cap_per_device, "sms_code_daily_cap_device",
             "本设备今天获取验证码已达{cap}次上限"),
            (counts.phone, limits.cap_per_phone, "sms_code_daily_cap_phone",
             "该手机号今天获取验证码已达{cap}次上限"))
    for count, cap, code, text in hard:
        if count >= cap:
            message = text.format(cap=cap) + f"，请{wait_text}后（北京时间明天0点后）再试"
            raise TooManyRequests(message, code=code, details={"retry_after": until_tomorrow})
    if (counts.phone_address >= limits.check_per_phone_address or counts.phone >= limits.check_per_phone
            or counts.device >= limits.check_per_device or counts.address >= limits.check_per_address):
        return CHECK
    return OK
