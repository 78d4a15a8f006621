"""Composing CareCommunication messages: new, reply and forward, by MedCom's rules.

The rules come from the CareCommunication 5.0.2 profiles and MedCom's governance for
CareCommunication (medcomdk/MedCom-FHIR-Communication, rules medcom-carecommunication-1…25):

* new: a new thread id (Communication.identifier) and a `new-message` Provenance;
* reply: the same thread id, every earlier text segment, earlier attachments without their
  content (rule 6), the earlier sender as receiver, a specific sender becoming the specific
  recipient (rule 7), and a `reply-message` Provenance pointing at the message answered;
* forward: a new thread id, everything earlier *with* content (rules 13, 14, 18) and a
  `forward-message` Provenance.

Category and topic carry over to replies and forwards unless changed (clinical guidelines
§9); so does a received episode-of-care id, which SHALL be returned.

`build_new`, `build_reply` and `build_forward` return the FHIR Bundle as a JSON dict; the
`new_message`, `reply_to` and `forward` functions they wrap return the domain message, which
is what a caller stores and later answers.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import ParamSpec

from paatvaers.medcom._fhir import JsonDict, new_id, new_urn, now
from paatvaers.medcom.attachments import check_total_size
from paatvaers.medcom.codes import (
    CATEGORIES,
    DEFAULT_CATEGORY,
    PRIORITIES,
    PRIORITY_CATEGORY,
    TOPIC_REQUIRED_CATEGORY,
    Activity,
)
from paatvaers.medcom.errors import MessageRuleViolation
from paatvaers.medcom.model import (
    Attachment,
    AttachmentFile,
    CareCommunication,
    EpisodeOfCare,
    Party,
    Patient,
    Practitioner,
    ProvenanceRecord,
    Segment,
)
from paatvaers.medcom.writer import to_bundle

P = ParamSpec("P")

# The contact extension's rule is "may include + and numbers 0-9"; we also allow hyphens,
# which its FHIRPath pattern `[+]?[-0-9]` lets through, and drop spaces before checking.
_PHONE = re.compile(r"^\+?[0-9][-0-9]*$")
# Characters XML 1.0 cannot carry (so neither can FHIR XML): C0 controls other than tab, line
# feed and carriage return, U+FFFE and U+FFFF; and surrogates, which UTF-8 cannot encode.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def new_message(
    *,
    sender: Party,
    author: Practitioner,
    receiver: Party,
    patient: Patient,
    text: str,
    attachments: Sequence[AttachmentFile] = (),
    category: str = DEFAULT_CATEGORY,
    topic: str | None = None,
    priority: str | None = None,
    episode_of_care: EpisodeOfCare | None = None,
    at: datetime | None = None,
) -> CareCommunication:
    """A new message in a new thread. `sender` narrowed to a person or team makes that the
    specific sender, to whom replies are addressed; likewise `receiver`."""
    moment = _moment(at)
    message_id = new_id()
    segment, added = _new_payload(sender, author, text, attachments, moment)
    record = _record(message_id, Activity.NEW, moment, sender, (segment, *added))
    message = CareCommunication(
        message_id=message_id,
        thread_id=new_urn(),
        sent_at=moment,
        sender=_addressee(sender),
        receiver=_addressee(receiver),
        patient=patient,
        category=category,
        segments=(segment,),
        history=(record,),
        attachments=added,
        topic=topic or None,
        priority=priority,
        episode_of_care=episode_of_care,
    )
    check_rules(message)
    return message


def reply_to(
    previous: CareCommunication,
    *,
    sender: Party,
    author: Practitioner,
    text: str,
    attachments: Sequence[AttachmentFile] = (),
    category: str | None = None,
    topic: str | None = None,
    priority: str | None = None,
    at: datetime | None = None,
) -> CareCommunication:
    """A reply in `previous`'s thread. Category and topic are kept when None; pass
    `topic=""` to drop the topic. Answering one's own latest message (rule 4) goes to the
    same receiver again; otherwise the reply goes to whoever sent `previous`."""
    moment = _moment(at)
    message_id = new_id()
    segment, added = _new_payload(sender, author, text, attachments, moment)
    record = _record(message_id, Activity.REPLY, moment, sender, (segment, *added), previous)
    own_message = sender.sor == previous.sender.sor
    message = replace(
        previous,
        message_id=message_id,
        sent_at=moment,
        sender=_addressee(sender),
        receiver=previous.receiver if own_message else previous.sender,
        category=category or previous.category,
        topic=previous.topic if topic is None else topic or None,
        priority=priority,
        segments=(*previous.segments, segment),
        attachments=(*(a.without_content() for a in previous.attachments), *added),
        history=(*previous.history, record),
        cc=(),
    )
    check_rules(message)
    return message


def forward(
    previous: CareCommunication,
    *,
    sender: Party,
    author: Practitioner,
    receiver: Party,
    text: str,
    attachments: Sequence[AttachmentFile] = (),
    attachment_content: Mapping[str, bytes] | None = None,
    category: str | None = None,
    topic: str | None = None,
    priority: str | None = None,
    at: datetime | None = None,
) -> CareCommunication:
    """`previous`'s whole thread, sent on to `receiver` in a new thread. Earlier attachments
    travel with their content: an attachment `previous` carries without it (as replies do)
    needs its bytes in `attachment_content`, keyed by attachment id."""
    moment = _moment(at)
    message_id = new_id()
    earlier = tuple(_with_content(a, attachment_content or {}) for a in previous.attachments)
    segment, added = _new_payload(sender, author, text, attachments, moment)
    record = _record(message_id, Activity.FORWARD, moment, sender, (segment, *added), previous)
    message = replace(
        previous,
        message_id=message_id,
        thread_id=new_urn(),
        sent_at=moment,
        sender=_addressee(sender),
        receiver=_addressee(receiver),
        category=category or previous.category,
        topic=previous.topic if topic is None else topic or None,
        priority=priority,
        segments=(*previous.segments, segment),
        attachments=(*earlier, *added),
        history=(*previous.history, record),
        cc=(),
    )
    check_rules(message)
    return message


def _as_bundle(compose: Callable[P, CareCommunication]) -> Callable[P, JsonDict]:
    @functools.wraps(compose)
    def build(*args: P.args, **kwargs: P.kwargs) -> JsonDict:
        return to_bundle(compose(*args, **kwargs))

    return build


# The same arguments as the composing functions, the message as a FHIR Bundle (JSON dict).
build_new = _as_bundle(new_message)
build_reply = _as_bundle(reply_to)
build_forward = _as_bundle(forward)


def check_rules(message: CareCommunication) -> None:
    """Raise MessageRuleViolation if `message` breaks a rule of the profile that the types
    alone do not ensure."""
    if message.category not in CATEGORIES:
        raise MessageRuleViolation(f"unknown category {message.category!r}")
    if message.topic is not None and (not message.topic.strip() or _CONTROL.search(message.topic)):
        raise MessageRuleViolation(f"a topic needs text FHIR XML can carry: {message.topic!r}")
    if message.category == TOPIC_REQUIRED_CATEGORY and not message.topic:
        raise MessageRuleViolation("category 'other' needs a topic (medcom-careCommunication-6)")
    if message.priority is not None:
        if message.priority not in PRIORITIES:
            raise MessageRuleViolation(f"priority must be routine or asap: {message.priority!r}")
        if message.category != PRIORITY_CATEGORY:
            raise MessageRuleViolation(
                "priority is allowed only with category 'regarding-referral' "
                "(medcom-careCommunication-5)"
            )
    if message.cc:
        raise MessageRuleViolation("CareCommunication has no carbon copies (destination:cc 0..0)")
    check_total_size(a.data for a in message.attachments if a.data is not None)


def _new_payload(
    sender: Party,
    author: Practitioner,
    text: str,
    files: Sequence[AttachmentFile],
    moment: datetime,
) -> tuple[Segment, tuple[Attachment, ...]]:
    if not text.strip():
        raise MessageRuleViolation("a message needs a text (every message adds a segment)")
    if _CONTROL.search(text):
        raise MessageRuleViolation("the text holds characters FHIR XML cannot carry")
    writer = replace(sender.organisation, practitioner=_checked_author(author))
    segment = Segment(new_urn(), text, writer, moment)
    added = tuple(
        Attachment(
            id=new_urn(),
            title=file.title,
            author=writer,
            added_at=moment,
            content_type=file.content_type,
            data=file.data,
            created=file.created,
        )
        for file in files
    )
    return segment, added


def _moment(at: datetime | None) -> datetime:
    """The send time in whole seconds, as the bundle writes it, so that a message read back
    from its bundle equals the one composed."""
    return (at or now()).replace(microsecond=0)


def _addressee(party: Party) -> Party:
    """A specific sender or recipient is named by role, not reached by phone: the bundle
    carries an author's phone on the segments they write, not on the PractitionerRole."""
    if party.practitioner is None or party.practitioner.phone is None:
        return party
    return replace(party, practitioner=replace(party.practitioner, phone=None))


