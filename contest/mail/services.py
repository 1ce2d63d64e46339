"""Outgoing e-mail through an outbox table.

``queue_email`` writes the message in the same transaction as the change that causes it
and asks the worker to deliver it once that transaction has committed; if the broker is
down, the worker's sweep finds the unsent row later (``unsent_emails``). ``deliver_email``
sends through SMTP, or writes the message to the log when no MAIL_SERVER is configured
(the embedded default; the development mailbox page shows the rows).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.auth.models import User
from contest.db import now_utc
from contest.mail.models import OutboundEmail
from contest.processing.dispatch import send_after_commit

log = logging.getLogger("contest.mail")

DELIVER_TASK = "worker.deliver_mail"
SMTP_TIMEOUT_S = 20
MAIL_LOCALES = ("vi", "en")


class EmailTemplateError(RuntimeError):
    """An e-mail template does not define its subject."""


def queue_email(session: Session, recipient: str, subject: str, body_text: str, **record) -> OutboundEmail:
    """Add a message to the outbox; the worker is asked to send it after the commit.

    ``record``: what the row keeps about the message (kind, user_id, locale, event_key).
    """
    email = OutboundEmail(recipient=recipient, subject=subject, body_text=body_text, **record)
    session.add(email)
    session.flush()
    send_after_commit(session, DELIVER_TASK, email.id)
    return email


def tell_user(
    session: Session, user: User, template_name: str, *, event_key: str, **context
) -> OutboundEmail | None:
    """Queue ``mail/<template_name>.txt`` to ``user`` in their language, once per ``event_key``.

    None when that event was already told, or the account cannot receive mail (disabled or
    deleted). The template receives ``name`` (the user's name) besides ``context``.
    """
    if not user.active or user.deleted_at is not None or already_told(session, event_key):
        return None
    locale = mail_locale(user)
    subject, body = render_email(template_name, locale, name=user.full_name, **context)
    return queue_email(
        session,
        user.email,
        subject,
        body,
        kind=template_name,
        user_id=user.id,
        locale=locale,
        event_key=event_key,
    )


def record_for(user: User, kind: str, locale: str | None = None) -> dict:
    """What the outbox row records of a message to ``user`` (queue_email's ``record``)."""
    return {"kind": kind, "user_id": user.id, "locale": locale or user.locale}


def already_told(session: Session, event_key: str) -> bool:
    return session.scalar(select(OutboundEmail.id).where(OutboundEmail.event_key == event_key)) is not None


def mail_locale(user: User) -> str:
    """The language of the user's e-mails: their account's, Vietnamese if it is not one we write."""
    return user.locale if user.locale in MAIL_LOCALES else "vi"


def mail_link(endpoint: str, **values) -> str:
    """An absolute link for an e-mail on the site's configured address (PUBLIC_BASE_URL), also
    from the worker, which has no request (a forged Host header must not choose it either)."""
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    if has_request_context():
        return base + url_for(endpoint, **values) if base else url_for(endpoint, _external=True, **values)
    with current_app.test_request_context("/", base_url=base or "http://localhost"):
        return url_for(endpoint, _external=True, **values)


def render_email(template_name: str, locale: str, **context) -> tuple[str, str]:
    """(subject, body) of ``templates/mail/<template_name>.txt`` in the recipient's language.

    The template sets its subject at the top level: ``{% set subject = _("...") %}``.
    """
    with force_locale(locale):
        template = current_app.jinja_env.get_template(f"mail/{template_name}.txt")
        current_app.update_template_context(context)
        module = template.make_module(context)
        subject = getattr(module, "subject", None)
        if not subject:
            raise EmailTemplateError(f"mail/{template_name}.txt does not set a subject")
        return " ".join(str(subject).split()), str(module).strip() + "\n"


def deliver_email(session: Session, email_id: int) -> None:
    """Send one outbox row; safe to run twice. Flushes, never commits.

    A failure of the mail server is recorded on the row (attempts, last_error) and raised
    again, so that the caller commits the record and retries later.
    """
    email = session.get(OutboundEmail, email_id, with_for_update=True, populate_existing=True)
    if email is None or email.sent_at is not None:
        return
    email.attempts += 1
    config = current_app.config
    message = build_message(email, config["MAIL_SENDER"])
    if config["MAIL_SERVER"] and config.get("MAIL_TRANSPORT") != "log":
        try:
            _send_smtp(message, config)
        except (smtplib.SMTPException, OSError) as exc:
            email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            session.flush()
            log.warning(
                "e-mail %s to %s not sent (attempt %s): %s",
                email.id,
                email.recipient,
                email.attempts,
                email.last_error,
            )
            raise
    else:
        log.info(
            "e-mail %s (no MAIL_SERVER set: written here instead of sent)\nFrom: %s\nTo: %s\n"
            "Subject: %s\n\n%s",
            email.id,
            message["From"],
            email.recipient,
            email.subject,
            email.body_text,
        )
    email.sent_at = now_utc()
    email.last_error = None
    session.flush()


def build_message(email: OutboundEmail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.recipient
    message["Subject"] = email.subject
    message["Date"] = format_datetime(email.created_at)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(idstring=f"outbox-{email.id}", domain=domain)
    # Quoted-printable keeps the Vietnamese text intact through relays without 8BITMIME.
    message.set_content(email.body_text, charset="utf-8", cte="quoted-printable")
    return message


def _send_smtp(message: EmailMessage, config) -> None:
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=SMTP_TIMEOUT_S) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)


def unsent_emails(
    session: Session, older_than: datetime, max_attempts: int | None = None, limit: int = 500
) -> list[int]:
    """Ids of messages still unsent that were queued before ``older_than`` (the worker's sweep).

    Messages that already failed ``max_attempts`` times (default: JOB_MAX_ATTEMPTS) are left
    alone: their last_error says why.
    """
    if max_attempts is None:
        max_attempts = current_app.config["JOB_MAX_ATTEMPTS"]
    return list(
        session.scalars(
            select(OutboundEmail.id)
            .where(
                OutboundEmail.sent_at.is_(None),
                OutboundEmail.created_at < older_than,
                OutboundEmail.attempts < max_attempts,
            )
            .order_by(OutboundEmail.id)
            .limit(limit)
        )
    )
