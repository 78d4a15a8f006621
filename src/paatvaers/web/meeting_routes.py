"""Cross-disciplinary meetings (issue #7): "Indkald til tværfagligt møde" from either
overview, the user's meetings, one meeting with its answers, agenda and minutes, the answer
form, and the `.ics` download.

The child comes from the session (the child in context), never from the URL. Every page
commits its decisions and log rows before it renders; writes follow Post/Redirect/Get and
carry the CSRF token. The rules are in `paatvaers.meetings`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from paatvaers.access.factory import current_policy
from paatvaers.access.identity import Principal
from paatvaers.correspondence import threads
from paatvaers.domain.cpr import Cpr
from paatvaers.domain.data_flows import DataFlow
from paatvaers.meetings import service
from paatvaers.meetings.model import Answer, Slot
from paatvaers.meetings.proposal import Proposal, Proposed, propose, unit_participant
from paatvaers.web.auth import check_csrf, child_in_context, current_principal
from paatvaers.web.child_routes import access_for
from paatvaers.web.deps import LanguageDep, SessionDep
from paatvaers.web.i18n import Language, translator
from paatvaers.web.rendering import page, templates

router = APIRouter()

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
FLASH = "meeting_flash"
DURATIONS = (30, 45, 60, 90, 120)  # minutes
TextField = Annotated[str, Form()]
ListField = Annotated[list[str], Form()]
Translate = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class Entered:
    """The new-meeting form as the user filled it in, shown again with its errors."""

    chosen: tuple[str, ...] = ()
    extra_unit: str = ""
    times: tuple[str, ...] = ("", "", "")
    duration: str = "60"
    place: str = ""
    agenda: str = ""
    errors: list[FieldError] = field(default_factory=list)


def may_convene(request: Request, principal: Principal) -> bool:
    """Whether the user's function takes part in meetings (data flow `meeting`): decides the
    overviews' "Indkald til tværfagligt møde" link."""
    policy = current_policy(request.app.state.settings)
    return principal.function in policy.of(DataFlow.MEETING).functions


templates.env.globals["meeting_may_convene"] = may_convene


# -- my meetings ----------------------------------------------------------------------------------


@router.get("/moeder")
def my_meetings(request: Request, db: SessionDep, lang: LanguageDep) -> Response:
    principal = current_principal(request, db)
    meetings = service.my_meetings(db, access_for(request, db), principal)
    db.commit()  # each child named is a logged decision
    return page(request, "meeting_list.html", lang, principal=principal, meetings=meetings)


# -- calling a meeting ----------------------------------------------------------------------------


@router.get("/moeder/ny")
def new_meeting(request: Request, db: SessionDep, lang: LanguageDep) -> Response:
    principal = current_principal(request, db)
    context = child_in_context(request)
    if context is None or not may_convene(request, principal):
        return RedirectResponse(f"/mine?lang={lang.value}", status_code=303)
    proposal = _proposal(request, db, principal, context.cpr)
    chosen = tuple(p.key for p in proposal.professionals if p.proposed)
    return _form(request, db, lang, principal, proposal, Entered(chosen=chosen))


