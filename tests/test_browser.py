"""The app in headless Chromium: upload a photo, wait for the annotated result."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory):
    if not Path(CHROMIUM).is_file():
        pytest.skip("Chromium not installed: run scripts/test.sh as root, or apt-get install chromium")
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1280, "height": 1000},
        )
        page = context.new_page()
        yield page
        context.close()


def test_upload_shows_annotated_result(browser_page, app_url, astronaut, tmp_path):
    photo = tmp_path / "astronaut.png"
    Image.fromarray(astronaut).save(photo)
    page = browser_page
    page.goto(app_url, wait_until="domcontentloaded")
    page.get_by_role("button", name="Analyse").wait_for(timeout=60_000)

    page.locator("input[type=file]").first.set_input_files(str(photo))
    page.get_by_role("button", name="Analyse").click()

    details = page.locator("#details")
    details.get_by_text("Face #1").wait_for(timeout=120_000)
    assert "Gender: female" in details.inner_text()
    result_image = page.locator("#annotated img")
    result_image.wait_for(timeout=30_000)
    assert result_image.evaluate("img => img.naturalWidth") == 512

    screenshot = os.environ.get("FACEDEMO_SCREENSHOT")
    if screenshot:  # set when refreshing docs/screenshot.png
        page.screenshot(path=screenshot, full_page=True)
