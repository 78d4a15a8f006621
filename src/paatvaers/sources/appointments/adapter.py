"""Adapter of the appointment overview: an IHE MHD Document Consumer.

A pass is a FHIR search over DocumentReference sorted by `_lastUpdated`, paged by the Bundle's
`next` links; an incremental pass adds `_lastUpdated=gt<high-water mark>`. For each entry the
APD-DK document is retrieved from `content.attachment.url` (several at a time, over kept-alive
connections), and the related documents needed to tell a moved appointment from a cancelled
one come with the search (`_include`/`_revinclude` of `relatesto`).

One RawRecord per DocumentReference: key = DocumentReference.id (the registry's entry id),
payload = JSON holding the DocumentReference, the document and the related entries
(see record.py). MHD has no deletion feed: documents removed outright just stop appearing,
and ingestion's full passes remove what they no longer see.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import httpx2

from paatvaers.sources.appointments import codes
from paatvaers.sources.appointments.record import read_record
from paatvaers.sources.base import (
    Entity,
    Page,
    PassOptions,
    RawRecord,
    SourceName,
    SourceUnavailable,
)

MEDIA_TYPE = "application/json"
FHIR_JSON = "application/fhir+json"
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
_GONE = (404, 410)  # a document removed between search and retrieve


@dataclass(frozen=True, slots=True)
class _Cursor:
    """Where a pass resumes: the server's next link, and the high-water mark so far."""

    next_url: str
    high_water_mark: str | None

    def encode(self) -> str:
        return json.dumps({"next": self.next_url, "hwm": self.high_water_mark})

    @classmethod
    def decode(cls, text: str) -> _Cursor:
        try:
            value = json.loads(text)
            return cls(str(value["next"]), value.get("hwm"))
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"not a cursor of the appointments adapter: {text!r}") from exc


@dataclass(frozen=True, slots=True)
class _Retrieved:
    document: str | None
    error: str | None = None


class AppointmentsAdapter:
    name = SourceName.APPOINTMENTS

    def __init__(
        self,
        base_url: str | None = None,
        *,
        client: httpx2.Client | None = None,
        options: PassOptions | None = None,
        today: date | None = None,
        fhir_path: str = "/fhir",
        retrieve_concurrency: int = 8,
    ) -> None:
        """`today` decides held (before it) from booked appointments; by default the date in
        Denmark when a record is parsed. `fhir_path` is the FHIR base below `base_url`."""
        self.base_url = (base_url or SourceName.APPOINTMENTS.default_url).rstrip("/")
        self.fhir_base = self.base_url + fhir_path.rstrip("/")
        self.options = options or PassOptions()
        self.today = today
        self.retrieve_concurrency = max(1, retrieve_concurrency)
        self._owns_client = client is None
        self.client = client or httpx2.Client(
            timeout=self.options.timeout_seconds,
            headers=self.options.extra_headers,
            limits=httpx2.Limits(
                max_connections=self.retrieve_concurrency + 2,
                max_keepalive_connections=self.retrieve_concurrency + 2,
            ),
        )

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    # -- the pass ------------------------------------------------------------------------------

    def pages(self, since: str | None, cursor: str | None) -> Iterator[Page]:
        if cursor is not None:
            state = _Cursor.decode(cursor)
            url, params, hwm = self._same_origin(state.next_url), None, state.high_water_mark
        else:
            url, params, hwm = f"{self.fhir_base}/DocumentReference", self._search(since), since
        with ThreadPoolExecutor(self.retrieve_concurrency, "apd-retrieve") as pool:
            while True:
                bundle = self._get_bundle(url, params)
                matches, included = _split(bundle)
                hwm = _latest(hwm, matches)
                records = self._records(matches, included, pool)
                next_url = _next_link(bundle)
                if next_url is None:
                    yield Page(records, (), None, hwm)
                    return
                url, params = self._same_origin(next_url), None
                yield Page(records, (), _Cursor(url, hwm).encode(), hwm)

    def _search(self, since: str | None) -> httpx2.QueryParams:
        params: list[tuple[str, str | int | float | bool | None]] = [
            ("status", ",".join(codes.STATUSES)),
            ("_sort", "_lastUpdated"),
            ("_count", str(self.options.page_size)),
            ("_include", codes.RELATES_TO),
            ("_revinclude", codes.RELATES_TO),
        ]
        if since is not None:
            _instant(since)  # a high-water mark we did not produce is a caller's error
            params.append(("_lastUpdated", f"gt{since}"))
        return httpx2.QueryParams(params)

    def _same_origin(self, url: str) -> str:
        """Follow next links on our own server only: a proxy may write its inner host name
        into them, and credentials must not go elsewhere."""
        absolute = urljoin(self.fhir_base + "/", url)
        ours, theirs = urlsplit(self.base_url), urlsplit(absolute)
        return urlunsplit((ours.scheme, ours.netloc, theirs.path, theirs.query, ""))

    # -- HTTP ----------------------------------------------------------------------------------

    def _get_bundle(self, url: str, params: httpx2.QueryParams | None) -> Mapping[str, Any]:
        try:
            response = self.client.get(url, params=params, headers={"Accept": FHIR_JSON})
        except httpx2.HTTPError as exc:
            raise SourceUnavailable(f"appointment overview search failed at {url}: {exc}") from exc
        if response.status_code != 200:
            raise SourceUnavailable(
                f"appointment overview search answered HTTP {response.status_code} at "
                f"{response.url}: {response.text[:300]}"
            )
        try:
            bundle = response.json()
        except ValueError as exc:
            raise SourceUnavailable(f"the search did not answer JSON: {exc}") from exc
        if not isinstance(bundle, Mapping) or bundle.get("resourceType") != "Bundle":
            raise SourceUnavailable("appointment overview search did not answer a FHIR Bundle")
        return bundle

    def _retrieve(self, url: str) -> _Retrieved:
        try:
            response = self.client.get(url, headers={"Accept": "text/xml"})
        except httpx2.HTTPError as exc:
            raise SourceUnavailable(f"retrieving {url} failed: {exc}") from exc
        if response.status_code in _GONE:
            return _Retrieved(None, f"HTTP {response.status_code} from {url}")
        if response.status_code != 200:
            raise SourceUnavailable(f"retrieving {url} answered HTTP {response.status_code}")
        try:
            return _Retrieved(response.content.decode("utf-8"))
        except UnicodeDecodeError as exc:
            return _Retrieved(None, f"the document at {url} is not UTF-8: {exc}")

    # -- records -------------------------------------------------------------------------------

    def _records(
        self,
        matches: list[Mapping[str, Any]],
        included: dict[str, Mapping[str, Any]],
        pool: ThreadPoolExecutor,
    ) -> list[RawRecord]:
        by_id = {**included, **{str(m.get("id")): m for m in matches}}
        replaced = {str(m.get("id")): _replaced(m, by_id) for m in matches}
        wanted = list(matches) + [r for r in replaced.values() if r is not None]
        urls = sorted({u for r in wanted if (u := self._attachment_url(r)) is not None})
        documents = dict(zip(urls, pool.map(self._retrieve, urls), strict=True))
        replacing: dict[str, list[Mapping[str, Any]]] = {}
        for resource in by_id.values():
            if (target := _replaces_id(resource)) is not None:
                replacing.setdefault(target, []).append(resource)
        return [self._record(m, replaced[str(m.get("id"))], replacing, documents) for m in matches]

    def _attachment_url(self, resource: Mapping[str, Any]) -> str | None:
        content = resource.get("content")
        if not isinstance(content, list) or not content or not isinstance(content[0], Mapping):
            return None
        attachment = content[0].get("attachment")
        url = attachment.get("url") if isinstance(attachment, Mapping) else None
        # Relative URLs are relative to the FHIR base, as references are.
        return urljoin(self.fhir_base + "/", url) if isinstance(url, str) and url else None

    def _part(
        self, resource: Mapping[str, Any], documents: Mapping[str, _Retrieved]
    ) -> dict[str, Any]:
        url = self._attachment_url(resource)
        retrieved = documents.get(url) if url else None
        part: dict[str, Any] = {
            "documentReference": resource,
            "document": retrieved.document if retrieved else None,
        }
        if retrieved is None:
            part["retrieveError"] = "the DocumentReference has no content.attachment.url"
        elif retrieved.error:
            part["retrieveError"] = retrieved.error
        return part

    def _record(
        self,
        match: Mapping[str, Any],
        replaced: Mapping[str, Any] | None,
        replacing: Mapping[str, list[Mapping[str, Any]]],
        documents: Mapping[str, _Retrieved],
    ) -> RawRecord:
        key = str(match.get("id") or "")
        payload = self._part(match, documents)
        if replaced is not None:
            payload["replaces"] = self._part(replaced, documents)
        if key in replacing:
            payload["replacedBy"] = replacing[key]
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return RawRecord(key, body, MEDIA_TYPE)

    # -- parsing -------------------------------------------------------------------------------

    def parse(self, record: RawRecord) -> Sequence[Entity]:
        today = self.today or datetime.now(COPENHAGEN).date()
        return [read_record(record.payload, today)]


