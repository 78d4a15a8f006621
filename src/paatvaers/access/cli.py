"""`paatvaers access …`: access decisions and the data-flow table."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Annotated

import typer

from paatvaers.access.engine import Decision
from paatvaers.access.factory import child_access
from paatvaers.access.flows_doc import render_markdown
from paatvaers.access.identity import principal_for
from paatvaers.access.policy import DEFAULT_POLICY_FILE, load_policy
from paatvaers.domain.cpr import Cpr, InvalidCpr
from paatvaers.domain.data_flows import DataFlow
from paatvaers.settings import Settings
from paatvaers.sources.consent.client import ConsentClient
from paatvaers.store import db

app = typer.Typer(help="Access decisions.", no_args_is_help=True)


@app.command("explain")
def explain(
    user: Annotated[str, typer.Option(help="The user's username.")],
    child: Annotated[str, typer.Option(help="The child's CPR number (10 digits).")],
    flow: Annotated[DataFlow, typer.Option(help="The data flow.")],
    as_of: Annotated[
        str | None, typer.Option(help="Decide as on this day (YYYY-MM-DD); default now.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
) -> None:
    """Decide and explain: permit or deny, the rules that decided, the legal reference and what
    would make it permitted. The decision is written to the access log like any other."""
    settings = Settings.from_environment()
    cpr = _cpr(child)
    moment = _moment(as_of)
    with (
        db.configured_database(settings, typer.echo) as url,
        ConsentClient(settings.consent_url) as consent,
    ):
        engine = db.make_engine(url)
        try:
            with db.transaction(db.session_factory(engine)) as session:
                principal = principal_for(session, user)
                if principal is None:
                    raise typer.BadParameter(f"no user named {user!r}", param_hint="--user")
                access = child_access(session, settings, consent, clock=lambda: moment)
                purpose = "explain" if as_of is None else f"explain as of {as_of}"
                decision = access.decide(principal, cpr, flow, purpose=purpose)
        finally:
            engine.dispose()
    typer.echo(
        json.dumps(decision_as_dict(decision), ensure_ascii=False, indent=2)
        if as_json
        else format_decision(decision, user, cpr.value)
    )


@app.command("flows")
def flows(
    markdown: Annotated[bool, typer.Option(help="Print docs/data-flows.md.")] = False,
) -> None:
    """The data flows of the policy in force: basis, consent, functions, obligations."""
    settings = Settings.from_environment()
    policy = load_policy(settings.access_policy_file)
    source = str(
        settings.access_policy_file or f"src/paatvaers/access/policies/{DEFAULT_POLICY_FILE}"
    )
    if markdown:
        typer.echo(render_markdown(policy, source), nl=False)
        return
    for rule in policy.flows.values():
        consent = rule.consent.template if rule.consent else "intet samtykke (lovhjemmel)"
        functions = ", ".join(f.value for f in rule.functions)
        typer.echo(f"{rule.flow.value}: {rule.legal_reference}; {consent}; {functions}")


def format_decision(decision: Decision, user: str, child: str) -> str:
    verdict = "TILLADT (permit)" if decision.permit else "AFVIST (deny)"
    lines = [
        f"Beslutning: {verdict}",
        f"Bruger: {user}   Barn: {child}   Dataflow: {decision.flow.value}",
        f"Begrundelse: {decision.reason_da}",
        f"Reason: {decision.reason_en}",
        f"Regler: {', '.join(decision.rules)} (politik {decision.policy_version})",
        f"Lovgrundlag: {decision.legal_reference}",
    ]
    if decision.relationship is not None and decision.relationship.basis_da:
        lines.append(f"Relation: {decision.relationship.basis_da} ({decision.relationship.state})")
    for remedy_da, remedy_en in zip(decision.remedies_da, decision.remedies_en, strict=True):
        lines.append(f"Det kræver: {remedy_da}")
        lines.append(f"Would be permitted with: {remedy_en}")
    if decision.obligations:
        lines.append(f"Forpligtelser: {', '.join(sorted(decision.obligations))}")
    if decision.consent_record_ids:
        lines.append(f"Samtykke: {', '.join(decision.consent_record_ids)}")
    return "\n".join(lines)


def decision_as_dict(decision: Decision) -> dict[str, object]:
    relation = decision.relationship
    return {
        "flow": decision.flow.value,
        "decision": decision.outcome,
        "rules": list(decision.rules),
        "reason_da": decision.reason_da,
        "reason_en": decision.reason_en,
        "legal_reference": decision.legal_reference,
        "policy_version": decision.policy_version,
        "remedies_da": list(decision.remedies_da),
        "remedies_en": list(decision.remedies_en),
        "obligations": sorted(decision.obligations),
        "relationship": None if relation is None else relation.state.value,
        "consent_records": list(decision.consent_record_ids),
    }


def _cpr(value: str) -> Cpr:
    try:
        return Cpr.parse(value)
    except InvalidCpr as e:
        raise typer.BadParameter(str(e), param_hint="--child") from None


def _moment(as_of: str | None) -> datetime:
    if as_of is None:
        return datetime.now(UTC)
    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        raise typer.BadParameter("must be YYYY-MM-DD", param_hint="--as-of") from None
    return datetime.combine(day, time(12), tzinfo=UTC)
