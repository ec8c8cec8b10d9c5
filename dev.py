#!/usr/bin/env python3
"""Set-up and task runner that needs nothing but Python 3.11.

    python3 dev.py up      install, build the demo company (first run), serve on :8000
    python3 dev.py test    install with test dependencies and run the whole suite

Dependencies are pinned in requirements.lock (versions only, no index addresses).
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    result = subprocess.run([str(a) for a in args], cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(result.returncode)


def install(extras: str = "") -> None:
    if not PY.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    target = f".[{extras}]" if extras else "."
    run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "-c", "requirements.lock", "-e", target)


def up() -> None:
    install()
    env = {**os.environ}
    data = ROOT / "var" / "voronka.sqlite3"
    if not data.exists():
        run(BIN / "voronka", "demo", "--clients", os.environ.get("VORONKA_DEMO_CLIENTS", "10000"),
            env=env)
    else:
        run(BIN / "voronka", "db", "upgrade", env=env)
    run(BIN / "voronka", "serve", env=env)


def test(extra_args: list[str]) -> None:
    install("test")
    # two workers: the machines this runs on have two cores
    run(PY, "-m", "pytest", "-n", os.environ.get("VORONKA_TEST_WORKERS", "2"), *extra_args)


def main() -> None:
    command, *rest = sys.argv[1:] or ["help"]
    if command == "up":
        up()
    elif command == "test":
        test(rest)
    else:
        print(__doc__)
        sys.exit(0 if command == "help" else 2)


if __name__ == "__main__":
    main()
