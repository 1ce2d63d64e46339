"""Bilingual entries: an optional English title and description beside the Vietnamese ones.

English visitors see the English text where the entrant gave one, the Vietnamese otherwise
(marked ``lang="vi"``), in the gallery, its search, the entry page and its share tags, and
"My entries"; Vietnamese visitors see the Vietnamese. A video's date is the day it was filmed.
Real requests on SQLite and PostgreSQL; a real photo through the form; headless Chromium at
phone width for what an English visitor sees.
"""

from __future__ import annotations

import html
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from contest import create_app
from contest.audit.models import AuditEvent
from contest.contests.models import CategoryKind, VoteCountDisplay
from contest.contests.services import seed_demo
from contest.entries import editing
from contest.entries.models import Entry, EntryStatus
from contest.entries.texts import in_language
from contest.extensions import db as db_ext
from contest.timeutil import vn_today
from contest.uploads.models import Upload
from tests.browser import live_server
from tests.support import category, create_user, log_in, make_entry, make_test_config, migrate, wallpaper

EN = {"Accept-Language": "en"}
VI = {"Accept-Language": "vi"}
TITLE_VI, TITLE_EN = "Hoàng hôn trên sông Lam", "Sunset over the Lam River"
DESCRIPTION_VI, DESCRIPTION_EN = "Chụp từ cầu Bến Thủy.", "Taken from the Ben Thuy bridge."


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def element(response, tag: str, css_class: str) -> str:
    """The first ``<tag class="css_class"...>`` opening tag and its text, as served."""
    found = re.search(rf'<{tag} class="{css_class}"[^>]*>[^<]*', response.get_data(as_text=True))
    assert found, f"no {tag}.{css_class}"
    return html.unescape(found.group(0))


def meta(response, key: str) -> str:
    found = re.search(
        rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', response.get_data(as_text=True)
    )
    assert found, key
    return html.unescape(found.group(1))


def form_fields(contest, kind: CategoryKind = CategoryKind.photo, **overrides) -> dict:
    data = {
        "category": str(category(contest, kind).id),
        "title": TITLE_VI,
        "description": DESCRIPTION_VI,
        "place": str(contest.places[0].id),
        "taken_on": "2024-05-01",
        "accept_own_work": "y",
        "accept_promo_use": "y",
        "accept_not_awarded": "y",
    }
    data.update(overrides)
    return data


def post_new(client, contest, headers=EN, **overrides):
    data = form_fields(contest, **overrides)
    data["photo"] = (io.BytesIO(wallpaper("Volna").read_bytes()), "IMG_0001.JPG")
    return client.post("/entries/new", data=data, content_type="multipart/form-data", headers=headers)


@pytest.fixture
def author(db):
    return create_user(db, "author@example.com", full_name="Trần Thị Hoa")


@pytest.fixture
def entrant_client(client, author):
    log_in(client, author)
    return client


@pytest.fixture
def both(db, contest, author) -> Entry:
    """An approved entry with its English title and description."""
    return make_entry(
        db,
        contest,
        author,
        title=TITLE_VI,
        description=DESCRIPTION_VI,
        title_en=TITLE_EN,
        description_en=DESCRIPTION_EN,
    )


@pytest.fixture
def vietnamese_only(db, contest, author) -> Entry:
    return make_entry(db, contest, author, title="Ruộng bậc thang Kỳ Sơn", description="Mùa lúa chín.")


# --- submitting -----------------------------------------------------------------------------
def test_an_entry_is_submitted_with_or_without_english(db, contest, entrant_client, storage):
    assert (
        post_new(
            entrant_client, contest, title_en=f"  {TITLE_EN} ", description_en=DESCRIPTION_EN
        ).status_code
        == 302
    )
    assert post_new(entrant_client, contest, title="Sen quê Bác").status_code == 302
    entries = db.scalars(select(Entry).order_by(Entry.id)).all()
    assert [(e.title, e.title_en, e.description_en) for e in entries] == [
        (TITLE_VI, TITLE_EN, DESCRIPTION_EN),
        ("Sen quê Bác", "", ""),
    ]


