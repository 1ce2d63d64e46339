"""One mailbox is one account: canonical addresses, and throw-away mail services refused."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from contest.auth.emails import canonical_email, is_disposable
from contest.auth.models import User
from contest.mail.models import OutboundEmail
from tests.support import PASSWORD, create_user, login
from tests.test_auth import EN, signup_data


@pytest.mark.parametrize(
    ("address", "canonical"),
    [
        ("Nguyen.Van.An+contest@Gmail.com", "nguyenvanan@gmail.com"),
        ("nguyen.van.an@googlemail.com", "nguyenvanan@gmail.com"),
        ("lan+vote1@outlook.com", "lan@outlook.com"),
        ("lan.nguyen+x@icloud.com", "lan.nguyen@icloud.com"),  # iCloud keeps dots
        ("lan.nguyen+x@yahoo.com", "lan.nguyen+x@yahoo.com"),  # Yahoo's "+" is a real character
        ("  Lan.Nguyen@Example.VN ", "lan.nguyen@example.vn"),
        ("not-an-address", "not-an-address"),
    ],
)
def test_canonical_email(address, canonical):
    assert canonical_email(address) == canonical


def test_disposable_domains_subdomains_and_the_deployments_lists():
    assert is_disposable("x@mailinator.com")
    assert is_disposable("x@inbox.mailinator.com")
    assert not is_disposable("x@gmail.com") and not is_disposable("x@nghean.gov.vn")
    assert is_disposable("x@spam.example", extra=frozenset({"spam.example"}))
    assert not is_disposable("x@mailinator.com", allowed=frozenset({"mailinator.com"}))


def test_a_second_spelling_of_one_gmail_box_cannot_register(client, db):
    create_user(db, "nguyenvanan@gmail.com")
    response = client.post(
        "/account/register", data=signup_data(email="Nguyen.Van.An+2@gmail.com"), headers=EN
    )
    assert response.status_code == 302  # answered as a new sign-up (tests/test_signup_privacy.py)
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(User)) == 1
    recipients = db.scalars(select(OutboundEmail.recipient)).all()
    assert recipients == ["nguyenvanan@gmail.com"]  # the owner's own address is told


def test_any_spelling_of_the_mailbox_logs_in(client, db):
    create_user(db, "nguyenvanan@gmail.com")
    response = login(client, "nguyen.van.an+vote@googlemail.com", PASSWORD, headers=EN)
    assert response.status_code == 302


def test_the_database_refuses_two_accounts_of_one_mailbox(db):
    from sqlalchemy.exc import IntegrityError

    create_user(db, "ab@gmail.com")
    with pytest.raises(IntegrityError):
        create_user(db, "a.b@gmail.com")


@pytest.mark.parametrize("address", ["lan@mailinator.com", "lan@x.guerrillamail.com"])
def test_throw_away_addresses_are_refused_at_sign_up(client, db, address):
    response = client.post("/account/register", data=signup_data(email=address), headers=EN)
    assert response.status_code == 200
    assert "Addresses of throw-away mail services cannot be used." in response.text
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(User)) == 0
