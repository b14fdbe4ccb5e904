"""The identity service's repositories, reached on the unit of work (`Database(...,
repositories=repositories)`, db.UnitOfWork): so far its part of the platform's append-only audit
log (`uow.audit`: second-factor enrolments and resets). The accounts, codes and sessions are still
queried in handlers.py, staff.py and staff_signin.py (issue #11 step 2, to follow)."""
from services.common.audit import AuditLog


def repositories(session, cipher=None):
    """The unit of work's hook: this service's repositories for one session."""
    return {"audit": AuditLog(session)}
