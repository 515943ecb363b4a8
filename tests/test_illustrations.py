"""The "Show me" pictures: safe SVGs in disclosures that fit 320 px."""

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser
from playwright.sync_api import Route

from tests.helpers.browser import SCREENSHOTS
from tests.helpers.steps import start_draft
from tests.helpers.steps import step1

ILLUSTRATIONS = Path(__file__).resolve().parent.parent / "static" / "illustrations"
SVGS = sorted(ILLUSTRATIONS.glob("*.svg"))
BUDGET = 8 * 1024
SVG_NS = "{http://www.w3.org/2000/svg}"
# Every disclosure we expect: (page, summary, pictures it shows).
DISCLOSURES = {
    "create-app": [
        ("Show me the New Application form", ["portal-new-application.svg"]),
        ("Show me where the API Key is", ["application-edit.svg"]),
    ],
    "list-id": [("Where is the List ID?", ["list-address-bar.svg"])],
}
# Annotation numbers drawn in each picture, which the page's list must explain.
MARKERS = {
    "portal-new-application.svg": 5,
    "application-edit.svg": 3,
    "list-address-bar.svg": 2,
}


class Disclosures(HTMLParser):
    """Collect each <details>: its summary, its images and its figures' list items."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, Any]] = []
        self._depth = 0
        self._in_summary = False
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open a disclosure, or note what sits inside the current one."""
        if tag == "details":
            self._depth += 1
            self.found.append({"summary": "", "images": [], "keys": []})
        elif not self._depth:
            return
        elif tag == "summary":
            self._in_summary = True
        elif tag == "img":
            self.found[-1]["images"].append(dict(attrs))
        elif tag == "figcaption":
            self._in_caption = True
            self.found[-1]["keys"].append(0)
        elif tag == "li" and self._in_caption:
            self.found[-1]["keys"][-1] += 1

    def handle_endtag(self, tag: str) -> None:
        """Close whatever the tag closes."""
        if tag == "details":
            self._depth -= 1
        elif tag == "summary":
            self._in_summary = False
        elif tag == "figcaption":
            self._in_caption = False

    def handle_data(self, data: str) -> None:
        """Keep the summary's words."""
        if self._in_summary:
            self.found[-1]["summary"] += data


def disclosures(html: str) -> list[dict[str, Any]]:
    """Return the page's disclosures, summary text squeezed."""
    parser = Disclosures()
    parser.feed(html)
    for found in parser.found:
        found["summary"] = " ".join(found["summary"].split())
    return parser.found


def page_paths(client: FlaskClient) -> dict[str, str]:
    """Start a draft through step 1; return the addresses of steps 1 and 2."""
    integration_id = start_draft(client)
    step1(client, integration_id)
    return {
        "create-app": f"/integrations/{integration_id}/create-app",
        "list-id": f"/integrations/{integration_id}/list-id",
    }


def test_there_are_the_three_pictures() -> None:
    assert [path.name for path in SVGS] == sorted(MARKERS)


@pytest.mark.parametrize("path", SVGS, ids=lambda path: path.name)
def test_each_picture_is_a_small_self_contained_scalable_svg(path: Path) -> None:
    size = path.stat().st_size
    assert size < BUDGET, f"{path.name} is {size} bytes"
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG_NS}svg"
    numbers = [float(n) for n in root.attrib["viewBox"].split()]
    assert len(numbers) == 4 and numbers[2] > 0 and numbers[3] > 0
    # No fixed size: the page decides, so it shrinks on a phone.
    assert "width" not in root.attrib and "height" not in root.attrib
    assert root.attrib["font-family"].startswith("system-ui")
    for element in root.iter():
        name = element.tag.removeprefix(SVG_NS)
        assert name not in {"script", "image", "foreignObject", "iframe"}, name
        for attribute, value in element.attrib.items():
            assert not attribute.startswith("on"), attribute
            if attribute.endswith("href"):
                assert not re.match(r"\s*(https?:)?//", value), value
            # Only references to the picture's own parts, never another file.
            for target in re.findall(r"url\(([^)]*)\)", value):
                assert target.startswith("#"), target
    text = path.read_text()
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")


