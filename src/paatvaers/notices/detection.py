"""Finding newly involved units while the involvement table is rebuilt, in the rebuild's own
transaction: the change rows commit with the new table or not at all (a transactional
outbox), so no change is lost and none is announced that did not happen.

The first build (an empty table before) announces nothing: everything would be "new", and
nobody should receive a notice for every child they already know. An involvement that has
already ended is no news either."""

from __future__ import annotations

from datetime import UTC, date, datetime

import psycopg

# Kept for the length of the rebuild's transaction: what was involved before.
_REMEMBER = (
    "CREATE TEMPORARY TABLE involvement_before ON COMMIT DROP AS"
    " SELECT child_cpr, unit_id FROM involvement"
)
_RECORD = """
INSERT INTO involvement_change
    (child_cpr, child_cpr_synthetic, unit_id, kind, since, evidence, detected_at, due_at)
SELECT n.child_cpr, n.child_cpr_synthetic, n.unit_id, n.kind, n.since, n.evidence,
       %(now)s, %(now)s
FROM involvement n
WHERE EXISTS (SELECT 1 FROM involvement_before)
  AND (n.until IS NULL OR n.until >= %(day)s)
  AND NOT EXISTS (
      SELECT 1 FROM involvement_before b
      WHERE b.child_cpr = n.child_cpr AND b.unit_id = n.unit_id
  )
ORDER BY n.child_cpr, n.since, n.unit_id
"""


def remember_involvement(cur: psycopg.Cursor[tuple[object, ...]]) -> None:
    """Before the table is replaced: keep who was involved, for `record_changes`."""
    cur.execute(_REMEMBER)


def record_changes(
    cur: psycopg.Cursor[tuple[object, ...]], day: date, now: datetime | None = None
) -> int:
    """After the table is replaced: one change row per unit newly involved; their number."""
    cur.execute(_RECORD, {"day": day, "now": now or datetime.now(UTC)})
    return cur.rowcount
