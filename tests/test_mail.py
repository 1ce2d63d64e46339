"""Outgoing mail: the outbox, the log backend, real SMTP on loopback, the development mailbox."""

from __future__ import annotations

import base64
import email
import email.policy
import logging
import socket
import socketserver
import threading
from datetime import timedelta

import pytest

from contest.db import now_utc
from contest.mail.models import OutboundEmail
from contest.mail.services import deliver_email, queue_email, render_email, unsent_emails
from contest.processing import dispatch

EN = {"Accept-Language": "en"}
SUBJECT_VI = "Xác nhận địa chỉ e-mail của bạn"
BODY_VI = "Chào Nguyễn Thị Lan,\n\nCảm ơn bạn đã đăng ký cuộc thi Nghệ An Hạnh phúc.\n"


# --- a small real SMTP server on 127.0.0.1 ----------------------------------------------
class SMTPHandler(socketserver.StreamRequestHandler):
    """Enough of RFC 5321 for smtplib: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        server: SMTPServer = self.server  # type: ignore[assignment]
        self.reply("220 test.local ESMTP")
        envelope: dict = {"rcpt": []}
        while line := self.rfile.readline():
            command = line.decode("utf-8", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-test.local\r\n250-8BITMIME\r\n250 AUTH PLAIN")
            elif verb == "HELO":
                self.reply("250 test.local")
            elif verb == "AUTH":
                _, user, password = base64.b64decode(command.split()[2]).split(b"\0")
                server.logins.append((user.decode(), password.decode()))
                self.reply("235 2.7.0 Authentication successful")
            elif verb == "MAIL":
                envelope = {"from": command[10:].strip(), "rcpt": []}
                self.reply("250 OK")
            elif verb == "RCPT":
                if server.refuse_recipients:
                    self.reply("550 5.1.1 No such user here")
                else:
                    envelope["rcpt"].append(command[8:].strip())
                    self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                envelope["data"] = self.read_data()
                server.messages.append(envelope)
                self.reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")

    def read_data(self) -> bytes:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        return b"".join(lines)


class SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SMTPHandler)
        self.messages: list[dict] = []
        self.logins: list[tuple[str, str]] = []
        self.refuse_recipients = False


@pytest.fixture
def smtp_server():
    server = SMTPServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def use_smtp(monkeypatch, app, port: int, username: str = "") -> None:
    for key, value in {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_USE_TLS": False,
        "MAIL_USERNAME": username,
        "MAIL_PASSWORD": "s3cret-pass" if username else "",
    }.items():
        monkeypatch.setitem(app.config, key, value)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def queued(
    app, db, recipient: str = "lan@example.com", subject: str = SUBJECT_VI, body: str = BODY_VI
) -> int:
    with app.app_context():
        from contest.extensions import db as ext_db

        email_id = queue_email(ext_db.session, recipient, subject, body).id
        ext_db.session.commit()
    return email_id


def deliver(app, email_id: int) -> None:
    """What the worker does: deliver, then commit (also the record of a failure)."""
    from contest.extensions import db as ext_db

    with app.app_context():
        try:
            deliver_email(ext_db.session, email_id)
        finally:
            ext_db.session.commit()


def reload(db, email_id: int) -> OutboundEmail:
    db.expire_all()
    return db.get(OutboundEmail, email_id)


# --- the outbox -------------------------------------------------------------------------
def test_queue_email_adds_a_row_and_asks_the_worker_after_commit(app, db):
    with app.app_context():
        from contest.extensions import db as ext_db

        outbound = queue_email(ext_db.session, "lan@example.com", "Subject", "Body")
        assert outbound.id is not None
        assert ("worker.deliver_mail", (outbound.id,)) in ext_db.session.info[dispatch._PENDING]
        ext_db.session.commit()
        assert dispatch._PENDING not in ext_db.session.info
    row = reload(db, outbound.id)
    assert (row.recipient, row.subject, row.body_text, row.sent_at, row.attempts) == (
        "lan@example.com",
        "Subject",
        "Body",
        None,
        0,
    )


def test_render_email_uses_the_recipients_language(app, db):
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        subject, body = render_email("verify_email", "en", link="http://x.test/v/1", hours=72)
        assert subject == "Confirm your e-mail address for Happy Nghe An"
        assert body.startswith("Hello,\n")
        assert "http://x.test/v/1" in body and "72 hours" in body
        vi_subject, vi_body = render_email("verify_email", "vi", link="http://x.test/v/1", hours=72)
        assert vi_subject and vi_body.startswith("Xin chào,\n") and "http://x.test/v/1" in vi_body


def test_unsent_emails_lists_what_the_sweep_must_resend(app, db):
    now = now_utc()
    rows = {
        "old": OutboundEmail(
            recipient="a@example.com", subject="s", body_text="b", created_at=now - timedelta(minutes=30)
        ),
        "recent": OutboundEmail(recipient="b@example.com", subject="s", body_text="b", created_at=now),
        "sent": OutboundEmail(
            recipient="c@example.com",
            subject="s",
            body_text="b",
            created_at=now - timedelta(minutes=30),
            sent_at=now,
        ),
        "given_up": OutboundEmail(
            recipient="d@example.com",
            subject="s",
            body_text="b",
            created_at=now - timedelta(minutes=30),
            attempts=app.config["JOB_MAX_ATTEMPTS"],
        ),
    }
    db.add_all(rows.values())
    db.commit()
    with app.app_context():
        from contest.extensions import db as ext_db

        assert unsent_emails(ext_db.session, now - timedelta(minutes=5)) == [rows["old"].id]


# --- delivery: the log backend ----------------------------------------------------------
def test_deliver_without_mail_server_logs_the_message_and_marks_it_sent(app, db, caplog):
    assert app.config["MAIL_SERVER"] == ""
    email_id = queued(app, db)
    caplog.set_level(logging.INFO, logger="contest.mail")
    deliver(app, email_id)
    logged = [r.getMessage() for r in caplog.records if r.name == "contest.mail"]
    assert len(logged) == 1
    assert "To: lan@example.com" in logged[0]
    assert SUBJECT_VI in logged[0] and BODY_VI in logged[0]
    row = reload(db, email_id)
    assert row.sent_at is not None and row.attempts == 1

    caplog.clear()
    deliver(app, email_id)  # twice is harmless
    assert not [r for r in caplog.records if r.name == "contest.mail"]
    assert reload(db, email_id).attempts == 1


# --- delivery: real SMTP on loopback ----------------------------------------------------
def test_deliver_over_smtp_sends_utf8_vietnamese(app, db, smtp_server, monkeypatch):
    use_smtp(monkeypatch, app, smtp_server.server_address[1], username="mailer")
    email_id = queued(app, db)
    deliver(app, email_id)

    (received,) = smtp_server.messages
    assert smtp_server.logins == [("mailer", "s3cret-pass")]
    assert received["rcpt"] == ["<lan@example.com>"]
    message = email.message_from_bytes(received["data"], policy=email.policy.default)
    assert message["Subject"] == SUBJECT_VI
    assert message["To"] == "lan@example.com"
    assert message["From"] == app.config["MAIL_SENDER"]
    assert message.get_content_charset() == "utf-8"
    assert message["Content-Transfer-Encoding"] == "quoted-printable"
    assert message.get_content().replace("\r\n", "\n") == BODY_VI  # CRLF on the wire
    row = reload(db, email_id)
    assert row.sent_at is not None and row.attempts == 1 and row.last_error is None

    deliver(app, email_id)
    assert len(smtp_server.messages) == 1  # not sent twice


def test_unreachable_mail_server_is_recorded_then_retried(app, db, smtp_server, monkeypatch):
    use_smtp(monkeypatch, app, closed_port())
    email_id = queued(app, db)
    with pytest.raises(OSError):
        deliver(app, email_id)
    row = reload(db, email_id)
    assert row.sent_at is None and row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error

    use_smtp(monkeypatch, app, smtp_server.server_address[1])
    deliver(app, email_id)
    row = reload(db, email_id)
    assert row.sent_at is not None and row.attempts == 2 and row.last_error is None
    assert len(smtp_server.messages) == 1


def test_refused_recipient_is_recorded(app, db, smtp_server, monkeypatch):
    import smtplib

    smtp_server.refuse_recipients = True
    use_smtp(monkeypatch, app, smtp_server.server_address[1])
    email_id = queued(app, db, recipient="nobody@example.com")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        deliver(app, email_id)
    row = reload(db, email_id)
    assert row.sent_at is None and row.attempts == 1
    assert "No such user here" in row.last_error


# --- the development mailbox ------------------------------------------------------------
def test_mailbox_lists_emails_newest_first_with_clickable_links(app, client, db):
    first = queued(
        app, db, subject="First message", body="Open http://127.0.0.1:5000/account/verify/abc.DEF-1"
    )
    second = queued(app, db, subject="Second message", body="Plain <b>text</b>")
    page = client.get("/dev/mailbox/", headers=EN)
    assert page.status_code == 200
    assert page.text.index("Second message") < page.text.index("First message")
    assert (
        '<a href="http://127.0.0.1:5000/account/verify/abc.DEF-1">'
        "http://127.0.0.1:5000/account/verify/abc.DEF-1</a>"
    ) in page.text
    assert "Plain &lt;b&gt;text&lt;/b&gt;" in page.text
    assert "Waiting for the worker" in page.text
    deliver(app, first)
    assert "Written to the log" in client.get("/dev/mailbox/", headers=EN).text
    assert second
    with app.app_context():
        from contest.extensions import db as ext_db

        queue_email(ext_db.session, "an@example.com", "Typed", "Body", kind="entry_ready", locale="en")
        ext_db.session.commit()
    typed = client.get("/dev/mailbox/", headers=EN).text
    assert "Kind: entry_ready" in typed and "Language: en" in typed
    assert typed.count("Kind:") == 1  # the messages queued without a kind say nothing of it
    assert client.get("/dev/mailbox/").status_code == 200


@pytest.mark.parametrize(("key", "value"), [("ENV_NAME", "production"), ("MAIL_SERVER", "smtp.example.com")])
def test_mailbox_does_not_exist_in_production_or_with_real_mail(app, client, monkeypatch, key, value):
    monkeypatch.setitem(app.config, key, value)
    assert client.get("/dev/mailbox/", headers=EN).status_code == 404
