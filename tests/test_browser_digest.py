"""The digest's HTML part, as sent, in headless Chromium at phone and desktop width, with
its <style> block and without any (as the Gmail app shows it for non-Google accounts, and
some webmail): no horizontal scroll at 375 px, 600 px wide on a 1200 px desktop (issue 11).

Headless Chromium makes no window narrower than 500 px, so the device width is emulated
(CDP ``Emulation.setDeviceMetricsOverride`` through Selenium). Screenshots of every render
are written as the test's artefacts into ``tests/artefacts/digest/`` (git-ignored; they are
looked at, never compared).
"""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path
from typing import Any

import pytest
from tests import test_browser as chromium  # skips this module without Chromium
from tests.mail_samples import SECRET, SentMail, send_every_kind

# The slow lane: a real Chromium.
pytestmark = pytest.mark.slow

browser = chromium.browser  # the fixture: Debian's Chromium through its chromedriver
shot = chromium.shot

ARTEFACTS = Path(__file__).parent / "artefacts" / "digest"
_STYLE = re.compile(r"<style\b[^>]*>.*?</style>", re.S | re.I)


@pytest.fixture(scope="module")
def sent(tmp_path_factory: pytest.TempPathFactory) -> SentMail:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SYNDICATE_SECRET_KEY", SECRET)
        return send_every_kind(tmp_path_factory.mktemp("sent"))


def html_part(eml: Path) -> str:
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    body = message.get_body(("html",))  # type: ignore[attr-defined]
    assert body is not None
    return str(body.get_content())


def without_style(markup: str) -> str:
    """Every <style> element removed, as a client that drops them does."""
    stripped = _STYLE.sub("", markup)
    assert "<style" not in stripped.lower().replace("<!--[if mso]>", "")
    return stripped


def render_at(driver: Any, page: Path, width: int) -> dict[str, int]:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    driver.get(page.as_uri())
    sizes: dict[str, int] = driver.execute_script(
        "const w = document.querySelector('.wrapper');"
        "return {viewport: window.innerWidth,"
        " scroll: document.documentElement.scrollWidth,"
        " body: document.body.scrollWidth,"
        " wrapper: Math.round(w.getBoundingClientRect().width)};"
    )
    return sizes


@pytest.mark.parametrize("styles", ["with <style>", "without <style>"])
def test_the_digest_fits_a_phone_and_stays_600_on_a_desktop(
    sent: SentMail, browser: Any, tmp_path: Path, styles: str
) -> None:
    markup = html_part(sent.digest)
    if styles == "without <style>":
        markup = without_style(markup)
    page = tmp_path / "digest.html"
    page.write_text(markup, encoding="utf-8")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    tag = "styles" if styles == "with <style>" else "no-styles"

    phone = render_at(browser, page, 375)
    assert phone["viewport"] == 375
    assert phone["scroll"] <= 375 and phone["body"] <= 375, f"{styles}: scrolls sideways {phone}"
    assert phone["wrapper"] <= 375
    assert browser.find_element("tag name", "h1").text == "Millbrook Valley Astronomical Society"
    shot(browser, ARTEFACTS, f"digest-375-{tag}")

    desktop = render_at(browser, page, 1200)
    assert desktop["viewport"] == 1200 and desktop["scroll"] <= 1200
    assert desktop["wrapper"] == 600, f"{styles}: {desktop}"
    shot(browser, ARTEFACTS, f"digest-1200-{tag}")


def test_a_fixed_600px_table_does_scroll_at_375(browser: Any, tmp_path: Path) -> None:
    """The check can fail: the old layout's fixed-width container, without <style>."""
    page = tmp_path / "fixed.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width, '
        'initial-scale=1"></head><body style="margin:0"><div class="wrapper">'
        '<table width="600" style="width:600px"><tr><td>Hi</td></tr></table></div></body></html>',
        encoding="utf-8",
    )
    assert render_at(browser, page, 375)["scroll"] > 375