def test_the_english_fields_are_checked_like_the_vietnamese_ones(
    db, contest, author, entrant_client, storage
):
    response = post_new(entrant_client, contest, title_en="x" * 201, description_en="y" * 5001)
    assert response.status_code == 400
    body = text_of(response)
    assert "Field cannot be longer than 200 characters." in body
    assert "Field cannot be longer than 5000 characters." in body
    assert db.scalars(select(Entry)).all() == []
    # The photo is kept for the fixed form (issue 19): one upload of this entrant names every
    # stored object, so nothing is orphaned and the sweep drops it if the form is abandoned.
    uploads = db.scalars(select(Upload)).all()
    assert [u.user_id for u in uploads] == [author.id]
    assert list(storage.keys()) == [uploads[0].storage_key]


def test_the_form_offers_the_english_fields_in_both_languages(entrant_client, contest):
    english = entrant_client.get("/entries/new", headers=EN)
    assert 'name="title_en"' in english.get_data(as_text=True)
    assert re.search(
        r'<input[^>]*lang="en"[^>]*name="title_en"|<input[^>]*name="title_en"[^>]*lang="en"',
        english.get_data(as_text=True),
    )
    assert "Title in English" in text_of(english)
    with entrant_client.session_transaction() as session:
        session["lang"] = "vi"
    vietnamese = text_of(entrant_client.get("/entries/new"))
    assert "Tên tác phẩm bằng tiếng Anh" in vietnamese and "Mô tả bằng tiếng Anh" in vietnamese


# --- what visitors see --------------------------------------------------------------------
def test_english_visitors_see_the_english_text_and_vietnamese_ones_the_vietnamese(client, both):
    english = client.get("/gallery", headers=EN)
    assert element(english, "span", "gallery-title") == f'<span class="gallery-title">{TITLE_EN}'
    page = client.get(f"/e/{both.code}", headers=EN)
    assert element(page, "h1", "entry-title") == f'<h1 class="entry-title">{TITLE_EN}'
    assert element(page, "p", "entry-description") == f'<p class="entry-description">{DESCRIPTION_EN}'
    assert meta(page, "og:title") == meta(page, "twitter:title") == TITLE_EN
    assert meta(page, "og:description") == DESCRIPTION_EN
    assert f"<title>{TITLE_EN}" in text_of(page)

    vietnamese = client.get("/gallery", headers=VI)
    assert element(vietnamese, "span", "gallery-title") == f'<span class="gallery-title">{TITLE_VI}'
    page = client.get(f"/e/{both.code}", headers=VI)
    assert element(page, "h1", "entry-title") == f'<h1 class="entry-title">{TITLE_VI}'
    assert meta(page, "og:title") == TITLE_VI and meta(page, "og:description") == DESCRIPTION_VI
    assert TITLE_EN not in text_of(page) and DESCRIPTION_EN not in text_of(page)


def test_without_english_an_english_page_shows_the_vietnamese_marked_as_such(client, vietnamese_only):
    card = element(client.get("/gallery", headers=EN), "span", "gallery-title")
    assert card == '<span class="gallery-title" lang="vi">Ruộng bậc thang Kỳ Sơn'
    page = client.get(f"/e/{vietnamese_only.code}", headers=EN)
    assert element(page, "h1", "entry-title") == '<h1 class="entry-title" lang="vi">Ruộng bậc thang Kỳ Sơn'
    assert element(page, "p", "entry-description") == '<p class="entry-description" lang="vi">Mùa lúa chín.'
    assert meta(page, "og:title") == "Ruộng bậc thang Kỳ Sơn"
    # On a Vietnamese page the same text is in the page's language: no mark.
    page = client.get(f"/e/{vietnamese_only.code}", headers=VI)
    assert element(page, "h1", "entry-title") == '<h1 class="entry-title">Ruộng bậc thang Kỳ Sơn'


