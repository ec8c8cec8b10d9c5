"""The front-end packages: pinned versions, a lock file without download addresses."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_lock_records_no_download_address_and_pins_htmx_2():
    lock = json.loads((ROOT / "package-lock.json").read_text())
    packages = lock["packages"]
    assert not [name for name, entry in packages.items() if "resolved" in entry]
    assert "://" not in (ROOT / "package-lock.json").read_text()
    assert packages["node_modules/htmx.org"]["version"].startswith("2.")
    wanted = json.loads((ROOT / "package.json").read_text())["dependencies"]
    assert set(wanted) == {"htmx.org", "echarts", "sortablejs", "@picocss/pico"}
    for name, version in wanted.items():
        assert packages[f"node_modules/{name}"]["version"] == version  # exact pins
    assert "omit-lockfile-registry-resolved=true" in (ROOT / ".npmrc").read_text()


def test_pages_load_nothing_from_another_host():
    templates = (ROOT / "src/voronka/web/ui/templates").glob("*.html")
    for template in templates:
        text = template.read_text()
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, template
