"""Big files sent from a phone-sized Chromium straight to storage, in parts (issue 19), local backend.

The page's script (static/js/entry-upload.js, Uppy) asks /uploads for the upload and each
part's address, sends the parts, and puts the stored upload's id into upload_<field>; the
form's POST then carries the text only. Taking the network away part-way (Playwright's
offline mode) pauses the upload, which goes on where it stopped when the network is back;
closing the tab and opening the form again resumes it from the parts already stored
(GoldenRetriever keeps the file in the browser, /uploads/<id>/parts lists the stored ones).
"""

from __future__ import annotations

import io
import os
import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.browser import PHONE, log_in_page, watched_page
from tests.demo_site import served_demo_site

pytestmark = pytest.mark.browser
ENTRANT = ("entrant@demo.happynghean.vn", "demo-entrant-2025")
SOURCE_VIDEO = Path(__file__).resolve().parents[1] / ".cache" / "test-media" / "bigbuckbunny.mp4"
MIB = 1024 * 1024
PART_DATA = re.compile(r"/uploads/([0-9a-f]+)/parts/(\d+)/data")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with served_demo_site(tmp_path_factory.mktemp("resumable-upload-site")) as served:
        yield served


@pytest.fixture
def context(chromium):
    context = chromium.new_context(viewport=PHONE, locale="en-US")
    yield context
    context.close()


def big_photo(path: Path) -> Path:
    """A real JPEG over the demo category's 3,000 px and 3 MB (noise does not compress)."""
    noise = Image.frombytes("RGB", (3200, 2400), os.urandom(3200 * 2400 * 3))
    noise.save(path, "JPEG", quality=92)
    assert path.stat().st_size > 3 * 1000 * 1000
    return path


def padded_video(path: Path, size: int) -> Path:
    """A real MP4 padded to ``size`` bytes with a trailing ``free`` box (as bench/upload.py does)."""
    if not SOURCE_VIDEO.exists():
        pytest.fail(f"{SOURCE_VIDEO} missing: run 'make test-media'")
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(SOURCE_VIDEO),
            "-c",
            "copy",
            "-movflags",
            "+faststart",
            str(path),
        ],
        check=True,
        timeout=120,
    )
    padding = size - path.stat().st_size
    with path.open("ab") as out:
        out.write(padding.to_bytes(4, "big") + b"free")
    os.truncate(path, size)
    return path


def open_form(context, url: str, kind: str):
    watched = watched_page(context)
    page = watched.page
    log_in_page(page, url, *ENTRANT)
    page.goto(f"{url}/language/en", wait_until="load")
    page.goto(f"{url}/entries/new", wait_until="load")
    page.locator(f"input[name=category][data-kind={kind}]").check()
    return watched


def part_puts(page) -> list[tuple[str, int]]:
    """The parts the page sends, as (upload id, part number), recorded as they finish."""
    sent: list[tuple[str, int]] = []

    def finished(request):
        match = PART_DATA.search(request.url)
        if match and request.method == "PUT":
            sent.append((match.group(1), int(match.group(2))))

    page.on("requestfinished", finished)
    return sent


def stored_id(page, field: str, timeout: float = 120_000) -> str:
    hidden = page.locator(f"input[name=upload_{field}]")
    page.wait_for_function(
        "name => document.querySelector(`input[name=upload_${name}]`).value !== ''",
        arg=field,
        timeout=timeout,
    )
    return hidden.input_value()


def no_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_photo_goes_to_storage_before_the_form(site, context, tmp_path):
    url, _codes = site
    watched = open_form(context, url, "photo")
    page = watched.page
    sent = part_puts(page)
    page.set_input_files("input[name=photo]", str(big_photo(tmp_path / "lake.jpg")))
    upload_id = stored_id(page, "photo")
    assert re.fullmatch(r"[0-9a-f]{32}", upload_id)
    assert sent == [(upload_id, 1)]
    line = page.locator("[data-for-kind=photo] .upload-line")
    assert line.inner_text() == "The file is sent."
    assert page.locator("[data-for-kind=photo] progress").get_attribute("value") == "100"
    assert no_overflow(page)
    assert watched.problems() == []


