"""What can go wrong with a MedCom message, as exceptions a caller can tell apart."""

from __future__ import annotations


class MessageError(ValueError):
    """Base class: a MedCom message could not be built or read."""


class MessageRuleViolation(MessageError):
    """Building this message would break a rule of the profile or of MedCom's governance;
    the message says which."""


class AttachmentRejected(MessageRuleViolation):
    """An attachment's type, content or size is not allowed."""


class AcknowledgementNotAllowed(MessageRuleViolation):
    """An acknowledgement is never acknowledged (MedCom's acknowledgement rules)."""


class MalformedMessage(MessageError):
    """A received bundle lacks something the reader needs; the message says what and where."""