Resources = list[Mapping[str, Any]]


def _split(bundle: Mapping[str, Any]) -> tuple[Resources, dict[str, Mapping[str, Any]]]:
    """The matching DocumentReferences in order, and the included ones by id."""
    matches: list[Mapping[str, Any]] = []
    included: dict[str, Mapping[str, Any]] = {}
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise SourceUnavailable("the search Bundle's entry is not a list")
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if not isinstance(resource, Mapping):
            continue
        search = entry.get("search")
        mode = search.get("mode", "match") if isinstance(search, Mapping) else "match"
        if mode == "include":
            included[str(resource.get("id"))] = resource
        elif mode == "match":
            matches.append(resource)
    return matches, included


def _next_link(bundle: Mapping[str, Any]) -> str | None:
    links = bundle.get("link")
    for link in links if isinstance(links, list) else []:
        if isinstance(link, Mapping) and link.get("relation") == "next":
            url = link.get("url")
            return url if isinstance(url, str) and url else None
    return None


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"a high-water mark must carry a time zone: {text!r}")
    return moment


def _latest(hwm: str | None, matches: list[Mapping[str, Any]]) -> str | None:
    """The latest meta.lastUpdated seen, as the server wrote it."""
    best = (_instant(hwm), hwm) if hwm else None
    for resource in matches:
        meta = resource.get("meta")
        stamp = meta.get("lastUpdated") if isinstance(meta, Mapping) else None
        if not isinstance(stamp, str):
            continue
        try:
            moment = _instant(stamp)
        except ValueError:
            continue  # the record itself will be judged by parse
        if best is None or moment > best[0]:
            best = (moment, stamp)
    return best[1] if best else None


def _replaces_id(resource: Mapping[str, Any]) -> str | None:
    relations = resource.get("relatesTo")
    for relation in relations if isinstance(relations, list) else []:
        if isinstance(relation, Mapping) and relation.get("code") == codes.REPLACES:
            target = relation.get("target")
            reference = target.get("reference") if isinstance(target, Mapping) else None
            if isinstance(reference, str) and "DocumentReference/" in reference:
                return reference.rsplit("DocumentReference/", 1)[1].split("/")[0]
    return None


def _replaced(
    match: Mapping[str, Any], by_id: Mapping[str, Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    target = _replaces_id(match)
    return by_id.get(target) if target else None
