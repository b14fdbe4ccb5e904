"""One application's trail across every service, by application id, without personal data.

    python -m services.ops trail APPLICATION_ID

Prints one JSON line per fact, oldest first: each event about the application (from every
service's outbox: the events' subject is the application id), which consumer processed it and
when, the review tasks (state, decision, reviewer's account id — never the opinion's text), who
touched those tasks (review audit log), and each notification the events caused (kind, channel,
template, state — never the recipient or the text). Nothing is decrypted: no keys are needed.
"""
import json

from sqlalchemy import bindparam, create_engine, inspect, text

EVENT_TABLE = "SELECT event_id, event_type, exchange, payload, created_at, sent_at FROM outbox WHERE payload LIKE :pattern"


def _when(value):
    return value.isoformat() if hasattr(value, "isoformat") else (str(value) if value is not None else None)


def _query(engine, statement, **params):
    with engine.connect() as conn:
        return conn.execute(statement if not isinstance(statement, str) else text(statement), params).mappings().all()


def trail(application_id, site):
    engines = {service: create_engine(url) for service, url in site.databases.items()}
    facts = []
    try:
        events = {}
        for service, engine in engines.items():
            for row in _query(engine, EVENT_TABLE, pattern=f"%{application_id}%"):
                if json.loads(row["payload"]).get("subject") != application_id:
                    continue
                events[row["event_id"]] = row["event_type"]
                facts.append({"at": _when(row["created_at"]), "fact": "event", "service": service,
                              "type": row["event_type"], "event_id": row["event_id"],
                              "published_at": _when(row["sent_at"])})
        ids = sorted(events)
        if ids:
            processed = text("SELECT consumer, source, event_id, processed_at FROM processed_events "
                             "WHERE event_id IN :ids").bindparams(bindparam("ids", expanding=True))
            for service, engine in engines.items():
                for row in _query(engine, processed, ids=ids):
                    facts.append({"at": _when(row["processed_at"]), "fact": "processed", "service": service,
                                  "consumer": row["consumer"], "type": events[row["event_id"]],
                                  "event_id": row["event_id"]})
        review = engines.get("review")
        if review is not None and "review_tasks" in inspect(review).get_table_names():
            tasks = _query(review, "SELECT id, attempt, state, decision, claimed_by, decided_by, created_at, "
                                   "decided_at FROM review_tasks WHERE application_id = :id", id=application_id)
            for row in tasks:
                facts.append({"at": _when(row["created_at"]), "fact": "review_task", "service": "review",
                              "task_id": row["id"], "attempt": row["attempt"], "state": row["state"],
                              "decision": row["decision"], "claimed_by": row["claimed_by"],
                              "decided_by": row["decided_by"], "decided_at": _when(row["decided_at"])})
            subjects = [f"task:{row['id']}" for row in tasks]
            if subjects:
                audit = text("SELECT actor, action, subject, at FROM audit_log WHERE subject IN :subjects") \
                    .bindparams(bindparam("subjects", expanding=True))
                for row in _query(review, audit, subjects=subjects):
                    facts.append({"at": _when(row["at"]), "fact": "audit", "service": "review",
                                  "actor": row["actor"], "action": row["action"], "subject": row["subject"]})
        notify = engines.get("notify")
        if ids and notify is not None and "notifications" in inspect(notify).get_table_names():
            caused = text("SELECT id, kind, channel, template, state, attempts, cause_event_id, created_at, "
                          "finished_at FROM notifications WHERE cause_event_id IN :ids") \
                .bindparams(bindparam("ids", expanding=True))
            for row in _query(notify, caused, ids=ids):
                facts.append({"at": _when(row["created_at"]), "fact": "notification", "service": "notify",
                              "notification_id": row["id"], "kind": row["kind"], "channel": row["channel"],
                              "template": row["template"], "state": row["state"], "attempts": row["attempts"],
                              "cause": events.get(row["cause_event_id"]), "finished_at": _when(row["finished_at"])})
    finally:
        for engine in engines.values():
            engine.dispose()
    return sorted(facts, key=lambda fact: fact["at"] or "")
