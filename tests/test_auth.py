"""Accounts: sign-up, e-mail confirmation, log-in and out, password reset, staff CLI, rate limits."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from contest import create_app
from contest.auth.models import Role, User
from contest.auth.tokens import RESET_PASSWORD_SALT, VERIFY_EMAIL_SALT
from contest.extensions import limiter
from contest.mail.models import OutboundEmail
from contest.timeutil import vn_today
from tests.support import PASSWORD, create_user, login, make_test_config, signup_data

EN = {"Accept-Language": "en"}
NEW_PASSWORD = "a brand new passphrase"


def emails_to(db, recipient: str) -> list[OutboundEmail]:
    db.expire_all()
    return list(
        db.scalars(
            select(OutboundEmail).where(OutboundEmail.recipient == recipient).order_by(OutboundEmail.id)
        )
    )


def link_in(email: OutboundEmail, route: str) -> str:
    """The absolute link of ``route`` in an e-mail, as a path the test client can open."""
    match = re.search(rf"https?://\S+{route}\S+", email.body_text)
    assert match, email.body_text
    return urlsplit(match.group(0)).path


def user_count(db, email: str) -> int:
    return db.scalar(select(func.count()).select_from(User).where(func.lower(User.email) == email.lower()))


def old_token(app, salt: str, payload: dict, age_s: int) -> str:
    """A token signed as the application signs them, but ``age_s`` seconds ago."""

    class SignedInThePast(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age_s

    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=salt, signer=SignedInThePast).dumps(payload)


# --- the whole journey ------------------------------------------------------------------
def test_register_confirm_logout_login_journey(client, db):
    page = client.get("/account/register", headers=EN)
    assert page.status_code == 200
    assert '<option selected value="VN">Vietnam</option>' in page.text

    response = client.post("/account/register", data=signup_data(email="  Lan@Example.com "), headers=EN)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/login"
    assert "We sent an e-mail to lan@example.com" in client.get("/account/login", headers=EN).text
    # Signing up logs nobody in (a taken address is answered the same way).
    assert client.get("/account/unverified").headers["Location"].startswith("/account/login")

    db.expire_all()
    user = db.scalar(select(User).where(User.email == "lan@example.com"))
    assert user is not None
    assert (user.role, user.locale, user.country, user.birth_year) == (Role.entrant, "en", "VN", 1995)
    assert user.full_name == "Nguyễn Thị Lan"
    assert not user.is_verified
    assert user.check_password(PASSWORD)

    (email,) = emails_to(db, "lan@example.com")
    assert email.subject == "Confirm your e-mail address for Happy Nghe An"
    assert email.body_text.startswith("Hello,\n") and "Lan" not in email.body_text
    assert email.sent_at is None

    # Logged in before confirming: the reminder page.
    assert login(client, "lan@example.com").status_code == 302
    page = client.get("/account/unverified", headers=EN)
    assert "We sent an e-mail to lan@example.com" in page.text

    confirmed = client.get(link_in(email, "/account/verify/"), headers=EN, follow_redirects=True)
    assert confirmed.status_code == 200
    assert "your e-mail address is confirmed" in confirmed.text
    db.expire_all()
    assert db.get(User, user.id).is_verified

    assert client.post("/account/logout", headers=EN).status_code == 302
    assert client.get("/account/unverified").headers["Location"].startswith("/account/login")

    logged_in = client.post(
        "/account/login?next=/rules", data={"email": "LAN@example.com", "password": PASSWORD}, headers=EN
    )
    assert logged_in.status_code == 302
    assert logged_in.headers["Location"] == "/rules"
    db.expire_all()
    assert db.get(User, user.id).last_login_at is not None
    # Logged in and confirmed: the reminder page sends them on.
    assert client.get("/account/unverified").headers["Location"] == "/"


def test_register_in_vietnamese_writes_the_email_in_vietnamese(client, db):
    assert client.get("/account/register").status_code == 200
    assert client.post("/account/register", data=signup_data()).status_code == 302
    db.expire_all()
    assert db.scalar(select(User.locale).where(User.email == "lan@example.com")) == "vi"
    (email,) = emails_to(db, "lan@example.com")
    assert email.subject
    assert "/account/verify/" in email.body_text


def test_country_list_is_sorted_by_name_in_the_visitors_language(client):
    page = client.get("/account/register", headers=EN).text
    names = re.findall(r'<option (?:selected )?value="[A-Z]{2}">([^<]+)</option>', page)
    assert len(names) > 240
    assert names.index("Afghanistan") < names.index("Vietnam") < names.index("Zimbabwe")
    assert "World" not in names and "European Union" not in names
    assert client.get("/account/register").status_code == 200


# --- bad input: a clear message and no account ------------------------------------------
TOO_YOUNG = str(vn_today().year - 14)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "not-an-address"}, "Please enter a valid e-mail address"),
        ({"email": ""}, "Please enter your e-mail address."),
        (
            {"password": "short", "password_confirm": "short"},
            "The password must have at least 10 characters.",
        ),
        ({"password_confirm": PASSWORD + "x"}, "The two passwords are not the same."),
        ({"full_name": "   "}, "Please enter your full name."),
        ({"full_name": "A" * 121}, "The name can have at most 120 characters."),
        ({"birth_year": TOO_YOUNG}, "You must be 15 or older to take part in the contest."),
        ({"birth_year": "1899"}, "Please enter your real year of birth."),
        ({"birth_year": "nineteen"}, "Please write the year with digits only"),
        ({"birth_year": ""}, "Please enter your year of birth."),
        ({"country": "XX"}, "Not a valid choice"),
    ],
    ids=[
        "email",
        "no-email",
        "short-password",
        "confirm",
        "no-name",
        "long-name",
        "under-15",
        "before-1900",
        "year-words",
        "no-year",
        "country",
    ],
)
def test_bad_signup_input_is_explained_and_creates_nothing(client, db, overrides, message):
    data = signup_data(**overrides)
    response = client.post("/account/register", data=data, headers=EN)
    assert response.status_code == 200
    assert message in response.text
    assert user_count(db, data["email"] or "lan@example.com") == 0
    assert db.scalar(select(func.count()).select_from(OutboundEmail)) == 0


def test_fifteen_this_year_is_old_enough(client, db):
    response = client.post(
        "/account/register", data=signup_data(birth_year=str(vn_today().year - 15)), headers=EN
    )
    assert response.status_code == 302
    assert user_count(db, "lan@example.com") == 1


def test_same_address_in_other_case_makes_no_second_account(client, db):
    create_user(db, "lan@example.com")
    response = client.post("/account/register", data=signup_data(email=" LAN@Example.COM"), headers=EN)
    assert response.status_code == 302  # answered as a new sign-up (tests/test_signup_privacy.py)
    assert user_count(db, "lan@example.com") == 1
    (notice,) = emails_to(db, "lan@example.com")  # the owner is told, no confirmation link
    assert "/account/verify/" not in notice.body_text


# --- confirmation links -----------------------------------------------------------------
def test_expired_confirmation_link_offers_a_new_one(app, client, db):
    # Her account's language is English: once logged in, it outranks the browser's.
    user = create_user(db, "lan@example.com", verified=False, locale="en")
    token = old_token(
        app,
        VERIFY_EMAIL_SALT,
        {"uid": user.id, "email": user.email},
        app.config["EMAIL_TOKEN_MAX_AGE_S"] + 60,
    )

    anonymous = client.get(f"/account/verify/{token}", headers=EN)
    assert anonymous.status_code == 400
    assert "This link has expired" in anonymous.text
    assert "Log in and we will send you a new link." in anonymous.text

    login(client, user.email)
    page = client.get(f"/account/verify/{token}", headers=EN)
    assert page.status_code == 400
    assert "Send me a new link" in page.text
    db.expire_all()
    assert not db.get(User, user.id).is_verified

    resent = client.post("/account/resend-verification", headers=EN, follow_redirects=True)
    assert "We sent a new link to lan@example.com." in resent.text
    (email,) = emails_to(db, "lan@example.com")
    assert client.get(link_in(email, "/account/verify/")).status_code == 302
    db.expire_all()
    assert db.get(User, user.id).is_verified


def test_a_token_signed_just_inside_the_limit_still_works(app, client, db):
    user = create_user(db, "lan@example.com", verified=False)
    token = old_token(
        app,
        VERIFY_EMAIL_SALT,
        {"uid": user.id, "email": user.email},
        app.config["EMAIL_TOKEN_MAX_AGE_S"] - 60,
    )
    assert client.get(f"/account/verify/{token}").status_code == 302
    db.expire_all()
    assert db.get(User, user.id).is_verified


def test_tampered_or_foreign_confirmation_links_are_refused(app, client, db):
    user = create_user(db, "lan@example.com", verified=False)
    other = create_user(db, "minh@example.com", verified=False)
    good = old_token(app, VERIFY_EMAIL_SALT, {"uid": user.id, "email": user.email}, 0)
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    forged = URLSafeTimedSerializer("not-our-secret", salt=VERIFY_EMAIL_SALT).dumps(
        {"uid": other.id, "email": other.email}
    )
    reset_kind = old_token(app, RESET_PASSWORD_SALT, {"uid": user.id, "email": user.email}, 0)
    stale_address = old_token(app, VERIFY_EMAIL_SALT, {"uid": user.id, "email": "old@example.com"}, 0)
    for token in (tampered, forged, reset_kind, stale_address, "garbage"):
        response = client.get(f"/account/verify/{token}", headers=EN)
        assert response.status_code == 400, token
        assert "This link is not valid" in response.text
    db.expire_all()
    assert not db.get(User, user.id).is_verified
    assert not db.get(User, other.id).is_verified


def test_resend_needs_login_and_is_post_only(client, db):
    assert client.get("/account/resend-verification").status_code == 405
    response = client.post("/account/resend-verification")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")
    assert db.scalar(select(func.count()).select_from(OutboundEmail)) == 0


# --- logging in and out -----------------------------------------------------------------
def test_wrong_credentials_get_one_generic_message(client, db, entrant):
    for email, password in ((entrant.email, "wrong password!"), ("nobody@example.com", PASSWORD)):
        response = client.post("/account/login", data={"email": email, "password": password}, headers=EN)
        assert response.status_code == 200
        assert "Wrong e-mail address or password." in response.text
    assert client.get("/account/unverified").status_code == 302  # still anonymous
    assert client.get("/account/unverified").headers["Location"].startswith("/account/login")


def test_disabled_account_cannot_log_in(client, db):
    create_user(db, "gone@example.com", active=False)
    response = client.post(
        "/account/login", data={"email": "gone@example.com", "password": PASSWORD}, headers=EN
    )
    assert response.status_code == 200
    assert "This account has been disabled." in response.text
    assert client.get("/account/unverified").headers["Location"].startswith("/account/login")


def test_disabling_an_account_ends_its_session(client, db, entrant):
    login(client, entrant.email)
    assert client.get("/account/unverified").headers["Location"] == "/"
    entrant.active = False
    db.commit()
    assert client.get("/account/unverified").headers["Location"].startswith("/account/login")


@pytest.mark.parametrize(
    ("target", "landing"),
    [
        ("/rules", "/rules"),
        ("https://evil.example.com/", "/"),
        ("//evil.example.com", "/"),
    ],
)
def test_login_honours_only_a_safe_next(client, entrant, target, landing):
    response = client.post(
        "/account/login", query_string={"next": target}, data={"email": entrant.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == landing


def test_pages_for_members_send_visitors_to_login_with_a_message(client, db):
    response = client.get("/account/unverified", headers=EN)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/login?next=%2Faccount%2Funverified"
    page = client.get(response.headers["Location"], headers=EN)
    assert "Please log in to open this page." in page.text


def test_logout_by_get_is_refused(client, entrant):
    login(client, entrant.email)
    assert client.get("/account/logout").status_code == 405
    assert client.get("/account/unverified").headers["Location"] == "/"  # still logged in
    assert client.post("/account/logout").status_code == 302
    assert client.get("/account/unverified").headers["Location"].startswith("/account/login")


def test_remember_me_sets_a_lasting_cookie(client, entrant):
    client.post("/account/login", data={"email": entrant.email, "password": PASSWORD, "remember": "y"})
    assert client.get_cookie("remember_token") is not None


@pytest.fixture
def limited_app(database_url, tmp_path):
    """An application of its own with rate limiting on (the shared test app has it off).

    Flask-Limiter keeps its on/off switch on the one Limiter object: put it back afterwards.
    """
    was_enabled = limiter.enabled
    app = create_app(
        make_test_config(
            tmp_path,
            database_url,
            RATELIMIT_ENABLED=True,
            LOGIN_RATE_LIMIT="3 per minute",
            SIGNUP_RATE_LIMIT="2 per minute",
        )
    )
    limiter.reset()
    try:
        yield app
    finally:
        limiter.reset()
        limiter.enabled = was_enabled
        app.extensions["db"].dispose()


def test_login_is_rate_limited(limited_app):
    client = limited_app.test_client()
    wrong = {"email": "nobody@example.com", "password": "not the password"}
    for _ in range(3):
        assert client.post("/account/login", data=wrong, headers=EN).status_code == 200
    refused = client.post("/account/login", data=wrong, headers=EN)
    assert refused.status_code == 429
    assert "Too many attempts" in refused.text
    assert client.get("/account/login").status_code == 200  # reading the page is not limited


def test_signup_is_rate_limited(limited_app):
    client = limited_app.test_client()
    bad = signup_data(password="short", password_confirm="short")  # nothing is created
    for _ in range(2):
        assert client.post("/account/register", data=bad, headers=EN).status_code == 200
    assert client.post("/account/register", data=bad, headers=EN).status_code == 429


def test_account_forms_carry_their_csrf_token(database_url, tmp_path):
    """With CSRF on (as in production) the forms work, and a post without the token is refused."""
    app = create_app(make_test_config(tmp_path, database_url, WTF_CSRF_ENABLED=True))
    try:
        client = app.test_client()
        for path, data, answer in (
            (
                "/account/login",
                {"email": "nobody@example.com", "password": "not the password"},
                "Wrong e-mail address or password.",
            ),
            ("/account/register", signup_data(birth_year="1899"), "Please enter your real year of birth."),
            ("/account/forgot-password", {"email": "nobody"}, "Please enter a valid e-mail address"),
        ):
            page = client.get(path, headers=EN).text
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            assert answer in client.post(path, data={**data, "csrf_token": token}, headers=EN).text
            refused = client.post(path, data=data, headers=EN)
            assert refused.status_code == 400
            assert "Form expired" in refused.text
        assert client.post("/account/logout").status_code == 400
    finally:
        app.extensions["db"].dispose()


# --- password reset ---------------------------------------------------------------------
def test_password_reset_end_to_end_and_single_use(client, db, entrant):
    entrant.locale = "en"  # the e-mail is written in the account's language
    db.commit()
    asked = client.post(
        "/account/forgot-password", data={"email": " ENTRANT@example.com"}, headers=EN, follow_redirects=True
    )
    assert "we have sent it a link to choose a new password" in asked.text
    (email,) = emails_to(db, entrant.email)
    assert email.subject == "Choose a new password for Happy Nghe An"
    path = link_in(email, "/account/reset/")

    form = client.get(path, headers=EN)
    assert form.status_code == 200
    assert "For the account entrant@example.com." in form.text

    mismatch = client.post(
        path, data={"password": NEW_PASSWORD, "password_confirm": "something else"}, headers=EN
    )
    assert "The two passwords are not the same." in mismatch.text
    short = client.post(path, data={"password": "short", "password_confirm": "short"}, headers=EN)
    assert "The password must have at least 10 characters." in short.text

    done = client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}, headers=EN)
    assert done.status_code == 302
    assert done.headers["Location"] == "/account/login"
    db.expire_all()
    assert db.get(User, entrant.id).check_password(NEW_PASSWORD)

    used = client.get(path, headers=EN)
    assert used.status_code == 400
    assert "This link is not valid" in used.text
    again = client.post(
        path,
        data={"password": "yet another passphrase", "password_confirm": "yet another passphrase"},
        headers=EN,
    )
    assert again.status_code == 400
    db.expire_all()
    assert db.get(User, entrant.id).check_password(NEW_PASSWORD)

    assert "Wrong e-mail address" in login(client, entrant.email, PASSWORD, headers=EN).text
    assert login(client, entrant.email, NEW_PASSWORD).status_code == 302


def test_forgot_password_answers_the_same_for_unknown_addresses(client, db, entrant):
    known = client.post(
        "/account/forgot-password", data={"email": "entrant@example.com"}, headers=EN, follow_redirects=True
    )
    unknown = client.post(
        "/account/forgot-password", data={"email": "nobody@example.com"}, headers=EN, follow_redirects=True
    )
    message = "we have sent it a link to choose a new password"
    assert message in known.text and message in unknown.text
    assert len(emails_to(db, "entrant@example.com")) == 1
    assert emails_to(db, "nobody@example.com") == []
    invalid = client.post("/account/forgot-password", data={"email": "nobody"}, headers=EN)
    assert "Please enter a valid e-mail address" in invalid.text


def test_reset_confirms_an_unconfirmed_address(client, db):
    user = create_user(db, "lan@example.com", verified=False)
    client.post("/account/forgot-password", data={"email": user.email})
    (email,) = emails_to(db, user.email)
    path = link_in(email, "/account/reset/")
    client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    db.expire_all()
    assert db.get(User, user.id).is_verified


def test_expired_reset_link_offers_a_new_one(app, client, db, entrant):
    from contest.auth.tokens import password_fingerprint

    token = old_token(
        app,
        RESET_PASSWORD_SALT,
        {"uid": entrant.id, "pw": password_fingerprint(entrant)},
        app.config["PASSWORD_RESET_MAX_AGE_S"] + 60,
    )
    response = client.get(f"/account/reset/{token}", headers=EN)
    assert response.status_code == 400
    assert "This link has expired" in response.text
    assert "/account/forgot-password" in response.text
    tampered = client.get(f"/account/reset/{token[:-2]}zz", headers=EN)
    assert tampered.status_code == 400
    db.expire_all()
    assert db.get(User, entrant.id).check_password(PASSWORD)


# --- staff accounts from the command line -----------------------------------------------
def test_cli_creates_a_confirmed_organizer(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["contest", "create-organizer", "Boss@Example.com", "--name", "Trần Thị Bình"],
        input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created organizer boss@example.com" in result.output
    db.expire_all()
    user = db.scalar(select(User).where(User.email == "boss@example.com"))
    assert (user.role, user.full_name, user.is_verified) == (Role.organizer, "Trần Thị Bình", True)
    assert user.check_password(NEW_PASSWORD)


def test_cli_promotes_an_existing_account_to_judge_keeping_its_password(app, db, entrant):
    result = app.test_cli_runner().invoke(args=["contest", "create-judge", "entrant@example.com"])
    assert result.exit_code == 0, result.output
    assert "role changed from entrant to judge" in result.output
    db.expire_all()
    user = db.get(User, entrant.id)
    assert user.role is Role.judge
    assert user.check_password(PASSWORD)


def test_cli_creates_a_judge_with_password_option(app, db):
    result = app.test_cli_runner().invoke(
        args=[
            "contest",
            "create-judge",
            "judge2@example.com",
            "--name",
            "Lê Văn Cường",
            "--password",
            NEW_PASSWORD,
        ]
    )
    assert result.exit_code == 0, result.output
    db.expire_all()
    user = db.scalar(select(User).where(User.email == "judge2@example.com"))
    assert user.role is Role.judge and user.is_verified


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["new@example.com", "--password", NEW_PASSWORD], "needs a full name"),
        (["new@example.com", "--name", "X Y", "--password", "short"], "at least 10 characters"),
        (["not-an-address", "--name", "X Y", "--password", NEW_PASSWORD], "EMAIL"),
    ],
)
def test_cli_refuses_incomplete_accounts(app, db, args, message):
    result = app.test_cli_runner().invoke(args=["contest", "create-organizer", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert db.scalar(select(func.count()).select_from(User)) == 0
