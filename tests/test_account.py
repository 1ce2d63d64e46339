"""The account page (issue 17 §4): details, language, e-mail change, devices, deleting the account."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from contest import create_app
from contest.audit.models import AuditEvent
from contest.auth.account_sessions import SEEN_EVERY, describe_device, handle
from contest.auth.models import LoginSession, User
from contest.auth.tokens import CHANGE_EMAIL_SALT, address_fingerprint
from contest.config import ROOT
from contest.db import now_utc
from contest.entries.models import Entry, EntryStatus
from contest.extensions import db as db_ext
from contest.extensions import limiter
from contest.processing import dispatch
from contest.voting.models import Vote
from contest.voting.services import cast_vote, official_tally
from tests.browser import live_server, log_in_page
from tests.support import (
    PASSWORD,
    create_entry_with_original,
    create_user,
    log_in,
    login,
    make_entry,
    make_test_config,
    migrate,
    open_login,
    vn,
)
from tests.test_auth import emails_to, link_in, old_token
from tests.test_voting import SECRET, SIGNALS
from worker.tasks import purge_media

EN = {"Accept-Language": "en"}
SCREENSHOTS = ROOT / ".artifacts" / "account"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
WINDOWS_EDGE = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0"


def email_form(new: str, password: str = PASSWORD) -> dict:
    return {"email-email": new, "email-password": password}


def details_form(**overrides) -> dict:
    return {"details-full_name": "Trần Thị Mai", "details-country": "FR", "details-locale": "en", **overrides}


# --- name, country, language ------------------------------------------------------------------
def test_details_are_saved_and_the_language_is_used(client, db, entrant):
    log_in(client, entrant, lang=None)  # no choice of this visit: the account's language (vi) speaks
    assert '<html lang="vi">' in client.get("/account/").text

    saved = client.post("/account/details", data=details_form(), follow_redirects=True)

    assert "Your details are saved." in saved.text and '<html lang="en">' in saved.text
    db.expire_all()
    assert (entrant.full_name, entrant.country, entrant.locale) == ("Trần Thị Mai", "FR", "en")
    # A new login on another device has no choice of its own yet: the account's language.
    other = client.application.test_client()
    log_in(other, entrant, lang=None)
    assert '<html lang="en">' in other.get("/account/").text


def test_details_messages_in_vietnamese(client, db, entrant):
    log_in(client, entrant, lang="vi")
    refused = client.post("/account/details", data=details_form(**{"details-full_name": " "}))
    assert "Vui lòng nhập họ và tên." in refused.text
    unchanged = client.post(
        "/account/details",
        data=details_form(
            **{"details-full_name": entrant.full_name, "details-country": "VN", "details-locale": "vi"}
        ),
        follow_redirects=True,
    )
    assert "Không có gì thay đổi." in unchanged.text


def test_details_refuse_an_unknown_country_or_language(client, db, entrant):
    log_in(client, entrant)
    for bad in ({"details-country": "XX"}, {"details-locale": "de"}):
        answer = client.post("/account/details", data=details_form(**bad), headers=EN)
        assert answer.status_code == 200 and "Not a valid choice" in answer.text
    db.expire_all()
    assert (entrant.country, entrant.locale) == ("VN", "vi")


def test_the_country_list_is_the_registrations(client, db, entrant):
    log_in(client, entrant)
    page = client.get("/account/", headers=EN).text
    register = client.application.test_client().get("/account/register", headers=EN).text
    option = re.compile(r'<option[^>]*value="([A-Z]{2})"[^>]*>([^<]+)</option>')
    countries = option.findall(register)
    assert len(countries) > 200 and option.findall(page) == countries
    assert '<option selected value="VN">' in page


# --- e-mail address -----------------------------------------------------------------------------
def test_email_change_is_confirmed_by_the_new_address(client, db, entrant):
    entrant.locale = "en"
    db.commit()
    log_in(client, entrant)

    asked = client.post("/account/email", data=email_form("Mai.Tran@Example.org"), follow_redirects=True)

    assert "We sent a link to mai.tran@example.org" in asked.text
    db.expire_all()
    assert entrant.email == "entrant@example.com"  # until the link is opened
    (mail,) = emails_to(db, "mai.tran@example.org")
    assert mail.subject == "Confirm your new e-mail address for Happy Nghe An"

    confirmed = client.get(link_in(mail, "/account/email/"), follow_redirects=True)

    assert "Your e-mail address is now mai.tran@example.org." in confirmed.text
    db.expire_all()
    assert entrant.email == "mai.tran@example.org" and entrant.is_verified
    (notice,) = emails_to(db, "entrant@example.com")
    assert "was changed to m******n@example.org" in notice.body_text.replace("\n", " ")
    assert "mai.tran@example.org" not in notice.body_text
    assert (
        db.scalar(select(AuditEvent).where(AuditEvent.action == "account.email_changed")).subject_id
        == entrant.id
    )
    # The new address logs in, the old one no longer does.
    other = client.application.test_client()
    assert login(other, "entrant@example.com").status_code == 200
    assert login(other, "mai.tran@example.org").status_code == 302


def test_email_change_mail_is_in_the_accounts_language(client, db, entrant):
    log_in(client, entrant, lang="en")  # the visit is in English, the account in Vietnamese
    client.post("/account/email", data=email_form("mai@example.org"))
    (mail,) = emails_to(db, "mai@example.org")
    assert mail.subject == "Xác nhận địa chỉ email mới của bạn tại Nghệ An Hạnh phúc"


def test_email_change_link_works_once(client, db, entrant):
    log_in(client, entrant)
    client.post("/account/email", data=email_form("first@example.org"))
    client.post("/account/email", data=email_form("second@example.org"))
    first = link_in(emails_to(db, "first@example.org")[0], "/account/email/")
    second = link_in(emails_to(db, "second@example.org")[0], "/account/email/")

    assert client.get(first).status_code == 302
    reused = client.get(first, headers=EN)
    other = client.get(second, headers=EN)  # asked before the first change: its address is gone

    assert reused.status_code == 400 and "This link is not valid" in reused.text
    assert other.status_code == 400
    db.expire_all()
    assert entrant.email == "first@example.org"


def test_email_change_link_expires(app, client, db, entrant):
    payload = {"uid": entrant.id, "email": "late@example.org", "was": address_fingerprint(entrant)}
    token = old_token(app, CHANGE_EMAIL_SALT, payload, app.config["EMAIL_TOKEN_MAX_AGE_S"] + 60)
    answer = client.get(f"/account/email/{token}", headers=EN)
    assert answer.status_code == 400 and "This link has expired" in answer.text
    fresh = old_token(app, CHANGE_EMAIL_SALT, payload, 60)
    assert client.get(f"/account/email/{fresh}").status_code == 302
    forged = old_token(app, "verify-email", payload, 60)  # another purpose's salt
    assert client.get(f"/account/email/{forged}", headers=EN).status_code == 400
    db.expire_all()
    assert entrant.email == "late@example.org"


def test_email_change_wrong_password(client, db, entrant):
    log_in(client, entrant)
    answer = client.post("/account/email", data=email_form("mai@example.org", "not my password"), headers=EN)
    assert answer.status_code == 200 and "This is not your current password." in answer.text
    assert emails_to(db, "mai@example.org") == []


def test_email_taken_is_answered_the_same_and_changes_nothing(client, db, entrant):
    create_user(db, "nguyenvanan@gmail.com")
    log_in(client, entrant)
    # The same Gmail mailbox, spelled with dots, a tag and in capitals.
    answer = client.post("/account/email", data=email_form("Nguyen.Van.An+contest@gmail.com"), headers=EN)
    assert answer.status_code == 302
    assert "We sent a link to nguyen.van.an+contest@gmail.com, unless it belongs to another account" in (
        client.get("/account/", headers=EN).text
    )
    assert emails_to(db, "nguyen.van.an+contest@gmail.com") == []


def test_email_taken_after_the_link_was_sent(client, db, entrant):
    log_in(client, entrant)
    client.post("/account/email", data=email_form("mai@example.org"))
    link = link_in(emails_to(db, "mai@example.org")[0], "/account/email/")
    create_user(db, "mai@example.org")
    answer = client.get(link, headers=EN)
    assert answer.status_code == 400 and "This address already has an account" in answer.text
    db.expire_all()
    assert entrant.email == "entrant@example.com"


def test_email_change_to_the_same_mailbox_or_a_bad_address(client, db, entrant):
    log_in(client, entrant, lang="vi")
    same = client.post("/account/email", data=email_form("ENTRANT@example.com"))
    assert "Đây đã là địa chỉ email của bạn." in same.text
    bad = client.post("/account/email", data=email_form("not an address"), headers=EN)
    assert "địa chỉ email hợp lệ" in bad.text
    throwaway = client.post("/account/email", data=email_form("x@mailinator.com"))
    assert "dịch vụ email tạm thời" in throwaway.text


@pytest.fixture
def limited(tmp_path):
    """An application of its own, rate limits on, over a fresh SQLite database."""
    was_enabled = limiter.enabled
    config = make_test_config(
        tmp_path,
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        RATELIMIT_ENABLED=True,
        SIGNUP_RATE_LIMIT="2 per minute",
    )
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    limiter.reset()
    try:
        yield app
    finally:
        limiter.reset()
        limiter.enabled = was_enabled
        app.extensions["db"].dispose()


def test_email_change_is_rate_limited(limited):
    with limited.app_context():
        user = create_user(db_ext.session, "lan@example.com")
    client = limited.test_client()
    log_in(client, user)
    for _ in range(2):
        assert client.post("/account/email", data=email_form("x@example.org", "wrong")).status_code == 200
    assert client.post("/account/email", data=email_form("x@example.org", "wrong")).status_code == 429


# --- devices -------------------------------------------------------------------------------------
def test_devices_are_listed_and_one_is_logged_out(client, db, entrant):
    phone = open_login(db, entrant)
    db.get(LoginSession, phone).user_agent = IPHONE
    db.get(LoginSession, phone).created_at = now_utc() - timedelta(hours=2, minutes=5)
    laptop = open_login(db, entrant)
    db.get(LoginSession, laptop).user_agent = WINDOWS_EDGE
    db.commit()
    log_in(client, entrant)

    page = client.get("/account/", headers=EN).text

    assert "You are logged in on 3 devices." in page
    assert "Safari on iPhone" in page and "Edge on Windows" in page and "this device" in page
    assert phone not in page and laptop not in page  # the ids stay in the cookies
    assert "last seen 2 hours ago" in page
    ended = client.post(f"/account/devices/{handle(phone)}/log-out", headers=EN, follow_redirects=True)
    assert "That device is logged out." in ended.text and "You are logged in on 2 devices." in ended.text
    db.expire_all()
    assert db.get(LoginSession, phone).revoked_at is not None
    assert db.get(LoginSession, laptop).revoked_at is None


def test_logging_out_this_device_from_the_list(client, db, entrant):
    log_in(client, entrant)
    here = handle(entrant.login_session_id)
    answer = client.post(f"/account/devices/{here}/log-out", headers=EN)
    assert answer.status_code == 302 and answer.headers["Location"] == "/account/login"
    assert client.get("/account/").status_code == 302


def test_another_accounts_device_cannot_be_logged_out(client, db, entrant, judge):
    theirs = open_login(db, judge)
    db.commit()
    log_in(client, entrant)
    assert client.post(f"/account/devices/{handle(theirs)}/log-out").status_code == 404
    db.expire_all()
    assert db.get(LoginSession, theirs).revoked_at is None


def test_last_seen_moves_forward_after_a_while(client, db, entrant):
    log_in(client, entrant)
    login_row = db.get(LoginSession, entrant.login_session_id)
    assert client.get("/account/").status_code == 200
    db.expire_all()
    assert login_row.last_seen_at is None  # seen recently: nothing written
    long_ago = now_utc() - SEEN_EVERY - timedelta(minutes=1)
    login_row.created_at = long_ago
    db.commit()
    before = now_utc()
    client.get("/account/")
    db.expire_all()
    assert login_row.last_seen_at >= before


def test_devices_are_read_from_the_user_agent():
    assert describe_device(IPHONE) == ("Safari", "iPhone")
    assert describe_device(WINDOWS_EDGE) == ("Edge", "Windows")
    android_chrome = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36"
    assert describe_device(android_chrome) == ("Chrome", "Android")
    assert describe_device("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0") == (
        "Firefox",
        "Linux",
    )
    assert describe_device("curl/8.5") == (None, None)


# --- deleting the account ------------------------------------------------------------------------
@pytest.fixture
def sent_tasks(monkeypatch):
    """The tasks sent after each commit, as the broker would receive them."""
    sent = []
    monkeypatch.setattr(dispatch, "send_now", lambda name, *args: sent.append((name, args)) or True)
    return sent


def test_deleting_the_account(app, client, db, voting, entrant, storage, sent_tasks):
    author = create_user(db, "author@example.com")
    theirs = make_entry(db, voting, author)
    cast_vote(
        db, contest=voting, entry=theirs, voter=entrant, signals=SIGNALS, secret=SECRET, at=vn(2025, 6, 10)
    )
    db.commit()
    tally_before = official_tally(db, voting)
    key = "originals/account-test/IMG_0001.JPG"
    storage.save(key, io.BytesIO(b"\xff\xd8 a photo"), content_type="image/jpeg")
    submitted = create_entry_with_original(db, voting, entrant, storage_key=key, size=10)
    approved = make_entry(db, voting, entrant)
    rejected = make_entry(db, voting, entrant, status=EntryStatus.rejected)
    db.commit()
    log_in(client, entrant)

    page = client.get("/account/delete", headers=EN)
    assert page.status_code == 200 and "Your entries are withdrawn" in page.text
    answer = client.post("/account/delete", data={"delete-password": PASSWORD, "delete-understood": "y"})

    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    db.expire_all()
    for entry in (submitted, approved, rejected):
        assert db.get(Entry, entry.id).status is EntryStatus.withdrawn
    # The files go through the withdrawal's own path: one purge per entry, sent after the commit.
    purges = sorted(args[0] for name, args in sent_tasks if name == "worker.purge_entry_media")
    assert purges == sorted([submitted.id, approved.id, rejected.id])
    with app.app_context():
        for entry_id in purges:
            purge_media(entry_id)
    assert not storage.exists(key) and list(storage.keys()) == []
    # Personal data erased; the votes still count, under no name.
    user = db.get(User, entrant.id)
    assert (user.full_name, user.birth_year, user.active) == ("", None, False)
    assert user.email == f"{user.id}@deleted.invalid" and user.deleted_at is not None
    assert "entrant@example.com" not in {u.email for u in db.scalars(select(User))}
    assert db.scalar(select(func.count()).select_from(Vote).where(Vote.voter_id == user.id)) == 1
    assert official_tally(db, voting) == tally_before
    assert db.get(Entry, theirs.id).vote_count == 1
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "account.deleted"))
    assert event.subject_id == user.id and event.details == {"entries_withdrawn": 3}
    # Logged out everywhere, and no way back in.
    assert (
        db.scalar(
            select(func.count())
            .select_from(LoginSession)
            .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
        )
        == 0
    )
    assert client.get("/account/").status_code == 302
    assert login(client, "entrant@example.com", headers=EN).status_code == 200


def test_deleting_needs_the_password_and_the_tick(client, db, entrant):
    log_in(client, entrant, lang="vi")
    wrong = client.post("/account/delete", data={"delete-password": "nope", "delete-understood": "y"})
    assert wrong.status_code == 400 and "Đây không phải là mật khẩu hiện tại của bạn." in wrong.text
    unticked = client.post("/account/delete", data={"delete-password": PASSWORD}, headers=EN)
    assert unticked.status_code == 400
    db.expire_all()
    assert entrant.active and entrant.deleted_at is None and entrant.email == "entrant@example.com"


def test_an_entrant_whose_entry_is_given_a_prize_is_sent_to_the_organizers(client, db, contest, entrant):
    """Withdrawing a prize-winning entry would change results that may be frozen or published."""
    from contest.results.prizes import Award, PrizeKind, PrizeSlot

    entry = make_entry(db, contest, entrant)
    slot = PrizeSlot(
        contest_id=contest.id, category_id=entry.category_id, kind=PrizeKind.jury, name_vi="G", name_en="P"
    )
    db.add(slot)
    db.flush()
    db.add(
        Award(
            slot_id=slot.id,
            kind=slot.kind,
            category_id=entry.category_id,
            place=1,
            entry_id=entry.id,
            proposed_entry_id=entry.id,
            assigned_by_id=entrant.id,
        )
    )
    db.commit()
    log_in(client, entrant, lang="vi")
    refused = client.post("/account/delete", data={"delete-password": PASSWORD, "delete-understood": "y"})
    assert refused.status_code == 400
    assert "Một tác phẩm của bạn được trao giải" in refused.text
    db.expire_all()
    assert entrant.deleted_at is None and entry.status is EntryStatus.approved


def test_an_entrant_still_cannot_withdraw_a_rejected_entry(client, db, contest, entrant):
    """Only deleting the account withdraws a rejected entry: it keeps its place under the limits."""
    rejected = make_entry(db, contest, entrant, status=EntryStatus.rejected)
    approved = make_entry(db, contest, entrant)
    log_in(client, entrant)
    assert client.post(f"/entries/{approved.code}/withdraw").status_code == 302
    client.post(f"/entries/{rejected.code}/withdraw")
    db.expire_all()
    assert (approved.status, rejected.status) == (EntryStatus.withdrawn, EntryStatus.rejected)


# --- access ---------------------------------------------------------------------------------------
# (method, route) -> status for (anonymous, entrant, judge, organizer). Empty forms: the page
# again with its messages; an unknown device: 404; a bad link: 400 for anyone.
ROUTES = {
    ("POST", "/account/details"): (302, 200, 200, 200),
    ("POST", "/account/email"): (302, 200, 200, 200),
    ("GET", "/account/email/not-a-token"): (400, 400, 400, 400),
    ("POST", "/account/devices/0000000000000000/log-out"): (302, 404, 404, 404),
    ("GET", "/account/delete"): (302, 200, 403, 403),
    ("POST", "/account/delete"): (302, 400, 403, 403),
}
ROLES = ("anonymous", "entrant", "judge", "organizer")


@pytest.mark.parametrize(("method", "route"), list(ROUTES))
@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(request, client, db, method, route, role):
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    answer = client.open(route, method=method, headers=EN)
    assert answer.status_code == ROUTES[(method, route)][ROLES.index(role)]
    if answer.status_code == 302:
        assert answer.headers["Location"].startswith("/account/login")


# --- on a phone ------------------------------------------------------------------------------------
@pytest.mark.browser
def test_the_account_pages_on_a_phone(tmp_path, browser_page):
    """390 px wide: the account page and the deletion page fit, and deleting works. Their
    screenshots are kept in .artifacts/account/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    config = make_test_config(tmp_path, f"sqlite:///{tmp_path / 'site.sqlite'}")
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    with app.app_context():
        create_user(
            db_ext.session, "phone@example.com", full_name="Nguyễn Thị Phương Thảo Quỳnh Anh", locale="en"
        )
    page = browser_page.page
    try:
        with live_server(app) as url:
            log_in_page(page, url, "phone@example.com", PASSWORD)
            page.goto(f"{url}/account/", wait_until="load")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            assert page.get_by_text("this device").is_visible()
            page.screenshot(path=str(SCREENSHOTS / "account-phone-en.png"), full_page=True)
            page.get_by_role("link", name="Delete my account…").click()
            page.wait_for_load_state("load")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.screenshot(path=str(SCREENSHOTS / "account-delete-phone-en.png"), full_page=True)
            page.fill("input[name=delete-password]", PASSWORD)
            page.check("input[name=delete-understood]")
            page.get_by_role("button", name="Delete my account for good").click()
            page.wait_for_load_state("load")
            assert page.url == f"{url}/"
            assert page.get_by_text("Your account is deleted.").is_visible()
        assert browser_page.problems() == []
    finally:
        app.extensions["db"].dispose()
