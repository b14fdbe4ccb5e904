"""Published states and how people read them. The codes travel in the API and in reports; the
pages show the labels (served by GET /api/v1/code-tables), never the codes.

The transitions live with their owners: services/registration/domain/states.py (the application)
and services/review (the review task).
"""

# The application (登记申请), owned by registration.
DRAFT, SUBMITTED, APPROVED, REJECTED, DISPATCHED = "DRAFT", "SUBMITTED", "APPROVED", "REJECTED", "DISPATCHED"
APPLICATION_STATES = (DRAFT, SUBMITTED, APPROVED, REJECTED, DISPATCHED)
APPLICATION_STATE_LABELS = {
    DRAFT: "草稿（未提交）",
    SUBMITTED: "已提交，等待审核",
    APPROVED: "审核通过，登记完成",
    REJECTED: "审核不通过，请修改后重新提交",
    DISPATCHED: "证书已寄出",
}

# The review task (审核任务), owned by review. An expired claim is shown as pending.
PENDING, CLAIMED, DECIDED, SUPERSEDED = "pending", "claimed", "decided", "superseded"
TASK_STATES = (PENDING, CLAIMED, DECIDED, SUPERSEDED)
TASK_STATE_LABELS = {
    PENDING: "待审核",
    CLAIMED: "审核中",
    DECIDED: "已审结",
    SUPERSEDED: "已被新提交取代",
}

# Feedback on the roster data (反馈), owned by registration.
FEEDBACK_OPEN, FEEDBACK_RESOLVED = "OPEN", "RESOLVED"
FEEDBACK_STATES = (FEEDBACK_OPEN, FEEDBACK_RESOLVED)
FEEDBACK_STATE_LABELS = {FEEDBACK_OPEN: "待处理", FEEDBACK_RESOLVED: "已处理"}

# A reviewer's decision, as ReviewCompleted.decision spells it.
DECISION_APPROVED, DECISION_REJECTED = "approved", "rejected"
DECISION_LABELS = {DECISION_APPROVED: "审核通过", DECISION_REJECTED: "审核不通过"}
