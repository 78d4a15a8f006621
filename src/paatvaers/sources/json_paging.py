"""The paging convention of our documented JSON shapes (CPR and STIL; neither service has a
public schema here), server side and client side.

A page is `{"<list>": [records], "fjernede": [removed], "naeste": token | null,
"hoejvandsmaerke": ISO time}`. Query parameters: `antal` (page size), `efter` (the token of
the previous page), `siden` (changes after this time). The token is opaque to the client; it
carries the position and the high-water mark fixed when the pass began, so every page of a
pass, resumed or not, reports the same mark, and nothing that changes during a pass is missed
by the next one.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Self

import httpx2
from starlette.requests import Request

from paatvaers.sources.base import Page, PassOptions, SourceName, SourceUnavailable
from paatvaers.sources.simulation.world import Entry, SourceStore

MAX_PAGE = 10_000


class BadRequest(Exception):
    """A request the service refuses with HTTP 400."""


# -- server side -------------------------------------------------------------------------------


def encode_token(position: tuple[datetime, str], mark: datetime) -> str:
    raw = json.dumps([position[0].isoformat(), position[1], mark.isoformat()]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_token(token: str) -> tuple[tuple[datetime, str], datetime]:
    try:
        moment, key, mark = json.loads(base64.urlsafe_b64decode(token.encode()))
        return (datetime.fromisoformat(moment), str(key)), datetime.fromisoformat(mark)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise BadRequest(f"efter is not a token this service gave: {token!r}") from exc


def page_size(request: Request) -> int:
    text = request.query_params.get("antal", "500")
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise BadRequest(f"antal must be a whole number from 1 to {MAX_PAGE}")
    return int(text)


def since(request: Request, required: bool) -> datetime | None:
    text = request.query_params.get("siden")
    if text is None and not required:
        return None
    try:
        moment = datetime.fromisoformat(text or "")
    except ValueError:
        raise BadRequest("siden must be an ISO-8601 time with a time zone") from None
    if moment.tzinfo is None:
        raise BadRequest("siden must carry a time zone")
    return moment


def removed(store: SourceStore[Any], after: datetime, key_name: str) -> list[dict[str, str]]:
    """What was deleted after `after`, oldest first."""
    return [{key_name: key, "tidspunkt": at.isoformat()} for key, at in store.deleted_since(after)]


def page_body(
    store: SourceStore[Any],
    request: Request,
    changed_after: datetime | None,
    list_name: str,
    gone: list[dict[str, str]],
    render: Callable[[Entry[Any]], bytes],
    now: datetime,
) -> bytes:
    """One page as JSON bytes, spliced from each record's own bytes so that broken records go
    out exactly as they are stored. Removals go on the first page of a pass only. The mark is
    the service's time when the pass began (`now` on its first page): one clock for all of a
    service's listings, so a client reading several can keep the earliest."""
    token = request.query_params.get("efter")
    if token is None:
        after, mark = None, now
    else:
        after, mark = decode_token(token)
    entries, last = store.page(changed_after, after, page_size(request))
    tail = json.dumps(
        {
            "fjernede": gone if token is None else [],
            "naeste": encode_token(last, mark) if last is not None else None,
            "hoejvandsmaerke": mark.isoformat(),
        },
        ensure_ascii=False,
    ).encode()
    records = b",".join(render(entry) for entry in entries)
    return b'{"' + list_name.encode() + b'":[' + records + b"]," + tail[1:]


# -- client side -------------------------------------------------------------------------------


@contextmanager
def session(client: httpx2.Client | None, timeout: float) -> Iterator[httpx2.Client]:
    """The client for one pass: the one handed to the adapter, or one of the pass's own that
    is closed when the pass ends, so no connection outlives it."""
    if client is not None:
        yield client
        return
    with httpx2.Client(timeout=timeout) as own:
        yield own


def fetch_page(
    client: httpx2.Client,
    url: str,
    params: Mapping[str, str],
    headers: Mapping[str, str],
    list_name: str,
    service: str,
) -> dict[str, Any]:
    """One page, checked for the envelope's shape; any failure is SourceUnavailable."""
    try:
        response = client.get(url, params=params, headers=headers)
    except httpx2.HTTPError as exc:
        raise SourceUnavailable(f"{service} at {url} could not be reached: {exc}") from exc
    if response.status_code != 200:
        raise SourceUnavailable(
            f"{service} at {url} answered HTTP {response.status_code}: {response.text[:300]}"
        )
    try:
        envelope = json.loads(response.content)
    except ValueError as exc:
        raise SourceUnavailable(f"{service} at {url} answered with no JSON") from exc
    if not (
        isinstance(envelope, dict)
        and isinstance(envelope.get(list_name), list)
        and isinstance(envelope.setdefault("fjernede", []), list)
        and isinstance(envelope.get("naeste"), str | None)
        and isinstance(envelope.get("hoejvandsmaerke"), str)
    ):
        raise SourceUnavailable(f"{service} at {url} answered with a page of another shape")
    return envelope


class JsonPassAdapter:
    """What the CPR and STIL adapters share: construction, a client per pass, and the query
    parameters of a page. Subclasses set `name` and implement `_pages`."""

    name: SourceName

    def __init__(
        self,
        base_url: str | None = None,
        *,
        client: httpx2.Client | None = None,
        options: PassOptions | None = None,
    ) -> None:
        self.base_url = (base_url or self.name.default_url).rstrip("/")
        self.options = options or PassOptions()
        self._client = client  # None: each pass opens (and closes) its own

    def close(self) -> None:
        """Nothing stays open between passes (each pass closes the client it opened); a
        client handed in belongs to whoever handed it in."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def pages(self, since: str | None, cursor: str | None) -> Iterator[Page]:
        with session(self._client, self.options.timeout_seconds) as client:
            yield from self._pages(client, since, cursor)

    def _pages(
        self, client: httpx2.Client, since: str | None, cursor: str | None
    ) -> Iterator[Page]:
        raise NotImplementedError

    def _params(self, since: str | None, token: str | None) -> dict[str, str]:
        params = {"antal": str(self.options.page_size)}
        if since is not None:
            params["siden"] = since
        if token is not None:
            params["efter"] = token
        return params
