"""marshmallow with Chinese messages: every refusal says, in Chinese, what to fix."""
from marshmallow import Schema, ValidationError, fields

from services.contracts.errors import ValidationFailed

_MESSAGES = {
    fields.Field: {"required": "此项为必填项", "null": "此项不能为空", "validator_failed": "取值无效"},
    fields.String: {"invalid": "应为文本"},
    fields.Integer: {"invalid": "应为整数", "too_large": "数值过大"},
    fields.Number: {"invalid": "应为数字", "too_large": "数值过大"},
    fields.Boolean: {"invalid": "应为 true 或 false"},
    fields.List: {"invalid": "应为列表"},
    fields.Dict: {"invalid": "应为对象"},
    fields.Nested: {"type": "应为对象"},
    fields.Date: {"invalid": "日期格式应为 YYYY-MM-DD"},
    fields.DateTime: {"invalid": "时间格式无效"},
    fields.Email: {"invalid": "电子邮箱格式不正确"},
}
for _field, _messages in _MESSAGES.items():
    _field.default_error_messages = {**_field.default_error_messages, **_messages}
Schema._default_error_messages = {**Schema._default_error_messages,
                                  "type": "请求内容应为JSON对象", "unknown": "不支持的字段"}


def load(schema, data, partial=False):
    """schema.load or ValidationFailed(details={field: [Chinese messages]})."""
    try:
        return schema.load(data, partial=partial)
    except ValidationError as exc:
        raise ValidationFailed("提交的内容有误，请按提示修改", details=_flatten(exc.messages)) from None


def _flatten(messages):
    if isinstance(messages, dict):
        return {str(k): _flatten(v) for k, v in messages.items()}
    return messages
