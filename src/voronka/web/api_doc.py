"""The endpoint table of docs/api.md, generated from the OpenAPI description.

``python -m voronka.web.api_doc --write docs/api.md`` rewrites the table between the markers;
a test fails when the document and the application disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

BEGIN, END = "<!-- endpoints:begin -->", "<!-- endpoints:end -->"


def endpoint_table() -> str:
    from voronka.web.app import create_app

    spec = create_app().openapi()
    lines = ["| method | path | what |", "|---|---|---|"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            lines.append(f"| {method.upper()} | `{path}` | {operation.get('summary', '')} |")
    return "\n".join(lines)


def rewrite(document: Path) -> None:
    text = document.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    document.write_text(f"{head}{BEGIN}\n{endpoint_table()}\n{END}{tail}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        rewrite(Path(sys.argv[2]))
    else:
        print(endpoint_table())
