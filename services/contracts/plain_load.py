"""A quick path through marshmallow's `load` for the common case: data of exactly the types the
schema's fields return unchanged (JSON's str, int, dict, list, None where allowed).

`plain_loader(schema)` returns a function data → what `schema.load(data)` returns (same values,
same OrderedDict and field order, unknown keys left out), or None whenever the data leaves the
plain case in any way — a missing or null field, another type, a validator that objects. The
caller then runs marshmallow itself, so every refusal and its message stay marshmallow's. A schema
with anything this does not know (hooks, load defaults, data keys, other field types) gets no
quick path at all (None). Built once per schema instance: marshmallow's load walks its machinery
per field per event, about ten times the cost of these checks.
"""
from marshmallow import EXCLUDE, ValidationError, fields

_NO = object()  # "not the plain case": fall back to marshmallow


def plain_loader(schema):
    if any(schema._hooks.values()) or schema.unknown != EXCLUDE:
        return None
    checks = []
    for name, field in schema.load_fields.items():
        check = _field_check(field)
        if check is None or field.data_key not in (None, name) or field.attribute not in (None, name) \
                or not field.required:
            return None
        checks.append((name, check))
    dict_class = schema.dict_class

    def load(data):
        if type(data) is not dict:
            return None
        out = []
        for name, check in checks:
            value = data.get(name, _NO)
            if value is _NO:
                return None
            value = check(value)
            if value is _NO:
                return None
            out.append((name, value))
        return dict_class(out)

    return load


def _field_check(field):
    """value → the value marshmallow's field would load, or _NO; None when the field is not known."""
    kind = type(field)
    if kind is fields.String:
        def convert(value):
            return value if type(value) is str else _NO
    elif kind is fields.Integer and not field.strict:
        def convert(value):
            return value if type(value) is int else _NO  # bool is refused by marshmallow: not plain
    elif kind is fields.Dict and field.key_field is None and field.value_field is None:
        def convert(value):
            return dict(value) if type(value) is dict else _NO
    elif kind is fields.Dict and type(field.key_field) is fields.String and type(field.value_field) is fields.String \
            and not field.key_field.validators and not field.value_field.validators:
        def convert(value):
            if type(value) is not dict or not all(type(k) is str and type(v) is str for k, v in value.items()):
                return _NO
            return dict(value)
    elif kind is fields.Nested and not field.many and field.unknown is None and not field.only \
            and not field.exclude:
        inner = plain_loader(field.schema)
        if inner is None:
            return None

        def convert(value):
            loaded = inner(value)
            return _NO if loaded is None else loaded
    elif kind is fields.List:
        item = _field_check(field.inner)
        if item is None:
            return None

        def convert(value):
            if type(value) is not list:
                return _NO
            out = [item(v) for v in value]
            return _NO if any(v is _NO for v in out) else out
    else:
        return None
    return _guarded(convert, field.validators, field.allow_none)


def _guarded(convert, validators, allow_none):
    def check(value):
        if value is None:
            return None if allow_none else _NO
        value = convert(value)
        if value is _NO:
            return _NO
        for validator in validators:
            try:
                if validator(value) is False:
                    return _NO
            except ValidationError:
                return _NO
        return value
    return check