def test_a_video_resumes_after_the_network_drops(site, context, tmp_path):
    url, _codes = site
    video = padded_video(tmp_path / "river.mp4", 40 * MIB)  # 5 parts of 8 MiB
    watched = open_form(context, url, "video")
    page = watched.page
    sent = part_puts(page)
    dropped = []

    def drop_the_network(route):
        """Part 3 finds the network gone: the phone went into a tunnel."""
        if PART_DATA.search(route.request.url).group(2) == "3" and not dropped:
            dropped.append(route.request.url)
            context.set_offline(True)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route(PART_DATA, drop_the_network)
    page.set_input_files("input[name=video]", str(video))
    line = page.locator("[data-for-kind=video] .upload-line")
    page.wait_for_function("() => navigator.onLine === false")
    line.filter(has_text="No network").wait_for()
    assert page.locator("input[name=upload_video]").input_value() == ""
    context.set_offline(False)
    upload_id = stored_id(page, "video")
    assert dropped
    assert sorted(sent) == [(upload_id, n) for n in range(1, 6)]  # each part stored once: nothing sent twice
    assert line.inner_text() == "The file is sent."
    assert no_overflow(page)
    assert watched.problems() == []


def test_a_closed_tab_resumes_from_the_stored_parts(site, context, tmp_path):
    url, _codes = site
    video = padded_video(tmp_path / "bridge.mp4", 40 * MIB)
    watched = open_form(context, url, "video")
    page = watched.page
    sent = part_puts(page)

    def lose_parts_4_and_5(route):
        if PART_DATA.search(route.request.url).group(2) in ("4", "5"):
            route.abort("connectionfailed")  # the tab goes before these parts arrive
        else:
            route.continue_()

    page.route(PART_DATA, lose_parts_4_and_5)
    page.set_input_files("input[name=video]", str(video))
    for _ in range(300):
        if len(sent) >= 3:
            break
        page.wait_for_timeout(100)
    page.close()
    first = sorted(sent)
    reopened = watched_page(context)
    again = part_puts(reopened.page)
    reopened.page.goto(f"{url}/entries/new", wait_until="load")
    upload_id = stored_id(reopened.page, "video", timeout=60_000)
    assert first == [(upload_id, n) for n in (1, 2, 3)]
    assert sorted(again) == [(upload_id, 4), (upload_id, 5)]  # the stored parts are not sent again
    assert reopened.page.locator("[data-for-kind=video] .upload-line").inner_text() == "The file is sent."
    assert reopened.problems() == []


def test_a_text_file_named_jpg_makes_no_upload(site, context):
    url, _codes = site
    watched = open_form(context, url, "photo")
    page = watched.page
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if "/uploads" in request.url else None)
    text = io.BytesIO(b"words " * 1_000_000).getvalue()
    page.set_input_files(
        "input[name=photo]", files=[{"name": "a.jpg", "mimeType": "image/jpeg", "buffer": text}]
    )
    page.locator("[data-for-kind=photo] .upload-line.error").wait_for()
    assert asked == []
    assert page.locator("input[name=upload_photo]").input_value() == ""


def fill_the_text(page, taken_on: str) -> None:
    page.fill("input[name=title]", "Sen hồng ở Kim Liên")
    page.select_option("select[name=place]", index=1)
    page.fill("input[name=taken_on]", taken_on)
    for name in ("accept_own_work", "accept_promo_use", "accept_not_awarded"):
        page.check(f"input[name={name}]")


def test_the_form_sends_the_text_once_the_file_is_stored(site, context, tmp_path):
    url, _codes = site
    watched = open_form(context, url, "video")
    page = watched.page
    posted: list[int] = []
    page.on(
        "request",
        lambda r: (
            posted.append(len(r.post_data_buffer or b""))
            if r.method == "POST" and "/entries/new" in r.url
            else None
        ),
    )
    page.set_input_files("input[name=video]", str(padded_video(tmp_path / "lotus.mp4", 24 * MIB)))
    fill_the_text(page, "2024-05-01")
    button = page.locator("#new-entry [type=submit]")
    button.click()
    page.wait_for_url(re.compile(r"/entries/mine"), timeout=60_000, wait_until="load")
    assert len(posted) == 1 and posted[0] < 100_000  # the text only: the video went in parts
    assert watched.problems() == []


