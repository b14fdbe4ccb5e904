"""Account roles. Applicants see only their own data; staff reads are audited (DESIGN.md).

三员分立: the system admin (admin) runs the registration work, the security admin manages staff
accounts and their second factors, the auditor reads the audit log and nothing else.
"""
APPLICANT = "applicant"
REVIEWER = "reviewer"
ADMIN = "admin"
SECURITY_ADMIN = "security_admin"
AUDITOR = "auditor"

ROLES = (APPLICANT, REVIEWER, ADMIN, SECURITY_ADMIN, AUDITOR)
# Staff who work on applications and may read any of them (each read audited).
STAFF_ROLES = frozenset({REVIEWER, ADMIN})
# Every role an account created by `create-staff` may have.
STAFF_ACCOUNT_ROLES = frozenset({REVIEWER, ADMIN, SECURITY_ADMIN, AUDITOR})
ROLE_LABELS = {APPLICANT: "申请人", REVIEWER: "审核员", ADMIN: "系统管理员", SECURITY_ADMIN: "安全管理员",
               AUDITOR: "审计员"}


def is_staff(role):
    return role in STAFF_ROLES
