"""Home page, rules, and the language switch."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, session
from flask_login import current_user

from contest.contests.models import current_contest
from contest.extensions import db
from contest.urls import safe_next

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    contest = current_contest(db.session)
    return render_template("main/home.html", contest=contest)


@bp.get("/rules")
def rules():
    contest = current_contest(db.session)
    if contest is None:
        abort(404)
    return render_template("main/rules.html", contest=contest)


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.route("/language/<lang>", methods=["GET", "POST"])
def set_language(lang: str):
    """Switch the display language, then go back (a link in every page; POST still works).

    A plain GET link, with no CSRF token: choosing a language is harmless, and a link keeps
    the page free of anything of the visitor's session, so it can be served from a cache.
    """
    if lang not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = lang
    if current_user.is_authenticated and current_user.locale != lang:
        current_user.locale = lang
        db.session.commit()
    back_to = request.form.get("next") if request.method == "POST" else request.args.get("next")
    return redirect(safe_next(back_to))
