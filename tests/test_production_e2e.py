"""Issue 19: the production configuration end to end, from sign-up to a counted vote.

Everything runs as a production install runs it, on loopback: the application in gunicorn
(2 sync workers, ``CONTEST_ENV=production``) on PostgreSQL, its rate limits counted in Redis,
Celery's broker on Redis, media on S3 (moto over HTTP), e-mail through a real SMTP server
(aiosmtpd) delivered by a real ``celery worker`` process. The client speaks to gunicorn as a
TLS-terminating proxy would: every request says ``X-Forwarded-Proto: https``, so the
application (PROXY_FIX_X_FOR=1) sees a secure request, sets Secure cookies and checks the
Referer of each form as Flask-WTF does over HTTPS. The client keeps the Secure cookies as a
browser on HTTPS does (its cookie policy counts this http:// hop as the proxy's https).

Two accounts sign up through the form (with the built-in bot check answered), confirm their
address from the link in the e-mail received by the SMTP server, log in; one submits a real
photo, the worker makes its renditions, an organizer approves it from the moderation page,
the other votes and the count shows it.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import time
import uuid
from html.parser import HTMLParser
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
import requests
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.auth.models import Role
from contest.contests.demo import build_demo_contest
from contest.db import make_engine
from contest.entries.models import Entry, EntryStatus
from contest.storage import build_storage, private_copy_key
from contest.voting.models import Vote
from tests.support import (
    PASSWORD,
    ROOT,
    CeleryWorker,
    create_user,
    migrate,
    new_database,
    s3_config,
    wallpaper,
)
from tests.test_mail_delivery import Mailbox, free_port

pytestmark = pytest.mark.e2e

REDIS = "redis://127.0.0.1:6379"
BROKER_DB, LIMITS_DB = 12, 13  # this test's own Redis databases (flushed before it runs)
SECRET = "production-e2e-" + "s" * 32
TIMEOUT_S = 90


# --- the production stack -------------------------------------------------------------------
def production_env(tmp: Path, url: str, s3: dict, mail_port: int, port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTEST_", "FLASK_"))}
    return {
        **env,
        **{k: str(v) for k, v in s3.items() if v},
        "CONTEST_ENV": "production",
        "CONTEST_INSTANCE": str(tmp / "instance"),
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "BROKER_URL": f"{REDIS}/{BROKER_DB}",
        "RATELIMIT_STORAGE_URI": f"{REDIS}/{LIMITS_DB}",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(mail_port),
        "MAIL_USE_TLS": "false",
        "PUBLIC_BASE_URL": f"https://127.0.0.1:{port}",
        "PROXY_FIX_X_FOR": "1",
        # The anonymous count (votes.json) is the gallery's copy, read again after this long.
        "GALLERY_CACHE_S": "1",
        "PYTHONUNBUFFERED": "1",
    }


def start_gunicorn(env: dict, port: int, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "--workers=2", f"--bind=127.0.0.1:{port}", "wsgi:app"]
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited:\n{log.read_text()}")
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
            return server
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    pytest.fail(f"gunicorn did not answer:\n{log.read_text()}")


@pytest.fixture
def stack(tmp_path, s3_endpoint):
    for db_number in (BROKER_DB, LIMITS_DB):
        redis.Redis.from_url(f"{REDIS}/{db_number}").flushdb()
    databases = new_database("postgresql", tmp_path)
    url = next(databases)
    migrate(url)
    engine = make_engine(url)
    with Session(engine) as session:
        build_demo_contest(session)
        session.commit()
        create_user(session, "organizer@example.com", role=Role.organizer, full_name="Ban Tổ chức")
    s3 = s3_config(s3_endpoint, f"prod-{uuid.uuid4().hex[:10]}")
    build_storage({"MEDIA_URL_EXPIRES_S": 3600, "SECRET_KEY": SECRET, **s3}).ensure_bucket()
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    port = free_port()
    env = production_env(tmp_path, url, s3, smtp.port, port)
    server = start_gunicorn(env, port, tmp_path / "gunicorn.log")
    worker = CeleryWorker("prod", tmp_path, env, beat=False)
    try:
        worker.wait_ready()
        yield Site(
            f"http://127.0.0.1:{port}",
            mailbox,
            engine,
            worker,
            build_storage({"MEDIA_URL_EXPIRES_S": 3600, **s3, "SECRET_KEY": SECRET}),
        )
    finally:
        worker.stop()
        server.terminate()
        server.wait(30)
        smtp.stop()
        engine.dispose()
        print(f"----- gunicorn -----\n{(tmp_path / 'gunicorn.log').read_text(errors='replace')[-6000:]}")
        print(f"----- worker -----\n{worker.text()[-6000:]}")
        next(databases, None)


class Site:
    def __init__(self, base: str, mailbox: Mailbox, engine, worker: CeleryWorker, storage) -> None:
        self.base, self.mailbox, self.engine, self.worker = base, mailbox, engine, worker
        self.storage = storage  # the S3 bucket the web and the worker share

    def browser(self) -> Browser:
        return Browser(self.base)

    def wait(self, what: str, found):
        deadline = time.monotonic() + TIMEOUT_S
        while not (value := found()):
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}")
            time.sleep(0.1)
        return value


# --- a browser behind a TLS-terminating proxy ------------------------------------------------
class Forms(HTMLParser):
    """The named inputs of each <form> of a page, by the form's action."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self._current: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = self.forms.setdefault(attrs.get("action") or "", {})
        elif self._current is not None and tag == "input" and attrs.get("name") and not self._chosen(attrs):
            self._current[attrs["name"]] = attrs.get("value") or ""

    @staticmethod
    def _chosen(attrs: dict) -> bool:
        """Inputs the test fills in itself (the boxes it ticks, the file it sends)."""
        return attrs.get("type") in ("checkbox", "radio", "file")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


