"""The arithmetic of the reviewer figures (decisions per reviewer per Beijing day, time to decision)."""
import statistics
from collections import Counter

from services.common import clock


def decided_per_reviewer_per_day(decisions):
    """decisions: [(reviewer_id, decided_at)] → [{"reviewer_id", "day" (Beijing), "decided"}], newest day first."""
    counts = Counter((reviewer, at.astimezone(clock.BEIJING).date().isoformat()) for reviewer, at in decisions)
    return [{"reviewer_id": reviewer, "day": day, "decided": n}
            for (reviewer, day), n in sorted(counts.items(), key=lambda kv: (kv[0][1], kv[0][0]), reverse=True)]


def median_seconds(pairs):
    """pairs: [(submitted_at, decided_at)] → median seconds from submission to decision (None if none)."""
    durations = [(decided - submitted).total_seconds() for submitted, decided in pairs]
    return round(statistics.median(durations), 3) if durations else None
