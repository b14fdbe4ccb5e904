"""The arithmetic of the reviewer figures over counts the database made (open tasks, decisions per
reviewer per Beijing day), and `Recent`: the one figure that still sorts rows (the median) kept a while."""
from collections import Counter

MEDIAN_REFRESH_SECONDS = 60  # the page says "每分钟更新" beside the median


def decided_per_reviewer_per_day(counts):
    """counts: [(reviewer_id, Beijing day, n)] → [{"reviewer_id", "day", "decided"}], newest day first."""
    return [{"reviewer_id": reviewer, "day": day, "decided": n}
            for reviewer, day, n in sorted(counts, key=lambda row: (row[1], row[0]), reverse=True)]


def open_counts(groups, oldest, now):
    """groups: [(state as shown, campaign, district, level, n)] of open tasks, oldest: the oldest open
    submission or None → {"by_state", "by_campaign", "by_district", "by_level", "open", "oldest_waiting_seconds"}."""
    totals = {"by_state": Counter(), "by_campaign": Counter(), "by_district": Counter(), "by_level": Counter()}
    for state, campaign, district, level, n in groups:
        for name, key in (("by_state", state), ("by_campaign", campaign), ("by_district", district),
                          ("by_level", level)):
            totals[name][key] += n
    return {**{name: dict(counter) for name, counter in totals.items()},
            "open": sum(totals["by_state"].values()),
            "oldest_waiting_seconds": max(0.0, (now - oldest).total_seconds()) if oldest else None}


class Recent:
    """Values kept `seconds` per key, on a clock the caller passes (monotonic in the service). Each
    review process keeps its own; a miss computes again (two at once both compute: harmless)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self._kept = {}  # key → (computed at, value, as of)

    def get(self, key, at, compute, as_of):
        """(value, as_of of its computation): the kept one while younger than `seconds`."""
        kept = self._kept.get(key)
        if kept is None or at - kept[0] >= self.seconds:
            kept = self._kept[key] = (at, compute(), as_of)
        return kept[1], kept[2]
