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


NUL_MESSAGE = "不能包含空字符（\\0），请删除后重新提交"


def refuse_nul(data):
    """ValidationFailed when any text in `data` holds a NUL character: no database can store one
    (PostgreSQL refuses it outright), so it is a bad request, not a server error."""
    found = sorted(_nul_paths(data, ""))
    if found:
        raise ValidationFailed(NUL_MESSAGE, details={path or "_": [NUL_MESSAGE] for path in found})


def _nul_paths(data, path):
    if isinstance(data, str):
        return {path} if "\x00" in data else set()
    if isinstance(data, dict):
        return {p for k, v in data.items() for p in _nul_paths(k, path) | _nul_paths(v, f"{path}.{k}".lstrip("."))}
    if isinstance(data, (list, tuple)):
        return {p for i, v in enumerate(data) for p in _nul_paths(v, f"{path}.{i}".lstrip("."))}
    return set()


def load(schema, data, partial=False):
    """schema.load or ValidationFailed(details={field: [Chinese messages]})."""
    refuse_nul(data)
    try:
        return schema.load(data, partial=partial)
    except ValidationError as exc:
        raise ValidationFailed("提交的内容有误，请按提示修改", details=_flatten(exc.messages)) from None


def _flatten(messages):
    if isinstance(messages, dict):
        return {str(k): _flatten(v) for k, v in messages.items()}
    return messages
