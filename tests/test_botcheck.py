"""Bot checks: the no-op, the built-in sum, a deployment's own adapter; sign-up and votes."""

from __future__ import annotations

import html
import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from markupsafe import Markup
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from contest.auth.models import User
from contest.botcheck import (
    ANSWER_FIELD,
    TOKEN_FIELD,
    TOKEN_SALT,
    ArithmeticBotCheck,
    BotCheck,
    NoBotCheck,
    bot_check_passes,
    get_bot_check,
    load_bot_check,
    vote_bot_check_widget,
)
from contest.config import ConfigError, load_settings
from tests.support import signup_data

EN = {"Accept-Language": "en"}
SECRET = "test-secret-" + "x" * 32
CONFIG = {"SECRET_KEY": SECRET, "BOT_CHECK": "builtin"}


# --- an adapter as a deployment would write one (e.g. for a CAPTCHA service) ----------------
class TicketBotCheck:
    """Passes when the form carries the ticket the "service" would have handed out."""

    seen_addresses: list[str | None] = []

    def __init__(self, config) -> None:
        self.ticket = config["TEST_BOT_TICKET"]

    def widget(self) -> Markup:
        return Markup('<div class="test-captcha" data-sitekey="public-key"></div>')

    def verify(self, form_data, remote_addr) -> bool:
        TicketBotCheck.seen_addresses.append(remote_addr)
        return form_data.get("test-captcha-response") == self.ticket


class NotABotCheck:
    def __init__(self, config) -> None:
        pass


def question_of(widget: str) -> tuple[int, int, str]:
    """The two numbers of the built-in question, and its token, from the widget's HTML."""
    numbers = re.search(r"What is (\d+) \+ (\d+)\?", widget)
    token = re.search(rf'name="{TOKEN_FIELD}" value="([^"]+)"', widget)
    assert numbers and token, widget
    return int(numbers.group(1)), int(numbers.group(2)), html.unescape(token.group(1))


