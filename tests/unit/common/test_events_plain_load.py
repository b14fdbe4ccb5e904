"""The quick path of parse_event/new_event (contracts/plain_load.py) answers exactly as marshmallow:
every example event and many broken variants of it, compared with the schemas' own load and dump."""
import copy
import json
from collections import OrderedDict

import pytest
from marshmallow import ValidationError

from services.common.asyncapi import example_events
from services.contracts import events
from services.contracts.events import CATALOGUE, Envelope, MalformedEvent, new_event, parse_event


class Text(str):
    pass


ODD = [None, "", "x", Text("x"), 0, 1, -1, 1.0, 2.5, True, False, "1", [], [{}], {}, {"k": "v"}, {"k": 1},
       [{"kind": "photo", "reason": "r"}], [{"kind": "nope", "reason": "r"}], [None], {"method": "MAIL"}]


def _variants(data):
    """`data` as it is, then with each key (nested too) removed or replaced by each odd value."""
    yield data
    yield {**data, "added_later": 1}
    for key, value in data.items():
        yield {k: v for k, v in data.items() if k != key}
        for odd in ODD:
            yield {**data, key: copy.deepcopy(odd)}
        if isinstance(value, dict):
            for inner in _variants(value):
                yield {**data, key: inner}
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for inner in _variants(value[0]):
                yield {**data, key: [inner]}


def _marshmallow(cls, data):
    try:
        return "ok", cls().load(copy.deepcopy(data))
    except ValidationError as exc:
        return "refused", exc.messages


def _quick(cls, data):
    try:
        return "ok", events._load(cls, copy.deepcopy(data))
    except ValidationError as exc:
        return "refused", exc.messages


def _same(a, b):
    """Equal, and of the same types all the way down (an OrderedDict stays one)."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _same(a[key], b[key])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    else:
        assert a == b


EXAMPLES = [(event_type, example) for event_type in CATALOGUE for _, example in example_events(event_type)]


@pytest.mark.parametrize("event_type,example", EXAMPLES, ids=[f"{t}-{i}" for i, (t, _) in enumerate(EXAMPLES)])
def test_data_loads_as_marshmallow_loads_it(event_type, example):
    cls = CATALOGUE[event_type][1]
    count = 0
    for data in _variants(example["data"]):
        expected, got = _marshmallow(cls, data), _quick(cls, data)
        assert got[0] == expected[0], data
        _same(got[1], expected[1])
        count += 1
    assert count > 50


@pytest.mark.parametrize("event_type,example", EXAMPLES[:3])
def test_the_envelope_loads_as_marshmallow_loads_it(event_type, example):
    for envelope in _variants(example):
        expected, got = _marshmallow(Envelope, envelope), _quick(Envelope, envelope)
        assert got[0] == expected[0], envelope
        _same(got[1], expected[1])


@pytest.mark.parametrize("event_type,example", EXAMPLES, ids=[f"{t}-{i}" for i, (t, _) in enumerate(EXAMPLES)])
def test_new_event_writes_what_marshmallow_dumps(event_type, example):
    schema = CATALOGUE[event_type][1]()
    for data in _variants(example["data"]):
        if schema.validate(copy.deepcopy(data)):
            with pytest.raises(ValueError):
                new_event(event_type, "s", copy.deepcopy(data))
            continue
        _same(new_event(event_type, "s", copy.deepcopy(data))["data"], schema.dump(copy.deepcopy(data)))


def test_parse_event_round_trips_every_example_into_ordered_dicts():
    for _, example in EXAMPLES:
        parsed = parse_event(json.dumps(example, ensure_ascii=False).encode())
        assert type(parsed) is OrderedDict and type(parsed["data"]) is OrderedDict
        assert parsed == example
    broken = {**EXAMPLES[0][1], "data": {}}
    with pytest.raises(MalformedEvent, match="bad .* data"):
        parse_event(json.dumps(broken))
