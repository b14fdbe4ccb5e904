"""The shared vocabulary: what every service, the pages and outside subscribers agree on.

- `events` — the public event contract (CloudEvents envelope + one schema per event)
- `subscriptions` — which service consumes which event (queues declared at start)
- `errors` — domain errors: a stable code, a Chinese message, an HTTP status
- `materials`, `roles`, `states` — each code defined once, with the one Chinese label people see

Plain Python: no nameko, no database. `services/common` is the platform that carries these.
"""
