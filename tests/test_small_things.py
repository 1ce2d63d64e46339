"""Issue 17's small things: category names said once, the vote box after a reload, the
ranking's places, the anonymous vote count, links on `make run`'s port, form errors tied to
their fields, and gallery pictures that do not repeat their link's title."""

from __future__ import annotations

import html
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import update

from contest.config import load_settings
from contest.contests.models import CategoryKind, VotePolicy
from contest.entries.models import Entry
from tests.support import create_user, log_in, make_entry

ROOT = Path(__file__).resolve().parent.parent
LANGS = {"vi": {"Accept-Language": "vi"}, "en": {"Accept-Language": "en"}}
JSON = {"Accept": "application/json"}
VOTED_TODAY = {
    "vi": "Hôm nay bạn đã bình chọn cho tác phẩm này. Bạn có thể bình chọn lại vào ngày mai.",
    "en": "You voted for this entry today. You can vote for it again tomorrow.",
}


def text(response) -> str:
    """The page's words, tags dropped, spaces collapsed."""
    words = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return " ".join(html.unescape(words).split())


def words(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def vote_state(response) -> str:
    """What the vote box says under its count (the button, or why there is none)."""
    body = response.get_data(as_text=True)
    found = re.search(
        r"<div class=\"vote-state\" data-vote-state>(.*?)</div>\s*<p class=\"vote-message\"", body, re.S
    )
    return words(found.group(1))


def after_vote(response) -> str:
    """What the vote box's script puts in the button's place once the vote is counted."""
    found = re.search(r"<template data-vote-after>(.*?)</template>", response.get_data(as_text=True), re.S)
    return words(found.group(1))


@pytest.fixture
def author(db):
    return create_user(db, "author@example.com", full_name="Trần Thị Bình")


@pytest.fixture
def voter(db):
    return create_user(db, "voter@example.com", full_name="Lê Văn Cường")


@pytest.fixture
def cache_on(app, monkeypatch):
    """The gallery's caches on (the tests' configuration has them off), empty before and after."""
    monkeypatch.setitem(app.config, "GALLERY_CACHE_S", 60)
    caches = app.extensions["gallery_cache"]
    caches.clear()
    yield caches
    caches.clear()


# --- category names -----------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_each_category_is_named_once(client, db, contest, author, lang):
    make_entry(db, contest, author, title="Hoa sen")
    log_in(client, author, lang=lang)
    names = [c.name_vi if lang == "vi" else c.name_en for c in contest.categories]
    form = client.get("/entries/new", headers=LANGS[lang]).get_data(as_text=True)
    labels = [
        words(label) for label in re.findall(r'<label class="check category-pick">(.*?)</label>', form, re.S)
    ]
    assert len(labels) == len(names)
    for label, name in zip(labels, names, strict=True):
        kind = label.removeprefix(name).strip()  # what files it takes, when its name does not say it
        assert label.startswith(name) and kind.lower() != name.lower(), label
    gallery = client.get("/gallery", headers=LANGS[lang]).get_data(as_text=True)
    select = re.search(r'<select[^>]*name="category".*?</select>', gallery, re.S).group(0)
    assert [words(o) for o in re.findall(r"<option[^>]*>(.*?)</option>", select)][1:] == names


# --- the vote box: after the click as after a reload --------------------------------------
@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (VotePolicy.once_per_entry_per_day, VOTED_TODAY),
        (
            VotePolicy.once_per_entry,
            {"vi": "Bạn đã bình chọn cho tác phẩm này.", "en": "You voted for this entry."},
        ),
        (VotePolicy.daily_quota, VOTED_TODAY),
    ],
)
def test_the_vote_box_says_after_a_reload_what_it_said_after_the_click(
    client, db, contest, author, voter, lang, policy, expected
):
    contest.vote_policy, contest.votes_per_day = policy, 3 if policy is VotePolicy.daily_quota else None
    db.commit()
    entry = make_entry(db, contest, author)
    log_in(client, voter, lang=lang)
    before = client.get(f"/e/{entry.code}", headers=LANGS[lang])
    said_after_click = after_vote(before)

    answer = client.post(f"/e/{entry.code}/vote", headers={**JSON, **LANGS[lang]})
    assert answer.status_code == 200 and answer.get_json()["state"] == "voted"

    reloaded = client.get(f"/e/{entry.code}", headers=LANGS[lang])
    assert vote_state(reloaded) == said_after_click
    assert expected[lang] in said_after_click
    if policy is VotePolicy.daily_quota:
        assert {"en": "You have 2 votes left today.", "vi": "Hôm nay bạn còn 2 lượt bình chọn."}[
            lang
        ] in said_after_click
    # A second click (another tab) is answered as voted: the box shows the same again.
    again = client.post(f"/e/{entry.code}/vote", headers={**JSON, **LANGS[lang]})
    assert again.status_code == 409 and again.get_json()["state"] == "voted"


