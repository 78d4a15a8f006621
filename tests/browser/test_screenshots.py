"""Screenshots of both overviews in Danish, for the README.

The test always takes them (into a temporary directory) and checks they are real images of
the pages; with PAATVAERS_SCREENSHOTS=1 it writes them to docs/screenshots/ as well:

    PAATVAERS_SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_screenshots.py
"""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from support.browser import LiveApp, log_in, open_child

DOCS = Path(__file__).parents[2] / "docs" / "screenshots"
SHOTS = {
    "sundhedsoverblik.png": ("praktiserende-laege", "Overblik for sundhedsvæsenet"),
    "kommuneoverblik.png": ("psykolog", "Overblik for kommunen"),
}


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def _take(page: Page, app: LiveApp, username: str, title: str, path: Path) -> None:
    log_in(page, app, username)
    open_child(page, app.shared_child.cpr.value)
    expect(page.locator(".page-meta")).to_contain_text(title)
    expect(page.locator(".denied")).to_have_count(0)  # a screenshot with everything shown
    page.screenshot(path=str(path), full_page=True)


def test_screenshots_of_both_overviews_in_danish(
    browser: Browser, live_app: LiveApp, tmp_path: Path
) -> None:
    context = browser.new_context(
        locale="da-DK", viewport={"width": 1280, "height": 800}, device_scale_factor=1
    )
    try:
        for name, (username, title) in SHOTS.items():
            page = context.new_page()
            _take(page, live_app, username, title, tmp_path / name)
            page.close()
            context.clear_cookies()
    finally:
        context.close()

    for name in SHOTS:
        width, height = _png_size(tmp_path / name)
        assert width == 1280
        assert height > 800, f"{name}: the whole page, not just the first screen"
    if os.environ.get("PAATVAERS_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        for name in SHOTS:
            shutil.copyfile(tmp_path / name, DOCS / name)
