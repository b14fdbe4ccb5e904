"""The review service: material checks and storage, the reviewer queue, decisions, the audit log."""
