"""Events and settings the notify unit tests share."""
from datetime import datetime, timezone

from services.common import clock
from services.common.config import DEV_SECRETS
from services.common.crypto import DataCipher
from services.contracts.events import new_event
from services.notify.domain.quiet_hours import QuietHoursPolicy
from services.notify.domain.retry import RetryPolicy
from services.notify.domain.templates import TemplateRegistry
from services.notify.handlers import Settings

BEIJING = clock.BEIJING
NOON = datetime(2020, 7, 3, 12, 0, tzinfo=BEIJING).astimezone(timezone.utc)
TEMPLATES = TemplateRegistry.load()
CIPHER = DataCipher(DEV_SECRETS["DATA_KEYS"], DEV_SECRETS["BLIND_INDEX_KEY"])


def settings(**changes):
    return Settings(**{"quiet_hours": QuietHoursPolicy(), "retry": RetryPolicy(max_attempts=3, random=lambda: 0.5),
                       **changes})


def submitted(attempt=1, application_id="app-1"):
    return new_event("ApplicationSubmitted", application_id, {
        "application_id": application_id, "campaign_id": "c", "account_id": "acc-1", "kind": "FIRST",
        "attempt": attempt, "cert_level": "INTERMEDIATE", "exam_year": 2019, "district_code": "110105",
        "material_ids": {}, "submitted_at": "2020-07-03T10:15:00+08:00"})


def rejected(attempt=1):
    return new_event("ReviewCompleted", "app-1", {
        "review_id": "r", "application_id": "app-1", "attempt": attempt, "decision": "rejected",
        "opinion": "照片不符合要求", "material_issues": [], "reviewer_id": "s", "completed_at": "2020-07-05T16:00:00+08:00"})
