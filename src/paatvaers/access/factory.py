"""Access, put together in one place from the settings: the policy file, the consent service
the settings name, and the target-group rule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path

from sqlalchemy.orm import Session

from paatvaers.access.engine import ConsentLookup, DecisionEngine
from paatvaers.access.policy import Policy, load_policy
from paatvaers.access.reading import ChildAccess, utc_now
from paatvaers.domain.target_group import TargetGroupRule
from paatvaers.settings import Settings


@cache
def _policy(path: Path | None) -> Policy:
    """Read once per process: a file edited while the platform runs takes effect on restart,
    never halfway through a request."""
    return load_policy(path)


def current_policy(settings: Settings) -> Policy:
    """The policy the settings name, as decisions use it."""
    return _policy(settings.access_policy_file)


def child_access(
    session: Session,
    settings: Settings,
    consent: ConsentLookup,
    policy: Policy | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> ChildAccess:
    engine = DecisionEngine(
        session, policy or _policy(settings.access_policy_file), consent, TargetGroupRule()
    )
    return ChildAccess(session, engine, clock, synthetic=settings.sources_are_synthetic)