def test_an_english_title_without_an_english_description_shows_each_in_its_language(
    db, client, contest, author
):
    entry = make_entry(db, contest, author, title=TITLE_VI, description=DESCRIPTION_VI, title_en=TITLE_EN)
    page = client.get(f"/e/{entry.code}", headers=EN)
    assert element(page, "h1", "entry-title") == f'<h1 class="entry-title">{TITLE_EN}'
    assert (
        element(page, "p", "entry-description") == f'<p class="entry-description" lang="vi">{DESCRIPTION_VI}'
    )
    assert meta(page, "og:description") == DESCRIPTION_VI


def test_a_name_the_contest_has_only_in_vietnamese_is_marked_on_english_pages(db, client, contest, both):
    place = both.place
    place.name_en = ""
    db.commit()
    page = client.get(f"/e/{both.code}", headers=EN)
    assert f'<dd lang="vi">{place.name_vi}</dd>' in text_of(page)
    card_place = element(client.get("/gallery", headers=EN), "span", "gallery-place")
    assert card_place == f'<span class="gallery-place" lang="vi">{place.name_vi}'
    assert f"<dd>{both.category.name_en}</dd>" in text_of(page)  # in English: no mark


def test_the_search_finds_either_title(client, both, vietnamese_only, monkeypatch):
    for small_set in (500, 0):  # a search's whole set, then page by page through the indexes
        monkeypatch.setattr("contest.gallery.sets.SMALL_SET", small_set)
        for q in ("lam river", "SÔNG LAM", "sunset"):
            found = text_of(client.get("/gallery", query_string={"q": q}, headers=EN))
            assert both.code in found and vietnamese_only.code not in found, (small_set, q)
        found = text_of(client.get("/gallery", query_string={"q": "kỳ sơn"}, headers=EN))
        assert vietnamese_only.code in found and both.code not in found


def test_kept_cards_are_kept_per_language(app, client, both, monkeypatch):
    monkeypatch.setitem(app.config, "GALLERY_CACHE_S", 3600)
    caches = app.extensions["gallery_cache"]
    caches.clear()
    try:
        assert TITLE_EN in text_of(client.get("/gallery", headers=EN))
        assert len(caches.fragments) > 0  # the English card is kept
        vietnamese = text_of(client.get("/gallery", headers=VI))
        assert TITLE_VI in vietnamese and TITLE_EN not in vietnamese
        english = text_of(client.get(f"/e/{both.code}", headers=EN))
        assert TITLE_EN in english
        assert TITLE_EN not in text_of(client.get(f"/e/{both.code}", headers=VI))
    finally:
        caches.clear()


def headings(body: str) -> dict[str, str]:
    """The page's <h2> texts (a link inside them aside), each with its attributes."""
    return {
        html.unescape(text).strip(): attrs.strip()
        for attrs, text in re.findall(r"<h2([^>]*)>(?:<a [^>]*>)?([^<]*)", body)
    }


def test_my_entries_shows_the_title_in_the_entrants_language(db, entrant_client, contest, author):
    make_entry(db, contest, author, status=EntryStatus.pending_review, title=TITLE_VI, title_en=TITLE_EN)
    make_entry(db, contest, author, status=EntryStatus.pending_review, title="Sen quê Bác")
    english = headings(entrant_client.get("/entries/mine").get_data(as_text=True))
    assert english[TITLE_EN] == "" and english["Sen quê Bác"] == 'lang="vi"' and TITLE_VI not in english
    with entrant_client.session_transaction() as session:
        session["lang"] = "vi"
    vietnamese = headings(entrant_client.get("/entries/mine").get_data(as_text=True))
    assert vietnamese[TITLE_VI] == "" and vietnamese["Sen quê Bác"] == "" and TITLE_EN not in vietnamese


def test_the_ranking_shows_the_titles_in_the_visitors_language(db, client, contest, both, vietnamese_only):
    contest.vote_counts = VoteCountDisplay.live
    both.vote_count, vietnamese_only.vote_count = 5, 3
    db.commit()
    english = text_of(client.get("/ranking", headers=EN))
    assert f'<a href="/e/{both.code}">{TITLE_EN}</a>' in english and TITLE_VI not in english
    assert f'<a href="/e/{vietnamese_only.code}" lang="vi">Ruộng bậc thang Kỳ Sơn</a>' in english
    vietnamese = text_of(client.get("/ranking", headers=VI))
    assert f'<a href="/e/{both.code}">{TITLE_VI}</a>' in vietnamese and TITLE_EN not in vietnamese
    assert f'<a href="/e/{vietnamese_only.code}">Ruộng bậc thang Kỳ Sơn</a>' in vietnamese


