#!/usr/bin/env python3
"""Set-up and task runner that needs nothing but Python 3.11.

    python3 dev.py up      install, build the demo company (first run), serve on :8000
    python3 dev.py test    install with test dependencies and run the whole suite
    python3 dev.py assets  install the web interface's front-end packages (npm) and copy them

Dependencies are pinned in requirements.lock (versions only, no index addresses).
"""

from __future__ import annotations

import hashlib
import os
import shutil
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


#: Front-end files the web interface serves, copied from node_modules (never from a CDN).
ASSETS = {
    "htmx.org/dist/htmx.min.js": "htmx.min.js",
    "echarts/dist/echarts.min.js": "echarts.min.js",
    "sortablejs/Sortable.min.js": "Sortable.min.js",
    "@picocss/pico/css/pico.min.css": "pico.min.css",
}
VENDOR = ROOT / "src" / "voronka" / "web" / "ui" / "static" / "vendor"


def assets() -> None:
    """`npm ci` and copy the pinned packages when the copies are missing or outdated."""
    lock = hashlib.sha256((ROOT / "package-lock.json").read_bytes()).hexdigest()
    stamp = VENDOR / ".lock-sha256"
    complete = all((VENDOR / name).exists() for name in ASSETS.values())
    if complete and stamp.exists() and stamp.read_text().strip() == lock:
        return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm (Node.js) is needed once to install the web interface's assets")
    run(npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts")
    VENDOR.mkdir(parents=True, exist_ok=True)
    for source, name in ASSETS.items():
        shutil.copyfile(ROOT / "node_modules" / source, VENDOR / name)
    stamp.write_text(lock + "\n")


def ensure_chromium() -> None:
    """The browser tests drive the system Chromium; install the Debian package when root."""
    if Path("/usr/bin/chromium").exists():
        return
    if os.name == "posix" and os.geteuid() == 0 and shutil.which("apt-get"):
        run("apt-get", "update")
        run("apt-get", "install", "-y", "--no-install-recommends", "chromium")
        return
    sys.exit("the browser tests need /usr/bin/chromium: install the Debian package `chromium`")


def up() -> None:
    install()
    assets()
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
    assets()
    ensure_chromium()
    # two workers: the machines this runs on have two cores
    run(PY, "-m", "pytest", "-n", os.environ.get("VORONKA_TEST_WORKERS", "2"), *extra_args)


def main() -> None:
    command, *rest = sys.argv[1:] or ["help"]
    if command == "up":
        up()
    elif command == "test":
        test(rest)
    elif command == "assets":
        assets()
    else:
        print(__doc__)
        sys.exit(0 if command == "help" else 2)


if __name__ == "__main__":
    main()
