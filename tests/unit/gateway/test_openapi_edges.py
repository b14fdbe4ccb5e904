"""The small parts of the contract at the HTTP edge: headers on every JSON answer, a Chinese
filename in X-Filename, and the routes' query and header schemas refusing in Chinese."""
import pytest

from services.common.validation import load
from services.contracts.errors import Unauthenticated, ValidationFailed
from services.gateway import schemas as s
from services.gateway.uploads import header_filename
from services.gateway.web import json_response, response_for_exception


@pytest.mark.parametrize("response", [json_response({"ok": True}),
                                      response_for_exception(Unauthenticated("请先登录"))])
def test_json_answers_are_not_sniffed_framed_or_leaked_by_referrer(response):
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("header, name", [
    ("UTF-8''%E8%80%83%E8%AF%95%E5%90%88%E6%A0%BC%E5%90%8D%E5%8D%95.xlsx", "考试合格名单.xlsx"),  # RFC 5987
    ("utf-8'zh'%E5%90%8D%E5%8D%95.csv", "名单.csv"),
    ("%E5%90%8D%E5%8D%95.csv", "名单.csv"),  # percent-encoded
    ("名单.csv".encode().decode("latin-1"), "名单.csv"),  # raw UTF-8 bytes, read as ISO-8859-1
    ("roster.csv", "roster.csv"),
    ("100%.csv", "100%.csv"),  # not an escape: kept as sent
    ("..%2F..%2Fetc%2Fpasswd.csv", "passwd.csv"),  # only the last path segment
    ("", None),
    (None, None),
])
def test_x_filename_carries_a_chinese_name(header, name):
    assert header_filename(header) == name


def test_query_and_header_schemas_refuse_in_chinese():
    with pytest.raises(ValidationFailed) as refused:
        load(s.TaskFilters(), {"limit": "many", "state": "bogus", "_": "cache-buster"})
    assert set(refused.value.details) == {"limit", "state"}
    assert load(s.ExportQuery(), {}) == {"format": "xlsx"}
    with pytest.raises(ValidationFailed) as short:
        load(s.IdempotencyHeader(), {"Idempotency-Key": "short"})
    assert short.value.details == {"Idempotency-Key": ["长度应为8到100个字符"]}
    with pytest.raises(ValidationFailed) as blank:
        load(s.FeedbackRequest(), {"message": "   "})
    assert blank.value.details == {"message": ["请填写反馈内容（不超过2000字）"]}
