"""Configuration read from environment variables, with embedded defaults.

With ``CONTEST_ENV=development`` (``make run`` sets it) the defaults run everything on one
machine: SQLite and a media folder under ``instance/``, Celery on a SQLite broker, e-mail
written to the log. Without it the application is in production and refuses those defaults;
production sets the variables documented in README.md.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = ROOT / "instance"
DEFAULT_SECRET = "dev-secret-change-me"
ENVIRONMENTS = ("production", "development", "testing")
# Counters kept inside one process: each web process (and machine) would count on its own.
IN_PROCESS_RATE_LIMITS = ("memory://", "lazy-memory://")


class ConfigError(RuntimeError):
    """The configuration cannot run: the message says which setting is wrong."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _domains(value: str) -> frozenset[str]:
    return frozenset(part.strip().lower() for part in value.replace(",", " ").split() if part.strip())


def _environment(env: dict) -> str:
    """CONTEST_ENV, production unless development (or testing) is asked for: a forgotten
    setting fails closed (check_production) instead of running with the development defaults."""
    name = env.get("CONTEST_ENV") or "production"
    if name not in ENVIRONMENTS:
        raise ConfigError(f"CONTEST_ENV must be one of {', '.join(ENVIRONMENTS)}, got {name!r}")
    return name


def _default_base_url(env: dict, env_name: str) -> str:
    """Where links point when PUBLIC_BASE_URL is not set: in development, the address the
    development server listens on (``make run PORT=5012`` passes FLASK_RUN_HOST and
    FLASK_RUN_PORT), so that e-mails, share links, QR codes and the seed's output reach it."""
    if env_name != "development":
        return "http://127.0.0.1:5000"
    host = env.get("FLASK_RUN_HOST") or "127.0.0.1"
    if host in ("0.0.0.0", "::", "[::]"):  # every interface: this machine's own address reaches it
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{_int(env, 'FLASK_RUN_PORT', 5000)}"


