"""Ask the consent service (Digitalt Samtykke, in our JSON shape: docs/sources/consent.md).

The platform asks on every decision and keeps nothing: a withdrawal takes effect on the very
next call. Answers are read strictly into the domain's types; an answer that cannot be read
whole is an error, never a guess. Every failure to get a readable answer is
`ConsentServiceUnavailable` (its subclass `ConsentAnswerInvalid` for a broken answer), on
which the access engine denies: consent that cannot be confirmed is consent missing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Self

import httpx2

from paatvaers.domain.consent import (
    ConsentEvent,
    ConsentKind,
    ConsentRecord,
    ConsentState,
    ConsentTemplate,
)
from paatvaers.domain.cpr import Cpr, InvalidCpr
from paatvaers.sources.base import SourceName

BASE = "/samtykke/v1"


class ConsentServiceUnavailable(Exception):
    """No usable answer: the service could not be reached, timed out, answered 5xx (or any
    unexpected status to a read), or answered something we cannot read."""


class ConsentAnswerInvalid(ConsentServiceUnavailable):
    """The service answered, but the answer breaks our shape's rules; the message says which
    record and which rule."""


class ConsentRequestRefused(Exception):
    """The service refused a change (4xx): unknown template, invalid CPR number, a record
    that does not exist or is already withdrawn. `reason` is the service's own text."""

    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(f"HTTP {status_code}: {reason}")
        self.status_code = status_code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ConsentAnswer:
    """The records about a person, and the service's time when it answered: each record's
    state is the one it had then (`record.state_at(answer.as_of)`)."""

    records: list[ConsentRecord]
    as_of: datetime


class ConsentClient:
    """One client per process is enough; it keeps connections open between calls."""

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 2.0,
        *,
        client: httpx2.Client | None = None,
    ) -> None:
        self.base_url = (base_url or SourceName.CONSENT.default_url).rstrip("/") + BASE
        self._own = client is None
        self._client = client or httpx2.Client(timeout=timeout)

    def close(self) -> None:
        """Close the connections, unless the HTTP client was handed in."""
        if self._own:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- reads: any failure is ConsentServiceUnavailable ----------------------------------------

    def templates(self) -> list[ConsentTemplate]:
        data = _json(self._send("GET", "/skabeloner"))
        listed = data.get("skabeloner") if isinstance(data, dict) else None
        if not isinstance(listed, list):
            raise ConsentAnswerInvalid("the templates answer has no list 'skabeloner'")
        return [_template(item) for item in listed]

    def lookup(self, child_cpr: Cpr, template: str | None = None) -> ConsentAnswer:
        """Every record about the child (of one template, if given), in any state."""
        params = {"omfattetPerson": child_cpr.value}
        if template is not None:
            params["skabelon"] = template
        data = _json(self._send("GET", "/samtykker", params=params))
        if not isinstance(data, dict) or not isinstance(data.get("samtykker"), list):
            raise ConsentAnswerInvalid("the consent answer has no list 'samtykker'")
        as_of = _moment(data.get("tidspunkt"), "the answer", "tidspunkt")
        records = [parse_record(item, as_of) for item in data["samtykker"]]
        for record in records:
            _belongs(record, child_cpr, template)
        return ConsentAnswer(records, as_of)

    def records_for(self, child_cpr: Cpr, template: str | None = None) -> list[ConsentRecord]:
        return self.lookup(child_cpr, template).records

    # -- changes: a refusal is ConsentRequestRefused --------------------------------------------

    def give(
        self,
        kind: ConsentKind,
        template: str,
        subject_cpr: Cpr,
        giver_cpr: Cpr,
        valid_until: date | None = None,
    ) -> ConsentRecord:
        body = {
            "type": kind.value,
            "skabelon": template,
            "omfattetPerson": subject_cpr.value,
            "afgivetAf": giver_cpr.value,
            "gyldigTil": valid_until.isoformat() if valid_until else None,
        }
        return self._change("/samtykker", body, 201)

    def withdraw(self, record_id: uuid.UUID, by_cpr: Cpr) -> ConsentRecord:
        return self._change(f"/samtykker/{record_id}/tilbagekald", {"udfoertAf": by_cpr.value}, 200)

    def _change(self, path: str, body: Mapping[str, Any], expected: int) -> ConsentRecord:
        response = self._send("POST", path, body=body, refusable=True)
        if response.status_code != expected:
            raise ConsentServiceUnavailable(
                f"the consent service answered HTTP {response.status_code} to {path}"
            )
        return parse_record(_json(response), None)

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        refusable: bool = False,
    ) -> httpx2.Response:
        url = self.base_url + path
        try:
            response = self._client.request(method, url, params=params, json=body)
        except httpx2.HTTPError as exc:
            raise ConsentServiceUnavailable(
                f"the consent service at {url} could not be reached: {exc!r}"
            ) from exc
        if refusable and 400 <= response.status_code < 500:
            raise ConsentRequestRefused(response.status_code, _reason(response))
        if response.status_code >= 300:
            raise ConsentServiceUnavailable(
                f"the consent service at {url} answered HTTP {response.status_code}:"
                f" {_reason(response)}"
            )
        return response


