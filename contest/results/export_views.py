"""The organizers' results exports: each round's full results and each contest's winners,
as CSV or XLSX, judges under pseudonyms unless asked for by name (``?names=1``).

The export is audited and committed first, then the file streams: CSV row by row, XLSX from
a temporary file openpyxl filled in write-only mode (a workbook is a ZIP: it ends before it
can be sent).
"""

from __future__ import annotations

import tempfile

from flask import (
    Blueprint,
    Response,
    abort,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from werkzeug.routing import BuildError

from contest.auth.policy import organizer_required
from contest.contests.models import Contest
from contest.extensions import db
from contest.jury.forms import KIND_LABELS
from contest.jury.models import Round
from contest.results.export_files import FORMATS, MIME_TYPES, csv_chunks, write_xlsx
from contest.results.exports import Table, record_export, round_table, winners_table

bp = Blueprint("results_exports", __name__)


@bp.get("/exports")
@organizer_required
def index():
    """Every contest's rounds and winners, with their download links."""
    contests = db.session.scalars(select(Contest).order_by(Contest.created_at.desc())).all()
    rounds = db.session.scalars(select(Round).order_by(Round.contest_id, Round.id)).all()
    return render_template(
        "results/exports.html",
        contests=contests,
        by_contest={c.id: [r for r in rounds if r.contest_id == c.id] for c in contests},
        kind_labels=KIND_LABELS,
        formats=FORMATS,
        zip_url=_zip_page(),
    )


def _zip_page() -> str | None:
    """The winners' originals page (contest.results.views_zip), when the application has it."""
    try:
        return url_for("results_zip.index")
    except BuildError:
        return None


@bp.get("/rounds/<int:round_id>/export.<fmt>")
@organizer_required
def round_export(round_id: int, fmt: str):
    if fmt not in FORMATS:
        abort(404)
    names = request.args.get("names") == "1"
    try:
        table = round_table(db.session, round_id, names=names)
    except LookupError:
        abort(404)
    return _download(table, fmt, names)


@bp.get("/contests/<int:contest_id>/winners.<fmt>")
@organizer_required
def winners_export(contest_id: int, fmt: str):
    contest = db.session.get(Contest, contest_id) or abort(404)
    if fmt not in FORMATS:
        abort(404)
    return _download(winners_table(db.session, contest), fmt, names=False)


def _download(table: Table, fmt: str, names: bool) -> Response:
    """Audit the export, commit it, then send the file under the table's name."""
    record_export(db.session, table, actor_id=current_user.id, fmt=fmt, names=names, via="web")
    db.session.commit()
    filename = f"{table.name}.{fmt}"
    if fmt == "xlsx":
        spool = tempfile.TemporaryFile()  # noqa: SIM115  (send_file closes it once sent)
        write_xlsx(table, spool)
        spool.seek(0)
        response = send_file(spool, mimetype=MIME_TYPES[fmt], as_attachment=True, download_name=filename)
    else:
        body = stream_with_context(piece.encode("utf-8") for piece in csv_chunks(table))
        response = Response(body, mimetype=MIME_TYPES[fmt])
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
