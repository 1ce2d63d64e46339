"""Bot checks: a small question on a form that scripts find harder than people do.

A deployment chooses one with the setting BOT_CHECK:

* ``"none"``: no check (``NoBotCheck``);
* ``"builtin"``: a sum of two small numbers (``ArithmeticBotCheck``), whose answer travels
  in a signed, expiring token, so that no server state is needed;
* ``"package.module:ClassName"``: the deployment's own adapter, e.g. for a CAPTCHA service
  (Cloudflare Turnstile, hCaptcha). The class is built with the application's config (a
  mapping, where it finds its keys) and follows the ``BotCheck`` protocol.

Sign-up always asks (``contest.auth.views.register``); votes ask only when
BOT_CHECK_VOTES is on (``bot_check_passes`` and ``vote_bot_check_widget``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup
from werkzeug.utils import ImportStringError, import_string

from contest.config import ConfigError

TOKEN_SALT = "bot-check"
TOKEN_FIELD = "botcheck_token"
ANSWER_FIELD = "botcheck_answer"
# How long a question may stay on screen before its answer no longer counts.
TOKEN_MAX_AGE_S = 30 * 60


@runtime_checkable
class BotCheck(Protocol):
    def widget(self) -> Markup:
        """HTML to put inside the form (inputs with their labels, or a service's script)."""
        ...

    def verify(self, form_data: Mapping[str, str], remote_addr: str | None) -> bool:
        """Whether the submitted form passes the check."""
        ...


class NoBotCheck:
    """Every form passes; nothing is shown."""

    def __init__(self, config: Mapping | None = None) -> None:
        pass

    def widget(self) -> Markup:
        return Markup("")

    def verify(self, form_data: Mapping[str, str], remote_addr: str | None) -> bool:
        return True


class ArithmeticBotCheck:
    """A sum such as "What is 7 + 5?"; a keyed hash of its answer travels in a signed, expiring token.

    The token can be replayed until it expires (there is no server state): the check
    stops naive scripts, and the rate limits on sign-up and voting bound the rest.
    """

    def __init__(self, config: Mapping) -> None:
        self.secret = config["SECRET_KEY"]
        self.serializer = URLSafeTimedSerializer(self.secret, salt=TOKEN_SALT)
        self.max_age_s = int(config.get("BOT_CHECK_MAX_AGE_S", TOKEN_MAX_AGE_S))

    def question(self) -> tuple[int, int, str]:
        """Two numbers and the token that proves their sum (without telling it)."""
        first, second = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
        nonce = secrets.token_urlsafe(9)
        return first, second, self.serializer.dumps([nonce, self._digest(nonce, first + second)])

    def _digest(self, nonce: str, answer: int) -> str:
        # The token is signed, not encrypted: it carries a keyed hash of the answer, not the answer.
        return hmac.new(self.secret.encode(), f"{nonce}:{answer}".encode(), hashlib.sha256).hexdigest()[:32]

    def widget(self) -> Markup:
        first, second, token = self.question()
        input_id = f"botcheck-{secrets.token_hex(4)}"  # unique: a page may hold several forms
        return Markup(
            '<div class="field bot-check">'
            '<label for="{id}">{question}</label>'
            '<input type="text" id="{id}" name="{answer}" inputmode="numeric" autocomplete="off" '
            'required maxlength="4" size="4">'
            '<input type="hidden" name="{token_field}" value="{token}">'
            '<small class="help">{help}</small>'
            "</div>"
        ).format(
            id=input_id,
            question=_("What is %(first)d + %(second)d?", first=first, second=second),
            answer=ANSWER_FIELD,
            token_field=TOKEN_FIELD,
            token=token,
            help=_("A small sum, to check that a person fills in this form."),
        )

    def verify(self, form_data: Mapping[str, str], remote_addr: str | None) -> bool:
        try:
            nonce, digest = self.serializer.loads(form_data.get(TOKEN_FIELD, ""), max_age=self.max_age_s)
            answer = int(form_data.get(ANSWER_FIELD, "").strip())
        except (BadSignature, ValueError, TypeError):  # forged, expired, missing, or not a number
            return False
        return hmac.compare_digest(self._digest(str(nonce), answer), str(digest))


BUILT_IN: dict[str, type] = {"none": NoBotCheck, "builtin": ArithmeticBotCheck}


def load_bot_check(config: Mapping) -> BotCheck:
    """The bot check the configuration names; ConfigError if it cannot be loaded."""
    name = str(config.get("BOT_CHECK", "builtin")).strip()
    if name in BUILT_IN:
        return BUILT_IN[name](config)
    if ":" not in name:
        raise ConfigError(f'BOT_CHECK must be "none", "builtin" or "package.module:ClassName", got {name!r}')
    try:
        adapter = import_string(name)
    except ImportStringError as exc:
        raise ConfigError(f"BOT_CHECK: cannot import {name!r}: {exc.exception}") from exc
    check = adapter(config)
    if not isinstance(check, BotCheck):
        raise ConfigError(f"BOT_CHECK: {name!r} has no widget() and verify() methods")
    return check


def get_bot_check() -> BotCheck:
    """The application's bot check (built once per application)."""
    checks = current_app.extensions.setdefault("bot_check", {})
    name = current_app.config.get("BOT_CHECK", "builtin")
    if name not in checks:  # keyed by name: a test may change the setting on a running app
        checks[name] = load_bot_check(current_app.config)
    return checks[name]


def bot_check_passes(request) -> bool:
    """For the vote endpoint: whether the request passes the bot check (always, unless BOT_CHECK_VOTES)."""
    if not current_app.config.get("BOT_CHECK_VOTES"):
        return True
    return get_bot_check().verify(request.form, request.remote_addr)


def vote_bot_check_widget() -> Markup:
    """For the vote form: the bot check's widget, or nothing unless BOT_CHECK_VOTES."""
    if not current_app.config.get("BOT_CHECK_VOTES"):
        return Markup("")
    return get_bot_check().widget()