def token_for(answer: int, age_s: int = 0) -> str:
    """A built-in question's token for ``answer``, signed ``age_s`` seconds ago."""

    class SignedInThePast(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age_s

    check = ArithmeticBotCheck(CONFIG)
    payload = ["nonce", check._digest("nonce", answer)]
    return URLSafeTimedSerializer(SECRET, salt=TOKEN_SALT, signer=SignedInThePast).dumps(payload)


# --- units ------------------------------------------------------------------------------
def test_no_bot_check_shows_nothing_and_passes_everything():
    check = NoBotCheck()
    assert check.widget() == Markup("")
    assert check.verify({}, None) is True
    assert isinstance(check, BotCheck)


def test_builtin_question_passes_with_the_right_sum_only(app):
    check = ArithmeticBotCheck(CONFIG)
    with app.test_request_context(headers=EN):
        widget = str(check.widget())
    first, second, token = question_of(widget)
    assert 2 <= first + second <= 18
    assert f'name="{ANSWER_FIELD}"' in widget
    assert 'inputmode="numeric"' in widget
    assert check.verify({TOKEN_FIELD: token, ANSWER_FIELD: str(first + second)}, "203.0.113.9") is True
    assert check.verify({TOKEN_FIELD: token, ANSWER_FIELD: f" {first + second} "}, None) is True
    assert check.verify({TOKEN_FIELD: token, ANSWER_FIELD: str(first + second + 1)}, None) is False
    assert check.verify({TOKEN_FIELD: token, ANSWER_FIELD: "twelve"}, None) is False
    assert check.verify({TOKEN_FIELD: token}, None) is False
    assert check.verify({ANSWER_FIELD: str(first + second)}, None) is False


def test_the_token_does_not_tell_the_answer(app):
    """The token is signed, not encrypted: what it carries must not give the sum away."""
    check = ArithmeticBotCheck(CONFIG)
    for _ in range(20):
        first, second, token = check.question()
        _ok, payload = URLSafeTimedSerializer(SECRET, salt=TOKEN_SALT).loads_unsafe(token)
        assert first + second not in payload
        assert str(first + second) not in payload
        assert check.verify({TOKEN_FIELD: token, ANSWER_FIELD: str(first + second)}, None) is True


def test_builtin_question_refuses_forged_and_expired_answers():
    check = ArithmeticBotCheck(CONFIG)
    genuine = ["nonce", check._digest("nonce", 12)]
    # A token signed with another key, or for another purpose, proves nothing.
    forged = URLSafeTimedSerializer("another key " + "y" * 32, salt=TOKEN_SALT).dumps(genuine)
    other_purpose = URLSafeTimedSerializer(SECRET, salt="entry-view").dumps(genuine)
    assert check.verify({TOKEN_FIELD: forged, ANSWER_FIELD: "12"}, None) is False
    assert check.verify({TOKEN_FIELD: other_purpose, ANSWER_FIELD: "12"}, None) is False
    assert check.verify({TOKEN_FIELD: token_for(12), ANSWER_FIELD: "12"}, None) is True
    # A solved question is good for its lifetime only: reused later, it fails.
    fresh = token_for(12, age_s=check.max_age_s - 60)
    stale = token_for(12, age_s=check.max_age_s + 60)
    assert check.verify({TOKEN_FIELD: fresh, ANSWER_FIELD: "12"}, None) is True
    assert check.verify({TOKEN_FIELD: stale, ANSWER_FIELD: "12"}, None) is False


def test_each_widget_has_its_own_ids(app):
    """Several vote forms on one page each carry a widget: their ids must differ."""
    check = ArithmeticBotCheck(CONFIG)
    with app.test_request_context(headers=EN):
        ids = {re.search(r'id="([^"]+)"', str(check.widget())).group(1) for _ in range(20)}
    assert len(ids) == 20


def test_configuration_chooses_the_check():
    assert isinstance(load_bot_check({**CONFIG, "BOT_CHECK": "none"}), NoBotCheck)
    assert isinstance(load_bot_check(CONFIG), ArithmeticBotCheck)
    adapter = load_bot_check(
        {**CONFIG, "BOT_CHECK": "tests.test_botcheck:TicketBotCheck", "TEST_BOT_TICKET": "t-1"}
    )
    assert isinstance(adapter, TicketBotCheck)
    assert adapter.ticket == "t-1"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("recaptcha", "must be"),
        ("tests.no_such_module:Check", "cannot import"),
        ("tests.test_botcheck:NoSuchClass", "cannot import"),
        ("tests.test_botcheck:NotABotCheck", "no widget() and verify()"),
    ],
)
def test_a_wrong_setting_is_a_clear_configuration_error(name, problem):
    with pytest.raises(ConfigError, match=re.escape(problem)):
        load_bot_check({**CONFIG, "BOT_CHECK": name})


# --- sign-up ----------------------------------------------------------------------------
def accounts(db, email: str = "lan@example.com") -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(User).where(User.email == email))


@pytest.fixture
def builtin_check(app, monkeypatch):
    monkeypatch.setitem(app.config, "BOT_CHECK", "builtin")


def test_sign_up_with_the_builtin_question(client, db, builtin_check):
    page = client.get("/account/register", headers=EN).text
    first, second, token = question_of(page)
    data = signup_data(**{TOKEN_FIELD: token, ANSWER_FIELD: str(first + second)})
    response = client.post("/account/register", data=data, headers=EN)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/login")
    assert accounts(db) == 1