def test_in_language_prefers_the_pages_then_vietnamese():
    assert (
        in_language({"vi": "Sen", "en": "Lotus"}, "en").text,
        in_language({"vi": "Sen", "en": "Lotus"}, "en").lang_attr,
    ) == ("Lotus", "")
    fallback = in_language({"vi": "Sen", "en": ""}, "en")
    assert (fallback.text, str(fallback.lang_attr)) == ("Sen", ' lang="vi"')
    assert str(in_language({"vi": "<b>", "en": ""}, "en").__html__()) == "&lt;b&gt;"
    empty = in_language({"vi": "", "en": ""}, "en")
    assert not empty and empty.lang_attr == ""


# --- a video is filmed ----------------------------------------------------------------------
def test_a_videos_date_is_the_date_filmed_in_both_languages(db, client, contest, author):
    video = make_entry(db, contest, author, kind=CategoryKind.video, title="Lễ hội đền Cờn")
    photo = make_entry(db, contest, author, title="Sen quê Bác")
    english = text_of(client.get(f"/e/{video.code}", headers=EN))
    assert "Date filmed" in english and "Date taken" not in english
    vietnamese = text_of(client.get(f"/e/{video.code}", headers=VI))
    assert "Ngày quay" in vietnamese and "Ngày chụp" not in vietnamese
    assert "Date taken" in text_of(client.get(f"/e/{photo.code}", headers=EN))
    assert "Ngày chụp" in text_of(client.get(f"/e/{photo.code}", headers=VI))


def test_the_forms_say_date_filmed_for_a_video(db, entrant_client, contest, author):
    video = category(contest, CategoryKind.video)
    chosen = text_of(entrant_client.get(f"/entries/new?category={video.id}", headers=EN))
    assert '<label for="taken_on">Date filmed</label>' in chosen
    assert "The day the video was filmed." in chosen
    photo_page = text_of(entrant_client.get("/entries/new", headers=EN))
    assert '<label for="taken_on">Date taken</label>' in photo_page
    assert 'data-video-label="Date filmed"' in photo_page  # the script switches to it

    tomorrow = (vn_today() + timedelta(days=1)).isoformat()
    refused = entrant_client.post(
        f"/entries/new?category={video.id}",
        data=form_fields(contest, CategoryKind.video, taken_on=tomorrow),
        content_type="multipart/form-data",
        headers=EN,
    )
    assert refused.status_code == 400
    assert "The date filmed cannot be in the future." in text_of(refused)

    entry = make_entry(db, contest, author, kind=CategoryKind.video, status=EntryStatus.pending_review)
    with entrant_client.session_transaction() as session:
        session["lang"] = "vi"
    edit = text_of(entrant_client.get(f"/entries/{entry.code}/edit"))
    assert '<label for="taken_on">Ngày quay</label>' in edit


# --- editing --------------------------------------------------------------------------------
def edit_data(entry: Entry, **overrides) -> dict:
    data = {
        "title": entry.title,
        "description": entry.description,
        "title_en": entry.title_en,
        "description_en": entry.description_en,
        "place": str(entry.place_id),
        "taken_on": entry.taken_on.isoformat(),
    }
    data.update(overrides)
    return data


