"""Every view of the quality follow-up is logged (issue #8, item 5).

The pages show aggregates only, so no child is named in the event: `child_cpr` and
`data_flow` stay empty. The access log's actions are `decide`, `read` and `search`, and a read
or a search is of a child's data; showing the follow-up is a decision on the viewer's role,
so it is logged as `decide`, permitted or denied, with the page viewed in `record_ids`.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from paatvaers.access.audit import AccessAction, AccessEvent, record
from paatvaers.access.identity import Principal

QUALITY_PURPOSE = "quality-dashboard"
STEERING_RULE = "quality.steering_role"  # the rule the web layer checks


def record_view(
    session: Session,
    principal: Principal,
    view: str,
    *,
    permitted: bool,
    request_id: str | None = None,
) -> int:
    """Log that `principal` viewed (or was refused) the page `view` of the follow-up, in the
    caller's transaction; the event's id. Raises AccessLogUnavailable like `audit.record`:
    then the page must not be shown."""
    reason = (
        f"Viste kvalitetsopfølgningen: {view}"
        if permitted
        else f"Afvist: kvalitetsopfølgningen ({view}) kræver styrings- eller driftsrollen"
    )
    return record(
        session,
        AccessEvent(
            user_id=principal.user_id,
            username=principal.username,
            employee_function=principal.function.value,
            unit_id=principal.unit.id,
            action=AccessAction.DECIDE,
            purpose=QUALITY_PURPOSE,
            decision="permit" if permitted else "deny",
            rules=(STEERING_RULE,),
            record_ids=(f"quality:{view}",),
            reason=reason,
            request_id=request_id,
        ),
    )
