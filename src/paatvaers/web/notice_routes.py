"""The notices page (/notifikationer): a user's unread involvement notices, opting in and
out, and marking a notice read (docs/notices.md).

The page is called "Notifikationer", not "Underretninger": in Danish child welfare an
*underretning* is a report of concern to the municipality (barnets lov), and professionals
must never mistake a platform notice for one.

Showing a notice reads, and logs, what it shows (`notices.inbox`); the route commits those
log rows before it renders. Forms carry the CSRF token and follow Post/Redirect/Get. A notice
links to the child's overview through the same form as "mine" (the CPR number in the form,
never in a URL).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from paatvaers.notices.inbox import mark_read, unread_notices
from paatvaers.notices.subscriptions import subscribe, subscription, unsubscribe
from paatvaers.web.auth import check_csrf, current_principal
from paatvaers.web.child_routes import access_for
from paatvaers.web.deps import LanguageDep, SessionDep
from paatvaers.web.i18n import Language
from paatvaers.web.rendering import page

router = APIRouter()

FLASH = "notice_flash"
PATH = "/notifikationer"


@router.get(PATH)
def notices_page(request: Request, db: SessionDep, lang: LanguageDep) -> Response:
    principal = current_principal(request, db)
    notices = unread_notices(db, access_for(request, db), principal)
    subscribed = subscription(db, principal.user_id)
    db.commit()  # the reads of what the notices show, before they are shown
    return page(
        request,
        "notice_list.html",
        lang,
        principal=principal,
        notices=notices,
        subscribed=subscribed is not None,
        email_digest=bool(subscribed and subscribed.email_digest),
        flash=request.session.pop(FLASH, None),
    )


@router.post(f"{PATH}/tilmelding")
def change_subscription(
    request: Request,
    db: SessionDep,
    lang: LanguageDep,
    notices: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    principal = current_principal(request, db)
    now = request.app.state.clock()
    if notices == "on":
        subscribe(db, principal.user_id, email_digest=email == "on", now=now)
        request.session[FLASH] = "notice_subscribed"
    else:
        unsubscribe(db, principal.user_id)
        request.session[FLASH] = "notice_unsubscribed"
    db.commit()
    return _back(lang)


@router.post(PATH + "/{notice_id}/laest")
def read_notice(
    request: Request,
    db: SessionDep,
    lang: LanguageDep,
    notice_id: int,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    principal = current_principal(request, db)
    if mark_read(db, principal.user_id, notice_id, request.app.state.clock()):
        request.session[FLASH] = "notice_marked_read"
    db.commit()
    return _back(lang)


def _back(lang: Language) -> Response:
    return RedirectResponse(f"{PATH}?lang={lang.value}", status_code=303)
