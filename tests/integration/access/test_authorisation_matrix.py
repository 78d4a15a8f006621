"""The authorisation matrix: every employee function × every data flow × every relationship
state, decided by the real engine on real data, with consent asked at the consent simulator
over HTTP, and compared with the expected outcome written out here independently of the
policy file (a lawyer's reading of it, as a table).

The table is printed in the test output. P = permit (with data), P* = permit with the
location withheld, P0 = permit with nothing to show, D-<check> = denied by that check
(function, relation, objection, consent). A cell that differs from the expectation shows
`got/expected!` and fails the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from paatvaers.access.factory import child_access
from paatvaers.access.policy import Policy, load_policy, parse_policy
from paatvaers.access.reading import WITHHELD, Answer, ChildAccess
from paatvaers.domain.cpr import Cpr
from paatvaers.domain.data_flows import DataFlow
from paatvaers.domain.organisations import EmployeeFunction as F
from paatvaers.settings import Settings
from support.access import NOW, AccessWorld, Scenario, State

# Every function that works with children; operations and follow-up (drift) receives no flow.
ALL = frozenset(F) - {F.DRIFT}
RECEIVES: dict[DataFlow, frozenset[F]] = {
    DataFlow.CHILD_DETAILS: ALL,
    DataFlow.APPOINTMENTS_TO_MUNICIPALITY: frozenset({F.SOCIALRAADGIVER, F.PPR_PSYKOLOG}),
    DataFlow.CASES_TO_HEALTH: frozenset(
        {F.BUP_LAEGE, F.BUP_PSYKOLOG, F.BUP_SOCIALRAADGIVER, F.PRAKTISERENDE_LAEGE}
    ),
    DataFlow.CASES_IN_MUNICIPALITY: frozenset({F.SOCIALRAADGIVER, F.SAGSBEHANDLER, F.PPR_PSYKOLOG}),
    DataFlow.CONTACTS_TO_HEALTH: frozenset(
        {F.BUP_LAEGE, F.BUP_PSYKOLOG, F.BUP_SOCIALRAADGIVER, F.BUP_SEKRETAER, F.PRAKTISERENDE_LAEGE}
    ),
    DataFlow.SCHOOL_TO_HEALTH: frozenset(
        {F.BUP_LAEGE, F.BUP_PSYKOLOG, F.BUP_SOCIALRAADGIVER, F.PRAKTISERENDE_LAEGE}
    ),
    DataFlow.CORRESPONDENCE: ALL - {F.KLINIKPERSONALE},
    DataFlow.MEETING: ALL - {F.KLINIKPERSONALE, F.BUP_SEKRETAER},
}
# Permitted only at a convened meeting (issue #7); the matrix decides without one.
MEETING_BOUND = {DataFlow.MEETING}
NEEDS_CONSENT = {
    DataFlow.APPOINTMENTS_TO_MUNICIPALITY,
    DataFlow.CASES_TO_HEALTH,
    DataFlow.CONTACTS_TO_HEALTH,
}
BLOCKED_BY_OBJECTION = {DataFlow.APPOINTMENTS_TO_MUNICIPALITY}
SHOWS_LOCATION = {
    DataFlow.CHILD_DETAILS,
    DataFlow.APPOINTMENTS_TO_MUNICIPALITY,
    DataFlow.SCHOOL_TO_HEALTH,
}


CASE_FLOWS = {
    DataFlow.CASES_TO_HEALTH,
    DataFlow.CASES_IN_MUNICIPALITY,
    DataFlow.CONTACTS_TO_HEALTH,
}


def expected(function: F, flow: DataFlow, state: State) -> str:
    """The first rule that holds gives the cell; the order is the engine's order of checks."""
    rules = (
        (function not in RECEIVES[flow], "D-function"),
        (state in (State.NONE, State.ENDED), "D-relation"),
        (flow in MEETING_BOUND, "D-meeting"),
        (state is State.BLOCKED and flow in BLOCKED_BY_OBJECTION, "D-objection"),
        (
            state in (State.CONSENT_MISSING, State.CONSENT_WITHDRAWN) and flow in NEEDS_CONSENT,
            "D-consent",
        ),
        (state is State.PROTECTED and flow in SHOWS_LOCATION, "P*"),
        # The tail child's case is closed: permitted, and nothing to show.
        (state is State.TAIL and flow in CASE_FLOWS, "P0"),
    )
    return next((cell for holds, cell in rules if holds), "P")


_SHORT = {"relationship": "relation"}


def _withheld(answer: Answer[object]) -> bool:
    data = answer.data
    if isinstance(data, list):
        return any(getattr(item, "location", None) is WITHHELD for item in data)
    return WITHHELD in (getattr(data, "address", None), getattr(data, "institution", None))


