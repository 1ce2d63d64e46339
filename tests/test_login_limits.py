"""Wrong passwords counted per account as well as per address (contest.auth.lockout)."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from contest import create_app
from contest.extensions import db as db_ext
from contest.extensions import limiter
from contest.mail.models import OutboundEmail
from tests.support import PASSWORD, create_user, login, make_test_config, migrate, new_database

EN = {"Accept-Language": "en"}
VI = {"Accept-Language": "vi"}
WRONG = "not the password at all"
NEW_PASSWORD = "a brand new passphrase"
LOCKED_EN = "Too many wrong passwords for this account lately."
LOCKED_VI = "Tài khoản này vừa bị nhập sai mật khẩu quá nhiều lần."


def address(i: int) -> dict:
    return {"REMOTE_ADDR": f"198.51.100.{i}"}


class Site:
    """An app of its own, rate limits on, over a database of its own (the accounts commit)."""

    def __init__(self, tmp_path, url: str, failures: str) -> None:
        self.app = create_app(
            make_test_config(
                tmp_path,
                url,
                RATELIMIT_ENABLED=True,
                LOGIN_RATE_LIMIT="100 per minute",
                LOGIN_FAILURE_LIMIT_PER_ACCOUNT=failures,
            )
        )
        limiter.reset()
        with self.app.app_context():
            create_user(db_ext.session, "nguyenvanan@gmail.com")
            create_user(db_ext.session, "binh@example.com")

    def attempt(self, email: str, password: str, i: int, headers: dict = EN):
        """A log-in from a new client at address 198.51.100.<i>."""
        client = self.app.test_client()
        return client.post(
            "/account/login",
            data={"email": email, "password": password},
            headers=headers,
            environ_base=address(i),
        )

    def fail(self, email: str, times: int) -> None:
        """``times`` wrong passwords for ``email``, each from another address."""
        for i in range(times):
            answer = self.attempt(email, WRONG, i)
            assert answer.status_code == 200 and "Wrong e-mail address or password." in answer.text


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request, tmp_path):
    databases = new_database(request.param, tmp_path)
    url = next(databases)
    migrate(url)
    was_enabled = limiter.enabled
    sites: list[Site] = []

    def make(failures: str) -> Site:
        sites.append(Site(tmp_path, url, failures))
        return sites[-1]

    try:
        yield make
    finally:
        limiter.reset()
        limiter.enabled = was_enabled
        for made in sites:
            made.app.extensions["db"].dispose()
        next(databases, None)


def test_wrong_passwords_from_many_addresses_pause_that_account_only(site):
    lan = site("3 per 2 seconds")
    lan.fail("Nguyen.Van.An@gmail.com", 2)
    lan.fail("nguyenvanan+x@gmail.com", 1)  # another spelling of the same mailbox counts too

    refused = lan.attempt("nguyenvanan@gmail.com", PASSWORD, 10)  # the right password, a new address
    assert refused.status_code == 429
    assert LOCKED_EN in refused.text and "Please try again in 1 minute" in refused.text
    assert "Forgot your password?" in refused.text
    assert LOCKED_VI in lan.attempt("nguyenvanan@gmail.com", PASSWORD, 11, headers=VI).text
    for i in range(3):  # the same addresses, another account: not paused
        assert lan.attempt("binh@example.com", PASSWORD, i).status_code == 302

    time.sleep(2.1)  # the window ends
    assert lan.attempt("nguyenvanan@gmail.com", PASSWORD, 12).status_code == 302


def test_an_address_without_an_account_is_paused_alike(site):
    lan = site("3 per hour")
    lan.fail("nobody@example.com", 3)
    refused = lan.attempt("nobody@example.com", PASSWORD, 10)
    assert refused.status_code == 429
    assert LOCKED_EN in refused.text and "Please try again in 60 minutes" in refused.text


def test_a_success_ends_the_run_of_failures(site):
    lan = site("3 per hour")
    lan.fail("binh@example.com", 2)
    assert lan.attempt("binh@example.com", PASSWORD, 10).status_code == 302
    lan.fail("binh@example.com", 2)
    assert lan.attempt("binh@example.com", PASSWORD, 11).status_code == 302


def test_a_new_password_lets_the_owner_in_at_once(site):
    lan = site("3 per hour")
    lan.fail("nguyenvanan@gmail.com", 3)
    assert lan.attempt("nguyenvanan@gmail.com", PASSWORD, 10).status_code == 429

    owner = lan.app.test_client()
    owner.post("/account/forgot-password", data={"email": "nguyenvanan@gmail.com"}, headers=EN)
    with lan.app.app_context():
        mail = db_ext.session.scalars(select(OutboundEmail).order_by(OutboundEmail.id.desc())).first()
    path = urlsplit(re.search(r"https?://\S+/account/reset/\S+", mail.body_text).group(0)).path
    done = owner.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}, headers=EN)
    assert done.status_code == 302

    assert login(owner, "nguyenvanan@gmail.com", NEW_PASSWORD, headers=EN).status_code == 302