@router.post("/moeder/ny")
def send_meeting(
    request: Request,
    db: SessionDep,
    lang: LanguageDep,
    deltager: ListField = [],  # noqa: B006 (FastAPI copies defaults; never mutated)
    enhed: TextField = "",
    tid: ListField = [],  # noqa: B006
    varighed: TextField = "60",
    sted: TextField = "",
    dagsorden: TextField = "",
    csrf: TextField = "",
) -> Response:
    check_csrf(request, csrf)
    principal = current_principal(request, db)
    context = child_in_context(request)
    if context is None or not may_convene(request, principal):
        return RedirectResponse(f"/mine?lang={lang.value}", status_code=303)
    t = translator(lang)
    entered = Entered(
        chosen=tuple(deltager),
        extra_unit=enhed,
        times=tuple([*tid, "", "", ""][:3]),
        duration=varighed,
        place=sted,
        agenda=dagsorden.replace("\r\n", "\n"),
    )
    proposal = _proposal(request, db, principal, context.cpr)
    errors: list[FieldError] = []
    invited = _invited(db, principal.unit.id, proposal, entered, errors, t)
    slots = _slots(entered, errors, t)
    if not entered.place.strip():
        errors.append(FieldError("sted", t("meeting_error_place")))
    if errors:
        return _form(request, db, lang, principal, proposal, replace(entered, errors=errors), 400)
    access = access_for(request, db)
    meeting = service.MeetingRequest(
        context.cpr, tuple(slots), entered.place, entered.agenda, tuple(invited)
    )
    try:
        meeting_id = service.convene(
            db, access, proposal.convenor, principal, meeting, access.clock(), datetime.now(UTC)
        )
    except service.MeetingRefused as refused:
        db.commit()  # a refusal leaves its decision in the log, and no meeting
        error = FieldError("deltagere", refused.reason_da)
        return _form(request, db, lang, principal, proposal, replace(entered, errors=[error]), 400)
    db.commit()  # the meeting, its decisions and log rows, and the MedCom invitations queued
    request.session[FLASH] = "meeting_sent"
    return RedirectResponse(f"/moeder/{meeting_id}?lang={lang.value}", status_code=303)


def _proposal(request: Request, db: Session, principal: Principal, child: Cpr) -> Proposal:
    proposal = propose(db, access_for(request, db), principal, child, service.PURPOSE)
    db.commit()  # the convenor's reads, logged, before the proposal is shown
    return proposal


def _invited(
    db: Session,
    own_unit: uuid.UUID,
    proposal: Proposal,
    entered: Entered,
    errors: list[FieldError],
    t: Translate,
) -> list[Proposed]:
    """The participants ticked (only from the proposal: names are never taken from the
    form), and a unit from the address book."""
    choosable = proposal.choosable
    invited = [choosable[key] for key in dict.fromkeys(entered.chosen) if key in choosable]
    if entered.extra_unit:
        added = _address_book_unit(db, own_unit, entered.extra_unit)
        if added is None:
            errors.append(FieldError("enhed", t("meeting_error_unit")))
        elif added.key not in {p.key for p in invited}:
            invited.append(added)
    if not invited and not errors:
        errors.append(FieldError("deltagere", t("meeting_error_participants")))
    return invited


def _address_book_unit(db: Session, own_unit: uuid.UUID, value: str) -> Proposed | None:
    try:
        unit_id = uuid.UUID(value)
    except ValueError:
        return None
    if unit_id not in {r.unit_id for r in threads.receivers(db, own_unit)}:
        return None
    return unit_participant(db, unit_id)


def _slots(entered: Entered, errors: list[FieldError], t: Translate) -> list[Slot]:
    try:
        minutes = int(entered.duration)
    except ValueError:
        minutes = 0
    if minutes not in DURATIONS:
        errors.append(FieldError("varighed", t("meeting_error_duration")))
        minutes = 60
    slots = []
    for number, text in enumerate(entered.times, 1):
        if not text.strip():
            continue
        try:
            start = datetime.fromisoformat(text.strip()).replace(tzinfo=COPENHAGEN)
        except ValueError:
            errors.append(FieldError(f"tid{number}", t("meeting_error_time")))
            continue
        start = start.astimezone(UTC)
        slots.append(Slot(start, start + timedelta(minutes=minutes)))
    if not slots and not any(e.field.startswith("tid") for e in errors):
        errors.append(FieldError("tid1", t("meeting_error_no_time")))
    return slots


def _form(
    request: Request,
    db: Session,
    lang: Language,
    principal: Principal,
    proposal: Proposal,
    entered: Entered,
    status_code: int = 200,
) -> Response:
    return page(
        request,
        "meeting_new.html",
        lang,
        status_code,
        principal=principal,
        proposal=proposal,
        entered=entered,
        receivers=threads.receivers(db, principal.unit.id),
        durations=DURATIONS,
        lang_path="/moeder/ny",
    )


