"""open_payload splices the clear data into the stored envelope: the same text as decoding the row
and encoding it again, for every example event, resealed rows and rows of other shapes."""
import base64
import json

import pytest

from services.common.asyncapi import example_events
from services.common.crypto import DataCipher
from services.common.outbox import SEAL_CONTEXT, open_payload, seal_payload
from services.contracts.events import CATALOGUE

CIPHER = DataCipher("k1:" + base64.b64encode(b"1" * 32).decode(), "blind-index-key")
EVENTS = [event for event_type in CATALOGUE for _, event in example_events(event_type)]


def _decoded_and_encoded(stored):
    envelope = json.loads(stored)
    envelope["data"] = json.loads(CIPHER.decrypt(envelope.pop("data_sealed"), SEAL_CONTEXT))
    return json.dumps(envelope, ensure_ascii=False)


@pytest.mark.parametrize("event", EVENTS + [{**EVENTS[0], "subject": '买买提 "data_sealed": "x"}', "extra": 1.5}])
def test_the_published_text_is_the_decoded_row_encoded_again(event):
    stored = seal_payload(CIPHER, event)
    assert open_payload(CIPHER, stored) == _decoded_and_encoded(stored)
    assert json.loads(open_payload(CIPHER, stored)) == event


def test_rows_of_another_shape_take_the_long_way():
    event = EVENTS[0]
    token = json.loads(seal_payload(CIPHER, event))["data_sealed"]
    envelope = {k: v for k, v in event.items() if k != "data"}
    first = json.dumps({"data_sealed": token, **envelope}, ensure_ascii=False)  # not the last key
    assert json.loads(open_payload(CIPHER, first)) == event
    spaced = json.dumps({**envelope, "data_sealed": token}, indent=1)
    assert json.loads(open_payload(CIPHER, spaced)) == event
    plain = json.dumps(event, ensure_ascii=False)  # written before sealing began
    assert open_payload(CIPHER, plain) == plain
