"""Logins that end: logging out, a password change or reset and "log out everywhere" end the
session cookie and the "keep me logged in" cookie for good, copies included, the vote's one
statement too (contest.auth.sessions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import psycopg
import pytest
from sqlalchemy import func, select

from contest import create_app
from contest.auth.models import LoginSession, User
from contest.config import load_settings
from contest.contests.demo import build_demo_contest
from contest.extensions import db as db_ext
from contest.voting.models import Vote
from contest.voting.statement import VOTE_SQL, statement_params
from tests.browser import live_server, log_in_page
from tests.support import (
    PASSWORD,
    app_on_own_database,
    create_user,
    driver_statements,
    log_in,
    make_entry,
    make_test_config,
    migrate,
    open_login,
    signup_data,
    vn,
)
from tests.test_auth import NEW_PASSWORD, emails_to, link_in
from tests.test_voting import SECRET, SIGNALS

EN = {"Accept-Language": "en"}
JSON = {"Accept": "application/json"}
COOKIES = ("session", "remember_token")


# --- helpers ------------------------------------------------------------------------------
def logged_in(app, email: str, *, remember: bool = False, password: str = PASSWORD):
    """A new browser, logged in through the login form, its pages in English."""
    browser = app.test_client()
    form = {"email": email, "password": password, **({"remember": "y"} if remember else {})}
    assert browser.post("/account/login", data=form).status_code == 302
    browser.get("/language/en")
    return browser


def copied(browser) -> dict[str, str]:
    """The browser's login cookies, as someone who copied them keeps them."""
    return {name: browser.get_cookie(name).value for name in COOKIES if browser.get_cookie(name)}


def replayed(app, cookies: dict[str, str], only: str | None = None):
    """A new browser holding copies of ``cookies`` (or of the one named ``only``)."""
    browser = app.test_client()
    for name, value in cookies.items():
        if only in (None, name):
            browser.set_cookie(name, value)
    return browser


def is_logged_in(browser) -> bool:
    answer = browser.get("/account/", headers=EN)
    assert answer.status_code in (200, 302)
    if answer.status_code == 302:
        assert answer.headers["Location"].startswith("/account/login")
    return answer.status_code == 200


def reset_through_the_mailed_link(app, db, email: str) -> None:
    owner = app.test_client()
    owner.post("/account/forgot-password", data={"email": email})
    path = link_in(emails_to(db, email)[-1], "/account/reset/")
    done = owner.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/account/login"


# --- logging out --------------------------------------------------------------------------
def test_a_session_cookie_replayed_after_logout_logs_nobody_in(app, client, db, entrant):
    browser = logged_in(app, entrant.email)
    kept = copied(browser)
    assert is_logged_in(replayed(app, kept))  # a copy works while the login is open
    assert browser.post("/account/logout").status_code == 302

    intruder = replayed(app, kept)
    assert not is_logged_in(intruder)
    home = intruder.get("/", headers=EN).text
    assert "/account/login" in home and "Log out" not in home


def test_logging_out_on_one_device_leaves_the_others_logged_in(app, client, db, entrant):
    phone, laptop = logged_in(app, entrant.email), logged_in(app, entrant.email, remember=True)
    phone.post("/account/logout")
    assert not is_logged_in(phone) and is_logged_in(laptop)


# --- password change ----------------------------------------------------------------------
def change_password(browser, current: str = PASSWORD, new: str = NEW_PASSWORD):
    form = {"current_password": current, "password": new, "password_confirm": new}
    return browser.post("/account/password", data=form, headers=EN)


def test_a_password_change_ends_the_other_logins_and_keeps_this_one(app, client, db, entrant):
    changer = logged_in(app, entrant.email)
    other = logged_in(app, entrant.email, remember=True)
    kept = copied(other)
    assert set(kept) == set(COOKIES)

    answer = change_password(changer)
    assert answer.status_code == 302 and answer.headers["Location"] == "/account/"
    page = changer.get("/account/", headers=EN).text
    assert "You are logged out on every other device." in page
    assert "You are logged in on 1 device." in page

    assert not is_logged_in(other)
    assert not is_logged_in(replayed(app, kept, only="remember_token"))
    db.expire_all()
    assert db.get(User, entrant.id).check_password(NEW_PASSWORD)


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("not my password", NEW_PASSWORD, NEW_PASSWORD, "This is not your current password."),
        (PASSWORD, NEW_PASSWORD, "something else", "The two passwords are not the same."),
        (PASSWORD, "short", "short", "The password must have at least 10 characters."),
        ("", NEW_PASSWORD, NEW_PASSWORD, "Please enter your current password."),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(
    app, client, db, entrant, current, new, confirm, message
):
    changer, other = logged_in(app, entrant.email), logged_in(app, entrant.email)
    form = {"current_password": current, "password": new, "password_confirm": confirm}
    answer = changer.post("/account/password", data=form, headers=EN)
    assert answer.status_code == 200 and message in answer.text
    db.expire_all()
    assert db.get(User, entrant.id).check_password(PASSWORD)
    assert is_logged_in(other)