# -- one meeting ----------------------------------------------------------------------------------


@router.get("/moeder/{key}")
def meeting(request: Request, db: SessionDep, lang: LanguageDep, key: str) -> Response:
    principal = current_principal(request, db)
    return _meeting_page(request, db, lang, principal, key, [])


def _meeting_page(
    request: Request,
    db: Session,
    lang: Language,
    principal: Principal,
    key: str,
    errors: list[FieldError],
    status_code: int = 200,
) -> Response:
    meeting_id = _meeting_id(key)
    shown = None
    if meeting_id is not None:
        shown = service.meeting_page(db, access_for(request, db), principal, meeting_id)
    db.commit()  # the decisions, and answers read from MedCom, before anything is shown
    if shown is None:
        return page(request, "meeting_page.html", lang, 404, principal=principal, meeting=None)
    return page(
        request,
        "meeting_page.html",
        lang,
        status_code,
        principal=principal,
        meeting=shown,
        errors=errors,
        flash=request.session.pop(FLASH, None),
        lang_path=f"/moeder/{key}",
    )


@router.post("/moeder/{key}/svar")
def answer(
    request: Request,
    db: SessionDep,
    lang: LanguageDep,
    key: str,
    svar: TextField = "",
    kommentar: TextField = "",
    csrf: TextField = "",
) -> Response:
    check_csrf(request, csrf)
    principal = current_principal(request, db)
    meeting_id = _meeting_id(key)
    given = _answer(svar)
    if meeting_id is None:
        return _meeting_page(request, db, lang, principal, key, [])
    try:
        if given is None:
            raise service.MeetingRefused(translator(lang)("meeting_error_answer"))
        service.answer(db, principal, meeting_id, given, kommentar, datetime.now(UTC))
    except service.MeetingRefused as refused:
        db.rollback()
        errors = [FieldError("svar-ja", refused.reason_da)]
        return _meeting_page(request, db, lang, principal, key, errors, 400)
    db.commit()
    request.session[FLASH] = "meeting_answered"
    return RedirectResponse(f"/moeder/{key}?lang={lang.value}", status_code=303)


@router.post("/moeder/{key}/referat")
def minutes(
    request: Request,
    db: SessionDep,
    lang: LanguageDep,
    key: str,
    referat: TextField = "",
    csrf: TextField = "",
) -> Response:
    check_csrf(request, csrf)
    principal = current_principal(request, db)
    meeting_id = _meeting_id(key)
    if meeting_id is None:
        return _meeting_page(request, db, lang, principal, key, [])
    try:
        text = referat.replace("\r\n", "\n")
        service.write_minutes(db, access_for(request, db), principal, meeting_id, text)
    except service.MeetingRefused as refused:
        db.commit()  # the decisions made on the way are logged; nothing was written
        return _meeting_page(
            request, db, lang, principal, key, [FieldError("referat", refused.reason_da)], 400
        )
    db.commit()
    request.session[FLASH] = "meeting_minutes_saved"
    return RedirectResponse(f"/moeder/{key}?lang={lang.value}", status_code=303)


@router.get("/moeder/{key}/kalender.ics")
def calendar(request: Request, db: SessionDep, key: str) -> Response:
    principal = current_principal(request, db)
    meeting_id = _meeting_id(key)
    data = None
    if meeting_id is not None:
        data = service.calendar_file(db, principal, meeting_id, datetime.now(UTC))
    if data is None:
        return Response(status_code=404)
    return Response(
        data,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="tvaerfagligt-moede.ics"',
            "Cache-Control": "no-store",
        },
    )


def _meeting_id(key: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(key)
    except ValueError:
        return None


def _answer(value: str) -> Answer | None:
    try:
        given = Answer(value)
    except ValueError:
        return None
    return None if given is Answer.PENDING else given
