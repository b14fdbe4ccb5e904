"""The gateway's error mapping: faults of the platform are 503 with the Chinese message, never 500."""
import json

import amqp.exceptions
import pytest
from kombu.exceptions import OperationalError

from services.contracts.errors import Unavailable
from services.gateway.web import UNAVAILABLE, response_for_exception


@pytest.mark.parametrize("exc", [
    OperationalError("[Errno 111] Connection refused"),
    amqp.exceptions.RecoverableConnectionError("connection already closed"),
    ConnectionRefusedError(111, "Connection refused"),
    ConnectionResetError(104, "Connection reset by peer"),
    Unavailable(UNAVAILABLE),  # what GatewayService._call raises when the RPC deadline passes
])
def test_broker_and_deadline_faults_are_503(exc):
    response = response_for_exception(exc)
    assert response.status_code == 503
    assert json.loads(response.get_data())["error"] == {"code": "unavailable", "message": UNAVAILABLE,
                                                        "details": None}
    assert response.headers["Retry-After"]


def test_a_bug_is_still_500():
    assert response_for_exception(KeyError("x")).status_code == 500
