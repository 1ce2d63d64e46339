"""Production fails closed, and every response carries the security headers.

Without CONTEST_ENV the application is in production: the development defaults (secret key,
SQLite, in-process rate limits) are refused with the setting to fix named, the development
mailbox does not exist. Headers are checked on a page, a JSON answer, a media file, a static
file and an error page; the policy's media origins on a real S3 endpoint over HTTP.
"""

from __future__ import annotations

import io
import logging
import os
import re
import socket
import subprocess
import sys
import time

import pytest

from contest import create_app
from contest.botcheck import NoBotCheck
from contest.config import ROOT, ConfigError, load_settings
from contest.storage import build_storage
from tests.support import s3_config

EN = {"Accept-Language": "en"}
PRODUCTION = {
    "SECRET_KEY": "p" * 40,
    "DATABASE_URL": "postgresql+psycopg://contest@db.invalid/contest",
    "RATELIMIT_STORAGE_URI": "redis://redis.invalid:6379/1",
    "MAIL_SERVER": "smtp.invalid",
}


def production_app(tmp_path, **overrides):
    """An app started the way production starts it: from an environment without CONTEST_ENV."""
    env = {"CONTEST_INSTANCE": str(tmp_path), **PRODUCTION, **overrides}
    return create_app(load_settings({k: v for k, v in env.items() if v is not None}))


# --- failing closed ------------------------------------------------------------------------------
def test_without_contest_env_the_default_secret_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY") as refused:
        production_app(tmp_path, SECRET_KEY=None)
    assert "CONTEST_ENV" in str(refused.value)


def test_development_must_be_asked_for_and_then_runs_on_the_defaults(tmp_path):
    app = create_app(load_settings({"CONTEST_ENV": "development", "CONTEST_INSTANCE": str(tmp_path)}))
    assert app.config["ENV_NAME"] == "development"
    assert app.config["DATABASE_URL"].startswith("sqlite")


def test_an_unknown_environment_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="CONTEST_ENV"):
        load_settings({"CONTEST_ENV": "prod", "CONTEST_INSTANCE": str(tmp_path)})


@pytest.mark.parametrize("uri", [None, "memory://", "lazy-memory://"])
def test_production_refuses_rate_limits_counted_in_memory(tmp_path, uri):
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
        production_app(tmp_path, RATELIMIT_STORAGE_URI=uri)


def test_production_starts_with_its_settings_and_has_no_mailbox(tmp_path):
    app = production_app(tmp_path)
    assert app.config["ENV_NAME"] == "production"
    assert "mail" not in app.blueprints
    page = app.test_client().get("/dev/mailbox/", headers=EN)
    assert page.status_code == 404
    assert "Development mailbox" not in page.text


def test_a_forwarded_address_without_proxy_fix_is_warned_of_once(app, client, caplog):
    app.extensions["forwarded_warning_given"] = False
    with caplog.at_level(logging.WARNING, logger="contest.security"):
        client.get("/healthz")
        assert caplog.records == []
        for _ in range(3):
            client.get("/healthz", headers={"X-Forwarded-For": "203.0.113.7"})
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "PROXY_FIX_X_FOR" in warnings[0]


def test_no_warning_when_the_proxy_is_configured(tmp_path, caplog):
    app = production_app(tmp_path, PROXY_FIX_X_FOR="1")
    with caplog.at_level(logging.WARNING, logger="contest.security"):
        app.test_client().get("/dev/mailbox/", headers={"X-Forwarded-For": "203.0.113.7"})
    assert caplog.records == []


# --- headers -------------------------------------------------------------------------------------
def policy_of(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";"))}


