"""The organizers' figures page, its CSV downloads, and the entry pages' visit beacon."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from contest.auth.policy import organizer_required
from contest.contests.models import Contest
from contest.extensions import csrf, db, limiter
from contest.figures import services, visits
from contest.figures.forms import FiguresForm, VisitForm
from contest.figures.models import VisitKind
from contest.results.export_files import csv_cell
from contest.timeutil import vn_today

bp = Blueprint("figures", __name__)


def _chosen_contest() -> tuple[FiguresForm, Contest | None]:
    contests = list(db.session.scalars(select(Contest).order_by(Contest.submission_opens_at.desc())))
    form = FiguresForm(request.args, contests=contests)
    if "contest" not in request.args:
        return form, contests[0] if contests else None
    if not form.validate():
        abort(400)
    return form, db.session.get(Contest, form.contest.data)


@bp.get("/admin/figures")
@organizer_required
def index():
    form, contest = _chosen_contest()
    figures = services.all_figures(db.session, contest) if contest else []
    return render_template("figures/index.html", form=form, contest=contest, figures=figures)


@bp.get("/admin/figures/<key>.csv")
@organizer_required
def download(key: str):
    build = services.FIGURES.get(key) or abort(404)
    _, contest = _chosen_contest()
    if contest is None:
        abort(404)
    figure = build(db.session, contest)
    out = io.StringIO()
    out.write("\ufeff")  # spreadsheets read UTF-8 (Vietnamese names) with the mark
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(figure.columns)
    writer.writerows([csv_cell(_csv_value(value)) for value in row] for row in figure.rows)
    name = f"{contest.slug}-{key}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )


def _csv_value(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


@bp.post("/e/<code>/visit")
@csrf.exempt
@limiter.limit("30 per minute")
def visit(code: str):
    """Counts one visit or share of a public entry's page: no cookie set, nothing of the visitor kept."""
    form = VisitForm(request.form)
    entry_id = visits.public_entry_id(db.session, code)
    if entry_id is None:
        abort(404)
    if not form.validate():
        return _("Unknown visit."), 400
    if form.kind.data == VisitKind.visit:
        own_host = urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or ""
        source = visits.visit_source(form.src.data or "", form.ref.data or "", own_host)
    else:
        source = visits.share_source(form.src.data or "")
    visits.count(db.session, entry_id, vn_today(), VisitKind(form.kind.data), source)
    db.session.commit()
    return "", 204
