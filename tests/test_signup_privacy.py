"""Sign-up tells nobody whether an address has an account, and e-mails carry no text a visitor wrote."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from contest.auth.emails import canonical_email
from contest.auth.models import User
from contest.extensions import db as db_ext
from contest.mail.models import OutboundEmail
from tests.support import create_user, signup_data
from tests.test_auth import EN, emails_to
from tests.test_login_limits import address, site  # noqa: F401 (site: a fixture)

SPAM_NAME = "Win a prize at http://evil.example now"


def answer(client, email: str, **fields) -> tuple[int, str | None, list[str]]:
    """What the visitor sees after signing up with ``email``: the status, where it sends them
    and the messages shown there, with the address they typed in a placeholder."""
    response = client.post("/account/register", data=signup_data(email=email, **fields), headers=EN)
    location = response.headers.get("Location")
    page = client.get(location, headers=EN).text if location else response.text
    typed = email.strip().lower()
    messages = re.findall(r'<p class="flash[^"]*" role="status">(.*?)</p>', page, re.S)
    errors = re.findall(r'class="error"[^>]*>(.*?)<', page, re.S)
    return response.status_code, location, [m.replace(typed, "<address>") for m in messages + errors]


def accounts_of(db, address: str) -> int:
    db.expire_all()
    return db.scalar(
        select(func.count()).select_from(User).where(User.email_canonical == canonical_email(address))
    )


@pytest.mark.parametrize(
    ("owner", "typed"),
    [("lan@example.com", " LAN@Example.COM"), ("nguyenvanan@gmail.com", "Nguyen.Van.An+2@gmail.com")],
    ids=["other-case", "gmail-dots-and-tag"],
)
def test_a_taken_address_is_answered_as_a_new_sign_up(client, db, owner, typed):
    fresh = answer(client, "binh@example.com")
    assert fresh[:2] == (302, "/account/login") and len(fresh[2]) == 1
    create_user(db, owner, locale="vi")

    assert answer(client, typed) == fresh  # status, redirect and message alike
    assert accounts_of(db, owner) == 1
    (notice,) = emails_to(db, owner)  # in the owner's language, not the visitor's
    assert notice.subject == "Có người vừa thử đăng ký Happy Nghe An bằng địa chỉ e-mail của bạn"
    assert "/account/login" in notice.body_text and "/account/forgot-password" in notice.body_text
    assert "/account/verify/" not in notice.body_text
    assert "Nguyễn Thị Lan" not in notice.body_text  # the name the visitor typed


def test_a_disabled_accounts_owner_gets_no_notice(client, db):
    create_user(db, "lan@example.com", active=False)
    assert answer(client, "lan@example.com")[:2] == (302, "/account/login")
    assert accounts_of(db, "lan@example.com") == 1
    assert emails_to(db, "lan@example.com") == []


def test_no_mail_carries_the_name_a_visitor_typed(client, db):
    """A spammer types a victim's address and an advertisement as their name: the victim's
    confirmation, reset and "someone tried" mails say nothing of it."""
    client.post("/account/register", data=signup_data(full_name=SPAM_NAME), headers=EN)
    client.post("/account/forgot-password", data={"email": "lan@example.com"}, headers=EN)
    client.post("/account/register", data=signup_data(full_name=SPAM_NAME), headers=EN)
    db.expire_all()
    mails = db.scalars(select(OutboundEmail).order_by(OutboundEmail.id)).all()
    assert [mail.recipient for mail in mails] == ["lan@example.com"] * 3
    assert "/account/verify/" in mails[0].body_text and "/account/reset/" in mails[1].body_text
    for mail in mails:
        text = f"{mail.subject}\n{mail.body_text}"
        assert "prize" not in text and "evil.example" not in text, text


def test_sign_ups_from_many_addresses_send_the_owner_few_notices(site):  # noqa: F811
    lan = site("5 per minute")
    for i in range(5):
        visitor = lan.app.test_client()
        data = signup_data(email="binh@example.com")
        assert visitor.post("/account/register", data=data, environ_base=address(i)).status_code == 302
    with lan.app.app_context():
        sent = db_ext.session.scalars(select(OutboundEmail.recipient)).all()
    assert sent == ["binh@example.com"] * 3  # SIGNUP_NOTICES_PER_ACCOUNT