@pytest.mark.parametrize("answer", ["wrong", "missing", "expired"])
def test_a_failed_check_shows_the_form_again_with_its_values(client, db, builtin_check, answer):
    page = client.get("/account/register", headers=EN).text
    first, second, token = question_of(page)
    fields = {
        "wrong": {TOKEN_FIELD: token, ANSWER_FIELD: str(first + second + 1)},
        "missing": {},
        "expired": {TOKEN_FIELD: token_for(7, age_s=3 * 3600), ANSWER_FIELD: "7"},
    }[answer]
    response = client.post("/account/register", data=signup_data(**fields), headers=EN)
    assert response.status_code == 200
    html_text = response.text
    assert "The check that you are a person did not pass" in html_text
    assert accounts(db) == 0
    # The other answers are kept; a new question is asked.
    assert re.search(r'id="email"[^>]*value="lan@example.com"', html_text)
    assert re.search(r'id="full_name"[^>]*value="Nguyễn Thị Lan"', html_text)
    assert re.search(r'id="birth_year"[^>]*value="1995"', html_text)
    assert re.search(rf'<input[^>]*name="{ANSWER_FIELD}"', html_text)
    assert not re.search(rf'<input[^>]*name="{ANSWER_FIELD}"[^>]*value=', html_text)


def test_other_form_errors_and_a_failed_check_are_both_reported(client, db, builtin_check):
    response = client.post("/account/register", data=signup_data(full_name=""), headers=EN)
    assert response.status_code == 200
    assert "Please enter your full name." in response.text
    assert "The check that you are a person did not pass" in response.text
    assert accounts(db) == 0


def test_sign_up_with_a_deployments_adapter(app, client, db, monkeypatch):
    monkeypatch.setitem(app.config, "BOT_CHECK", "tests.test_botcheck:TicketBotCheck")
    monkeypatch.setitem(app.config, "TEST_BOT_TICKET", "ticket-42")
    TicketBotCheck.seen_addresses.clear()
    page = client.get("/account/register", headers=EN).text
    assert '<div class="test-captcha" data-sitekey="public-key"></div>' in page

    refused = client.post(
        "/account/register", data=signup_data(**{"test-captcha-response": "guess"}), headers=EN
    )
    assert refused.status_code == 200
    assert accounts(db) == 0
    accepted = client.post(
        "/account/register",
        data=signup_data(**{"test-captcha-response": "ticket-42"}),
        headers=EN,
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert accepted.status_code == 302
    assert accounts(db) == 1
    assert TicketBotCheck.seen_addresses[-1] == "198.51.100.7"


@pytest.mark.parametrize("setting", ["none", "builtin"])
def test_the_setting_turns_the_check_on_sign_up_off_or_on(app, client, db, monkeypatch, setting):
    """BOT_CHECK=none: no question, and a sign-up form without an answer goes through; the
    built-in check asks its question and refuses that same form."""
    monkeypatch.setitem(app.config, "BOT_CHECK", setting)
    asked = "What is" in client.get("/account/register", headers=EN).text
    answer = client.post("/account/register", data=signup_data(), headers=EN)
    assert asked is (setting == "builtin")
    assert (answer.status_code == 302) is (setting == "none")
    assert accounts(db) == (1 if setting == "none" else 0)


def test_the_check_is_on_unless_the_deployment_turns_it_off():
    assert load_settings({})["BOT_CHECK"] == "builtin"


# --- votes ------------------------------------------------------------------------------
def test_votes_are_checked_only_when_the_setting_says_so(app, monkeypatch):
    monkeypatch.setitem(app.config, "BOT_CHECK", "builtin")
    monkeypatch.setitem(app.config, "BOT_CHECK_VOTES", False)
    with app.test_request_context("/e/HNA25-0001/vote", method="POST", data={}, headers=EN):
        from flask import request

        assert vote_bot_check_widget() == Markup("")
        assert bot_check_passes(request) is True

    monkeypatch.setitem(app.config, "BOT_CHECK_VOTES", True)
    with app.test_request_context(headers=EN):
        first, second, token = question_of(str(vote_bot_check_widget()))
    for answer, expected in ((first + second, True), (first + second + 1, False)):
        data = MultiDict({TOKEN_FIELD: token, ANSWER_FIELD: str(answer)})
        with app.test_request_context("/e/HNA25-0001/vote", method="POST", data=data):
            from flask import request

            assert bot_check_passes(request) is expected
            assert isinstance(get_bot_check(), ArithmeticBotCheck)
