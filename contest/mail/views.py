"""The development mailbox: outgoing e-mails shown in the browser when no mail server is set."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, render_template
from markupsafe import Markup, escape
from sqlalchemy import select

from contest.extensions import db
from contest.mail.models import OutboundEmail

bp = Blueprint("mail", __name__)

MAILBOX_SIZE = 200
_URL = re.compile(r"https?://[^\s<>\"']+")


def mailbox_available() -> bool:
    """Only in development, and only while e-mail is not really sent."""
    config = current_app.config
    return config["ENV_NAME"] != "production" and not config["MAIL_SERVER"]


@bp.before_request
def _development_only():
    if not mailbox_available():
        abort(404)


def linkify(text: str) -> Markup:
    """Plain text, escaped, with its web addresses made clickable."""
    escaped = str(escape(text))
    return Markup(_URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped))


@bp.get("/")
def mailbox():
    emails = db.session.scalars(
        select(OutboundEmail)
        .order_by(OutboundEmail.created_at.desc(), OutboundEmail.id.desc())
        .limit(MAILBOX_SIZE)
    ).all()
    return render_template("mail/mailbox.html", emails=emails, linkify=linkify)
