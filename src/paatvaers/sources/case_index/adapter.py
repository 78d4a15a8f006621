"""The adapter of the joint case index (KOMBIT SF1470, SagDokumentIndeksService v6).

A pass is a series of `fremsoeg` calls ordered by the index's registration time
(StsTidspunkt). Each page continues from the newest registration time seen so far
(`SoegStsFraTidspunkt`, from and including) and skips the results at exactly that time that
were already delivered (`FoersteResultatReference`). Unlike plain offsets, this does not skip
a case when another one changes during the pass: a changed case moves to the end of the order
and is simply read again.

An incremental pass starts at the high-water mark and drops what it had already seen there.
A snapshot whose registration is `Slettet` is reported as a deletion; the real index is
documented to remove cases physically instead, so against it incremental passes report none
and ingestion must reconcile deletions on full passes (docs/sources/case_index.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import httpx2
from lxml import etree

from paatvaers.sources.base import (
    Entity,
    Page,
    PassOptions,
    RawRecord,
    SourceName,
    SourceUnavailable,
)
from paatvaers.sources.case_index.parsing import parse_snapshot
from paatvaers.sources.case_index.protocol import (
    ENDPOINT_PATH,
    GD,
    SAG,
    SD,
    SDI,
    SOAP_ACTION,
    SOAP_ENV,
    SOAP_MEDIA_TYPE,
    STATUS_OK,
    XML_MEDIA_TYPE,
    FremsoegQuery,
    InvalidTime,
    build_request,
    fault_text,
    format_time,
    parse_time,
    parse_xml,
    qname,
)

_OUTPUT = f"{{{SOAP_ENV}}}Body/{{{SDI}}}FremsoegSagDokumentIndeksOutput"
_SNAPSHOT = qname(SDI, "SagFiltreretOejebliksbillede")
_OBJECT_ID = f"{{{SAG}}}ObjektType/{{{SD}}}UUIDIdentifikator"
_APPLIED_MAX = f"{{{SDI}}}Antal/{{{SDI}}}Paginering/{{{SD}}}MaksimalAntalKvantitet"


@dataclass(frozen=True, slots=True)
class _Position:
    """Where a page starts: from registration time `time` (None: the beginning), skipping
    `skip` results at exactly that time."""

    time: datetime | None
    skip: int = 0

    def encode(self) -> str:
        return f"{format_time(self.time) if self.time else ''}|{self.skip}"

    @classmethod
    def decode(cls, cursor: str) -> _Position:
        stamp, separator, skip = cursor.rpartition("|")
        if not separator or not skip.isdigit():
            raise ValueError(f"not a case index cursor: {cursor!r}")
        try:
            return cls(parse_time(stamp) if stamp else None, int(skip))
        except InvalidTime as exc:
            raise ValueError(f"not a case index cursor: {cursor!r}") from exc

    def after(self, times: Sequence[datetime]) -> _Position:
        """The position after a page whose results had these registration times."""
        newest = max(times)
        if self.time is not None and newest <= self.time:
            return _Position(self.time, self.skip + len(times))
        return _Position(newest, sum(1 for t in times if t == newest))


@dataclass(frozen=True, slots=True)
class _Result:
    key: str
    registered: datetime
    removed: bool
    payload: bytes


class CaseIndexAdapter:
    """Reads the case index with `fremsoeg` and parses each case strictly."""

    name = SourceName.CASE_INDEX

    def __init__(
        self,
        base_url: str | None = None,
        *,
        client: httpx2.Client | None = None,
        options: PassOptions | None = None,
    ) -> None:
        self.options = options or PassOptions()
        if self.options.page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.url = (base_url or SourceName.CASE_INDEX.default_url).rstrip("/") + ENDPOINT_PATH
        self._owns_client = client is None
        self._client = client or httpx2.Client(timeout=self.options.timeout_seconds)

    def close(self) -> None:
        """Close the HTTP client, if the adapter made it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> CaseIndexAdapter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def pages(self, since: str | None, cursor: str | None) -> Iterator[Page]:
        floor = _since(since)
        position = _Position.decode(cursor) if cursor else _Position(floor)
        newest = _later(floor, position.time)
        while True:
            results, page_size = self._fetch(position)
            fresh = [r for r in results if floor is None or r.registered > floor]
            newest = _later(newest, *(r.registered for r in results))
            more = bool(results) and len(results) >= page_size  # a short page is the last
            if more:
                position = position.after([r.registered for r in results])
            yield Page(
                records=[
                    RawRecord(r.key, r.payload, XML_MEDIA_TYPE) for r in fresh if not r.removed
                ],
                deleted_keys=[r.key for r in fresh if r.removed],
                next_cursor=position.encode() if more else None,
                high_water_mark=format_time(newest) if newest else None,
            )
            if not more:
                return

    def parse(self, record: RawRecord) -> Sequence[Entity]:
        return [parse_snapshot(record.payload, record.key)]

    # -- one call ----------------------------------------------------------------------------

    def _fetch(self, position: _Position) -> tuple[list[_Result], int]:
        """One page: its results, and the page size the index applied."""
        page_size = self.options.page_size
        query = FremsoegQuery(sts_from=position.time, first=position.skip, max_results=page_size)
        output = self._call(build_request(query, uuid.uuid4()))
        applied = output.findtext(_APPLIED_MAX)
        results = [_result(snapshot) for snapshot in output.iterfind(_SNAPSHOT)]
        return results, int(applied) if applied and applied.isdigit() else page_size

    def _call(self, request: bytes) -> etree._Element:
        headers = {
            "Content-Type": SOAP_MEDIA_TYPE,
            "SOAPAction": f'"{SOAP_ACTION}"',
            **self.options.extra_headers,
        }
        try:
            response = self._client.post(self.url, content=request, headers=headers)
        except httpx2.HTTPError as exc:
            raise SourceUnavailable(f"case index at {self.url} unreachable: {exc}") from exc
        if response.status_code != 200:
            reason = fault_text(response.content) or response.text[:200]
            raise SourceUnavailable(f"case index answered HTTP {response.status_code}: {reason}")
        return _output(response.content)


