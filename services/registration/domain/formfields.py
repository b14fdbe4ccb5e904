"""Marshmallow fields for the application form, with Chinese messages that say how to fix.

Every field carries its Chinese label in `metadata["label"]` (pages and the OpenAPI document
read it). Blank input ("", "  ", []) is turned into None by the form schemas before these fields
run: a draft may leave anything empty, emptiness is judged only at submit.
"""
import re

from marshmallow import ValidationError, fields

from . import codes

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_MONTH_RE = re.compile(r"^(\d{4})\s*(?:-|/|\.|年)\s*(\d{1,2})\s*月?$")
NOT_ONGOING = ("至今", "今", "现在", "目前")


class _Labelled(fields.Field):
    def __init__(self, label, **kwargs):
        kwargs.setdefault("allow_none", True)
        metadata = {"label": label, "description": label, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)
        self.label = label
        self.error_messages.update({
            "required": f"请填写{label}",
            "null": f"请填写{label}",
            "validator_failed": f"{label}填写有误，请检查",
        })

    def fail(self, message):
        raise ValidationError(message)


class Text(_Labelled):
    """A trimmed one-line string of at most `max_length` characters."""

    def __init__(self, label, max_length, pattern=None, pattern_message=None, **kwargs):
        super().__init__(label, **kwargs)
        self.max_length = max_length
        self.pattern = re.compile(pattern) if pattern else None
        self.pattern_message = pattern_message
        self.metadata["maxLength"] = max_length

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            self.fail(f"{self.label}应为文字")
        value = value.strip()
        if _CONTROL_RE.search(value):
            self.fail(f"{self.label}不能包含换行、制表符等特殊字符，请删除后重新填写")
        if len(value) > self.max_length:
            self.fail(f"{self.label}最多{self.max_length}个字，当前{len(value)}个字，请精简")
        if self.pattern and not self.pattern.match(value):
            self.fail(self.pattern_message)
        return value


class Month(_Labelled):
    """A calendar month, stored as "YYYY-MM"; "2015/7" and "2015年7月" are accepted too."""

    def __init__(self, label, **kwargs):
        super().__init__(label, metadata={"format": "YYYY-MM", "example": "2015-07"}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            self.fail(f"{self.label}请按“年-月”填写，如2015-07")
        text = value.strip()
        if text in NOT_ONGOING:
            self.fail(f"{self.label}请填写具体年月（如2020-06），不支持“至今”；目前所在单位请填写在“工作单位”栏")
        match = _MONTH_RE.match(text)
        if not match:
            self.fail(f"{self.label}请按“年-月”填写，如2015-07")
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            self.fail(f"{self.label}的月份应在1至12之间，当前为{month}")
        if not 1940 <= year <= 2100:
            self.fail(f"{self.label}的年份{year}不正确，请检查")
        return f"{year:04d}-{month:02d}"


class Code(_Labelled):
    """One code of a table in codes.py."""

    def __init__(self, label, table, **kwargs):
        super().__init__(label, metadata={"code_table": table}, **kwargs)
        self.table = table

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or value.strip() not in codes.codes_of(self.table):
            self.fail(f"请从列表中选择{self.label}")
        return value.strip()


class CodeList(_Labelled):
    """Several codes of one table, duplicates dropped, order kept."""

    def __init__(self, label, table, max_items=20, **kwargs):
        super().__init__(label, metadata={"code_table": table, "multiple": True}, **kwargs)
        self.table = table
        self.max_items = max_items

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, (list, tuple)):
            self.fail(f"请从列表中选择{self.label}（可多选）")
        allowed = codes.codes_of(self.table)
        chosen = []
        for item in value:
            if not isinstance(item, str) or item.strip() not in allowed:
                self.fail(f"{self.label}中有无效选项，请从列表中重新选择")
            if item.strip() not in chosen:
                chosen.append(item.strip())
        if len(chosen) > self.max_items:
            self.fail(f"{self.label}最多选择{self.max_items}项")
        return chosen


class WholeNumber(_Labelled):
    """An int in [minimum, maximum]; digit strings from HTML forms are accepted, 2.5 and True are not."""

    def __init__(self, label, minimum, maximum, unit="", **kwargs):
        super().__init__(label, metadata={"minimum": minimum, "maximum": maximum}, **kwargs)
        self.minimum, self.maximum, self.unit = minimum, maximum, unit

    def _deserialize(self, value, attr, data, **kwargs):
        message = f"{self.label}应为{self.minimum}至{self.maximum}之间的整数{self.unit}"
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(message)
        if not self.minimum <= value <= self.maximum:
            self.fail(message)
        return value


class Flag(_Labelled):
    """A tick box: JSON true/false only, so "false" as a string can never tick it."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            self.fail(f"{self.label}应为勾选或不勾选")
        return value


class _Object(fields.Nested):
    """A nested object whose "not an object" message is ours, not the inner schema's generic one."""

    def __init__(self, nested, type_message, **kwargs):
        super().__init__(nested, **kwargs)
        self.type_message = type_message
        self.error_messages.update({"null": type_message, "type": type_message})

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError(self.type_message)
        return super()._deserialize(value, attr, data, partial=partial, **kwargs)


class Nested(_Object):
    def __init__(self, nested, label, **kwargs):
        kwargs.setdefault("allow_none", True)
        super().__init__(nested, f"{label}格式有误", metadata={"label": label, "description": label}, **kwargs)
        self.label = label
        self.error_messages.update({"null": f"请填写{label}", "required": f"请填写{label}"})


class NestedList(fields.List):
    def __init__(self, nested, label, max_items, **kwargs):
        kwargs.setdefault("allow_none", True)
        inner = _Object(nested, f"{label}的每一项格式有误")
        super().__init__(inner, metadata={"label": label, "description": label, "maxItems": max_items},
                         **kwargs)
        self.label = label
        self.max_items = max_items
        self.error_messages.update({"invalid": f"{label}格式有误", "null": f"请填写{label}"})

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (list, tuple)) and len(value) > self.max_items:
            raise ValidationError(f"{self.label}最多填写{self.max_items}段")
        return super()._deserialize(value, attr, data, **kwargs)