@pytest.mark.parametrize("path", SVGS, ids=lambda path: path.name)
def test_each_picture_has_its_numbers_in_order(path: Path) -> None:
    root = ET.parse(path).getroot()
    numbers = [
        element.text
        for element in root.iter(f"{SVG_NS}text")
        if element.text and element.text.isdigit()
    ]
    expected = [str(n) for n in range(1, MARKERS[path.name] + 1)]
    assert numbers == expected


@pytest.mark.parametrize("step", sorted(DISCLOSURES))
def test_each_disclosure_shows_its_pictures_and_explains_their_numbers(
    signed_in: FlaskClient, step: str
) -> None:
    html = signed_in.get(page_paths(signed_in)[step]).get_data(as_text=True)
    found = [d for d in disclosures(html) if d["images"]]
    assert [(d["summary"], len(d["images"])) for d in found] == [
        (summary, len(names)) for summary, names in DISCLOSURES[step]
    ]
    for disclosure, (_, names) in zip(found, DISCLOSURES[step], strict=True):
        for image, name, keys in zip(
            disclosure["images"], names, disclosure["keys"], strict=True
        ):
            # Fingerprinted: the file's hash rides along so browsers may keep it.
            assert image["src"].split("?v=")[0] == f"/static/illustrations/{name}"
            assert re.fullmatch(r"[0-9a-f]{12}", image["src"].split("?v=")[1])
            assert len(image["alt"].split()) >= 5, image["alt"]
            assert keys == MARKERS[name], name
            # Closed at once: a static file's response holds the file open.
            with signed_in.get(image["src"]) as response:
                assert response.status_code == 200
                assert response.mimetype == "image/svg+xml"
                assert response.get_data() == (ILLUSTRATIONS / name).read_bytes()


def test_step2_keeps_the_written_example(signed_in: FlaskClient) -> None:
    html = signed_in.get(page_paths(signed_in)["list-id"]).get_data(as_text=True)
    assert "<mark>7c5b38ee-81d3-11f0-a43c-fa163ea34668</mark>" in html
    assert "You can paste the whole address" in html


def test_disclosures_fit_a_320_pixel_screen(
    browser: Browser, app: Flask, signed_in: FlaskClient
) -> None:
    """Open every disclosure in Chromium at 320 px: nothing scrolls sideways."""
    paths = page_paths(signed_in)
    origin = "https://wizard.test"

    def serve(route: Route) -> None:
        """Answer the browser from the signed-in test client: no server needed."""
        url = urlsplit(route.request.url)
        with signed_in.get(url.path, query_string=url.query) as response:
            headers = {
                key: value
                for key, value in response.headers.items()
                if key.lower() in {"content-type", "content-security-policy"}
            }
            body = response.get_data()
        route.fulfill(status=response.status_code, headers=headers, body=body)

    context = browser.new_context(viewport={"width": 320, "height": 640})
    try:
        page = context.new_page()
        page.route(f"{origin}/**", serve)
        for step, expected in DISCLOSURES.items():
            page.goto(origin + paths[step])
            summaries = page.locator("details.details > summary")
            assert summaries.count() == len(expected)
            for index in range(summaries.count()):
                summaries.nth(index).click()
            images = page.locator("details[open] .illustration img")
            assert images.count() == sum(len(names) for _, names in expected)
            for index in range(images.count()):
                image = images.nth(index)
                image.scroll_into_view_if_needed()
                # Loaded and drawn: a broken or blocked SVG has no natural width.
                assert image.evaluate("img => img.complete && img.naturalWidth") > 0
                assert image.bounding_box()["width"] <= 320
            widths = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert widths[0] <= widths[1], (step, widths)
            # Review artifacts, like the journeys' screenshots.
            opened = page.locator("details[open]")
            for index in range(opened.count()):
                opened.nth(index).screenshot(
                    path=str(SCREENSHOTS / f"help-{step}-{index + 1}-320.png")
                )
    finally:
        context.close()