def _json(response: httpx2.Response) -> object:
    try:
        return json.loads(response.content)
    except ValueError as exc:
        raise ConsentAnswerInvalid(f"the consent service answered with no JSON: {exc}") from exc


def _reason(response: httpx2.Response) -> str:
    try:
        data = json.loads(response.content)
    except ValueError:
        return response.text[:300]
    reason = data.get("fejl") if isinstance(data, dict) else None
    return reason if isinstance(reason, str) else response.text[:300]


# -- strict reading -----------------------------------------------------------------------------


def _moment(value: object, where: str, field: str) -> datetime:
    if not isinstance(value, str):
        raise ConsentAnswerInvalid(f"{where}: {field} is missing")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConsentAnswerInvalid(f"{where}: {field} is not a time: {value!r}") from None
    if moment.tzinfo is None:
        raise ConsentAnswerInvalid(f"{where}: {field} {value!r} has no time zone")
    return moment


def _day(value: object, where: str, field: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConsentAnswerInvalid(f"{where}: {field} is not a date: {value!r}") from None


def _cpr(value: object, where: str, field: str) -> Cpr:
    if not isinstance(value, str):
        raise ConsentAnswerInvalid(f"{where}: {field} is missing")
    try:
        return Cpr.parse(value)
    except InvalidCpr:
        raise ConsentAnswerInvalid(f"{where}: {field} {value!r} is no CPR number") from None


def _text(value: object, where: str, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConsentAnswerInvalid(f"{where}: {field} is missing")
    return value


def _state(value: object, where: str, field: str) -> ConsentState:
    if not isinstance(value, str) or value not in set(ConsentState):
        raise ConsentAnswerInvalid(f"{where}: {field} {value!r} is no known state")
    return ConsentState(value)


def _template(item: object) -> ConsentTemplate:
    if not isinstance(item, dict):
        raise ConsentAnswerInvalid("a template is not a JSON object")
    template_id = _text(item.get("id"), "a template", "id")
    where = f"template {template_id}"
    return ConsentTemplate(
        template_id,
        _text(item.get("titel"), where, "titel"),
        _text(item.get("beskrivelse"), where, "beskrivelse"),
    )


def _event(item: object, where: str) -> ConsentEvent:
    if not isinstance(item, dict):
        raise ConsentAnswerInvalid(f"{where}: a history event is not a JSON object")
    return ConsentEvent(
        _moment(item.get("tidspunkt"), where, "historik tidspunkt"),
        _state(item.get("haendelse"), where, "historik haendelse"),
        _cpr(item.get("udfoertAf"), where, "historik udfoertAf"),
    )


def _history(data: Mapping[str, Any], where: str) -> tuple[ConsentEvent, ...]:
    items = data.get("historik")
    if not isinstance(items, list) or not items:
        raise ConsentAnswerInvalid(f"{where}: historik is missing or empty")
    return tuple(_event(item, where) for item in items)


def _check_history(record: ConsentRecord, where: str) -> None:
    """The history must tell the record's own story: given first, by the giver, at the time
    given; at most one withdrawal, last, at the time withdrawn; in time order."""
    first, *rest = record.history
    if (first.state, first.at, first.by_cpr) != (
        ConsentState.GIVEN,
        record.given_at,
        record.giver_cpr,
    ):
        raise ConsentAnswerInvalid(f"{where}: historik does not begin with the giving")
    times = [e.at for e in record.history]
    if times != sorted(times):
        raise ConsentAnswerInvalid(f"{where}: historik is not in time order")
    withdrawals = [e.at for e in rest if e.state is ConsentState.WITHDRAWN]
    expected = [record.withdrawn_at] if record.withdrawn_at is not None else []
    if withdrawals != expected or any(e.state is ConsentState.GIVEN for e in rest):
        raise ConsentAnswerInvalid(f"{where}: historik disagrees with tilbagekaldt")
    if withdrawals and record.history[-1].state is not ConsentState.WITHDRAWN:
        raise ConsentAnswerInvalid(f"{where}: historik goes on after the withdrawal")


def _check_times(record: ConsentRecord, where: str) -> None:
    if record.valid_until is not None and record.valid_until < record.given_at.date():
        raise ConsentAnswerInvalid(f"{where}: gyldigTil {record.valid_until} is before afgivet")
    if record.withdrawn_at is not None and record.withdrawn_at < record.given_at:
        raise ConsentAnswerInvalid(f"{where}: tilbagekaldt is before afgivet")


def parse_record(data: object, as_of: datetime | None) -> ConsentRecord:
    """One record, read whole; `status` must be the record's state at the service's time
    `as_of` (None: the record's own latest time, for the answer to a change)."""
    if not isinstance(data, dict):
        raise ConsentAnswerInvalid("a consent record is not a JSON object")
    try:
        record_id = uuid.UUID(str(data.get("id")))
    except ValueError:
        raise ConsentAnswerInvalid(
            f"a consent record has no valid id: {data.get('id')!r}"
        ) from None
    where = f"consent {record_id}"
    kind = data.get("type")
    if kind not in set(ConsentKind):
        raise ConsentAnswerInvalid(f"{where}: unknown type {kind!r}")
    valid_until = data.get("gyldigTil")
    withdrawn_at = data.get("tilbagekaldt")
    record = ConsentRecord(
        id=record_id,
        kind=ConsentKind(kind),
        template=_text(data.get("skabelon"), where, "skabelon"),
        subject_cpr=_cpr(data.get("omfattetPerson"), where, "omfattetPerson"),
        giver_cpr=_cpr(data.get("afgivetAf"), where, "afgivetAf"),
        given_at=_moment(data.get("afgivet"), where, "afgivet"),
        valid_until=None if valid_until is None else _day(valid_until, where, "gyldigTil"),
        withdrawn_at=None if withdrawn_at is None else _moment(withdrawn_at, where, "tilbagekaldt"),
        history=_history(data, where),
    )
    _check_times(record, where)
    _check_history(record, where)
    _check_status(record, data.get("status"), as_of, where)
    return record


def _check_status(
    record: ConsentRecord, status: object, as_of: datetime | None, where: str
) -> None:
    stated = _state(status, where, "status")
    # The answer to a change carries no time of its own: the change's time is the record's
    # latest event.
    as_of = as_of or record.history[-1].at
    if stated is not record.state_at(as_of):
        raise ConsentAnswerInvalid(
            f"{where}: status {stated.value!r} disagrees with the record at {as_of.isoformat()}"
            f" ({record.state_at(as_of).value!r})"
        )


def _belongs(record: ConsentRecord, child_cpr: Cpr, template: str | None) -> None:
    """An answer about someone else, or another template, is a broken answer."""
    if record.subject_cpr != child_cpr:
        raise ConsentAnswerInvalid(
            f"consent {record.id} concerns {record.subject_cpr.value}, not the child asked about"
        )
    if template is not None and record.template != template:
        raise ConsentAnswerInvalid(f"consent {record.id} is of template {record.template}")
