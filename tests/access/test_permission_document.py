"""docs/permissions.md shows the policy table that the code enforces."""

from __future__ import annotations

from pathlib import Path

import pytest

from voronka.access import matrix
from voronka.access.policy import POLICY, Action, Scope
from voronka.user.models import Role

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
REGENERATE = "python -m voronka.access.matrix --write docs/permissions.md"


def test_document_shows_the_current_policy():
    shown = matrix.generated_section(DOCUMENT.read_text(encoding="utf-8"))
    assert shown == matrix.render_table(), (
        f"docs/permissions.md disagrees with voronka.access.policy.POLICY; run `{REGENERATE}`"
    )


def test_table_has_one_row_per_declared_resource_action():
    rows = matrix.render_table().splitlines()[2:]
    declared = sum(len(actions) for actions in POLICY.values())
    assert len(rows) == declared
    assert rows[0] == "| `client` | read | all | team | own | none | none |"
    assert "| `audit_event` | read | all | team | none | none | none |" in rows


def test_cells_follow_the_policy_for_every_role():
    policy = {"ticket": {Action.DELETE: {Role.ADMIN: Scope.ALL, Role.MARKETER: Scope.OWN}}}
    assert matrix.render_table(policy).splitlines()[2] == (
        "| `ticket` | delete | all | none | none | own | none |"
    )


def test_write_replaces_only_the_generated_section(tmp_path):
    page = tmp_path / "permissions.md"
    page.write_text(
        f"# Intro\n\n{matrix.BEGIN_MARKER}\nstale\n{matrix.END_MARKER}\n\n## Rules\n",
        encoding="utf-8",
    )
    assert matrix.write(page) is True
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# Intro\n\n") and text.endswith(f"{matrix.END_MARKER}\n\n## Rules\n")
    assert matrix.generated_section(text) == matrix.render_table()
    assert matrix.write(page) is False


def test_a_document_without_markers_is_refused(tmp_path):
    page = tmp_path / "permissions.md"
    page.write_text("# Permissions\n", encoding="utf-8")
    with pytest.raises(ValueError, match="permission-matrix"):
        matrix.write(page)


def test_command_prints_the_table(capsys):
    assert matrix.main([]) == 0
    assert capsys.readouterr().out == matrix.render_table()
    assert matrix.main(["--bogus"]) == 2


@pytest.mark.parametrize(
    "rule",
    [
        "## Record scope",
        "## 404 or 403",
        "**read-only**",
        "revokes all of the user's sessions",
        "last active administrator cannot be demoted",
        "## What is audited",
        "follow the client",
    ],
)
def test_document_states_the_rules(rule):
    assert rule in DOCUMENT.read_text(encoding="utf-8")
