"""Setting an edition up without code: first edition from the 2025 rules (browser and CLI), a copy
of the last one, places, Markdown texts rendered inert, logo and banner, staff accounts."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import pytest
from PIL import Image
from sqlalchemy import func, select

from contest.audit.models import AuditEvent
from contest.auth.models import Role, User
from contest.contests.markdown import render_markdown
from contest.contests.models import CategoryKind, Contest, Place
from contest.entries.models import Entry
from contest.mail.models import OutboundEmail
from contest.results.models import AudienceMode, ResultsSettings
from contest.results.prizes import PrizeKind, PrizeSlot
from tests.support import PASSWORD, category, create_user, log_in, login, make_entry, place

EN = {"Accept-Language": "en"}


def edition_form(**changes) -> dict:
    form = {
        "source": "0",
        "slug": "happy-nghean-2026",
        "code_prefix": "hna26",
        "title_vi": "Nghệ An Hạnh phúc 2026",
        "title_en": "Happy Nghe An 2026",
        "submission_opens_at": "2026-06-01T00:00",
        "submission_closes_at": "2026-10-01T23:59",
        "voting_opens_at": "2026-09-01T08:00",
        "voting_closes_at": "2026-10-15T20:00",
        "results_at": "2026-11-01T19:30",
    }
    form.update(changes)
    return form


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def by_slug(db, slug: str) -> Contest | None:
    db.expire_all()
    return db.scalar(select(Contest).where(Contest.slug == slug))


def assert_2025_rules(contest: Contest) -> None:
    kinds = [(c.slug, c.kind) for c in contest.categories]
    assert kinds == [
        ("photo", CategoryKind.photo),
        ("photo-series", CategoryKind.photo_series),
        ("video", CategoryKind.video),
    ]
    photo, series, video = contest.categories
    assert (photo.min_long_edge_px, photo.min_bytes, photo.allowed_formats) == (3000, 3_000_000, ["jpeg"])
    assert (series.min_items, series.max_items) == (3, 10)
    assert (video.max_duration_s, video.max_bytes) == (300, 200_000_000)
    assert len(contest.places) == 21 and contest.places[0].code == "vinh"
    assert contest.vote_policy.value == "once_per_entry_per_day"


# --- the first edition ----------------------------------------------------------------
def test_first_edition_from_the_browser_on_an_empty_install(client, db):
    organizer = create_user(db, "bo@example.com", role=Role.organizer)
    log_in(client, organizer)
    assert count(db, Contest) == 0
    assert client.get("/admin/contests/new", headers=EN).status_code == 200

    response = client.post("/admin/contests/new", data=edition_form(), headers=EN)

    assert response.status_code == 302
    contest = by_slug(db, "happy-nghean-2026")
    assert response.headers["Location"] == f"/admin/contests/{contest.id}/edit"
    assert (contest.code_prefix, contest.title_en) == ("HNA26", "Happy Nghe An 2026")
    assert contest.submission_opens_at == datetime(2026, 5, 31, 17, 0, tzinfo=UTC)  # typed in Vietnam time
    assert_2025_rules(contest)
    slots = db.scalars(select(PrizeSlot).where(PrizeSlot.contest_id == contest.id)).all()
    assert len(slots) == 3 * 4 + 1  # 1st, 2nd, 3rd and audience per category, a monthly prize
    assert count(db, User) == 1 and count(db, Entry) == 0  # no demo accounts, no demo entries
    audit = db.scalar(select(AuditEvent).where(AuditEvent.action == "contest.created"))
    assert (audit.actor_id, audit.subject_id) == (organizer.id, contest.id)


def test_first_edition_from_the_cli(app, db):
    result = app.test_cli_runner().invoke(
        args=[
            "contest", "create-edition", "--slug", "nghean-2026", "--code-prefix", "na26",
            "--title-vi", "Nghệ An 2026", "--title-en", "Nghe An 2026",
            "--submission-opens", "2026-06-01 00:00", "--submission-closes", "2026-10-01 23:59",
            "--voting-opens", "2026-09-01 08:00", "--voting-closes", "2026-10-15 20:00",
        ]
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "created from the 2025 rules" in result.output
    contest = by_slug(db, "nghean-2026")
    assert contest.code_prefix == "NA26" and contest.is_published
    assert_2025_rules(contest)
    assert count(db, User) == 0 and count(db, Entry) == 0


def test_the_cli_copies_the_latest_edition_by_default(app, db, contest):
    result = app.test_cli_runner().invoke(
        args=[
            "contest", "create-edition", "--slug", "happy-nghean-2026", "--code-prefix", "HNA26",
            "--title-vi", "Nghệ An Hạnh phúc 2026", "--title-en", "Happy Nghe An 2026",
            "--submission-opens", "2026-06-01", "--submission-closes", "2026-10-01",
            "--voting-opens", "2026-09-01", "--voting-closes", "2026-10-15", "--results", "2026-11-01 19:30",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "a copy of happy-nghean-2025; not published yet" in result.output
    copy = by_slug(db, "happy-nghean-2026")
    assert copy.results_at == datetime(2026, 11, 1, 12, 30, tzinfo=UTC)
    assert [p.code for p in copy.places] == [p.code for p in contest.places]


def test_cli_refuses_a_slug_unfit_for_storage_keys(app, db):
    result = app.test_cli_runner().invoke(
        args=[
            "contest", "create-edition", "--slug", "../Bad Slug", "--code-prefix", "NA26",
            "--title-vi", "x", "--title-en", "x",
            "--submission-opens", "2026-06-01", "--submission-closes", "2026-10-01",
            "--voting-opens", "2026-09-01", "--voting-closes", "2026-10-15",
        ]
    )  # fmt: skip
    assert result.exit_code != 0 and "slug" in result.output
    assert count(db, Contest) == 0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"slug": "Bad/Slug"}, "slug", "lower-case letters"),
        ({"slug": "happy-nghean-2025"}, "slug", "already uses this address name"),
        ({"code_prefix": "HNA25"}, "code_prefix", "already uses this code prefix"),
        ({"voting_closes_at": "2026-08-01T00:00"}, "voting_closes_at", "Voting must close after it opens"),
    ],
)
def test_a_bad_edition_is_refused_with_its_reason(client, db, contest, organizer, changes, field, message):
    log_in(client, organizer)
    response = client.post("/admin/contests/new", data=edition_form(**changes), headers=EN)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(db, Contest) == 1


# --- a copy of the last edition -------------------------------------------------------------
def test_a_new_edition_copies_the_last_one_with_new_dates(client, db, contest, organizer, entrant):
    photo = category(contest, CategoryKind.photo)
    photo.min_long_edge_px, photo.max_entries_per_person = 2400, 7
    contest.rules_en, contest.home_text_vi, contest.votes_per_day = "Own **rules**", "Trang chủ", None
    place(contest, "ky-son").retired = True
    db.add(ResultsSettings(contest_id=contest.id, audience_mode=AudienceMode.share, audience_share=0.2))
    make_entry(db, contest, entrant)
    db.commit()
    log_in(client, organizer)

    page = client.get("/admin/contests/new", headers=EN).get_data(as_text=True)
    assert re.search(rf'<option selected value="{contest.id}">A copy of', page)
    response = client.post("/admin/contests/new", data=edition_form(source=str(contest.id)), headers=EN)

    assert response.status_code == 302
    copy = by_slug(db, "happy-nghean-2026")
    assert copy.id != contest.id and not copy.is_published  # the running edition stays public
    assert copy.submission_opens_at == datetime(2026, 5, 31, 17, 0, tzinfo=UTC)
    assert (copy.rules_en, copy.home_text_vi, copy.monthly_prize_winners) == ("Own **rules**", "Trang chủ", 1)
    copied = {c.slug: c for c in copy.categories}
    assert (copied["photo"].min_long_edge_px, copied["photo"].max_entries_per_person) == (2400, 7)
    old_works = (photo.works_from, photo.works_until)
    years = copy.submission_opens_at.year - contest.submission_opens_at.year
    assert (copied["photo"].works_from, copied["photo"].works_until) == tuple(
        d.replace(year=d.year + years) for d in old_works
    )
    assert copied["video"].max_duration_s == 300 and copied["photo-series"].max_items == 10
    assert [p.code for p in copy.places] == [p.code for p in contest.places if p.code != "ky-son"]
    slots = db.scalars(select(PrizeSlot).where(PrizeSlot.contest_id == copy.id)).all()
    old_slots = db.scalars(select(PrizeSlot).where(PrizeSlot.contest_id == contest.id)).all()
    assert len(slots) == len(old_slots)
    assert {s.category_id for s in slots if s.kind is PrizeKind.jury} == {c.id for c in copy.categories}
    assert db.get(ResultsSettings, copy.id).audience_share == 0.2
    assert db.scalar(select(func.count(Entry.id)).where(Entry.contest_id == copy.id)) == 0
    assert copy.entry_counter == 0 and copy.featured_entry_id is None


# --- places ---------------------------------------------------------------------------------
def test_places_added_renamed_and_retired(client, db, contest, organizer, entrant):
    log_in(client, organizer)
    added = client.post(
        f"/admin/contests/{contest.id}/places",
        data={"code": "Vinh-Moi", "name_vi": "Vinh mới", "name_en": "New Vinh"},
        headers=EN,
    )
    assert added.status_code == 302
    db.expire_all()
    new = place(contest, "vinh-moi")
    assert new.position == len(contest.places)
    duplicate = client.post(
        f"/admin/contests/{contest.id}/places",
        data={"code": "vinh", "name_vi": "x", "name_en": "x"},
        headers=EN,
    )
    assert duplicate.status_code == 400 and "already has this code" in duplicate.get_data(as_text=True)

    vinh = place(contest, "vinh")
    edit = {"code": "vinh", "name_vi": "TP Vinh", "name_en": "Vinh", "retired": "y"}
    assert client.post(f"/admin/places/{vinh.id}/edit", data=edit, headers=EN).status_code == 302
    db.refresh(vinh)
    assert (vinh.name_vi, vinh.retired) == ("TP Vinh", True)
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.subject_type == "place")).all()
    assert sorted(actions) == ["contest.place_added", "contest.place_changed"]

    log_in(client, entrant)
    assert f'value="{new.id}"' in offered_places(client, "/entries/new")
    assert f'value="{vinh.id}"' not in offered_places(client, "/entries/new")
    # An entry made before keeps its retired place when it is changed.
    entry = make_entry(db, contest, entrant, place_code="vinh")
    assert f'value="{vinh.id}"' in offered_places(client, f"/entries/{entry.code}/edit")


def offered_places(client, url: str) -> str:
    page = client.get(url, headers=EN).get_data(as_text=True)
    return re.search(r'<select[^>]*name="place".*?</select>', page, re.S).group(0)


# --- Markdown --------------------------------------------------------------------------------
PAYLOADS = [
    "<script>alert(1)</script>",
    '<iframe src="https://evil.example"></iframe>',
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](java\nscript:alert(1))",
    "<javascript:alert(1)>",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "[x](vbscript:msgbox)",
    "[x](//evil.example/path)",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    "<div onmouseover=alert(1)>hover</div>",
    "![pic](javascript:alert(1))",
    '[x](https://ok.example "t\\" onmouseover=\\"alert(1)")',
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_renders_hostile_text_inert(payload):
    html = str(render_markdown(payload))
    assert not re.search(r"<(script|iframe|img|div|svg|object|embed)\b", html, re.I)
    for tag in re.findall(r"<[a-z][^>]*>", html, re.I):  # real tags, not escaped text
        attributes = re.sub(r'"[^"]*"', '""', tag)  # what a quoted value holds is text
        assert not re.search(r"\son\w+\s*=", attributes, re.I), tag
    for href in re.findall(r'href="([^"]*)"', html):
        assert href.startswith(("https://", "http://", "mailto:", "/")) and not href.startswith("//")


def test_markdown_keeps_what_organizers_write():
    html = str(render_markdown("1. **Ảnh đơn**: *JPEG*\n2. [Thể lệ](/rules) · [Web](https://nghean.gov.vn)"))
    assert "<ol>" in html and "<strong>Ảnh đơn</strong>" in html and "<em>JPEG</em>" in html
    assert '<a href="/rules">Thể lệ</a>' in html and '<a href="https://nghean.gov.vn">Web</a>' in html


def test_rules_and_home_pages_render_markdown_without_raw_html(client, db, contest):
    hostile = "**Rule one**\n\n<script>alert('x')</script>\n\n[bad](javascript:alert(1)) <iframe src=x>"
    contest.rules_en = contest.home_text_en = hostile
    db.commit()
    for url in ("/rules", "/"):
        page = client.get(url, headers=EN).get_data(as_text=True)
        assert "<strong>Rule one</strong>" in page, url
        assert (
            "<script>alert(" not in page and "<iframe src=x" not in page and 'href="javascript:' not in page
        )
        assert "&lt;script&gt;alert(" in page


# --- logo and banner -------------------------------------------------------------------------
def picture_bytes(fmt: str = "PNG", size=(900, 300)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def test_logo_and_banner_are_stored_as_public_renditions(client, db, contest, organizer, storage):
    log_in(client, organizer)
    for which, fmt in (("logo", "PNG"), ("banner", "JPEG")):
        data = {f"{which}-picture": (io.BytesIO(picture_bytes(fmt, (3000, 1000))), f"{which}.img")}
        response = client.post(f"/admin/contests/{contest.id}/images/{which}", data=data, headers=EN)
        assert response.status_code == 302
    db.refresh(contest)
    assert contest.logo_key.startswith("public/contest-happy-nghean-2025/") and contest.logo_key.endswith(
        ".png"
    )
    with Image.open(storage.path(contest.banner_key)) as banner:
        assert (banner.format, banner.size) == ("JPEG", (2400, 800))
    with Image.open(storage.path(contest.logo_key)) as logo:
        assert logo.size == (512, 171)
    page = client.get(f"/admin/contests/{contest.id}/images", headers=EN).get_data(as_text=True)
    assert "contest-logo-preview" in page and "contest-banner-preview" in page
    home = client.application.test_client().get("/", headers=EN).get_data(as_text=True)
    logo_url = re.search(r'<img class="home-logo" src="([^"]+)"', home).group(1)
    assert contest.logo_key in logo_url and 'class="home-banner"' in home


@pytest.mark.parametrize(
    "upload",
    [b"", b"this is not a picture at all", picture_bytes("GIF"), picture_bytes("PNG")[:200]],
    ids=["empty", "text", "gif", "truncated"],
)
def test_a_bad_logo_is_refused_and_nothing_is_stored(client, db, contest, organizer, storage, upload):
    log_in(client, organizer)
    data = {"logo-picture": (io.BytesIO(upload), "logo.png")}
    response = client.post(f"/admin/contests/{contest.id}/images/logo", data=data, headers=EN)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Choose a picture" in text or "JPEG, PNG or WebP" in text
    db.refresh(contest)
    assert contest.logo_key is None and list(storage.keys("public/")) == []


# --- staff accounts ---------------------------------------------------------------------------
def test_invite_an_organizer_who_chooses_a_password_and_reaches_the_console(client, db, organizer):
    log_in(client, organizer)
    form = {
        "email": "New.Organizer@Example.com",
        "full_name": "Lê Thị Thu",
        "role": "organizer",
        "locale": "vi",
    }
    assert client.post("/admin/accounts/invite", data=form, headers=EN).status_code == 302

    invited = db.scalar(select(User).where(User.email == "new.organizer@example.com"))
    assert invited.role is Role.organizer and not invited.is_verified
    mail = db.scalar(select(OutboundEmail).where(OutboundEmail.recipient == invited.email))
    assert "Ban Tổ chức" in mail.subject or "tổ chức" in mail.subject.lower()  # in the invitee's language
    link = re.search(r"https?://\S+", mail.body_text).group(0)
    audit = db.scalar(select(AuditEvent).where(AuditEvent.action == "account.invited"))
    assert (audit.actor_id, audit.subject_id, audit.details) == (
        organizer.id,
        invited.id,
        {"role": "organizer"},
    )

    invitee = client.application.test_client()
    path = link.split("://", 1)[1].split("/", 1)[1]
    chosen = {"password": "a new long password", "password_confirm": "a new long password"}
    assert client.application.url_map.bind("").match(f"/{path}")[0] == "auth.accept_invitation"
    assert invitee.post(f"/{path}", data=chosen, headers=EN).status_code == 302
    assert login(invitee, invited.email, "a new long password").status_code == 302
    assert invitee.get("/admin/", headers=EN).status_code == 200
    assert invitee.get("/entries/new", headers=EN).status_code == 403  # organizers do not submit entries


def test_inviting_an_existing_address_is_refused(client, db, organizer, entrant):
    log_in(client, organizer)
    form = {"email": entrant.email, "full_name": "X", "role": "judge", "locale": "en"}
    response = client.post("/admin/accounts/invite", data=form, headers=EN)
    assert response.status_code == 400 and "already has an account" in response.get_data(as_text=True)
    assert count(db, OutboundEmail) == 0


def test_role_change_and_disable_are_audited_and_a_disabled_account_cannot_log_in(
    client, db, organizer, entrant
):
    log_in(client, organizer)
    assert login(client.application.test_client(), entrant.email).status_code == 302
    response = client.post(f"/admin/accounts/{entrant.id}/role", data={f"u{entrant.id}-role": "judge"})
    assert response.status_code == 302
    assert client.post(f"/admin/accounts/{entrant.id}/disable").status_code == 302
    db.refresh(entrant)
    assert (entrant.role, entrant.active) == (Role.judge, False)
    events = db.scalars(
        select(AuditEvent).where(AuditEvent.subject_id == entrant.id).order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.actor_id, e.details) for e in events] == [
        ("account.role_changed", organizer.id, {"from": "entrant", "to": "judge"}),
        ("account.disabled", organizer.id, None),
    ]
    other = client.application.test_client()
    refused = login(other, entrant.email, PASSWORD, headers=EN)
    assert refused.status_code != 302
    assert other.get("/jury/", headers=EN).status_code in (302, 401, 403)

    assert client.post(f"/admin/accounts/{entrant.id}/enable").status_code == 302
    assert login(client.application.test_client(), entrant.email).status_code == 302


def test_an_organizer_cannot_demote_or_disable_themselves(client, db, organizer):
    log_in(client, organizer)
    client.post(f"/admin/accounts/{organizer.id}/role", data={f"u{organizer.id}-role": "entrant"})
    client.post(f"/admin/accounts/{organizer.id}/disable")
    db.refresh(organizer)
    assert (organizer.role, organizer.active) == (Role.organizer, True)
    assert count(db, AuditEvent) == 0


@pytest.mark.parametrize("role", ["judge", "organizer"])
def test_staff_cannot_submit_entries(request, client, contest, role):
    log_in(client, request.getfixturevalue(role))
    assert client.get("/entries/new", headers=EN).status_code == 403
    assert client.post("/entries/new", data={"title": "x"}, headers=EN).status_code in (400, 403)


# --- who may open what ------------------------------------------------------------------------
GET_ROUTES = [
    "/admin/contests/new",
    "/admin/contests/{contest}/edit",
    "/admin/categories/{category}/edit",
    "/admin/contests/{contest}/places",
    "/admin/places/{place}/edit",
    "/admin/contests/{contest}/images",
    "/admin/accounts/",
]
POST_ROUTES = [
    "/admin/contests/new",
    "/admin/contests/{contest}/places",
    "/admin/places/{place}/edit",
    "/admin/contests/{contest}/images/logo",
    "/admin/accounts/invite",
    "/admin/accounts/{user}/role",
    "/admin/accounts/{user}/disable",
    "/admin/accounts/{user}/enable",
]
ROLES = [("anonymous", 302), ("entrant", 403), ("judge", 403)]


def _url(route: str, contest: Contest, user: User) -> str:
    return route.format(
        contest=contest.id, category=contest.categories[0].id, place=contest.places[0].id, user=user.id
    )


@pytest.mark.parametrize("route", GET_ROUTES)
@pytest.mark.parametrize(("role", "expected"), [*ROLES, ("organizer", 200)])
def test_access_matrix(request, client, contest, entrant, route, role, expected):
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    response = client.get(_url(route, contest, entrant), headers=EN)
    assert response.status_code == expected
    if role == "anonymous":
        assert response.headers["Location"].startswith("/account/login")


@pytest.mark.parametrize("route", POST_ROUTES)
@pytest.mark.parametrize(("role", "expected"), ROLES)
def test_others_cannot_post(request, client, db, contest, entrant, route, role, expected):
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    before = (count(db, Contest), count(db, Place), count(db, User), count(db, AuditEvent))
    response = client.post(_url(route, contest, entrant), data=edition_form(role="organizer"), headers=EN)
    assert response.status_code == expected
    db.expire_all()
    assert (count(db, Contest), count(db, Place), count(db, User), count(db, AuditEvent)) == before
    assert (db.get(User, entrant.id).role, db.get(User, entrant.id).active) == (Role.entrant, True)


@pytest.mark.parametrize(
    "route", ["/admin/contests/987654/places", "/admin/places/987654/edit", "/admin/contests/987654/images"]
)
def test_unknown_ids_are_404(client, contest, organizer, route):
    log_in(client, organizer)
    assert client.get(route, headers=EN).status_code == 404


def test_setup_pages_render_in_vietnamese(client, contest, organizer):
    log_in(client, organizer, lang=None)
    for route in GET_ROUTES:
        response = client.get(_url(route, contest, organizer))
        assert response.status_code == 200, route
        assert 'lang="vi"' in response.get_data(as_text=True)[:400], route


def test_template_dates_in_the_demo_match_the_rules():
    from contest.contests.template import WORKS_FROM, WORKS_UNTIL

    assert (date(2023, 1, 1), date(2025, 10, 1)) == (WORKS_FROM, WORKS_UNTIL)
