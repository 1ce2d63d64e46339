"""Steps of issue 18's journeys (tests/test_journeys_issue18.py), each as its user does it on the
page: an entry sent through the new-entry form, My entries watched until the worker is done,
a shared link opened, the moderation queue worked by keyboard, a category's rules changed,
the figures read."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from urllib.parse import urlparse

from tests.journeys_state import run_pending_jobs
from tests.journeys_support import Journey

MY_ENTRIES = re.compile(r"/entries/mine(\?.*)?$")
KIND_TITLES = {"photo": "Bình minh trên sông Lam", "photo_series": "Chợ quê", "video": "Đò ngang"}


def submit_entry(journey: Journey, kind: str, files: list[Path]) -> None:
    """Choose the category, give the files, fill in the fields, press submit, land on My entries.

    The files go to the file input shown for the category, the browser's own or the one of an
    upload widget, and the journey waits for the address rather than for one navigation: an
    upload widget sends the files before the form."""
    page = journey.page
    journey.go("/entries/new", f"new {kind}")
    page.locator(f"input[name=category][data-kind={kind}]").check()
    box = page.locator(f".file-for[data-for-kind={kind}]")
    box.wait_for(state="visible")
    box.locator("input[type=file]").first.set_input_files([str(f) for f in files])
    page.fill("input[name=title]", KIND_TITLES[kind])
    page.select_option("select[name=place]", index=1)
    page.fill("input[name=taken_on]", "2024-05-01")
    for name in ("accept_own_work", "accept_promo_use", "accept_not_awarded"):
        page.check(f"input[name={name}]")
    page.locator("#new-entry [type=submit]").last.click()
    page.wait_for_url(MY_ENTRIES, timeout=60_000, wait_until="load")
    journey.check(f"{kind} sent")


def watch_until_ready(journey: Journey, app, codes: list[str]) -> None:
    """My entries while the worker makes the renditions (beside the page, as a worker process
    would): the page follows by itself until each entry awaits review, with its picture."""
    page = journey.page
    journey.go("/entries/mine", "my entries, processing")
    worker = threading.Thread(target=run_pending_jobs, args=(app,), name="journey-worker")
    worker.start()
    ready = " && ".join(
        f"!!document.querySelector('#entry-{code}.state-pending .entry-thumb img')" for code in codes
    )
    try:
        page.wait_for_function(f"() => {ready}", timeout=90_000, polling=250)
    finally:
        worker.join(timeout=120)
    journey.check("my entries, ready")
    assert page.locator(".thumb-placeholder").count() == 0, "an entry still waits for the worker"
    labels = {page.locator(f"#entry-{code} .entry-state").inner_text().strip() for code in codes}
    assert len(labels) == 1 and "" not in labels, labels  # the same words: awaiting review


def shared_link(journey: Journey, code: str) -> str:
    """The link a friend sends through Zalo: the share button's address (path and query)."""
    journey.go(f"/e/{code}", "entry to share")
    link = journey.page.locator("[data-share-zalo]").get_attribute("data-url")
    parts = urlparse(link)
    assert parts.path == f"/e/{code}" and parts.query, link
    return f"{parts.path}?{parts.query}"


def vote_count(page) -> int | None:
    shown = page.locator("[data-vote-count]")
    return int(re.sub(r"\D", "", shown.inner_text())) if shown.count() else None


def moderate_pair_by_keyboard(journey: Journey, author: str) -> tuple[str, str]:
    """The author's two entries in the queue, their pair side by side; J then A approves the
    first, J, R, the first reason template and Enter rejects the other. (approved, rejected)."""
    page = journey.page
    journey.go(f"/admin/entries?author={author}", "duplicate pair")
    assert page.locator(".moderation-entry").count() == 2
    assert page.locator(".moderation-entry .pair .pair-side").count() >= 2, "the pair is not side by side"
    sides = page.locator(".moderation-entry .pair").first.locator(".pair-side").all()
    top = [round(side.bounding_box()["y"]) for side in sides[:2]]
    assert top[0] == top[1], f"the pair's two pictures are not side by side: {top}"
    page.keyboard.press("j")
    approved = page.locator(".moderation-entry.current").get_attribute("id").removeprefix("entry-")
    with page.expect_navigation(wait_until="load"):
        page.keyboard.press("a")
    journey.check("one approved")
    page.keyboard.press("j")
    rejected = page.locator(".moderation-entry.current").get_attribute("id").removeprefix("entry-")
    page.keyboard.press("r")
    focused = page.evaluate("document.activeElement.id")
    assert focused.startswith("template-"), f"R put the focus on {focused!r}"
    page.keyboard.press("ArrowDown")  # the first template after the empty choice
    page.evaluate("document.activeElement.dispatchEvent(new Event('change', {bubbles: true}))")
    with page.expect_navigation(wait_until="load"):
        page.keyboard.press("Enter")
    journey.check("the other rejected")
    return approved, rejected


def change_rules(journey: Journey, category_id: int, min_long: int, max_mb: int) -> None:
    """The category's set-up page: its smallest long side and largest file changed and saved."""
    page = journey.page
    journey.go(f"/admin/categories/{category_id}/edit", "category rules")
    page.fill("input[name=min_long_edge_px]", str(min_long))
    page.fill("input[name=max_mb]", str(max_mb))
    with page.expect_navigation(wait_until="load"):
        page.locator("main form [type=submit]").last.click()
    assert urlparse(page.url).path == "/admin/", f"the rules were not saved: {page.url}"
    journey.check("rules saved")


def read_figures(journey: Journey) -> dict[str, list[list[str]]]:
    """The figures page, every chart drawn; each figure's table as rows of cell texts, by key."""
    page = journey.page
    journey.go("/admin/figures", "figures")
    page.wait_for_function(
        "() => window.Chart && [...document.querySelectorAll('canvas[data-chart]')]"
        ".every(c => Chart.getChart(c) && c.width > 0 && c.height > 0)"
    )
    assert page.locator("canvas[data-chart]").count() >= 1
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll("section.figure")].map(s => [s.id,
             [...s.querySelectorAll("tbody tr")].map(r => [...r.cells].map(c => c.textContent.trim()))]))"""
    )
