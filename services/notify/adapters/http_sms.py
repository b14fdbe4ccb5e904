"""SMS through a generic HTTP JSON gateway; the contract is in docs/sms-gateway.md.

A provincial operator puts a small adapter (or their provider's own compatible endpoint) behind
this contract instead of us coding every SMS vendor's API.
"""
import requests

from services.common.masking import mask_text

from .base import Channel, PermanentFailure, SendResult, TemporaryFailure

_ANSWER_LIMIT = 300


def _answer(response):
    # Provider answers end up in delivery attempts; a gateway that echoes the number is masked.
    return mask_text(f"HTTP {response.status_code} {' '.join(response.text.split())}")[:_ANSWER_LIMIT]


class HttpSmsChannel(Channel):
    name = "sms"

    def __init__(self, url, api_key, template_ids=None, timeout=5.0, session=None):
        self.url = url
        self.api_key = api_key
        self.template_ids = dict(template_ids or {})
        self.timeout = float(timeout)
        self.session = session or requests.Session()

    def send(self, message):
        payload = {
            "phone": message.recipient,
            "template_id": self.template_ids.get(message.template),
            "params": {key: str(value) for key, value in message.params.items()},
            "text": message.body,
            # The gateway's idempotency key: a retry after a lost answer must not send twice.
            "message_id": str(message.notification_id),
        }
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            response = self.session.post(self.url, json=payload, headers=headers,
                                         timeout=self.timeout, allow_redirects=False)
        except requests.Timeout:
            raise TemporaryFailure(f"短信网关在 {self.timeout:g} 秒内没有回答") from None
        except requests.RequestException as exc:
            raise TemporaryFailure(f"无法连接短信网关：{mask_text(type(exc).__name__)}") from None
        return self._result(response)

    def _result(self, response):
        status, answer = response.status_code, _answer(response)
        if status in (408, 429) or status >= 500:
            raise TemporaryFailure(f"短信网关暂时不可用（{answer}）")
        if status >= 300:
            # 3xx: a wrong SMS_HTTP_URL; 4xx: our request or the number is refused. Retrying won't help.
            raise PermanentFailure(f"短信网关拒绝了请求（{answer}）")
        try:
            body = response.json()
        except ValueError:
            raise TemporaryFailure(f"短信网关的回答不是 JSON（{answer}）") from None
        if not isinstance(body, dict):
            raise TemporaryFailure(f"短信网关的回答格式不对（{answer}）")
        if body.get("ok") is True and body.get("id") not in (None, ""):
            return SendResult(provider_message_id=str(body["id"]), provider_answer=answer)
        if body.get("ok") is False and body.get("permanent") is True:
            raise PermanentFailure(f"短信网关拒绝发送（{answer}）")
        raise TemporaryFailure(f"短信网关未能发送（{answer}）")