def test_editing_shows_keeps_and_changes_the_english_text(db, entrant_client, contest, author):
    entry = make_entry(
        db,
        contest,
        author,
        status=EntryStatus.pending_review,
        title=TITLE_VI,
        title_en=TITLE_EN,
        description_en=DESCRIPTION_EN,
    )
    form = entrant_client.get(f"/entries/{entry.code}/edit", headers=EN).get_data(as_text=True)
    assert f'value="{TITLE_EN}"' in html.unescape(form) and DESCRIPTION_EN in html.unescape(form)

    kept = entrant_client.post(
        f"/entries/{entry.code}/edit", headers=EN, data=edit_data(entry, title="Sông Lam")
    )
    assert kept.status_code == 302
    db.expire_all()
    assert (entry.title, entry.title_en, entry.description_en) == ("Sông Lam", TITLE_EN, DESCRIPTION_EN)

    changed = entrant_client.post(
        f"/entries/{entry.code}/edit",
        headers=EN,
        data=edit_data(entry, title_en="The Lam River", description_en=""),
    )
    assert changed.status_code == 302
    db.expire_all()
    assert (entry.title_en, entry.description_en) == ("The Lam River", "")
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "entry.edited").order_by(AuditEvent.id.desc())
    ).first()
    assert event.details["changes"]["title_en"] == [TITLE_EN, "The Lam River"]
    assert event.details["changes"]["description_en"] == [DESCRIPTION_EN, ""]


def test_an_english_change_sends_an_approved_entry_back_to_review(db, entrant_client, contest, both):
    response = entrant_client.post(
        f"/entries/{both.code}/edit", headers=EN, data=edit_data(both, title_en="Dusk")
    )
    assert response.status_code == 302
    db.expire_all()
    assert both.status is EntryStatus.pending_review and both.title_en == "Dusk"


def test_the_service_keeps_the_english_text_it_is_not_given(db, contest, author, both):
    outcome = editing.update_entry(
        db, both, author, title=TITLE_VI, description="Mới", place_id=both.place_id, taken_on=date(2024, 6, 1)
    )
    assert outcome is not editing.EditOutcome.unchanged
    assert (both.title_en, both.description_en) == (TITLE_EN, DESCRIPTION_EN)


# --- in a browser, at phone width ------------------------------------------------------------
@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A served app with one approved photo entry (real renditions) that has an English title."""
    from worker import demo_gallery

    folder = tmp_path_factory.mktemp("bilingual-site")
    config = make_test_config(folder, f"sqlite:///{folder / 'site.sqlite'}")
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    photo = next(d for d in demo_gallery.DEMO_ENTRIES if d.category == "photo")
    with app.app_context(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo_gallery, "DEMO_ENTRIES", [photo])
        seed = seed_demo(db_ext.session)
        demo_gallery.seed_demo_gallery(db_ext.session, seed.contest, with_video=False)
        entry = db_ext.session.scalars(select(Entry)).one()
        entry.title_en = "A very long English title: sunrise over the terraced rice fields of Ky Son"
        db_ext.session.commit()
        code, title_vi, title_en = entry.code, entry.title, entry.title_en
    with live_server(app) as url:
        yield url, code, title_vi, title_en
    app.extensions["db"].dispose()


@pytest.mark.browser
def test_an_english_visitor_on_a_phone_sees_the_english_title(site, browser_page):
    url, code, title_vi, title_en = site
    page = browser_page.page  # 390 px wide, English
    page.goto(f"{url}/gallery", wait_until="load")
    card_title = page.locator(".gallery-title").first
    assert card_title.inner_text() == title_en and card_title.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    card_title.click()
    page.wait_for_url(f"**/e/{code}")
    heading = page.locator("h1.entry-title")
    assert heading.inner_text() == title_en and heading.get_attribute("lang") is None
    assert title_vi not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert browser_page.problems() == []


@pytest.mark.browser
def test_the_date_fields_words_follow_the_chosen_category(site, browser_page):
    url = site[0]
    page = browser_page.page
    page.goto(f"{url}/account/login", wait_until="load")
    page.fill("input[name=email]", "entrant@demo.happynghean.vn")
    page.fill("input[name=password]", "demo-entrant-2025")
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state("load")
    page.goto(f"{url}/entries/new", wait_until="load")
    label = page.locator("label[for=taken_on]")  # the demo entrant reads the site in Vietnamese
    assert label.inner_text() == "Ngày chụp"
    page.locator("input[name=category][data-kind=video]").check()
    assert label.inner_text() == "Ngày quay"
    assert page.locator("[data-date-words] .help").inner_text() == "Ngày quay video."
    page.locator("input[name=category][data-kind=photo]").check()
    assert label.inner_text() == "Ngày chụp"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert browser_page.problems() == []