class BehindTls(requests.Session):
    """A session that sends its Secure cookies on this http:// hop (requests merges the cookies
    into a jar of the default policy when it prepares a request: the header is made again here)."""

    def __init__(self) -> None:
        super().__init__()
        self.cookies.set_policy(DefaultCookiePolicy(secure_protocols=("https", "wss", "http")))

    def prepare_request(self, request):
        prepared = super().prepare_request(request)
        prepared.headers.pop("Cookie", None)
        header = requests.cookies.get_cookie_header(self.cookies, prepared)
        if header:
            prepared.headers["Cookie"] = header
        return prepared


class Browser:
    """requests with what a browser on https:// sends: the proxy's header, a same-origin Referer,
    and the Secure cookies (this hop is the proxy's, the browser's own is TLS)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = BehindTls()
        self.http.headers.update({"X-Forwarded-Proto": "https", "Accept-Language": "en"})
        self.page_path, self.page = "/", ""

    def origin(self) -> str:
        return "https://" + self.base.split("://", 1)[1]

    def get(self, path: str, **kwargs) -> requests.Response:
        response = self.http.get(self.base + path, allow_redirects=False, timeout=30, **kwargs)
        self.page_path = path
        return response

    def form(self, path: str, action: str) -> dict[str, str]:
        page = self.get(path)
        assert page.status_code == 200, (path, page.status_code)
        parser, self.page = Forms(), page.text
        parser.feed(page.text)
        assert action in parser.forms, (action, list(parser.forms))
        return parser.forms[action]

    def post(self, action: str, data: dict, **kwargs) -> requests.Response:
        headers = {"Referer": self.origin() + self.page_path, **kwargs.pop("headers", {})}
        return self.http.post(
            self.base + action, data=data, headers=headers, allow_redirects=False, timeout=60, **kwargs
        )


def answer_bot_check(page: str) -> str:
    first, second = re.search(r"What is (\d+) \+ (\d+)\?", page).groups()
    return str(int(first) + int(second))


def sign_up(site: Site, address: str, name: str) -> None:
    browser = site.browser()
    fields = browser.form("/account/register", "")
    fields |= {
        "email": address,
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "full_name": name,
        "country": "VN",
        "birth_year": "1995",
        "botcheck_answer": answer_bot_check(browser.page),
    }
    response = browser.post("/account/register", fields)
    assert response.status_code == 302, response.text[:3000]
    message = site.wait(f"the mail to {address}", lambda: site.mailbox.to(address))[0]
    link = re.search(r"https://\S+/account/verify/\S+", message.get_content()).group(0)
    confirmed = browser.get(urlsplit(link).path)
    assert confirmed.status_code == 302, confirmed.text[:2000]


def log_in(site: Site, address: str) -> Browser:
    browser = site.browser()
    fields = browser.form("/account/login", "")
    response = browser.post("/account/login", {**fields, "email": address, "password": PASSWORD})
    assert response.status_code == 302, response.text[:3000]
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie, cookie
    return browser


# --- the journey ----------------------------------------------------------------------------
def submit_photo(site: Site, entrant: Browser) -> Entry:
    fields = entrant.form("/entries/new", "/entries/new")
    with Session(site.engine) as session:
        contest = build_demo_contest(session)[0]
        photo = next(c for c in contest.categories if c.slug == "photo")
        fields |= {"category": str(photo.id), "place": str(contest.places[0].id)}
    fields |= {"title": "Sóng biển Cửa Lò", "description": "Bình minh", "taken_on": "2024-05-01"}
    fields |= dict.fromkeys(("accept_own_work", "accept_promo_use", "accept_not_awarded"), "y")
    with wallpaper("Volna").open("rb") as f:
        response = entrant.post("/entries/new", fields, files={"photo": ("IMG_0001.JPG", f, "image/jpeg")})
    assert response.status_code == 302, response.text[:3000]
    with Session(site.engine) as session:
        return session.scalars(select(Entry)).one()


def private_or_own(key: str) -> str:
    """Where an object of an entry awaiting review is: a public rendition's private copy."""
    return private_copy_key(key) if key.startswith("public/") else key