def _checked_author(author: Practitioner) -> Practitioner:
    """Text segments must name their author's role and phone (payload:string extensions)."""
    if not author.family or not author.role:
        raise MessageRuleViolation("the author needs a family name and a role")
    phone = (author.phone or "").replace(" ", "")
    if not _PHONE.fullmatch(phone):
        raise MessageRuleViolation(f"the author needs a phone number of digits: {author.phone!r}")
    return replace(author, phone=phone)


def _record(
    message_id: str,
    activity: Activity,
    moment: datetime,
    sender: Party,
    added: tuple[Segment | Attachment, ...],
    previous: CareCommunication | None = None,
) -> ProvenanceRecord:
    return ProvenanceRecord(
        id=new_id(),
        message_id=message_id,
        activity=activity,
        occurred_at=moment,
        agent=sender.organisation,
        payload_ids=tuple(item.id for item in added),
        previous_message_id=previous.message_id if previous else None,
    )


def _with_content(attachment: Attachment, content: Mapping[str, bytes]) -> Attachment:
    if attachment.data is not None or attachment.url is not None:
        return attachment
    data = content.get(attachment.id)
    if data is None:
        raise MessageRuleViolation(
            f"a forward carries attachments with their content; {attachment.title!r} "
            f"({attachment.id}) has none and none was given"
        )
    return replace(attachment, data=data)
