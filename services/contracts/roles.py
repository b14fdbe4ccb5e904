"""Account roles. Applicants see only their own data; staff reads are audited (DESIGN.md)."""
APPLICANT = "applicant"
REVIEWER = "reviewer"
ADMIN = "admin"

ROLES = (APPLICANT, REVIEWER, ADMIN)
STAFF_ROLES = frozenset({REVIEWER, ADMIN})
ROLE_LABELS = {APPLICANT: "申请人", REVIEWER: "审核员", ADMIN: "管理员"}


def is_staff(role):
    return role in STAFF_ROLES