def _since(since: str | None) -> datetime | None:
    if since is None:
        return None
    try:
        return parse_time(since)
    except InvalidTime as exc:
        raise ValueError(f"since must be a high-water mark this adapter produced: {exc}") from exc


def _later(*moments: datetime | None) -> datetime | None:
    return max((m for m in moments if m is not None), default=None)


def _output(body: bytes) -> etree._Element:
    try:
        output = parse_xml(body).find(_OUTPUT)
    except etree.XMLSyntaxError as exc:
        raise SourceUnavailable(f"case index answered with malformed XML: {exc}") from exc
    if output is None:
        raise SourceUnavailable("case index answer has no FremsoegSagDokumentIndeksOutput")
    status = output.findtext(f"{{{SD}}}StandardRetur/{{{SD}}}StatusKode")
    if status != str(STATUS_OK):
        message = output.findtext(f"{{{SD}}}StandardRetur/{{{SD}}}FejlbeskedTekst")
        raise SourceUnavailable(f"case index answered StatusKode {status}: {message}")
    return output


def _result(snapshot: etree._Element) -> _Result:
    """The index's own data about one snapshot: the case UUID and the registration. The index
    sets these itself, so a snapshot without them means the answer, not the case, is broken."""
    key = snapshot.findtext(_OBJECT_ID)
    registrations = snapshot.findall(qname(SAG, "Registrering"))
    if not key or not registrations:
        raise SourceUnavailable("case index answered a snapshot without UUID or Registrering")
    latest = registrations[-1]
    try:
        registered = parse_time(latest.findtext(qname(GD, "StsTidspunkt")))
    except InvalidTime as exc:
        raise SourceUnavailable(f"case {key} has no usable StsTidspunkt: {exc}") from exc
    return _Result(
        key=str(key).strip(),
        registered=registered,
        removed=latest.findtext(qname(SD, "LivscyklusKode")) == "Slettet",
        payload=etree.tostring(snapshot, encoding="utf-8", with_tail=False),
    )
