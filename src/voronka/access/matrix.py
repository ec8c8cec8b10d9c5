"""The permission matrix as a Markdown table, and the generated section of docs/permissions.md.

Print the table::

    python -m voronka.access.matrix

Rewrite the generated section of the permission document in place (a test fails while the
document and ``voronka.access.policy.POLICY`` disagree)::

    python -m voronka.access.matrix --write docs/permissions.md
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from voronka.access.policy import POLICY, Action, Scope
from voronka.user.models import Role

BEGIN_MARKER = "<!-- permission-matrix:begin (generated: python -m voronka.access.matrix) -->"
END_MARKER = "<!-- permission-matrix:end -->"
DEFAULT_DOCUMENT = Path("docs/permissions.md")
ROLE_LABELS = {
    Role.ADMIN: "admin",
    Role.HEAD_OF_SALES: "head of sales",
    Role.SALES_MANAGER: "sales manager",
    Role.MARKETER: "marketer",
    Role.ANALYST: "analyst",
}

Policy = Mapping[str, Mapping[Action, Mapping[Role, Scope]]]


def scope_label(scope: Scope) -> str:
    """The word used for ``scope`` in the table: none, own, team or all."""
    return scope.name.lower()


def table_rows(policy: Policy = POLICY) -> list[tuple[str, Action, list[Scope]]]:
    """(resource, action, scope per role) in declaration order of resources and actions."""
    return [
        (resource, action, [actions[action].get(role, Scope.NONE) for role in ROLE_LABELS])
        for resource, actions in policy.items()
        for action in Action
        if action in actions
    ]


def render_table(policy: Policy = POLICY) -> str:
    """The policy as a Markdown table: resource × action rows, one column per role."""
    header = ["resource", "action", *ROLE_LABELS.values()]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for resource, action, scopes in table_rows(policy):
        cells = [f"`{resource}`", action.value, *(scope_label(s) for s in scopes)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def generated_section(document: str) -> str:
    """The text between the markers of ``document``; ``ValueError`` when they are missing."""
    start = document.find(BEGIN_MARKER)
    end = document.find(END_MARKER)
    if start < 0 or end < start:
        raise ValueError(f"the document has no {BEGIN_MARKER!r} … {END_MARKER!r} section")
    return document[start + len(BEGIN_MARKER) : end].strip("\n") + "\n"


def with_table(document: str, table: str) -> str:
    """``document`` with its generated section replaced by ``table``."""
    generated_section(document)  # refuse documents without the markers
    head, _, rest = document.partition(BEGIN_MARKER)
    _, _, tail = rest.partition(END_MARKER)
    return f"{head}{BEGIN_MARKER}\n{table.rstrip()}\n{END_MARKER}{tail}"


def write(path: Path = DEFAULT_DOCUMENT, policy: Policy = POLICY) -> bool:
    """Rewrite the generated section of ``path``; return whether the file changed."""
    current = path.read_text(encoding="utf-8")
    updated = with_table(current, render_table(policy))
    if updated != current:
        path.write_text(updated, encoding="utf-8")
    return updated != current


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table, or with ``--write [PATH]`` rewrite the document's section."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        sys.stdout.write(render_table())
        return 0
    if args[0] == "--write" and len(args) <= 2:
        path = Path(args[1]) if len(args) == 2 else DEFAULT_DOCUMENT
        changed = write(path)
        sys.stdout.write(f"{path}: {'updated' if changed else 'already up to date'}\n")
        return 0
    sys.stderr.write("usage: python -m voronka.access.matrix [--write [PATH]]\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
