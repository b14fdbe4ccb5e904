"""The daily SMS limits per (phone, client) and when the human check comes first (domain/sms_limits.py)."""
import pytest

from services.contracts.errors import TooManyRequests
from services.identity.domain.sms_limits import CHECK, OK, Counts, SmsLimits, decide

LIMITS = SmsLimits()


def verdict(**counts):
    base = {"client": 0, "phone_address": 0, "phone": 0, "device": 0, "address": 0}
    return decide(LIMITS, Counts(**{**base, **counts}), 3600, "1小时")


def refused(code, **counts):
    with pytest.raises(TooManyRequests) as caught:
        verdict(**counts)
    assert caught.value.code == code and caught.value.details == {"retry_after": 3600}
    assert "1小时后（北京时间明天0点后）再试" in caught.value.message
    return caught.value


def test_a_quiet_phone_and_client_need_no_check():
    assert verdict(client=2, phone_address=2, phone=2, device=2, address=10) == OK


def test_a_stranger_spends_their_own_allowance_not_the_owners():
    # The stranger's client reached its own cap on the victim's phone…
    refused("sms_code_daily_cap_client", client=5, phone_address=5, phone=5, device=5)
    # …and making new device ids from the same address stops at the per-(phone, address) cap.
    refused("sms_code_daily_cap_client", phone_address=10, phone=10)
    # The owner, from another client, is asked for the human check, never refused.
    assert verdict(phone=10) == CHECK
    assert verdict(phone=LIMITS.cap_per_phone - 1) == CHECK
    # Only once strangers from many addresses passed many human checks does the ceiling hold.
    refused("sms_code_daily_cap_phone", phone=LIMITS.cap_per_phone)


def test_hammering_asks_for_the_human_check():
    assert verdict(phone_address=3, phone=3) == CHECK
    assert verdict(phone=5) == CHECK
    assert verdict(device=5) == CHECK
    refused("sms_code_daily_cap_device", device=20)


def test_a_busy_address_behind_carrier_nat_is_only_ever_checked():
    assert verdict(address=29) == OK
    assert verdict(address=30) == CHECK
    assert verdict(address=100_000) == CHECK
