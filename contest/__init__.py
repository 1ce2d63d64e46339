"""The Happy Nghe An contest platform (Flask application)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from contest.config import ROOT, check_production, load_settings

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict | None = None) -> Flask:
    # Imported here: the worker's photo decode child imports pure modules of this package
    # (contest.media.photo_files, .rejection; contest.entries.kinds): they must not load Flask.
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from contest.ops import logs

    settings = load_settings()
    settings.update(config or {})
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=settings["INSTANCE_DIR"],
    )
    app.config.update(settings)
    check_production(app.config)
    Path(app.config["INSTANCE_DIR"]).mkdir(parents=True, exist_ok=True)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(ROOT / "translations"))
    logs.configure(app.config)  # JSON or text lines with the request id (contest.ops.logs)

    # Pillow's own decompression-bomb guard agrees with the limit check_photo applies,
    # in the web process and in the worker alike.
    Image.MAX_IMAGE_PIXELS = app.config["MAX_IMAGE_PIXELS"]
    if app.config["PROXY_FIX_X_FOR"]:
        # Behind N reverse proxies, the client's address is the Nth from the right in
        # X-Forwarded-For: votes' network signals and the rate limits need the real one.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=1)
    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    from contest import ops, security, storage, templating
    from contest.entries import upload_guard
    from contest.extensions import babel, csrf, db, limiter, login_manager
    from contest.gallery import versions  # noqa: F401  (every flush moves the public pages' version on)
    from contest.i18n import select_locale
    from contest.media import publication  # noqa: F401  (approval publishes renditions, other statuses hide them)
    from contest.processing import dispatch

    db.init_app(app)
    ops.init_app(app)  # first: every answer, an early refusal too, has its request id and is counted
    # Before the CSRF check, which reads the form: an upload too large or too frequent is
    # refused before its body is read.
    upload_guard.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: "Asia/Ho_Chi_Minh")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    login_manager.init_app(app)
    storage.init_app(app)
    security.init_app(app)
    dispatch.init_app(app)
    templating.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from contest.admin.views import bp as admin_bp
    from contest.audit.views import bp as audit_bp
    from contest.auth.account_views import bp as account_bp
    from contest.auth.staff_views import bp as staff_bp
    from contest.auth.views import bp as auth_bp
    from contest.contests.setup_views import bp as contests_bp
    from contest.entries.moderation_views import bp as moderation_bp
    from contest.entries.reason_views import bp as rejection_reasons_bp
    from contest.entries.views import bp as entries_bp
    from contest.errors import register_error_handlers
    from contest.figures.views import bp as figures_bp
    from contest.gallery.views import bp as gallery_bp
    from contest.jury.admin_views import bp as jury_admin_bp
    from contest.jury.panel import bp as jury_bp
    from contest.mail.views import bp as mail_bp
    from contest.main.views import bp as main_bp
    from contest.media.views import bp as media_bp
    from contest.results.audience_views import bp as audience_bp
    from contest.results.export_views import bp as results_exports_bp
    from contest.results.public_views import bp as results_public_bp
    from contest.results.views import bp as results_bp
    from contest.results.views_awards import bp as results_awards_bp
    from contest.results.views_zip import bp as results_zip_bp
    from contest.uploads.views import bp as uploads_bp
    from contest.voting.review_views import bp as vote_review_bp
    from contest.voting.views import bp as voting_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp, url_prefix="/account")
    app.register_blueprint(account_bp, url_prefix="/account")
    app.register_blueprint(entries_bp, url_prefix="/entries")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(contests_bp, url_prefix="/admin")
    app.register_blueprint(staff_bp, url_prefix="/admin/accounts")
    app.register_blueprint(moderation_bp, url_prefix="/admin")
    app.register_blueprint(rejection_reasons_bp, url_prefix="/admin/rejection-reasons")
    app.register_blueprint(audit_bp, url_prefix="/admin")
    app.register_blueprint(vote_review_bp, url_prefix="/admin")
    app.register_blueprint(jury_admin_bp, url_prefix="/admin/jury")
    app.register_blueprint(jury_bp, url_prefix="/jury")
    app.register_blueprint(results_zip_bp, url_prefix="/admin/results/exports/zip")
    app.register_blueprint(results_bp, url_prefix="/admin/results")
    if app.config["ENV_NAME"] != "production":  # the development mailbox does not exist there
        app.register_blueprint(mail_bp, url_prefix="/dev/mailbox")
    app.register_blueprint(media_bp, url_prefix="/media")
    app.register_blueprint(voting_bp)
    app.register_blueprint(audience_bp)
    app.register_blueprint(results_exports_bp, url_prefix="/admin/results")
    app.register_blueprint(figures_bp)
    app.register_blueprint(gallery_bp)
    app.register_blueprint(results_awards_bp, url_prefix="/admin/results")
    app.register_blueprint(results_public_bp)
    app.register_blueprint(uploads_bp, url_prefix="/uploads")
    register_error_handlers(app)


def _register_cli(app: Flask) -> None:
    from contest.cli import contest_cli

    app.cli.add_command(contest_cli)
