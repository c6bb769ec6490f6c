"""Headless Debian Chromium under Selenium, for the dashboard's browser tests and screenshots.

Needs the Debian packages `chromium` and `chromium-driver` (`python3 dev.py test` installs them)
and Selenium (the `test` extra). Both paths are given to Selenium, so it never looks for (or
downloads) a browser or driver of its own.
"""
from __future__ import annotations

import base64
import shutil
import tempfile
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# Without the background-networking flags Chromium keeps trying to reach its vendor's hosts,
# which this offline machine refuses; --no-sandbox because tests run as root in CI.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars")


def missing() -> str | None:
    """Why a browser cannot be started here, or None."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(path).exists():
            return f"{path} is missing: install the Debian package {package}"
    return None


class Browser:
    """One Chromium with a fresh profile; `close()` quits it and removes the profile."""

    def __init__(self, width: int = 1280, height: int = 900) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="mockserver-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*FLAGS, f"--user-data-dir={self.profile}", f"--window-size={width},{height}"):
            options.add_argument(flag)
        self.driver: Any = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER),
                                            options=options)

    def screenshot(self, path: Path) -> None:
        """The whole page as PNG, however long (Chromium's DevTools protocol, since WebDriver
        itself only captures the viewport)."""
        size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True, "clip": clip})
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)