def test_a_date_outside_the_window_is_told_at_once_and_the_stored_file_stays(site, context, tmp_path):
    url, _codes = site
    watched = open_form(context, url, "video")
    page = watched.page
    posts: list[str] = []
    page.on(
        "request", lambda r: posts.append(r.url) if r.method == "POST" and "/entries/new" in r.url else None
    )
    page.set_input_files("input[name=video]", str(padded_video(tmp_path / "dawn.mp4", 24 * MIB)))
    upload_id = stored_id(page, "video")
    fill_the_text(page, "2001-01-01")
    page.locator("#new-entry [type=submit]").click()
    assert (
        page.locator("#taken_on-window")
        .inner_text()
        .startswith("Works in this category must be made between")
    )
    assert page.evaluate("document.activeElement.name") == "taken_on"
    assert posts == []  # refused in the page: nothing sent
    assert page.locator("input[name=upload_video]").input_value() == upload_id
    page.fill("input[name=taken_on]", "2024-05-01")
    page.locator("#new-entry [type=submit]").click()
    page.wait_for_url(re.compile(r"/entries/mine"), timeout=60_000, wait_until="load")
    assert len(posts) == 1
    assert no_overflow(page)
    assert watched.problems() == []


def test_a_server_error_keeps_the_stored_file_and_the_fixed_form_posts_once(site, context, tmp_path):
    """A title of spaces passes the browser's checks, not the server's: the page comes back with
    the stored video kept and the title focused; pressed twice, the fixed form posts once."""
    url, _codes = site
    watched = open_form(context, url, "video")
    page = watched.page
    page.set_input_files("input[name=video]", str(padded_video(tmp_path / "noon.mp4", 24 * MIB)))
    upload_id = stored_id(page, "video")
    fill_the_text(page, "2024-05-01")
    page.fill("input[name=title]", "   ")
    page.locator("#new-entry [type=submit]").click()
    page.wait_for_load_state("load")
    page.locator("[data-error-summary]").wait_for()
    assert page.evaluate("document.activeElement.name") == "title"
    assert page.locator("input[name=upload_video]").input_value() == upload_id
    assert "Your file is kept: you need not send it again." in page.inner_text("main")
    assert no_overflow(page)
    posts: list[str] = []
    page.on(
        "request", lambda r: posts.append(r.url) if r.method == "POST" and "/entries/new" in r.url else None
    )
    page.fill("input[name=title]", "Sen hồng ở Kim Liên")
    for name in ("accept_own_work", "accept_promo_use", "accept_not_awarded"):
        page.check(f"input[name={name}]")
    with page.expect_navigation(url=re.compile(r"/entries/mine"), timeout=60_000):
        page.evaluate(
            "() => { const form = document.getElementById('new-entry');"
            " form.requestSubmit(); setTimeout(() => form.requestSubmit(), 30); }"
        )
    assert len(posts) == 1


def test_without_javascript_a_small_photo_goes_with_the_form(site, chromium, tmp_path):
    """No script (an old phone, a blocked file): the form posts the photo itself, as before."""
    url, _codes = site
    context = chromium.new_context(viewport=PHONE, locale="en-US", java_script_enabled=False)
    try:
        page = context.new_page()
        posted: list[int] = []
        page.on(
            "request",
            lambda r: (
                posted.append(int(r.header_value("content-length") or 0))
                if r.method == "POST" and "/entries/new" in r.url
                else None
            ),
        )
        log_in_page(page, url, *ENTRANT)
        page.goto(f"{url}/entries/new", wait_until="load")
        assert page.locator("input[name=upload_photo]").input_value() == ""
        page.locator("input[name=category][data-kind=photo]").check()
        photo = big_photo(tmp_path / "kim-lien.jpg")
        page.set_input_files("input[name=photo]", str(photo))
        fill_the_text(page, "2024-05-01")
        page.locator("#new-entry [type=submit]").click()
        page.wait_for_url(re.compile(r"/entries/mine"), timeout=60_000, wait_until="load")
        assert len(posted) == 1 and posted[0] > photo.stat().st_size  # the photo went in the form's POST
        assert "Sen hồng ở Kim Liên" in page.inner_text("main")
    finally:
        context.close()