def load_settings(env: dict | None = None) -> dict:
    """Return the settings as a plain dict (Flask config keys)."""
    env = dict(os.environ if env is None else env)
    instance = Path(env.get("CONTEST_INSTANCE", str(DEFAULT_INSTANCE))).resolve()
    env_name = _environment(env)
    production = env_name == "production"
    settings = {
        "ENV_NAME": env_name,
        "INSTANCE_DIR": str(instance),
        "SECRET_KEY": env.get("SECRET_KEY", DEFAULT_SECRET),
        "DATABASE_URL": env.get("DATABASE_URL", f"sqlite:///{instance / 'contest.sqlite'}"),
        "BROKER_URL": env.get("BROKER_URL", f"sqla+sqlite:///{instance / 'broker.sqlite'}"),
        # Jobs are sent to the broker after the commit; "off" keeps them queued in the
        # database for the sweep (used by tests that run jobs by hand).
        "JOB_DISPATCH": env.get("JOB_DISPATCH", "celery"),
        # A job whose heartbeat is older than this is taken as lost and queued again.
        "JOB_STALE_AFTER_S": _int(env, "JOB_STALE_AFTER_S", 600),
        "JOB_MAX_ATTEMPTS": _int(env, "JOB_MAX_ATTEMPTS", 5),
        "JOB_SWEEP_INTERVAL_S": _int(env, "JOB_SWEEP_INTERVAL_S", 60),
        "STORAGE_BACKEND": env.get("STORAGE_BACKEND", "local"),
        "STORAGE_LOCAL_ROOT": env.get("STORAGE_LOCAL_ROOT", str(instance / "media")),
        "S3_ENDPOINT_URL": env.get("S3_ENDPOINT_URL") or None,
        "S3_BUCKET": env.get("S3_BUCKET", "happy-nghean"),
        "S3_REGION": env.get("S3_REGION", "us-east-1"),
        "S3_ACCESS_KEY_ID": env.get("S3_ACCESS_KEY_ID") or None,
        "S3_SECRET_ACCESS_KEY": env.get("S3_SECRET_ACCESS_KEY") or None,
        "S3_ADDRESSING_STYLE": env.get("S3_ADDRESSING_STYLE", "path"),
        # Base URL under which objects under public/ are readable without signature
        # (a bucket policy or a CDN); empty means every URL is presigned.
        "S3_PUBLIC_URL": env.get("S3_PUBLIC_URL", ""),
        "MEDIA_URL_EXPIRES_S": _int(env, "MEDIA_URL_EXPIRES_S", 3600),
        # How long browsers and caches may keep a public rendition: a take-down shows within it.
        "PUBLIC_MEDIA_MAX_AGE_S": _int(env, "PUBLIC_MEDIA_MAX_AGE_S", 300),
        "MAIL_SERVER": env.get("MAIL_SERVER", ""),
        "MAIL_PORT": _int(env, "MAIL_PORT", 587),
        "MAIL_USERNAME": env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS"), True),
        "MAIL_SENDER": env.get("MAIL_SENDER", "Happy Nghe An <no-reply@happy-nghean.local>"),
        # "smtp" (through MAIL_SERVER) or "log": every message written to the log, never sent
        # (production refuses to start without a MAIL_SERVER unless this says "log").
        "MAIL_TRANSPORT": env.get("MAIL_TRANSPORT", "smtp"),
        # Log lines: "json" (one object a line, production's default) or "text"; the least level.
        "LOG_FORMAT": env.get("LOG_FORMAT") or ("json" if production else "text"),
        "LOG_LEVEL": (env.get("LOG_LEVEL") or "INFO").upper(),
        # /metrics answers a bearer token, or these addresses and networks (contest.ops.metrics).
        "METRICS_TOKEN": env.get("METRICS_TOKEN", ""),
        "METRICS_ALLOW_IPS": tuple(_domains(env.get("METRICS_ALLOW_IPS", "127.0.0.1 ::1"))),
        # /readyz: how long the database, broker and storage each have to answer.
        "READYZ_TIMEOUT_S": float(_int(env, "READYZ_TIMEOUT_S", 2)),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "lazy-memory://"),
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        "SIGNUP_RATE_LIMIT": env.get("SIGNUP_RATE_LIMIT", "5 per hour"),
        # Wrong passwords per account (its mailbox), whatever the addresses: then every attempt
        # waits for the window's end; a new password starts a fresh count (contest.auth.lockout).
        "LOGIN_FAILURE_LIMIT_PER_ACCOUNT": env.get(
            "LOGIN_FAILURE_LIMIT_PER_ACCOUNT", "5 per 10 minutes;20 per hour"
        ),
        # New entries sent, per account (counted before the upload is read).
        "SUBMIT_RATE_LIMIT": env.get("SUBMIT_RATE_LIMIT", "20 per hour"),
        # Votes: per account, and per client address (a whole office or a phone carrier's
        # NAT shares one address, hence the higher figure).
        "VOTE_RATE_LIMIT": env.get("VOTE_RATE_LIMIT", "20 per minute;200 per hour"),
        "VOTE_RATE_LIMIT_PER_ADDRESS": env.get("VOTE_RATE_LIMIT_PER_ADDRESS", "300 per minute"),
        # Bot check on sign-up (and on votes if BOT_CHECK_VOTES): "none", "builtin" (a small
        # arithmetic question) or "package.module:Class" for a CAPTCHA service's adapter.
        "BOT_CHECK": env.get("BOT_CHECK", "builtin"),
        "BOT_CHECK_VOTES": _bool(env.get("BOT_CHECK_VOTES"), False),
        # PostgreSQL: a vote's commit does not wait for the disk (see contest.db.Database).
        "VOTE_ASYNC_COMMIT": _bool(env.get("VOTE_ASYNC_COMMIT"), False),
        # Days of votes a vote review run examines, back from the latest vote (contest.voting.review_runs).
        "VOTE_REVIEW_DAYS": int(env.get("VOTE_REVIEW_DAYS", "7")),
        # Throw-away mail domains refused at sign-up, on top of the maintained list, and exceptions.
        "DISPOSABLE_EMAIL_DOMAINS_EXTRA": _domains(env.get("DISPOSABLE_EMAIL_DOMAINS_EXTRA", "")),
        "DISPOSABLE_EMAIL_DOMAINS_ALLOWED": _domains(env.get("DISPOSABLE_EMAIL_DOMAINS_ALLOWED", "")),
        # Seconds one web process reuses the public gallery and entry pages it made for anonymous
        # visitors, and what the gallery's filters found (contest.gallery.cache).
        "GALLERY_CACHE_S": _int(env, "GALLERY_CACHE_S", 15),
        # Where those pages are also kept for every web process and machine of the site
        # (redis://...); empty: each process keeps its own only.
        "PAGE_CACHE_URL": env.get("PAGE_CACHE_URL", ""),
        "MIN_ACCOUNT_AGE": _int(env, "MIN_ACCOUNT_AGE", 15),
        "EMAIL_TOKEN_MAX_AGE_S": _int(env, "EMAIL_TOKEN_MAX_AGE_S", 3 * 24 * 3600),
        "PASSWORD_RESET_MAX_AGE_S": _int(env, "PASSWORD_RESET_MAX_AGE_S", 2 * 3600),
        # How long a judge's invitation (its link to choose a first password) works.
        "JUDGE_INVITATION_MAX_AGE_S": _int(env, "JUDGE_INVITATION_MAX_AGE_S", 7 * 24 * 3600),
        # Hard cap on one request body; a category's own limit is checked per upload.
        "MAX_CONTENT_LENGTH": _int(env, "MAX_UPLOAD_BYTES", 260 * 1024 * 1024),
        "MAX_IMAGE_PIXELS": _int(env, "MAX_IMAGE_PIXELS", 120_000_000),
        # Uploads sent straight to storage in parts (contest.uploads): the part size (S3's
        # minimum is 5 MiB), how long one part's URL works, when an upload left unfinished or
        # never taken by an entry is dropped by the sweep, how many may be open per account,
        # and where the local backend keeps parts until they are joined.
        "UPLOAD_PART_BYTES": _int(env, "UPLOAD_PART_BYTES", 8 * 1024 * 1024),
        "UPLOAD_PART_URL_S": _int(env, "UPLOAD_PART_URL_S", 600),
        "UPLOAD_ABANDON_AFTER_S": _int(env, "UPLOAD_ABANDON_AFTER_S", 24 * 3600),
        "UPLOAD_SWEEP_INTERVAL_S": _int(env, "UPLOAD_SWEEP_INTERVAL_S", 600),
        "UPLOAD_MAX_OPEN": _int(env, "UPLOAD_MAX_OPEN", 40),
        "UPLOAD_PARTS_DIR": env.get("UPLOAD_PARTS_DIR", str(instance / "upload-parts")),
        "UPLOAD_RATE_LIMIT": env.get("UPLOAD_RATE_LIMIT", "60 per hour"),
        "UPLOAD_PART_RATE_LIMIT": env.get("UPLOAD_PART_RATE_LIMIT", "3000 per hour"),
        # ffmpeg threads per video job, and the longest one transcode may run (below Celery's
        # 30 min time limit, with room for the download and the uploads).
        "VIDEO_THREADS": _int(env, "VIDEO_THREADS", 2),
        "VIDEO_TIMEOUT_S": _int(env, "VIDEO_TIMEOUT_S", 1200),
        # Each photo is decoded in a child process of the worker (worker.render_child) under
        # these limits; a photo that needs more time or address space is refused as damaged.
        # 1024 MB decodes a 120 MP progressive 4:4:4 JPEG (716 MB at its peak; 5120x2880: 121 MB).
        "PHOTO_RENDER_IN_CHILD": _bool(env.get("PHOTO_RENDER_IN_CHILD"), True),
        "PHOTO_RENDER_TIMEOUT_S": _int(env, "PHOTO_RENDER_TIMEOUT_S", 120),
        "PHOTO_RENDER_MAX_MEMORY_MB": _int(env, "PHOTO_RENDER_MAX_MEMORY_MB", 1024),
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL") or _default_base_url(env, env_name),
        # Zalo Official Account id: with one, the entry page loads Zalo's own share button.
        "ZALO_OA_ID": env.get("ZALO_OA_ID", ""),
        # How many reverse proxies (nginx, a load balancer) stand in front of the web processes.
        "PROXY_FIX_X_FOR": _int(env, "PROXY_FIX_X_FOR", 0),
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LANGUAGES": ("vi", "en"),
        "WTF_CSRF_ENABLED": _bool(env.get("WTF_CSRF_ENABLED"), True),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        # "Keep me logged in": the cookie, and every login, lasts this long (contest.auth.sessions).
        "REMEMBER_COOKIE_DURATION": timedelta(days=_int(env, "REMEMBER_COOKIE_DAYS", 30)),
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
    }
    return settings


