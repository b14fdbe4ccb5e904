"""The arithmetic of the reviewer figures over counts the database made (open tasks, decisions per reviewer per Beijing day)."""
from collections import Counter


def decided_per_reviewer_per_day(counts):
    """counts: [(reviewer_id, Beijing day, n)] → [{"reviewer_id", "day", "decided"}], newest day first."""
    return [{"reviewer_id": reviewer, "day": day, "decided": n}
            for reviewer, day, n in sorted(counts, key=lambda row: (row[1], row[0]), reverse=True)]


def open_counts(groups, now):
    """groups: [(state as shown, campaign, district, level, n, oldest submitted_at)] of open tasks →
    {"by_state", "by_campaign", "by_district", "by_level", "open", "oldest_waiting_seconds"}."""
    totals = {"by_state": Counter(), "by_campaign": Counter(), "by_district": Counter(), "by_level": Counter()}
    oldest = None
    for state, campaign, district, level, n, first in groups:
        for name, key in (("by_state", state), ("by_campaign", campaign), ("by_district", district),
                          ("by_level", level)):
            totals[name][key] += n
        oldest = first if oldest is None or first < oldest else oldest
    return {**{name: dict(counter) for name, counter in totals.items()},
            "open": sum(totals["by_state"].values()),
            "oldest_waiting_seconds": max(0.0, (now - oldest).total_seconds()) if oldest else None}
