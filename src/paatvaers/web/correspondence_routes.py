"""The web correspondence client (R14), for units that read their MedCom post here: the
inbox, writing a new message, a thread with its reply, forward and assign forms, and the
download of an attachment.

Who may write or read about which child is decided by the access engine and logged (in
`correspondence.sending` and `correspondence.threads`); each route commits those log rows,
with the message and its outbox row when one is written, before it answers. Writes follow
Post/Redirect/Get; a refused write shows the form again with what the user entered and the
reason in plain language (files must be chosen again: a browser never refills a file field).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import PureWindowsPath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from paatvaers.access.factory import current_policy
from paatvaers.access.identity import Principal
from paatvaers.access.reading import Answer
from paatvaers.correspondence import threads
from paatvaers.correspondence.sending import Writer, WritingRefused
from paatvaers.domain.cpr import Cpr, InvalidCpr
from paatvaers.domain.data_flows import DataFlow
from paatvaers.domain.organisations import EmployeeFunction
from paatvaers.medcom.attachments import MAX_ENCODED_ATTACHMENT_BYTES, sniff_content_type
from paatvaers.medcom.errors import AttachmentRejected, MessageRuleViolation
from paatvaers.medcom.model import AttachmentFile
from paatvaers.overview.mine import my_children
from paatvaers.web.auth import check_csrf, child_in_context, current_principal
from paatvaers.web.child_routes import access_for
from paatvaers.web.deps import LanguageDep, SessionDep
from paatvaers.web.i18n import Language, translator
from paatvaers.web.rendering import page, templates

router = APIRouter()

URN_UUID = "urn:uuid:"
FLASH = "post_flash"
# What the user may attach, as MedCom carries it: base64 takes 4 bytes for every 3.
MAX_ATTACHMENT_MB = MAX_ENCODED_ATTACHMENT_BYTES * 3 // 4 // 1_000_000

TextField = Annotated[str, Form()]
Translate = Callable[[str], str]
Files = Annotated[list[UploadFile], File()]


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str  # the id of the form field it belongs to
    message: str


@dataclass(frozen=True, slots=True)
class Entered:
    """What the user typed into a form, shown again when the form comes back with errors."""

    child: str = ""
    cpr: str = ""
    receiver: str = ""
    topic: str = ""
    text: str = ""
    colleague: str = ""
    form: str = ""  # which form of a thread page was sent: reply, forward or assign
    had_files: bool = False
    errors: list[FieldError] = field(default_factory=list)


# -- helpers the templates use ------------------------------------------------------------------


def url_key(identifier: str) -> str:
    """A thread's or attachment's id as it appears in a URL (MedCom's ids are URN UUIDs)."""
    return identifier.removeprefix(URN_UUID)


def _identifier(key: str) -> str | None:
    try:
        return URN_UUID + str(uuid.UUID(key))
    except ValueError:
        return None


def post_available(request: Request, principal: Principal) -> bool:
    """Whether the user's unit reads its post here: decides the navigation's "Post" link.
    Asked once per request, in a session of its own (the page's may be committed)."""
    known = getattr(request.state, "post_available", None)
    if known is None:
        with request.app.state.session_factory() as session:
            known = _reads_post_here(request, session, principal)
        request.state.post_available = known
    return bool(known)


def _writers(request: Request) -> frozenset[EmployeeFunction]:
    """The employee functions the policy lets write about a child (data flow
    `correspondence`): only they read post, and threads go only to them."""
    policy = current_policy(request.app.state.settings)
    return frozenset(policy.of(DataFlow.CORRESPONDENCE).functions)


def _reads_post_here(request: Request, session: Session, principal: Principal) -> bool:
    """The user writes post (by function) and the unit reads its post in the platform."""
    return principal.function in _writers(request) and threads.served_here(
        session, principal.unit.id
    )


templates.env.filters["url_key"] = url_key
templates.env.globals["post_available"] = post_available


# -- the inbox ----------------------------------------------------------------------------------


@router.get("/post")
def post_inbox(request: Request, db: SessionDep, lang: LanguageDep) -> Response:
    principal = current_principal(request, db)
    if not _reads_post_here(request, db, principal):
        return _not_served(request, lang, principal)
    listed = threads.inbox(db, access_for(request, db), principal)
    db.commit()  # the decisions on the children named, before their names are shown
    return page(
        request,
        "post_inbox.html",
        lang,
        principal=principal,
        threads=listed,
        flash=request.session.pop(FLASH, None),
    )


def _not_served(request: Request, lang: Language, principal: Principal) -> Response:
    return page(request, "post_inbox.html", lang, 403, principal=principal, not_served=True)


def _thread_here(
    request: Request, db: Session, lang: Language, principal: Principal, key: str
) -> str | Response:
    """The thread id a write is for, or the page that answers instead: the unit does not
    read its post here, or the address names no thread."""
    if not _reads_post_here(request, db, principal):
        return _not_served(request, lang, principal)
    thread_id = _identifier(key)
    if thread_id is None:
        return page(request, "post_thread.html", lang, 404, principal=principal, answer=None)
    return thread_id


# -- a new message ------------------------------------------------------------------------------


@router.get("/post/ny")
def compose(request: Request, db: SessionDep, lang: LanguageDep) -> Response:
    principal = current_principal(request, db)
    if not _reads_post_here(request, db, principal):
        return _not_served(request, lang, principal)
    context = child_in_context(request)
    entered = Entered(child=context.cpr.value if context else "")
    return _compose_page(request, db, lang, principal, entered)


@router.post("/post/ny")
def send_new(
    request: Request,
    db: SessionDep,
    lang: LanguageDep,
    child: TextField = "",
    cpr: TextField = "",
    receiver: TextField = "",
    topic: TextField = "",
    text: TextField = "",
    files: Files = [],  # noqa: B006 (FastAPI copies defaults; never mutated)
    csrf: TextField = "",
) -> Response:
    check_csrf(request, csrf)
    principal = current_principal(request, db)
    if not _reads_post_here(request, db, principal):
        return _not_served(request, lang, principal)
    t = translator(lang)
    attachments, errors = _attachment_files(files, t)
    entered = Entered(
        child=child,
        cpr=cpr,
        receiver=receiver,
        topic=topic,
        text=_text(text),
        had_files=any(f.filename for f in files),
    )
    chosen_child = _chosen_child(entered, errors, t)
    chosen_receiver = _chosen_receiver(db, principal, receiver, errors, t, "receiver")
    if not entered.text.strip():
        errors.append(FieldError("text", t("post_error_text")))
    if errors or chosen_child is None or chosen_receiver is None:
        return _compose_page(request, db, lang, principal, replace(entered, errors=errors), 400)
    child_field = "cpr" if cpr.strip() else "child"
    try:
        message = _writer(request, db, principal).new(
            chosen_child, chosen_receiver, entered.text, attachments, topic=topic.strip() or None
        )
    except (WritingRefused, MessageRuleViolation) as exc:
        db.commit()  # the refusal's decision is logged like any other
        error = _refusal(exc, lang, child_field)
        return _compose_page(request, db, lang, principal, replace(entered, errors=[error]), 400)
    db.commit()  # the decision, the message and its outbox row together
    request.session[FLASH] = "post_sent"
    return _to_thread(message.thread_id, lang)


def _compose_page(
    request: Request,
    db: Session,
    lang: Language,
    principal: Principal,
    entered: Entered,
    status_code: int = 200,
) -> Response:
    children = my_children(db, access_for(request, db), principal, threads.PURPOSE)
    db.commit()  # each child listed is a logged read, as on "mine"
    return page(
        request,
        "post_compose.html",
        lang,
        status_code,
        principal=principal,
        children=children,
        receivers=threads.receivers(db, principal.unit.id),
        entered=entered,
        max_mb=MAX_ATTACHMENT_MB,
        lang_path="/post/ny",
    )


def _chosen_child(entered: Entered, errors: list[FieldError], t: Translate) -> Cpr | None:
    """A CPR number typed in wins over the list: it is the more deliberate choice."""
    typed = entered.cpr.replace("-", "").strip()
    if typed:
        try:
            return Cpr.parse(typed)
        except InvalidCpr:
            errors.append(FieldError("cpr", t("error_cpr")))
            return None
    try:
        return Cpr.parse(entered.child)
    except InvalidCpr:
        errors.append(FieldError("child", t("post_error_child")))
        return None


def _chosen_receiver(
    db: Session,
    principal: Principal,
    receiver: str,
    errors: list[FieldError],
    t: Translate,
    field_id: str,
) -> uuid.UUID | None:
    allowed = {r.unit_id for r in threads.receivers(db, principal.unit.id)}
    try:
        chosen = uuid.UUID(receiver)
    except ValueError:
        chosen = None
    if chosen not in allowed:
        errors.append(FieldError(field_id, t("post_error_receiver")))
        return None
    return chosen


# -- a thread -----------------------------------------------------------------------------------


@router.get("/post/{key}")
def thread_page(request: Request, db: SessionDep, lang: LanguageDep, key: str) -> Response:
    principal = current_principal(request, db)
    if not _reads_post_here(request, db, principal):
        return _not_served(request, lang, principal)
    return _thread_page(request, db, lang, principal, key, Entered())


@router.post("/post/{key}/svar")
def reply(
    request: Request,
    db: SessionDep,
    lang: LanguageDep,
    key: str,
    text: TextField = "",
    files: Files = [],  # noqa: B006 (FastAPI copies defaults; never mutated)
    csrf: TextField = "",
) -> Response:
    check_csrf(request, csrf)
    principal = current_principal(request, db)
    thread_id = _thread_here(request, db, lang, principal, key)
    if isinstance(thread_id, Response):
        return thread_id
    t = translator(lang)
    attachments, errors = _attachment_files(files, t, "reply-files")
    entered = Entered(text=_text(text), form="reply", had_files=any(f.filename for f in files))
    if not entered.text.strip():
        errors.append(FieldError("reply-text", t("post_error_text")))
    if not errors:
        try:
            _writer(request, db, principal).reply(thread_id, entered.text, attachments)
        except (WritingRefused, MessageRuleViolation) as exc:
            errors.append(_refusal(exc, lang, "reply-text", "reply-files"))
    return _after_write(
        request, db, lang, principal, key, replace(entered, errors=errors), "post_replied"
    )


@router.post("/post/{key}/videresend")
def forward(
    request: Request,
    db: SessionDep,
    lang: LanguageDep,
    key: str,
    receiver: TextField = "",
    text: TextField = "",
    files: Files = [],  # noqa: B006 (FastAPI copies defaults; never mutated)
    csrf: TextField = "",
) -> Response:
    check_csrf(request, csrf)
    principal = current_principal(request, db)
    thread_id = _thread_here(request, db, lang, principal, key)
    if isinstance(thread_id, Response):
        return thread_id
    t = translator(lang)
    attachments, errors = _attachment_files(files, t, "forward-files")
    entered = Entered(
        receiver=receiver,
        text=_text(text),
        form="forward",
        had_files=any(f.filename for f in files),
    )
    chosen = _chosen_receiver(db, principal, receiver, errors, t, "forward-receiver")
    if not entered.text.strip():
        errors.append(FieldError("forward-text", t("post_error_text")))
    if not errors and chosen is not None:
        try:
            sent = _writer(request, db, principal).forward(
                thread_id, chosen, entered.text, attachments
            )
        except (WritingRefused, MessageRuleViolation) as exc:
            errors.append(_refusal(exc, lang, "forward-text", "forward-files"))
        else:  # a forward opens a thread of its own: that is where the user continues
            db.commit()
            request.session[FLASH] = "post_forwarded"
            return _to_thread(sent.thread_id, lang)
    return _after_write(request, db, lang, principal, key, replace(entered, errors=errors), "")


@router.post("/post/{key}/tildel")
def assign(
    request: Request,
    db: SessionDep,
    lang: LanguageDep,
    key: str,
    colleague: TextField = "",
    csrf: TextField = "",
) -> Response:
    check_csrf(request, csrf)
    principal = current_principal(request, db)
    thread_id = _thread_here(request, db, lang, principal, key)
    if isinstance(thread_id, Response):
        return thread_id
    errors: list[FieldError] = []
    try:
        chosen = uuid.UUID(colleague) if colleague else None
        threads.assign(db, thread_id, principal.unit.id, chosen, _writers(request))
    except (ValueError, threads.AssignmentRefused):
        errors.append(FieldError("colleague", translator(lang)("post_error_colleague")))
    entered = Entered(colleague=colleague, form="assign", errors=errors)
    done = "post_assigned" if colleague else "post_unassigned"
    return _after_write(request, db, lang, principal, key, entered, done)


@router.get("/post/{key}/bilag/{attachment_key}")
def download(
    request: Request, db: SessionDep, lang: LanguageDep, key: str, attachment_key: str
) -> Response:
    principal = current_principal(request, db)
    thread_id, attachment_id = _identifier(key), _identifier(attachment_key)
    if thread_id is None or attachment_id is None:
        return Response(status_code=404)
    answer = threads.attachment(db, access_for(request, db), principal, thread_id, attachment_id)
    db.commit()  # the decision is logged before the file leaves
    if answer is None:
        return Response(status_code=404)
    if answer.data is None:
        return _thread_response(request, lang, principal, key, answer, Entered(), 403)
    return Response(
        answer.data.data,
        media_type=answer.data.content_type,
        headers={
            "Content-Disposition": _attachment_disposition(answer.data.title),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def _thread_page(
    request: Request,
    db: Session,
    lang: Language,
    principal: Principal,
    key: str,
    entered: Entered,
    status_code: int = 200,
) -> Response:
    thread_id = _identifier(key)
    answer = None
    if thread_id is not None:
        answer = threads.thread_view(db, access_for(request, db), principal, thread_id)
    if answer is not None and answer.data is not None and not entered.errors:
        threads.mark_read(db, answer.data.thread_id, principal.user_id, _wall_clock())
    db.commit()  # the decision (and the read mark) before the thread is shown
    if answer is None:
        return page(request, "post_thread.html", lang, 404, principal=principal, answer=None)
    colleagues = threads.colleagues(db, principal.unit.id, _writers(request))
    receivers = threads.receivers(db, principal.unit.id)
    return _thread_response(
        request, lang, principal, key, answer, entered, status_code, colleagues, receivers
    )


def _thread_response(
    request: Request,
    lang: Language,
    principal: Principal,
    key: str,
    answer: Answer[Any],
    entered: Entered,
    status_code: int,
    colleagues: Sequence[threads.Colleague] = (),
    receivers: Sequence[threads.Receiver] = (),
) -> Response:
    return page(
        request,
        "post_thread.html",
        lang,
        status_code,
        principal=principal,
        answer=answer,
        entered=entered,
        colleagues=colleagues,
        receivers=receivers,
        max_mb=MAX_ATTACHMENT_MB,
        flash=request.session.pop(FLASH, None),
        lang_path=f"/post/{key}",
    )


def _after_write(
    request: Request,
    db: Session,
    lang: Language,
    principal: Principal,
    key: str,
    entered: Entered,
    done: str,
) -> Response:
    """Commit what was written and go back to the thread (Post/Redirect/Get); or commit the
    refusal's log rows only and show the thread with the form's errors."""
    if entered.errors:
        db.commit()  # a refused write leaves its decision in the log, nothing else
        return _thread_page(request, db, lang, principal, key, entered, 400)
    db.commit()
    if done:
        request.session[FLASH] = done
    return RedirectResponse(f"/post/{key}?lang={lang.value}", status_code=303)


# -- small steps --------------------------------------------------------------------------------


def _writer(request: Request, db: Session, principal: Principal) -> Writer:
    return Writer(db, access_for(request, db), principal, _wall_clock())


def _wall_clock() -> datetime:
    """When the user pressed send or read: a fact the worker and the receiver share, so it is
    the real time even where the app's clock for access decisions is fixed (tests)."""
    return datetime.now(UTC)


def _text(text: str) -> str:
    """Browsers send a textarea's line breaks as CRLF; a message keeps them as LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _to_thread(thread_id: str, lang: Language) -> Response:
    return RedirectResponse(f"/post/{url_key(thread_id)}?lang={lang.value}", status_code=303)


def _attachment_files(
    uploads: Sequence[UploadFile], t: Translate, field_id: str = "files"
) -> tuple[list[AttachmentFile], list[FieldError]]:
    """The files chosen, each checked by its bytes (never by the type the browser claims)."""
    files, errors = [], []
    for upload in uploads:
        if not upload.filename:  # a file field left empty still sends a part
            continue
        title = PureWindowsPath(upload.filename).name  # some browsers send a whole path
        data = upload.file.read()
        try:
            files.append(AttachmentFile(title, sniff_content_type(data) or "", data))
        except AttachmentRejected:
            message = t("post_error_file").format(name=title, mb=MAX_ATTACHMENT_MB)
            errors.append(FieldError(field_id, message))
    return files, errors


def _refusal(
    exc: WritingRefused | MessageRuleViolation,
    lang: Language,
    field_id: str,
    files_field: str = "files",
) -> FieldError:
    """The reason a write was refused, in the user's language where the engine gives one."""
    t = translator(lang)
    if isinstance(exc, AttachmentRejected):  # the attachments together are too large
        return FieldError(files_field, t("post_error_total_size").format(mb=MAX_ATTACHMENT_MB))
    if isinstance(exc, MessageRuleViolation):
        return FieldError(field_id, t("post_error_rule"))
    decision = exc.decision
    if decision is not None and lang is Language.EN:
        return FieldError(field_id, decision.reason_en)
    return FieldError(field_id, exc.reason_da)


def _attachment_disposition(title: str) -> str:
    """`attachment`, with an ASCII fallback name and the real one in RFC 5987 form; quotes,
    backslashes and line breaks can never break out of the header."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in title
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(title, safe='')}"