def check_production(settings: dict) -> None:
    """Refuse settings that must never reach production; each message names the setting to fix."""
    check_common(settings)
    if settings["ENV_NAME"] != "production":
        return
    if settings["SECRET_KEY"] in ("", DEFAULT_SECRET) or len(settings["SECRET_KEY"]) < 32:
        raise ConfigError(
            "SECRET_KEY must be set to a random value of 32+ characters in production "
            "(CONTEST_ENV=production, the default; CONTEST_ENV=development runs with the development defaults)"
        )
    if settings["DATABASE_URL"].startswith("sqlite"):
        raise ConfigError("DATABASE_URL must point to PostgreSQL in production")
    _check_mail(settings)
    if settings["RATELIMIT_ENABLED"] and settings["RATELIMIT_STORAGE_URI"].startswith(IN_PROCESS_RATE_LIMITS):
        raise ConfigError(
            "RATELIMIT_STORAGE_URI must be a storage shared by every web process in production "
            "(e.g. redis://redis:6379/1), not in-process memory"
        )


def check_common(settings: dict) -> None:
    """Settings every environment must get right."""
    if settings["MAIL_TRANSPORT"] not in ("smtp", "log"):
        raise ConfigError(f"MAIL_TRANSPORT must be 'smtp' or 'log', got {settings['MAIL_TRANSPORT']!r}")
    if settings["LOG_FORMAT"] not in ("json", "text"):
        raise ConfigError(f"LOG_FORMAT must be 'json' or 'text', got {settings['LOG_FORMAT']!r}")


