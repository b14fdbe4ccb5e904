"""Notifications as staff read them: the codes notify uses (kind, channel, state) and their labels.
The admin console's 通知 page shows these, never the codes."""
KIND_LABELS = {
    "verification_code": "短信验证码",
    "account_registered": "注册成功",
    "submission_receipt": "提交回执",
    "rejected": "审核不通过通知",
    "approved": "审核通过通知",
    "dispatched": "证书寄出通知",
}
CHANNEL_LABELS = {"sms": "短信", "email": "电子邮件"}
STATE_LABELS = {"queued": "等待发送", "sending": "发送中", "delivered": "已送达", "failed": "发送失败"}
STATES = tuple(STATE_LABELS)
