"""How the admin report counts a rejection's reasons (统计报表：驳回原因).

A reason is counted under the material it names and its text without surrounding spaces; a blank
reason counts as "未说明原因". The repository keeps the counts with each rejection in this spelling
(models.ReportReason), so the console shows them as stored.
"""
UNSTATED = "未说明原因"


def reason_key(issue):
    """(kind, reason) of one material issue of a rejection, as the report counts it."""
    return str(issue.get("kind") or ""), str(issue.get("reason") or "").strip() or UNSTATED
