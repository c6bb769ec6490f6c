"""Fixtures for the dashboard's browser tests: one headless Chromium for the session, one real
mock server per module (reset before each test), and small helpers to wait on the page."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mockserver.dashboard.browser import Browser, missing
from mockserver.settings import Settings
from mockserver.testing import ServerThread

WAIT_SECONDS = 20.0  # pages poll once a second; a loaded 2-core machine needs slack


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    problem = missing()
    if problem is not None:
        pytest.fail(f"{problem} (python3 dev.py test installs it)")
    started = Browser()
    yield started
    started.close()


@pytest.fixture(scope="module")
def live() -> Iterator[ServerThread]:
    with ServerThread(Settings(validate_responses=True)) as server:
        yield server
    assert server.emulator.schema_violations == [], server.emulator.schema_violations


@pytest.fixture
def site(live: ServerThread, browser: Browser) -> Iterator[Site]:
    live.emulator.reset()
    with httpx.Client(base_url=live.base_url, timeout=30) as client:
        yield Site(live, browser, client)


class Site:
    """The running mock, an HTTP client for its APIs and the browser looking at it."""

    def __init__(self, server: ServerThread, browser: Browser, client: httpx.Client) -> None:
        self.server = server
        self.emulator = server.emulator
        self.browser = browser
        self.driver: Any = browser.driver
        self.api = client

    def open(self, path: str) -> None:
        self.driver.get(self.server.base_url + path)
        self.wait(lambda: self.driver.execute_script("return document.readyState") == "complete")

    def wait(self, condition: Callable[[], Any], message: str = "") -> Any:
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait

        def check(_driver: Any) -> Any:
            try:
                return condition()
            except StaleElementReferenceException:  # a live region was swapped meanwhile
                return False

        return WebDriverWait(self.driver, WAIT_SECONDS, poll_frequency=0.1).until(check, message)

    def css(self, selector: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def all(self, selector: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return list(self.driver.find_elements(By.CSS_SELECTOR, selector))

    def text(self, selector: str) -> str:
        """The rendered text of the first match, read in one step (a live region may be
        swapped between finding an element and reading it)."""
        return str(self.driver.execute_script(
            "const el = document.querySelector(arguments[0]); return el ? el.innerText : ''",
            selector))

    def click(self, selector: str) -> None:
        self.css(selector).click()

    def status(self) -> str:
        return self.text("#status")