def _check_mail(settings: dict) -> None:
    """Without a mail server, verification mail would only reach the log: say so at start."""
    if settings["MAIL_TRANSPORT"] == "smtp" and not settings["MAIL_SERVER"]:
        raise ConfigError(
            "MAIL_SERVER must name the SMTP server in production (e-mail verification, password "
            "resets and entrants' notices are sent through it); set MAIL_TRANSPORT=log to write "
            "every e-mail to the log instead, knowingly"
        )


def celery_settings(settings: dict) -> dict:
    """Celery configuration derived from the application settings."""
    longest_job_s = 30 * 60
    return {
        "broker_url": settings["BROKER_URL"],
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_time_limit": longest_job_s,
        "task_soft_time_limit": longest_job_s - 60,
        "broker_transport_options": _broker_transport_options(settings["BROKER_URL"], longest_job_s),
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": 3,
        # Beat's schedule file lives in the state folder, never in the code's checkout.
        "beat_schedule_filename": str(Path(settings["INSTANCE_DIR"]) / "celerybeat-schedule"),
        "beat_scheduler": "contest.ops.tasks:StateFolderScheduler",  # makes that folder first
        "beat_schedule": {
            "sweep-stale-jobs": {
                "task": "worker.sweep_jobs",
                "schedule": float(settings["JOB_SWEEP_INTERVAL_S"]),
            },
        },
        "timezone": "Asia/Ho_Chi_Minh",
        "enable_utc": True,
    }


def _broker_transport_options(broker_url: str, longest_job_s: int) -> dict:
    if broker_url.startswith(("sqla+", "sqlalchemy+")):
        # kombu's SQLAlchemy transport passes its options to create_engine(), which refuses
        # any other keyword; it has no visibility timeout (the sweep resends lost jobs).
        return {"connect_args": {"timeout": 30}} if "sqlite" in broker_url else {}
    # Longer than the longest job, so an unacknowledged job is not handed out twice.
    return {"visibility_timeout": 2 * longest_job_s, "polling_interval": 0.5}
