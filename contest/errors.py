"""Error pages in the visitor's language; never a bare 500 for bad input."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try again.")),
    403: (_l("Not allowed"), _l("You do not have permission to open this page.")),
    404: (_l("Page not found"), _l("The page you asked for does not exist or has moved.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    413: (
        _l("File too large"),
        _l("The upload is larger than this site accepts. Please choose a smaller file."),
    ),
    429: (_l("Too many attempts"), _l("You have tried too many times. Please wait a little and try again.")),
    500: (
        _l("Something went wrong"),
        _l("An unexpected error happened on our side. It has been logged; please try again later."),
    ),
}


def render_error(status: int, message: str | None = None):
    """The error page (or JSON for a script) of ``status``, with its own message or ``message``."""
    title, generic = MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])
    message = message or generic
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "application/json":
        return jsonify(ok=False, message=str(message)), status  # the vote button's fetch()
    return render_template("errors/error.html", status=status, title=title, message=message), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_exc):
        title = _l("Form expired")
        message = _l(
            "The form was open too long or was sent from elsewhere. Please reload the page and try again."
        )
        return render_template("errors/error.html", status=400, title=title, message=message), 400

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        return render_error(exc.code)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return render_error(500)
