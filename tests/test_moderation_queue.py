"""Issue 18 §1, the moderation queue: filters and search, duplicates side by side, reasons from
bilingual templates, bulk decisions, reopening, an entrant's fix of a rejected entry, the audit
events, every route's access, and the queue by keyboard in Chromium at 390 px."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from contest import create_app
from contest.audit.models import AuditEvent
from contest.auth.models import Role
from contest.contests.demo import build_demo_contest
from contest.contests.models import CategoryKind
from contest.db import now_utc
from contest.entries.models import AssetKind, Entry, EntryFlag, EntryStatus, FlagKind, MediaAsset
from contest.entries.reasons import RejectionReason
from contest.extensions import db as db_ext
from contest.processing.models import ProcessingJob
from tests.browser import live_server
from tests.support import PASSWORD, create_user, log_in, make_entry, make_test_config, migrate, wallpaper

EN = {"Accept-Language": "en"}
PENDING = EntryStatus.pending_review


def listed(html: str) -> list[str]:
    return re.findall(r'<li class="panel moderation-entry" id="entry-([A-Z0-9-]+)"', html)


def events(db, action: str) -> list[AuditEvent]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def status_of(db, entry: Entry) -> EntryStatus:
    db.expire_all()
    return db.get(Entry, entry.id).status


def csrf_free(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)


@pytest.fixture
def reason(db) -> RejectionReason:
    found = RejectionReason(text_vi="Ảnh bị nghiêng.", text_en="The photo is tilted.")
    db.add(found)
    db.commit()
    return found


# --- filters and search -----------------------------------------------------------------------
def test_search_and_filters_pick_the_entries(client, db, contest, organizer, entrant):
    other = create_user(db, "lan@example.com", full_name="Lê Thị Lan")
    sunrise = make_entry(db, contest, entrant, status=PENDING, title="Bình minh Cửa Lò", place_code="cua-lo")
    lotus = make_entry(db, contest, other, status=PENDING, title="Sen quê Bác")
    video = make_entry(db, contest, other, status=PENDING, title="Dòng sông Lam", kind=CategoryKind.video)
    db.add(EntryFlag(entry_id=lotus.id, position=0, kind=FlagKind.edited_with_software, details={}))
    db.commit()
    log_in(client, organizer)
    place = next(p for p in contest.places if p.code == "cua-lo")
    video_category = next(c for c in contest.categories if c.kind is CategoryKind.video)

    def codes(**args) -> list[str]:
        response = client.get("/admin/entries", query_string={"contest": contest.id, **args}, headers=EN)
        assert response.status_code == 200
        return listed(response.text)

    assert codes() == [sunrise.code, lotus.code, video.code]
    assert codes(q=lotus.code.lower()) == [lotus.code]
    assert codes(q="bình minh") == [sunrise.code]
    assert codes(q="100%") == []  # a wildcard is a character
    assert codes(author="lan@example") == [lotus.code, video.code]
    assert codes(author="lê thị") == [lotus.code, video.code]
    assert codes(place=place.id) == [sunrise.code]
    assert codes(category=video_category.id) == [video.code]
    assert codes(flag="any") == [lotus.code]
    assert codes(flag="edited_with_software") == [lotus.code]
    assert codes(flag="exact_duplicate") == []
    assert codes(status="approved") == []


@pytest.mark.parametrize("query", ["flag=nonsense", "place=999999", "status=draft", "q=" + "x" * 201])
def test_a_wrong_filter_is_a_clear_400(client, contest, organizer, query):
    log_in(client, organizer)
    response = client.get(f"/admin/entries?contest={contest.id}&{query}", headers=EN)
    assert response.status_code == 400
    assert "moderation-entry" not in response.text


def test_the_queue_shows_the_work_its_details_and_the_entry_page(client, db, contest, organizer, entrant):
    entry = make_entry(
        db, contest, entrant, status=PENDING, title="Hoa sen", description="Sáng sớm ở Nam Đàn."
    )
    entry.assets += [
        MediaAsset(
            kind=AssetKind.display_jpeg, storage_key="public/d/1.jpg", mime_type="image/jpeg", bytes=9
        ),
        MediaAsset(
            kind=AssetKind.original,
            storage_key="originals/x/1.jpg",
            mime_type="image/jpeg",
            bytes=9,
            details={"exif": {"camera_make": "Canon", "camera_model": "EOS R6", "software": "Lightroom"}},
        ),
        MediaAsset(kind=AssetKind.jury_original, storage_key="jury/x/1.jpg", mime_type="image/jpeg", bytes=9),
    ]
    db.commit()
    log_in(client, organizer)
    html = client.get("/admin/entries", headers=EN).text
    # The display rendition and the jury copy, signed; never the original's key, nor a public key.
    assert re.search(r'src="/media/private/d/1\.jpg\?e=\d+&amp;s=[0-9a-f]{64}"', html)
    assert re.search(r'href="/media/jury/x/1\.jpg\?e=\d+&amp;s=[0-9a-f]{64}">Original file', html)
    assert "originals/x/1.jpg" not in html and "/media/public/" not in html
    assert "Sáng sớm ở Nam Đàn." in html and "Vinh City" in html and "Jun 1, 2024" in html
    assert "Camera: Canon EOS R6" in html and "Software: Lightroom" in html
    assert f'href="/e/{entry.code}"' in html


def test_a_video_entry_is_shown_as_a_video_from_its_private_copies(client, db, contest, organizer, entrant):
    entry = make_entry(db, contest, entrant, status=PENDING, kind=CategoryKind.video)
    entry.assets += [
        MediaAsset(
            kind=AssetKind.video_mp4,
            label="720p",
            storage_key="public/v/1.mp4",
            mime_type="video/mp4",
            bytes=9,
            height=720,
        ),
        MediaAsset(kind=AssetKind.poster_jpeg, storage_key="public/p/1.jpg", mime_type="image/jpeg", bytes=9),
    ]
    db.commit()
    log_in(client, organizer)
    html = client.get("/admin/entries", headers=EN).text
    assert re.search(r'<video controls[^>]* poster="/media/private/p/1\.jpg\?e=\d+', html)
    assert re.search(
        r'<source src="/media/private/v/1\.mp4\?e=\d+&amp;s=[0-9a-f]{64}" type="video/mp4">', html
    )
    assert "/media/public/" not in html


def test_a_duplicate_pair_is_shown_side_by_side_on_both_entries(client, db, contest, organizer, entrant):
    older = make_entry(db, contest, entrant, status=EntryStatus.approved, title="Bản gốc")
    newer = make_entry(db, contest, entrant, status=PENDING, title="Bản sao")
    for entry, key in ((older, "older"), (newer, "newer")):
        entry.assets.append(
            MediaAsset(
                kind=AssetKind.thumb_jpeg, storage_key=f"public/t/{key}.jpg", mime_type="image/jpeg", bytes=9
            )
        )
    db.add(
        EntryFlag(
            entry_id=newer.id,
            other_entry_id=older.id,
            kind=FlagKind.near_duplicate,
            details={"distance": 3, "other_position": 0},
        )
    )
    db.commit()
    log_in(client, organizer)

    html = client.get(f"/admin/entries?contest={contest.id}&flag=near_duplicate", headers=EN).text
    assert listed(html) == [newer.code]
    pair = html[html.index('<div class="pair">') :]
    pair = pair[: pair.index("</div>\n          \n        </li>")] if "</li>" in pair else pair
    # This entry (not public: its private copy) beside the other one (approved: its public thumbnail).
    assert re.search(r'src="/media/private/t/newer\.jpg\?e=\d+', pair)
    assert 'src="/media/public/t/older.jpg"' in pair and older.code in pair and "Approved" in pair
    assert "3 of 64 bits" in html
    # The older entry shows the same pair, from its side.
    approved = client.get(f"/admin/entries?contest={contest.id}&status=approved&flag=any", headers=EN).text
    assert listed(approved) == [older.code] and newer.code in approved


# --- reasons: bilingual templates ---------------------------------------------------------------
def test_organizers_add_change_and_delete_bilingual_reasons(client, db, organizer):
    log_in(client, organizer)
    empty = client.post("/admin/rejection-reasons/", data={"text_vi": "Mờ", "text_en": ""}, headers=EN)
    assert empty.status_code == 400 and "Please write the reason in English." in empty.text
    assert db.scalars(select(RejectionReason)).all() == []

    added = client.post(
        "/admin/rejection-reasons/", data={"text_vi": "Ảnh bị mờ.", "text_en": "The photo is blurred."}
    )
    assert added.status_code == 302
    reason = db.scalars(select(RejectionReason)).one()
    page = client.get("/admin/rejection-reasons/", headers=EN).text
    assert "Ảnh bị mờ." in page and "The photo is blurred." in page

    changed = client.post(
        f"/admin/rejection-reasons/{reason.id}/edit", data={"text_vi": "Ảnh mờ.", "text_en": "Blurred."}
    )
    assert changed.status_code == 302
    db.expire_all()
    assert (reason.text_vi, reason.text_en) == ("Ảnh mờ.", "Blurred.")
    assert client.post(f"/admin/rejection-reasons/{reason.id}/delete").status_code == 302
    assert db.scalars(select(RejectionReason)).all() == []
    actions = [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["reason.added", "reason.changed", "reason.deleted"]
    assert client.get(f"/admin/rejection-reasons/{reason.id}/edit").status_code == 404


def test_a_template_reason_reaches_the_entrant_in_their_language(
    client, db, contest, organizer, entrant, reason
):
    entry = make_entry(db, contest, entrant, status=PENDING)
    log_in(client, organizer)
    response = client.post(f"/admin/entries/{entry.id}/reject", data={"template": reason.id, "reason": ""})
    assert response.status_code == 302 and status_of(db, entry) is EntryStatus.rejected
    event = events(db, "entry.rejected")[0]
    assert (event.reason, event.details["reason_en"]) == ("Ảnh bị nghiêng.", "The photo is tilted.")

    log_in(client, entrant, lang="en")
    assert "The photo is tilted." in client.get("/entries/mine").text
    log_in(client, entrant, lang="vi")
    assert "Ảnh bị nghiêng." in client.get("/entries/mine").text


def test_a_written_reason_wins_and_one_of_the_two_is_required(
    client, db, contest, organizer, entrant, reason
):
    entry = make_entry(db, contest, entrant, status=PENDING)
    log_in(client, organizer)
    neither = client.post(
        f"/admin/entries/{entry.id}/reject", data={"template": 0, "reason": " "}, headers=EN
    )
    assert neither.status_code == 400 and "Please say why the entry is rejected." in neither.text
    gone = client.post(f"/admin/entries/{entry.id}/reject", data={"template": 999}, headers=EN)
    assert gone.status_code == 400
    assert status_of(db, entry) is PENDING
    client.post(
        f"/admin/entries/{entry.id}/reject", data={"template": reason.id, "reason": "Thiếu ánh sáng."}
    )
    event = events(db, "entry.rejected")[0]
    assert event.reason == "Thiếu ánh sáng." and "reason_en" not in event.details


# --- bulk, reopen -------------------------------------------------------------------------------
def test_bulk_approve_and_reject_decide_each_ticked_entry(client, db, contest, organizer, entrant, reason):
    waiting = [make_entry(db, contest, entrant, status=PENDING) for _ in range(3)]
    withdrawn = make_entry(db, contest, entrant, status=EntryStatus.withdrawn)
    log_in(client, organizer)

    back = f"/admin/entries?contest={contest.id}"
    ids = [waiting[0].id, waiting[1].id, withdrawn.id]
    response = client.post("/admin/entries/bulk", data={"entries": ids, "decision": "approve", "next": back})
    assert response.status_code == 302 and response.headers["Location"] == back
    assert [status_of(db, e) for e in waiting] == [EntryStatus.approved, EntryStatus.approved, PENDING]
    assert status_of(db, withdrawn) is EntryStatus.withdrawn
    flashed = client.get(back, headers=EN).text
    assert "2 entries approved." in flashed and f"does not allow it: {withdrawn.code}" in flashed
    assert len(events(db, "entry.approved")) == 2

    no_reason = client.post("/admin/entries/bulk", data={"entries": [waiting[2].id], "decision": "reject"})
    assert no_reason.status_code == 302 and status_of(db, waiting[2]) is PENDING
    nothing = client.post("/admin/entries/bulk", data={"decision": "approve"})
    assert nothing.status_code == 302 and len(events(db, "entry.approved")) == 2

    client.post(
        "/admin/entries/bulk",
        data={"entries": [waiting[1].id, waiting[2].id], "decision": "reject", "template": reason.id},
    )
    assert status_of(db, waiting[1]) is status_of(db, waiting[2]) is EntryStatus.rejected
    assert [e.reason for e in events(db, "entry.rejected")] == ["Ảnh bị nghiêng."] * 2


def test_a_rejected_entry_is_reopened_into_the_queue(client, db, contest, organizer, entrant):
    entry = make_entry(db, contest, entrant, status=EntryStatus.rejected)
    log_in(client, organizer)
    rejected = client.get(f"/admin/entries?contest={contest.id}&status=rejected", headers=EN).text
    assert f'action="/admin/entries/{entry.id}/reopen"' in rejected

    assert client.post(f"/admin/entries/{entry.id}/reopen").status_code == 302
    assert status_of(db, entry) is PENDING
    (event,) = events(db, "entry.reopened")
    assert (event.actor_id, event.subject_id, event.details["from"]) == (organizer.id, entry.id, "rejected")
    # Reopening it again is refused: nothing changes, nothing is audited.
    client.post(f"/admin/entries/{entry.id}/reopen")
    assert status_of(db, entry) is PENDING and len(events(db, "entry.reopened")) == 1


# --- the entrant fixes a rejected entry -----------------------------------------------------------
def entry_form(entry: Entry, **changes) -> dict:
    return {
        "title": entry.title,
        "description": entry.description,
        "title_en": "",
        "description_en": "",
        "place": entry.place_id,
        "taken_on": entry.taken_on.isoformat(),
        **changes,
    }


def test_an_entrant_fixes_a_rejected_entry_and_it_goes_back_to_review(client, db, contest, entrant):
    entry = make_entry(db, contest, entrant, status=EntryStatus.rejected, title="Sen")
    log_in(client, entrant)
    page = client.get(f"/entries/{entry.code}/edit", headers=EN)
    assert page.status_code == 200 and "The organizers rejected this entry" in page.text

    response = client.post(
        f"/entries/{entry.code}/edit", data=entry_form(entry, title="Sen hồng"), headers=EN
    )
    assert response.status_code == 302
    assert status_of(db, entry) is PENDING
    (event,) = events(db, "entry.edited")
    assert event.details["from"] == "rejected" and event.details["to"] == "pending_review"
    assert "sent back to the organizers" in client.get("/entries/mine", headers=EN).text


def test_a_rejected_entry_cannot_be_fixed_once_submission_closes(client, db, contest, entrant):
    entry = make_entry(db, contest, entrant, status=EntryStatus.rejected)
    contest.submission_opens_at -= timedelta(days=60)
    contest.submission_closes_at = now_utc() - timedelta(minutes=1)
    db.commit()
    log_in(client, entrant)
    response = client.post(f"/entries/{entry.code}/edit", data=entry_form(entry, title="Khác"))
    assert response.status_code == 302 and status_of(db, entry) is EntryStatus.rejected
    assert events(db, "entry.edited") == []


def test_an_entrant_sends_a_new_file_for_a_rejected_entry(client, db, contest, entrant, storage):
    entry = make_entry(db, contest, entrant, status=EntryStatus.rejected)
    storage.save("originals/old.jpg", io.BytesIO(b"old"), content_type="image/jpeg")
    entry.assets.append(
        MediaAsset(kind=AssetKind.original, storage_key="originals/old.jpg", mime_type="image/jpeg", bytes=3)
    )
    db.commit()
    log_in(client, entrant)
    assert client.get(f"/entries/{entry.code}/file", headers=EN).status_code == 200
    not_a_photo = client.post(
        f"/entries/{entry.code}/file",
        data={"photo": (io.BytesIO(b"not a photo"), "x.jpg")},
        content_type="multipart/form-data",
        headers=EN,
    )
    assert not_a_photo.status_code == 400 and status_of(db, entry) is EntryStatus.rejected
    assert storage.exists("originals/old.jpg")

    with wallpaper("Volna").open("rb") as photo:
        sent = client.post(
            f"/entries/{entry.code}/file",
            data={"photo": (photo, "new.jpg")},
            content_type="multipart/form-data",
            headers=EN,
        )
    assert sent.status_code == 302
    db.expire_all()
    fixed = db.get(Entry, entry.id)
    assert fixed.status is EntryStatus.submitted  # processed again, then back in the queue
    (original,) = fixed.assets
    assert original.original_filename == "new.jpg" and storage.exists(original.storage_key)
    assert not storage.exists("originals/old.jpg")
    jobs = db.scalars(select(ProcessingJob).where(ProcessingJob.entry_id == entry.id)).all()
    assert len(jobs) == 1
    (event,) = events(db, "entry.file_replaced")
    assert (event.actor_id, event.details["from"]) == (entrant.id, "rejected")
    # An entry that is not rejected takes no new file.
    other = make_entry(db, contest, entrant, status=PENDING)
    assert client.get(f"/entries/{other.code}/file").status_code == 302


@pytest.mark.parametrize(
    ("role", "expected"),
    [("anonymous", 302), ("entrant", 404), ("judge", 404), ("organizer", 404), ("author", 200)],
)
def test_only_its_author_reaches_the_new_file_page(request, client, db, contest, role, expected):
    author = create_user(db, "author@example.com")
    entry = make_entry(db, contest, author, status=EntryStatus.rejected)
    if role != "anonymous":
        log_in(client, author if role == "author" else request.getfixturevalue(role))
    assert client.get(f"/entries/{entry.code}/file").status_code == expected
    assert client.post(f"/entries/{entry.code}/file").status_code == (400 if expected == 200 else expected)
    assert status_of(db, entry) is EntryStatus.rejected


# --- access -------------------------------------------------------------------------------------
ROLES = ["anonymous", "entrant", "judge", "organizer"]
ACCESS = {
    ("GET", "/admin/entries"): (302, 403, 403, 200),
    ("POST", "/admin/entries/{entry}/approve"): (302, 403, 403, 302),
    ("GET", "/admin/entries/{entry}/reject"): (302, 403, 403, 200),
    ("POST", "/admin/entries/{entry}/reject"): (302, 403, 403, 302),
    ("POST", "/admin/entries/{entry}/reopen"): (302, 403, 403, 302),
    ("POST", "/admin/entries/bulk"): (302, 403, 403, 302),
    ("GET", "/admin/rejection-reasons/"): (302, 403, 403, 200),
    ("POST", "/admin/rejection-reasons/"): (302, 403, 403, 302),
    ("GET", "/admin/rejection-reasons/{reason}/edit"): (302, 403, 403, 200),
    ("POST", "/admin/rejection-reasons/{reason}/edit"): (302, 403, 403, 302),
    ("POST", "/admin/rejection-reasons/{reason}/delete"): (302, 403, 403, 302),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "route"), list(ACCESS))
def test_access_matrix(request, app, client, db, contest, reason, method, route, role, monkeypatch):
    csrf_free(app, monkeypatch)
    entry = make_entry(db, contest, create_user(db, "author@example.com"), status=EntryStatus.rejected)
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    data = {
        "reason": "Mờ",
        "entries": [entry.id],
        "decision": "approve",
        "text_vi": "Mờ",
        "text_en": "Blurred",
    }
    response = client.open(
        route.format(entry=entry.id, reason=reason.id), method=method, data=data if method == "POST" else None
    )
    assert response.status_code == ACCESS[(method, route)][ROLES.index(role)]
    if role == "anonymous":
        assert response.headers["Location"].startswith("/account/login")
    if role != "organizer":
        assert status_of(db, entry) is EntryStatus.rejected
        assert db.scalars(select(AuditEvent)).all() == []
        assert db.get(RejectionReason, reason.id).text_en == "The photo is tilted."


# --- the queue by keyboard, on a phone -------------------------------------------------------------
@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("moderation-site")
    config = make_test_config(folder, f"sqlite:///{folder / 'site.sqlite'}")
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    with app.app_context():
        contest, _ = build_demo_contest(db_ext.session)
        author = create_user(db_ext.session, "author@example.com")
        create_user(db_ext.session, "organizer@example.com", role=Role.organizer, birth_year=None)
        codes = [
            make_entry(db_ext.session, contest, author, status=PENDING, title=f"Ảnh {n}").code for n in (1, 2)
        ]
        first, second = (db_ext.session.scalar(select(Entry).where(Entry.code == c)) for c in codes)
        db_ext.session.add(
            EntryFlag(
                entry_id=second.id,
                other_entry_id=first.id,
                kind=FlagKind.near_duplicate,
                details={"distance": 2, "other_position": 0},
            )
        )
        db_ext.session.add(RejectionReason(text_vi="Ảnh bị nghiêng.", text_en="The photo is tilted."))
        db_ext.session.commit()
    with live_server(app) as url:
        yield app, url, codes
    app.extensions["db"].dispose()


@pytest.mark.browser
def test_the_queue_by_keyboard_on_a_phone(site, browser_page):
    app, url, codes = site
    page = browser_page.page
    page.goto(f"{url}/account/login", wait_until="load")
    page.fill("input[name=email]", "organizer@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state("load")

    # The dashboard's entry counts fit the phone's width: nothing hidden at the table's side.
    page.goto(f"{url}/admin/", wait_until="load")
    fits = "[...document.querySelectorAll('.table-scroll')].every(e => e.scrollWidth <= e.clientWidth)"
    assert page.locator("table.entry-counts").count() == 1 and page.evaluate(fits)

    page.goto(f"{url}/admin/entries", wait_until="load")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.keyboard.press("j")  # the first entry
    assert page.locator(".moderation-entry.current").get_attribute("id") == f"entry-{codes[0]}"
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("x")
    assert page.locator(f"#entry-{codes[0]} [data-tick]").is_checked()
    assert page.locator("[data-ticked]").text_content() == "1"
    with page.expect_navigation():
        page.keyboard.press("a")  # approve the first
    assert codes[0] in page.locator("[role=status], .flash").first.text_content()  # "... is approved"
    assert [el.get_attribute("id") for el in page.locator(".moderation-entry").all()] == [f"entry-{codes[1]}"]
    # The duplicate pair side by side, within the phone's width.
    assert page.locator(f"#entry-{codes[1]} .pair .pair-side").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.keyboard.press("j")
    page.keyboard.press("r")  # to the reason: pick the template, then Enter rejects
    focused = page.evaluate("document.activeElement.id")
    assert focused.startswith("template-")
    page.select_option(f"#{focused}", label="Ảnh bị nghiêng.")  # the organizer's page is in Vietnamese
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".moderation-entry").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert browser_page.problems() == []
    with app.app_context():
        statuses = dict(db_ext.session.execute(select(Entry.code, Entry.status)).all())
    assert (statuses[codes[0]], statuses[codes[1]]) == (EntryStatus.approved, EntryStatus.rejected)