# --- password reset -----------------------------------------------------------------------
def test_a_password_reset_ends_every_login_and_remember_cookie(app, client, db, entrant):
    remembered = logged_in(app, entrant.email, remember=True)
    kept = copied(remembered)

    reset_through_the_mailed_link(app, db, entrant.email)

    assert not is_logged_in(remembered)
    assert not is_logged_in(replayed(app, kept, only="session"))
    assert not is_logged_in(replayed(app, kept, only="remember_token"))
    assert is_logged_in(logged_in(app, entrant.email, password=NEW_PASSWORD))


def test_the_owner_claiming_an_address_ends_the_session_of_who_registered_it(app, client, db):
    """Pre-registration takeover: someone signs up with a stranger's address and stays logged
    in; when the owner claims it through "forgot password" (which confirms it), they are out."""
    signed_up = app.test_client().post("/account/register", data=signup_data(email="victim@example.com"))
    assert signed_up.status_code == 302
    intruder = logged_in(app, "victim@example.com")
    assert intruder.get("/account/unverified").status_code == 200  # logged in, unconfirmed

    reset_through_the_mailed_link(app, db, "victim@example.com")

    db.expire_all()
    assert db.scalar(select(User).where(User.email == "victim@example.com")).is_verified
    assert not is_logged_in(intruder)
    assert "Log out" not in intruder.get("/", headers=EN).text


def test_a_password_set_from_the_command_line_ends_the_accounts_logins(app, client, db, entrant):
    browser = logged_in(app, entrant.email)
    answer = app.test_cli_runner().invoke(
        args=["contest", "create-judge", entrant.email, "--password", NEW_PASSWORD]
    )
    assert answer.exit_code == 0, answer.output
    assert not is_logged_in(browser)


# --- log out everywhere -------------------------------------------------------------------
def test_log_out_everywhere_ends_every_login_this_one_included(app, client, db, entrant):
    here, there = logged_in(app, entrant.email), logged_in(app, entrant.email, remember=True)
    kept = copied(there)
    assert "You are logged in on 2 devices." in here.get("/account/", headers=EN).text

    answer = here.post("/account/log-out-everywhere", headers=EN)
    assert answer.status_code == 302 and answer.headers["Location"] == "/account/login"

    assert not is_logged_in(here) and not is_logged_in(there)
    assert not is_logged_in(replayed(app, kept, only="remember_token"))
    open_logins = select(func.count()).select_from(LoginSession).where(LoginSession.revoked_at.is_(None))
    assert db.scalar(open_logins) == 0


def test_log_out_everywhere_needs_the_pages_csrf_token(app, client, db, entrant, monkeypatch):
    here = logged_in(app, entrant.email)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert here.post("/account/log-out-everywhere").status_code == 400
    assert is_logged_in(here)


# --- the remember cookie ------------------------------------------------------------------
def remember_cookie_header(browser, email: str) -> str:
    answer = browser.post("/account/login", data={"email": email, "password": PASSWORD, "remember": "y"})
    (header,) = [h for h in answer.headers.getlist("Set-Cookie") if h.startswith("remember_token=")]
    return header


def expires_in(header: str) -> timedelta:
    expires = next(part for part in header.split("; ") if part.startswith("Expires="))
    return parsedate_to_datetime(expires.removeprefix("Expires=")) - datetime.now(UTC)


def test_the_remember_cookie_is_lax_http_only_and_lasts_thirty_days(client, db, entrant):
    header = remember_cookie_header(client, entrant.email)
    assert "SameSite=Lax" in header and "HttpOnly" in header and "Secure" not in header
    assert timedelta(days=29, hours=23) < expires_in(header) <= timedelta(days=30)
    (login,) = db.scalars(select(LoginSession).where(LoginSession.user_id == entrant.id))
    assert login.remember and timedelta(days=29, hours=23) < login.expires_at - datetime.now(UTC)


def test_the_remember_cookies_lifetime_is_configuration(client, db, entrant, app, monkeypatch):
    monkeypatch.setitem(app.config, "REMEMBER_COOKIE_DURATION", timedelta(days=7))
    header = remember_cookie_header(client, entrant.email)
    assert timedelta(days=6, hours=23) < expires_in(header) <= timedelta(days=7)


def test_remember_cookie_settings_by_environment(tmp_path):
    production = load_settings(
        {"CONTEST_ENV": "production", "REMEMBER_COOKIE_DAYS": "7", "CONTEST_INSTANCE": str(tmp_path)}
    )
    development = load_settings({"CONTEST_ENV": "development", "CONTEST_INSTANCE": str(tmp_path)})
    assert production["REMEMBER_COOKIE_DURATION"] == timedelta(days=7)
    assert development["REMEMBER_COOKIE_DURATION"] == timedelta(days=30)
    assert (production["REMEMBER_COOKIE_SECURE"], development["REMEMBER_COOKIE_SECURE"]) == (True, False)
    for settings in (production, development):
        assert (settings["REMEMBER_COOKIE_SAMESITE"], settings["REMEMBER_COOKIE_HTTPONLY"]) == ("Lax", True)


