"""Write rows into PostgreSQL idempotently: insert new records, update changed ones, only
re-confirm unchanged ones, and delete what a source no longer has.

Each table is merged set-wise: the page's rows are COPYed into a temporary staging table and
merged with one `INSERT … ON CONFLICT DO UPDATE … WHERE content_hash IS DISTINCT FROM …`,
which touches only records whose content changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from paatvaers.ingest.rows import CHILD_TABLES, OWNED_TABLES, TABLES, Row, Rows, Table
from paatvaers.sources.base import SourceName

Connection = psycopg.Connection[Any]


@dataclass
class MergeResult:
    upserted: int = 0
    unchanged: int = 0

    def __iadd__(self, other: MergeResult) -> MergeResult:
        self.upserted += other.upserted
        self.unchanged += other.unchanged
        return self


def _stage(conn: Connection, table: Table) -> sql.Identifier:
    """A per-transaction staging table shaped like `table`."""
    stage = sql.Identifier(f"stage_{table.name}")
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        ).format(stage, sql.Identifier(table.name))
    )
    conn.execute(sql.SQL("TRUNCATE {}").format(stage))
    return stage


def _copy(
    conn: Connection, target: sql.Identifier, columns: Sequence[str], rows: Iterable[Row]
) -> None:
    names = sql.SQL(", ").join(sql.SQL(c) for c in columns)  # our own constant column names
    with (
        conn.cursor() as cur,
        cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(target, names)) as copy,
    ):
        for row in rows:
            copy.write_row(row)


def merge_parents(
    conn: Connection,
    table: Table,
    rows: dict[tuple[Any, ...], tuple[Row, str]],
    source: SourceName,
    confirmed_at: datetime,
) -> tuple[MergeResult, list[tuple[Any, ...]]]:
    """Merge parent rows; returns the counts and the keys of the rows that changed."""
    stage = _stage(conn, table)
    _copy(
        conn,
        stage,
        table.all_columns,
        ((*row, source.value, confirmed_at, digest) for row, digest in rows.values()),
    )
    target = sql.Identifier(table.name)
    columns = sql.SQL(", ").join(sql.SQL(c) for c in table.all_columns)
    key = sql.SQL(", ").join(sql.Identifier(k) for k in table.key)
    updates = sql.SQL(", ").join(
        sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.SQL(c))
        for c in table.all_columns
        if c not in table.key
    )
    changed = conn.execute(
        sql.SQL(
            "INSERT INTO {t} ({cols}) SELECT {cols} FROM {s} ON CONFLICT ({key}) DO UPDATE SET"
            " {updates} WHERE {t}.content_hash IS DISTINCT FROM EXCLUDED.content_hash"
            " RETURNING {key}"
        ).format(t=target, cols=columns, s=stage, key=key, updates=updates)
    ).fetchall()
    match = sql.SQL(" AND ").join(
        sql.SQL("t.{k} = s.{k}").format(k=sql.Identifier(k)) for k in table.key
    )
    confirmed = conn.execute(
        sql.SQL(
            "UPDATE {t} AS t SET confirmed_at = s.confirmed_at, source = s.source FROM {s} AS s"
            " WHERE {match} AND t.confirmed_at < s.confirmed_at"
        ).format(t=target, s=stage, match=match)
    ).rowcount
    return MergeResult(upserted=len(changed), unchanged=confirmed), [tuple(r) for r in changed]


def replace_children(
    conn: Connection, table: Table, parent_keys: list[tuple[Any, ...]], rows: Rows
) -> None:
    """Replace the child rows of the parents that changed."""
    by_parent = rows.children.get(table.name, {})
    if not parent_keys:
        return
    parent_column = sql.Identifier(table.key[0])
    keys = [k[0] for k in parent_keys]
    conn.execute(
        sql.SQL("DELETE FROM {} WHERE {} = ANY(%s)").format(
            sql.Identifier(table.name), parent_column
        ),
        (keys,),
    )
    _copy(
        conn,
        sql.Identifier(table.name),
        table.columns,
        (row for key in parent_keys for row in by_parent.get(key, [])),
    )


def write_rows(
    conn: Connection, rows: Rows, source: SourceName, confirmed_at: datetime
) -> MergeResult:
    """Merge every table of `rows`, parents before their children."""
    result = MergeResult()
    for name, parent_rows in rows.parents.items():
        merged, changed = merge_parents(conn, TABLES[name], parent_rows, source, confirmed_at)
        result += merged
        for child_name, parent_table in CHILD_TABLES.items():
            if parent_table.name == name:
                replace_children(conn, TABLES[child_name], changed, rows)
    return result


def delete_keys(conn: Connection, source: SourceName, keys: Sequence[str]) -> int:
    """Delete records the source reports gone, from the tables the source owns."""
    if not keys:
        return 0
    deleted = 0
    for table in OWNED_TABLES[source]:
        for column in _deletable_columns(table):
            deleted += conn.execute(
                sql.SQL("DELETE FROM {t} WHERE source = %s AND {c}::text = ANY(%s)").format(
                    t=sql.Identifier(table.name), c=sql.Identifier(column)
                ),
                (source.value, list(keys)),
            ).rowcount
    return deleted


def confirm_keys(
    conn: Connection, source: SourceName, keys: Sequence[str], confirmed_at: datetime
) -> None:
    """Mark the stored records behind these source keys as confirmed, unchanged."""
    for table in OWNED_TABLES[source]:
        for column in _deletable_columns(table):
            conn.execute(
                sql.SQL(
                    "UPDATE {t} SET confirmed_at = %s WHERE source = %s AND {c}::text = ANY(%s)"
                ).format(t=sql.Identifier(table.name), c=sql.Identifier(column)),
                (confirmed_at, source.value, list(keys)),
            )


def _deletable_columns(table: Table) -> tuple[str, ...]:
    """A source's record key matches the table's key, or (for institutions) its number."""
    return (*table.key, "institution_number") if table.name == "org_unit" else table.key


def delete_unconfirmed(conn: Connection, source: SourceName, run_started_at: datetime) -> int:
    """After a full pass: delete the source's records that the pass did not confirm."""
    deleted = 0
    for table in OWNED_TABLES[source]:
        deleted += conn.execute(
            sql.SQL("DELETE FROM {} WHERE source = %s AND confirmed_at < %s").format(
                sql.Identifier(table.name)
            ),
            (source.value, run_started_at),
        ).rowcount
    return deleted
