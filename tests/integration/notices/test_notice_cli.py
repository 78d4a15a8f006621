"""`paatvaers notices run --once` and `paatvaers notices digest`, in-process."""

from __future__ import annotations

from typer.testing import CliRunner

from integration.notices.world import NoticeWorld
from paatvaers.cli import app
from paatvaers.domain.organisations import UnitKind

runner = CliRunner()


def test_notices_run_once_processes_the_changes_and_a_second_run_none(
    notice_world: NoticeWorld,
) -> None:
    world = notice_world
    world.give_consent()
    world.add_case(UnitKind.CHILD_FAMILY)
    world.ingest_cases()
    env = {
        "DATABASE_URL": str(world.settings.database_url),
        "PAATVAERS_CONSENT_URL": str(world.settings.consent_url),
    }
    first = runner.invoke(app, ["notices", "run", "--once"], env=env)
    second = runner.invoke(app, ["notices", "run", "--once"], env=env)
    assert first.exit_code == 0, first.output
    assert "1 ændringer behandlet" in first.output
    assert "0 ændringer behandlet" in second.output
    assert [count for _id, count in world.notices("laege")] == [1]


def test_notices_digest_without_smtp_sends_nothing(notice_world: NoticeWorld) -> None:
    env = {"DATABASE_URL": str(notice_world.settings.database_url)}
    result = runner.invoke(app, ["notices", "digest"], env=env)
    assert result.exit_code == 0
    assert "PAATVAERS_SMTP_URL er ikke sat" in result.output