def entry_status(site: Site, entry_id: int) -> EntryStatus:
    with Session(site.engine) as session:
        return session.get(Entry, entry_id).status


def test_sign_up_to_counted_vote_in_the_production_configuration(stack):
    site = stack
    sign_up(site, "mai@example.com", "Trần Thị Mai")
    sign_up(site, "binh@example.com", "Lê Văn Bình")

    entrant = log_in(site, "mai@example.com")
    entry = submit_photo(site, entrant)
    site.wait(
        "the worker's renditions",
        lambda: entry_status(site, entry.id) not in (EntryStatus.submitted, EntryStatus.processing),
    )
    assert entry_status(site, entry.id) is EntryStatus.pending_review
    with Session(site.engine) as session:
        keys = [a.storage_key for a in session.get(Entry, entry.id).assets]
    assert len(keys) >= 5 and all(site.storage.exists(private_or_own(key)) for key in keys)

    organizer = log_in(site, "organizer@example.com")
    action = f"/admin/entries/{entry.id}/approve"
    approved = organizer.post(action, organizer.form("/admin/entries?status=pending_review", action))
    assert approved.status_code == 302, approved.text[:3000]
    assert entry_status(site, entry.id) is EntryStatus.approved

    voter = log_in(site, "binh@example.com")
    action = f"/e/{entry.code}/vote"
    ballot = voter.form(f"/e/{entry.code}", action)
    assert ballot["csrf_token"] and ballot["view_token"]
    counted = voter.post(action, ballot, headers={"Accept": "application/json"})
    assert counted.status_code == 200, counted.text[:3000]
    assert counted.json()["ok"] is True and counted.json()["count"] == 1

    with Session(site.engine) as session:
        assert session.scalar(select(Entry.vote_count).where(Entry.id == entry.id)) == 1
        assert len(session.scalars(select(Vote).where(Vote.entry_id == entry.id)).all()) == 1
    anonymous = site.browser()
    site.wait("the public count", lambda: anonymous.get(f"/e/{entry.code}/votes.json").json()["count"] == 1)
    page = html.unescape(anonymous.get(f"/e/{entry.code}").text)
    assert "Sóng biển Cửa Lò" in page

    # The rate limits were counted in Redis (shared by the two web processes), the jobs went
    # through Redis, and a form whose Referer is another origin is refused over "https".
    assert redis.Redis.from_url(f"{REDIS}/{LIMITS_DB}").dbsize() > 0
    assert f"Connected to redis://:**@127.0.0.1:6379/{BROKER_DB}" in site.worker.text()
    foreign = voter.post(action, ballot, headers={"Referer": "https://elsewhere.example/"})
    assert foreign.status_code == 400 and "Form expired" in foreign.text
