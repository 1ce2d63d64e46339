"""Language choice: the visitor's explicit switch, then their account, then the browser."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask_login import current_user

from contest.auth.policy import is_anonymous


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    # An anonymous visitor (most of the gallery's) is told from the session without building
    # Flask-Login's user for them.
    if not is_anonymous() and current_user.locale in languages:
        return current_user.locale
    return request.accept_languages.best_match(languages, default=current_app.config["BABEL_DEFAULT_LOCALE"])
