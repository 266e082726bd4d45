"""A real browser against a live Kenoma (SPEC 27): Debian's Chromium, driven by Playwright (never a
browser of Playwright's own: `make test` installs the `chromium` package when it is missing).

One page is a small single-page app installed with `flask frontend install`: it logs in with the
cookie flow and reads the home timeline through the API. The other is the landing page shown when
no front-end is installed, at a phone's width. Both leave a screenshot in tests/artifacts/.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.accounts import create_local_account
from services.follows import follow
from services.statuses import NewStatus
from services.statuses import post_status
from tests.conftest import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
SPA = Path(__file__).resolve().parent / "spa"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    shutil.which(str(CHROMIUM)) is None, reason="Debian's chromium is missing (`make test` installs it)"
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        # A persistent context on a fresh folder: --user-data-dir is Playwright's to pass.
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=FLAGS
        )
        try:
            yield context
        finally:
            context.close()


def _seed(server: LiveServer) -> None:
    with server.app.app_context():
        alice = create_local_account("alice", "alice-pw-123", email="alice@example.org", display_name="Alice")
        bob = create_local_account("bob", "bob-pw-456", email="bob@example.org")
        follow(bob, alice)
        post_status(alice, NewStatus(text="Hello from Alice, seen in a real browser", visibility="public"))
        post_status(bob, NewStatus(text="Bob's own post", visibility="public"))


def _page(browser: object, width: int = 1024, height: int = 768) -> object:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.set_viewport_size({"width": width, "height": height})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    return page


def test_a_front_end_logs_in_with_the_cookie_and_reads_home(
    browser: object, live_server: Callable[..., LiveServer]
) -> None:
    server = live_server()
    _seed(server)
    installed = server.app.test_cli_runner().invoke(args=["frontend", "install", str(SPA)])
    assert installed.exit_code == 0, installed.output
    page = _page(browser)
    # A deep link: the server answers the app's index.html, the app routes itself.
    page.goto(f"{server.url}/main/friends")
    page.wait_for_selector("#status:has-text('ready at /main/friends')")
    page.fill("#username", "bob")
    page.fill("#password", "bob-pw-456")
    page.click("#submit")
    page.wait_for_selector("#status:has-text('logged in')", timeout=20_000)
    assert page.inner_text("#me") == "@bob"
    statuses = page.locator("#timeline .status").all_inner_texts()
    assert "alice: Hello from Alice, seen in a real browser" in statuses
    assert "bob: Bob's own post" in statuses
    cookies = {c["name"]: c for c in page.context.cookies(server.url)}
    assert cookies["_pleroma_key"]["httpOnly"] is True  # the app never saw it; the browser sent it
    assert page.errors == []  # nothing refused by the front-end's Content-Security-Policy
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-front-end.png"), full_page=True)
    page.close()


def test_the_landing_page_without_a_front_end(
    browser: object, live_server: Callable[..., LiveServer]
) -> None:
    server = live_server(INSTANCE_NAME="Kenoma Test", INSTANCE_DESCRIPTION="A place for tests")
    _seed(server)
    page = _page(browser, width=390, height=844)  # a phone
    response = page.goto(f"{server.url}/")
    assert response.status == 200
    assert page.inner_text("h1") == "Kenoma Test"
    assert "A place for tests" in page.inner_text("header")
    assert "Alice" in page.inner_text("#people")
    assert "Hello from Alice, seen in a real browser" in page.inner_text("#posts")
    assert page.locator("a[href$='/openapi.json']").count() == 1
    assert page.locator("a[href$='/docs']").count() == 1
    # Styled by its one stylesheet, and nothing wider than the phone.
    assert page.evaluate("getComputedStyle(document.body).maxWidth") == "672px"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-landing.png"), full_page=True)
    page.close()