def test_an_expired_login_logs_nobody_in(app, client, db, entrant):
    browser = logged_in(app, entrant.email, remember=True)
    for login in db.scalars(select(LoginSession).where(LoginSession.user_id == entrant.id)):
        login.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.commit()
    assert not is_logged_in(browser)


# --- votes ----------------------------------------------------------------------------------
def test_a_replayed_session_of_an_ended_login_cannot_vote(app, client, db, contest):
    """On PostgreSQL the vote's one statement refuses it; on both, the general path then does."""
    entry = make_entry(db, contest, create_user(db, "author@example.com"))
    voter = create_user(db, "voter@example.com")
    browser = logged_in(app, voter.email)
    kept = copied(browser)
    browser.post("/account/logout")

    answer = replayed(app, kept).post(f"/e/{entry.code}/vote", headers=JSON)
    assert answer.status_code == 401 and "login_url" in answer.get_json()
    assert db.scalar(select(func.count(Vote.id))) == 0


def test_the_vote_statement_counts_only_an_open_login_of_the_voter(db, voting):
    """The rule in the statement itself (run here in the test's transaction, as record_vote runs it)."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("the one-statement vote is PostgreSQL's")
    entry = make_entry(db, voting, create_user(db, "author@example.com"))
    voter, other = create_user(db, "voter@example.com"), create_user(db, "other@example.com")
    ended = open_login(db, voter)
    db.get(LoginSession, ended).revoked_at = datetime.now(UTC)
    db.flush()

    def vote(login_session: str) -> int | None:
        at = vn(2025, 6, 10, 9)
        params = statement_params(entry.code, voter.id, SIGNALS, None, SECRET, at, login_session)
        found = db.connection().exec_driver_sql(VOTE_SQL, params).first()
        return found and found[0]

    assert vote(ended) is None  # revoked
    assert vote(open_login(db, other)) is None  # another account's login
    assert vote("no-such-login") is None
    assert db.scalar(select(func.count(Vote.id))) == 0
    assert vote(open_login(db, voter)) is not None
    assert db.scalar(select(func.count(Vote.id))) == 1


def test_on_the_production_vote_pool_an_ended_logins_vote_is_refused(tmp_path):
    """The vote's hot path as production runs it: its statement, on the votes' own pool, finds
    the replayed login ended and writes nothing; Flask-Login then refuses the session too."""
    with app_on_own_database(tmp_path) as (app, url):
        state = app.extensions["db"]
        with app.app_context():
            contest, _ = build_demo_contest(db_ext.session)
            db_ext.session.commit()
            create_user(db_ext.session, "voter@example.com")
            code = make_entry(db_ext.session, contest, create_user(db_ext.session, "author@example.com")).code
        browser = logged_in(app, "voter@example.com")
        kept = copied(browser)
        browser.post("/account/logout")
        state.vote_engine.pool.dispose()
        sent_for_votes = driver_statements(state.vote_engine)

        answer = replayed(app, kept).post(f"/e/{code}/vote", headers=JSON)
        assert answer.status_code == 401 and "login_url" in answer.get_json()
        assert [sent for sent in sent_for_votes if "INSERT INTO votes" in sent]  # the statement ran
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as other:
            assert other.execute("SELECT count(*) FROM votes").fetchone()[0] == 0

        again = logged_in(app, "voter@example.com").post(f"/e/{code}/vote", headers=JSON)
        assert again.status_code == 200 and again.get_json()["count"] == 1


# --- access -----------------------------------------------------------------------------------
# (method, route, what any logged-in account gets): the page; an empty password form answered
# with its messages; "log out everywhere" sends to the login page.
ROUTES = [
    ("GET", "/account/", 200),
    ("POST", "/account/password", 200),
    ("POST", "/account/log-out-everywhere", 302),
]


@pytest.mark.parametrize(("method", "route", "for_members"), ROUTES)
@pytest.mark.parametrize("role", ["anonymous", "entrant", "judge", "organizer"])
def test_access_matrix(request, client, db, method, route, for_members, role):
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    answer = client.open(route, method=method, headers=EN)
    assert answer.status_code == (302 if role == "anonymous" else for_members)
    if answer.status_code == 302:
        assert answer.headers["Location"].startswith("/account/login")


def test_the_account_page_in_vietnamese(client, db, entrant):
    log_in(client, entrant, lang=None)
    page = client.get("/account/").text
    assert '<html lang="vi">' in page and entrant.email in page
    assert "Đăng xuất trên mọi thiết bị" in page


# --- on a phone -------------------------------------------------------------------------------
@pytest.mark.browser
def test_the_account_page_on_a_phone(tmp_path, browser_page):
    """390 px wide in headless Chromium: nothing wider than the screen, no policy violation, and
    its "log out everywhere" button logs out."""
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
            assert page.locator("input[name=current_password]").is_visible()
            page.get_by_role("button", name="Log out everywhere").click()
            page.wait_for_load_state("load")
            assert page.url == f"{url}/account/login"
            page.goto(f"{url}/account/", wait_until="load")
            assert page.url.startswith(f"{url}/account/login")
        assert browser_page.problems() == []
    finally:
        app.extensions["db"].dispose()