def test_a_box_that_refuses_says_what_the_refused_vote_says(client, db, contest, author, voter):
    contest.vote_policy, contest.votes_per_day = VotePolicy.daily_quota, 1
    db.commit()
    first, second = make_entry(db, contest, author), make_entry(db, contest, author)
    log_in(client, voter)
    assert client.post(f"/e/{first.code}/vote", headers=JSON).status_code == 200
    box = vote_state(client.get(f"/e/{second.code}", headers=LANGS["en"]))

    refused = client.post(f"/e/{second.code}/vote", headers={**JSON, **LANGS["en"]})

    assert refused.status_code == 409
    assert (
        box
        == refused.get_json()["message"]
        == ("You have used your 1 votes for today. You can vote again tomorrow.")
    )


# --- the ranking --------------------------------------------------------------------------
def test_the_ranking_gives_no_place_to_an_entry_without_votes(client, db, contest, author):
    counts = {"Ba phiếu": 3, "Một phiếu A": 1, "Một phiếu B": 1, "Chưa có phiếu": 0}
    entries = {
        title: make_entry(db, contest, author, title=title, vote_count=n) for title, n in counts.items()
    }
    make_entry(db, contest, author, kind=CategoryKind.video, title="Video chưa có phiếu")

    body = client.get("/ranking", headers=LANGS["en"]).get_data(as_text=True)

    places = re.findall(r'<li value="(\d+)"><a href="/e/([^"]+)"', body)
    assert places == [
        ("1", entries["Ba phiếu"].code),
        ("2", entries["Một phiếu A"].code),
        ("2", entries["Một phiếu B"].code),
    ]
    assert "Chưa có phiếu" not in body
    video_column = body.split("<h2>Video</h2>")[1].split("</div>")[0]
    assert "No votes yet." in video_column and "<li" not in video_column


# --- the count an anonymous visitor sees ----------------------------------------------------
def test_an_anonymous_visitor_sees_the_gallerys_count_everywhere(
    app, client, db, contest, author, voter, cache_on, monkeypatch
):
    entry = make_entry(db, contest, author, title="Hoa sen")
    clock = [time.monotonic()]
    monkeypatch.setattr("contest.gallery.cache.time.monotonic", lambda: clock[0])
    assert "0 votes" in text(client.get("/gallery", headers=LANGS["en"]))
    # As the vote's own statement does: the counter moves outside the ORM.
    db.execute(update(Entry).where(Entry.id == entry.id).values(vote_count=7))
    db.commit()

    page = client.get(f"/e/{entry.code}", headers=LANGS["en"])
    assert re.search(r"<strong data-vote-count>0</strong>", page.get_data(as_text=True))
    assert client.get(f"/e/{entry.code}/votes.json").get_json() == {"count": 0}
    logged_in = app.test_client()
    log_in(logged_in, voter)  # a visitor's own page is never shared: the counter as it is
    own = logged_in.get(f"/e/{entry.code}", headers=LANGS["en"]).get_data(as_text=True)
    assert "<strong data-vote-count>7</strong>" in own

    clock[0] += 61  # GALLERY_CACHE_S later: every page has the new count
    assert "7 votes" in text(client.get("/gallery", headers=LANGS["en"]))
    assert client.get(f"/e/{entry.code}/votes.json").get_json() == {"count": 7}
    page = client.get(f"/e/{entry.code}", headers=LANGS["en"]).get_data(as_text=True)
    assert "<strong data-vote-count>7</strong>" in page