def assert_protected(response) -> dict[str, list[str]]:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Server" not in response.headers
    policy = policy_of(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert not any("unsafe" in value for values in policy.values() for value in values)
    return policy


def test_every_kind_of_response_carries_the_headers(app, client, db, contest, storage):
    key = "public/tests/photo.jpg"
    storage.save(key, io.BytesIO(b"\xff\xd8 not really a photo"), content_type="image/jpeg")
    with app.test_request_context():
        media_url = storage.url(key)
    answers = {
        "page": client.get("/gallery", headers=EN),
        "json": client.get("/healthz"),
        "media": client.get(media_url),
        "static": client.get("/static/js/gallery.js"),
        "error": client.get("/no-such-page", headers=EN),
        "json error": client.get("/no-such-page", headers={"Accept": "application/json"}),
    }
    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses == {
        "page": 200,
        "json": 200,
        "media": 200,
        "static": 200,
        "error": 404,
        "json error": 404,
    }
    for answer in answers.values():
        policy = assert_protected(answer)
        assert policy["img-src"] == ["'self'"]  # local media are served by the site itself
        assert "Strict-Transport-Security" not in answer.headers  # not in testing


def test_production_adds_hsts(tmp_path):
    answer = production_app(tmp_path).test_client().get("/no-such-page", headers=EN)
    assert answer.status_code == 404
    assert_protected(answer)
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_pictures_and_videos_may_come_from_the_s3_endpoint(app, client, s3_endpoint, monkeypatch):
    public = "https://media.happynghean.example"
    storage = build_storage({**app.config, **s3_config(s3_endpoint, "csp"), "S3_PUBLIC_URL": public})
    monkeypatch.setitem(app.extensions, "storage", storage)
    policy = assert_protected(client.get("/healthz"))
    assert policy["img-src"] == ["'self'", public, s3_endpoint]
    assert policy["media-src"] == ["'self'", "blob:", public, s3_endpoint]


def test_a_storage_that_cannot_make_urls_leaves_the_pages_answering(
    app, client, s3_endpoint, monkeypatch, tmp_path
):
    """S3 without credentials cannot sign a URL: the policy then names no media origin."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    no_keys = {"S3_ACCESS_KEY_ID": None, "S3_SECRET_ACCESS_KEY": None}
    storage = build_storage({**app.config, **s3_config(s3_endpoint, "csp"), **no_keys})
    monkeypatch.setitem(app.extensions, "storage", storage)
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert policy_of(answer)["img-src"] == ["'self'"]


def test_zalos_script_is_allowed_only_with_an_official_account(app, client, monkeypatch):
    without = policy_of(client.get("/healthz"))
    assert without["script-src"] == ["'self'"] and without["frame-src"] == ["'none'"]
    monkeypatch.setitem(app.config, "ZALO_OA_ID", "1234567890")
    with_zalo = policy_of(client.get("/healthz"))
    assert with_zalo["script-src"] == ["'self'", "https://sp.zalo.me"]
    assert with_zalo["frame-src"] == ["https://*.zalo.me"]


INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE)


def test_no_template_has_inline_script_or_style():
    """The policy refuses them: a page that needs one would silently lose it in the browser."""
    found = {
        f"{path.relative_to(ROOT)}: {match.group(0).strip()}"
        for path in (ROOT / "templates").rglob("*.html")
        for match in INLINE.finditer(path.read_text())
    }
    assert found == set()


class TurnstileLike(NoBotCheck):
    """A CAPTCHA adapter (BOT_CHECK=package.module:ClassName) naming its service's origin."""

    csp_sources = {"script-src": "https://challenges.example", "frame-src": "https://challenges.example"}


def test_a_bot_check_adapter_names_the_origins_it_needs(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "BOT_CHECK", f"{__name__}:TurnstileLike")
    policy = policy_of(client.get("/healthz"))
    assert policy["script-src"] == ["'self'", "https://challenges.example"]
    assert policy["frame-src"] == ["https://challenges.example"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _raw_get(port: int, path: str) -> str:
    """The response head of a plain HTTP request, exactly as the server wrote it."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                conn.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
                answer = b"".join(iter(lambda: conn.recv(65536), b""))
            return answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_gunicorn_as_production_runs_it_sends_no_server_banner(tmp_path):
    """``gunicorn wsgi:app`` from the project's folder reads gunicorn.conf.py."""
    port = _free_port()
    env = {**os.environ, "CONTEST_ENV": "testing", "CONTEST_INSTANCE": str(tmp_path)}
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        head = _raw_get(port, "/healthz")
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    lines = [line.lower() for line in head.split("\r\n")]
    assert lines[0] == "http/1.1 200 ok"
    assert "x-content-type-options: nosniff" in lines
    assert not [line for line in lines if line.startswith("server:")]
