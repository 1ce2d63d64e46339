"""The entry form's checks in the browser before an upload (issue 19), in headless Chromium at 390 px.

The category's rules and the server's own messages come in the page (the form's data-upload-rules); the
script (static/js/entry-upload.js) reads the chosen file and refuses it in the page's
language before any request to /uploads: a text file named .jpg is "not a photo" (it does
not decode), a small photo is named by its pixels before its bytes, a series by its count.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.browser import log_in_page
from tests.demo_site import served_demo_site

pytestmark = pytest.mark.browser
ENTRANT = ("entrant@demo.happynghean.vn", "demo-entrant-2025")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with served_demo_site(tmp_path_factory.mktemp("resumable-site")) as served:
        yield served


def jpeg_bytes(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 70)).save(out, "JPEG", quality=90)
    return out.getvalue()


def open_form(browser_page, url: str, kind: str, lang: str = "en"):
    """The new-entry form in ``lang`` with the category of ``kind`` chosen; requests to /uploads recorded."""
    page = browser_page.page
    log_in_page(page, url, *ENTRANT)
    page.goto(f"{url}/language/{lang}", wait_until="load")
    page.goto(f"{url}/entries/new", wait_until="load")
    page.locator(f"input[name=category][data-kind={kind}]").check()
    uploads: list[str] = []
    page.on("request", lambda request: uploads.append(request.url) if "/uploads" in request.url else None)
    return page, uploads


def refusal_of(page, field: str) -> str:
    line = page.locator(f"[data-for-kind] input[name={field}] + .upload-status .upload-line")
    line.locator("xpath=self::*[contains(@class, 'error')]").wait_for()
    return line.inner_text()


def no_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_text_file_named_jpg_is_not_a_photo(site, browser_page):
    url, _codes = site
    page, uploads = open_form(browser_page, url, "photo", lang="vi")
    text = b"These are words, not a picture. " * 200_000  # 6.4 MB: big enough for the byte rule
    page.set_input_files(
        "input[name=photo]", files=[{"name": "sunset.jpg", "mimeType": "image/jpeg", "buffer": text}]
    )
    message = refusal_of(page, "photo")
    assert message == "Hệ thống không đọc được tệp này dưới dạng ảnh; thể loại này chỉ nhận JPEG."
    assert page.locator("input[name=photo]").evaluate("input => input.validationMessage") == message
    page.locator("#new-entry [type=submit]").click()
    assert page.url.endswith("/entries/new")  # the form was not sent
    assert uploads == []
    assert no_overflow(page)
    assert browser_page.problems() == []


def test_a_small_photo_is_named_by_its_pixels_first(site, browser_page):
    url, _codes = site
    page, uploads = open_form(browser_page, url, "photo")
    small = jpeg_bytes(800, 600)  # too few pixels and too few bytes: the pixels are named
    page.set_input_files(
        "input[name=photo]", files=[{"name": "small.jpg", "mimeType": "image/jpeg", "buffer": small}]
    )
    assert refusal_of(page, "photo") == (
        "The photo is 800 × 600 pixels; its long side must be at least 3,000 pixels."
    )
    assert uploads == []
    assert browser_page.problems() == []


def test_a_png_is_named_by_its_format(site, browser_page):
    url, _codes = site
    page, uploads = open_form(browser_page, url, "photo")
    out = io.BytesIO()
    Image.new("RGB", (3200, 2000), (200, 80, 20)).save(out, "PNG")
    page.set_input_files(
        "input[name=photo]", files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": out.getvalue()}]
    )
    assert refusal_of(page, "photo") == "This file is in PNG format; this category accepts JPEG."
    assert uploads == []


def test_a_series_of_two_is_refused_by_its_count(site, browser_page):
    url, _codes = site
    page, uploads = open_form(browser_page, url, "photo_series")
    photo = jpeg_bytes(320, 200)
    files = [{"name": f"p{n}.jpg", "mimeType": "image/jpeg", "buffer": photo} for n in (1, 2)]
    page.set_input_files("input[name=photos]", files=files)
    assert refusal_of(page, "photos") == "A series in this category holds 3 to 10 photos; you chose 2 photos."
    assert uploads == []


def test_a_text_file_named_mp4_is_not_a_video(site, browser_page):
    url, _codes = site
    page, uploads = open_form(browser_page, url, "video")
    page.set_input_files(
        "input[name=video]",
        files=[{"name": "clip.mp4", "mimeType": "video/mp4", "buffer": b"not a video " * 1000}],
    )
    assert refusal_of(page, "video").startswith(
        "This file is not a video we can read; this category accepts MP4, MOV"
    )
    assert uploads == []
    assert browser_page.problems() == []