def outcome(
    access: ChildAccess, function: F, flow: DataFlow, child: Cpr, scenario: Scenario
) -> str:
    principal = scenario.principals[function]
    readers = {
        DataFlow.CHILD_DETAILS: access.child_details,
        DataFlow.APPOINTMENTS_TO_MUNICIPALITY: access.appointments,
        DataFlow.CASES_TO_HEALTH: access.cases_for_health,
        DataFlow.CASES_IN_MUNICIPALITY: access.cases_in_municipality,
        DataFlow.CONTACTS_TO_HEALTH: access.contacts,
        DataFlow.SCHOOL_TO_HEALTH: access.school,
    }
    reader = readers.get(flow)
    if reader is None:  # correspondence and meetings have no read here: the decision alone
        decision = access.decide(principal, child, flow, "matrix")
        return "P" if decision.permit else _denied_by(decision.rules)
    answer: Answer[object] = reader(principal, child, "matrix")  # type: ignore[operator]
    if not answer.permitted:
        assert answer.data is None
        return _denied_by(answer.decision.rules)
    if not answer.data:
        return "P0"
    return "P*" if _withheld(answer) else "P"


def _denied_by(rules: tuple[str, ...]) -> str:
    """D and the check that denied: `cases_to_health.consent` gives D-consent."""
    (rule,) = rules
    check = rule.split(".", 1)[1]
    return f"D-{_SHORT.get(check, check)}"


LABELS = {
    State.NONE: "none",
    State.ACTIVE: "active",
    State.TAIL: "tail",
    State.ENDED: "ended",
    State.CONSENT_MISSING: "no consent",
    State.CONSENT_WITHDRAWN: "withdrawn",
    State.PROTECTED: "protected",
    State.BLOCKED: "blocked",
}


def run_matrix(access_world: AccessWorld, settings: Settings, policy: Policy) -> Matrix:
    matrix = Matrix()
    with Session(access_world.engine) as session, session.begin():
        access = child_access(session, settings, access_world.consent, policy, lambda: NOW)
        for function in F:
            for flow in DataFlow:
                cells = []
                for state in State:
                    child = access_world.scenario.children[state]
                    got = outcome(access, function, flow, child, access_world.scenario)
                    cells.append(matrix.compare(function, flow, state, got))
                matrix.lines.append(
                    f"{function.value:<21}{flow.value:<30}" + "".join(f"{c:>12}" for c in cells)
                )
    return matrix


class Matrix:
    def __init__(self) -> None:
        self.unexpected_permits: list[str] = []
        self.unexpected_denials: list[str] = []
        header = "".join(f"{LABELS[s]:>12}" for s in State)
        self.lines = [f"{'function':<21}{'data flow':<30}{header}"]

    def compare(self, function: F, flow: DataFlow, state: State, got: str) -> str:
        want = expected(function, flow, state)
        if got == want:
            return got
        where = f"{function.value} × {flow.value} × {state.value}: {got}, expected {want}"
        wrongly_permitted = got.startswith("P") and want.startswith("D")
        (self.unexpected_permits if wrongly_permitted else self.unexpected_denials).append(where)
        return f"{got}/{want}!"

    def summary(self) -> str:
        return (
            f"{len(F) * len(DataFlow) * len(State)} decisions: "
            f"{len(self.unexpected_permits)} unexpected permits, "
            f"{len(self.unexpected_denials)} unexpected denials"
        )


def test_every_function_flow_and_state(
    access_world: AccessWorld, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    matrix = run_matrix(access_world, settings, load_policy())
    with capsys.disabled():
        print("\n" + "\n".join([*matrix.lines, matrix.summary()]))  # noqa: T201 - the issue asks for it
    assert matrix.unexpected_permits == []
    assert matrix.unexpected_denials == []


def test_the_matrix_catches_a_widened_policy(access_world: AccessWorld, settings: Settings) -> None:
    """The rules are configuration: giving clinic staff the cases flow in the policy file
    changes the decisions, and the matrix reports exactly those cells as unexpected permits."""
    import tomllib  # noqa: PLC0415

    shipped = Path(__file__).parents[3] / "src/paatvaers/access/policies/data_flows.toml"
    document = tomllib.loads(shipped.read_text(encoding="utf-8"))
    document["flows"]["cases_to_health"]["functions"].append("klinikpersonale")
    matrix = run_matrix(access_world, settings, parse_policy(document))
    # Where they are still denied, it is now by a later check, not by their function.
    assert matrix.unexpected_denials == [
        f"klinikpersonale × cases_to_health × {state.value}: {got}, expected D-function"
        for state, got in (
            (State.NONE, "D-relation"),
            (State.ENDED, "D-relation"),
            (State.CONSENT_MISSING, "D-consent"),
            (State.CONSENT_WITHDRAWN, "D-consent"),
        )
    ]
    assert matrix.unexpected_permits == [
        f"klinikpersonale × cases_to_health × {state.value}: {got}, expected D-function"
        for state, got in (
            (State.ACTIVE, "P"),
            (State.TAIL, "P0"),
            (State.PROTECTED, "P"),
            (State.BLOCKED, "P"),
        )
    ]