# --- links on the development server's port ---------------------------------------------------
def test_development_links_follow_the_servers_port():
    settings = load_settings({"CONTEST_ENV": "development", "FLASK_RUN_PORT": "5012"})
    assert settings["PUBLIC_BASE_URL"] == "http://127.0.0.1:5012"
    every_interface = {"CONTEST_ENV": "development", "FLASK_RUN_HOST": "0.0.0.0", "FLASK_RUN_PORT": "8080"}
    assert load_settings(every_interface)["PUBLIC_BASE_URL"] == "http://127.0.0.1:8080"
    assert load_settings({"CONTEST_ENV": "development"})["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    chosen = {"CONTEST_ENV": "development", "FLASK_RUN_PORT": "5012", "PUBLIC_BASE_URL": "https://x.vn"}
    assert load_settings(chosen)["PUBLIC_BASE_URL"] == "https://x.vn"


def test_make_passes_the_port_to_the_seed_and_its_links(tmp_path):
    """`make seed PORT=5012` (which `make run` runs first): the command it runs sees the port.
    The seed's own command is swapped for one that prints the link it would print (the demo
    gallery, which needs the seeded edition, for a no-op)."""
    stamp = tmp_path / "installed"
    stamp.touch()  # newer than pyproject.toml: make installs nothing
    prints_link = (
        f"{ROOT / '.venv/bin/python'} -c "
        '\'from contest.config import load_settings; print("Open", load_settings()["PUBLIC_BASE_URL"])\' --'
    )
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite'}",
        "CONTEST_INSTANCE": str(tmp_path),
    }
    env.pop("PUBLIC_BASE_URL", None)
    env.pop("CONTEST_ENV", None)
    done = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "seed",
            "PORT=5012",
            f"STAMP={stamp}",
            f"FLASK={prints_link}",
            "DEMO_GALLERY=true",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Open http://127.0.0.1:5012" in done.stdout


# --- form errors ------------------------------------------------------------------------------
def test_form_errors_are_tied_to_their_fields_and_summed_up(client, db):
    body = client.post(
        "/account/register", data={"email": "not-an-address", "country": "VN"}, headers=LANGS["en"]
    ).get_data(as_text=True)

    for name in ("email", "full_name", "birth_year"):
        tag = re.search(rf"<(?:input|select)[^>]*\bname=\"{name}\"[^>]*>", body).group(0)
        assert 'aria-invalid="true"' in tag, name
        described = re.search(r'aria-describedby="([^"]+)"', tag).group(1).split()
        errors = [
            re.search(rf'<p class="error" id="{i}">([^<]+)</p>', body) for i in described if "error" in i
        ]
        assert errors and all(errors), (name, described)
    summary = body.split("data-error-summary>")[1].split("</div>")[0]
    assert re.findall(r'href="#(\w+)"', summary)[:1] == ["email"]
    assert {"full_name", "birth_year"} <= set(re.findall(r'href="#(\w+)"', summary))
    country = re.search(r"<select[^>]*name=\"country\"[^>]*>", body).group(0)
    assert "aria-invalid" not in country
    assert "forms.js" in body


def test_a_field_with_help_and_no_error_is_described_by_its_help(client, db):
    body = client.get("/account/register", headers=LANGS["en"]).get_data(as_text=True)
    tag = re.search(r"<input[^>]*name=\"full_name\"[^>]*>", body).group(0)
    assert 'aria-describedby="full_name-help"' in tag and "aria-invalid" not in tag
    assert 'id="full_name-help"' in body and "data-error-summary" not in body


# --- gallery cards ------------------------------------------------------------------------------
def test_a_cards_picture_does_not_repeat_its_links_title(client, db, contest, author, storage):
    from tests.test_gallery import add_photo_renditions

    entry = make_entry(db, contest, author, title="Hoa sen Kim Liên")
    add_photo_renditions(db, storage, entry)

    body = client.get("/gallery", headers=LANGS["en"]).get_data(as_text=True)

    link = re.search(r'<a class="gallery-card-link"[^>]*>(.*?)</a>', body, re.S).group(1)
    assert re.findall(r"<img[^>]*\balt=\"([^\"]*)\"", link) == [""]
    assert words(link) == "Hoa sen Kim Liên"  # the link's name: the title, once


def test_the_category_choice_names_its_error_and_the_summary_reaches_it(client, db, contest, author):
    log_in(client, author)
    body = client.post(
        "/entries/new", data={"title": "Hoa sen"}, content_type="multipart/form-data", headers=LANGS["en"]
    ).get_data(as_text=True)

    choices = re.findall(r"<input[^>]*name=\"category\"[^>]*>", body)
    assert choices and all(
        'aria-invalid="true"' in c and 'aria-describedby="category-errors"' in c for c in choices
    )
    assert re.search(r'<div id="category-errors"><p class="error">[^<]+</p>', body)
    summary = body.split("data-error-summary>")[1].split("</div>")[0]
    assert 'href="#category-0"' in summary and 'id="category-0"' in body
