"""Reading a participant's answer from the text of a MedCom reply: "JA", "NEJ", or anything
else, which is taken as another time proposed (or a question) and shown to the convenor."""

from __future__ import annotations

from paatvaers.meetings.model import Answer

_ACCEPT = frozenset({"JA", "YES", "ACCEPT", "ACCEPTERER", "OK"})
_DECLINE = frozenset({"NEJ", "NO", "DECLINE", "AFBUD", "AFSLÅR"})


def interpret(text: str) -> Answer:
    words = text.strip().split(maxsplit=1)
    first = words[0].strip(".,:;!-").upper() if words else ""
    if first in _ACCEPT:
        return Answer.ACCEPTED
    if first in _DECLINE:
        return Answer.DECLINED
    return Answer.OTHER_TIME
