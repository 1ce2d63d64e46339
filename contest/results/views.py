"""The organizer's tally pages (/admin/results/...): every contest's rounds and its place for public
votes, and a round's tally: settings, the table (raw, normalised, final figures, how ties were
decided), Schulze's matrix, the jury's reliability and the raw-score file. Organizers only; each
change or export is one service call and an audit event, committed once."""

from __future__ import annotations

import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from contest.auth.policy import organizer_required
from contest.contests.models import Contest
from contest.extensions import db
from contest.jury.forms import KIND_LABELS, STATUS_LABELS
from contest.jury.models import Round, RoundEntry, RoundStatus
from contest.results import tally_page
from contest.results.models import AudienceMode
from contest.results.rawfile import write_sheet
from contest.results.readout import round_sheet
from contest.results.schulze import MAX_ENTRIES
from contest.results.settings import (
    record_raw_export,
    results_settings,
    save_audience_share,
    save_tally_settings,
)
from contest.results.sheet import RankingMethod
from contest.results.tally_forms import (
    METHOD_LABELS,
    MODE_LABELS,
    RULE_LABELS,
    AudienceShareForm,
    DownloadForm,
    TallySettingsForm,
)

bp = Blueprint("results", __name__)


def _round(round_id: int) -> Round:
    return db.session.get(Round, round_id) or abort(404)


@bp.get("/")
@organizer_required
def index():
    contests = db.session.scalars(select(Contest).order_by(Contest.created_at.desc())).all()
    listed = db.session.scalars(
        select(Round).where(Round.status != RoundStatus.draft).order_by(Round.contest_id, Round.id)
    ).all()
    forms = {c.id: _audience_form(c.id) for c in contests}
    return render_template(
        "results/index.html",
        contests=contests,
        by_contest={c.id: [r for r in listed if r.contest_id == c.id] for c in contests},
        forms=forms,
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
        mode_labels=MODE_LABELS,
    )


def _audience_form(contest_id: int) -> AudienceShareForm:
    chosen = results_settings(db.session, contest_id)
    form = AudienceShareForm(formdata=None, prefix=f"c{contest_id}")
    form.mode.data = chosen.audience_mode.value
    form.percent.data = round(chosen.audience_share * 100) or 20
    return form


@bp.post("/contests/<int:contest_id>/audience")
@organizer_required
def audience_share(contest_id: int):
    db.session.get(Contest, contest_id) or abort(404)
    form = AudienceShareForm(prefix=f"c{contest_id}")
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(url_for(".index"))
    mode = AudienceMode(form.mode.data)
    share = (form.percent.data or 0) / 100 if mode is AudienceMode.share else 0.0
    if save_audience_share(db.session, contest_id, mode, share, actor_id=current_user.id):
        db.session.commit()
        flash(_("The place of the public votes in the result was saved."), "success")
    return redirect(url_for(".index"))


@bp.get("/rounds/<int:round_id>")
@organizer_required
def round_tally(round_id: int):
    round_ = _round(round_id)
    return _page(round_, TallySettingsForm(formdata=None), fill=True)


def _page(round_: Round, form: TallySettingsForm, *, fill: bool = False, status: int = 200):
    page = request.args.get("page", 1, type=int)
    data = tally_page.build(db.session, round_, page=max(page, 1))
    if fill:
        form.fill(data.sheet.settings)
    return (
        render_template(
            "results/round.html",
            round=round_,
            data=data,
            form=form,
            download=DownloadForm(),
            kind_labels=KIND_LABELS,
            rule_labels=RULE_LABELS,
            method_labels=METHOD_LABELS,
        ),
        status,
    )


@bp.post("/rounds/<int:round_id>/settings")
@organizer_required
def save_settings(round_id: int):
    round_ = _round(round_id)
    form = TallySettingsForm()
    if not form.validate_on_submit() or not _fits(round_, form):
        return _page(round_, form, status=400)
    if save_tally_settings(db.session, round_, form.settings(), actor_id=current_user.id):
        db.session.commit()
        flash(_("The tally settings were saved; the table below uses them."), "success")
    return redirect(url_for(".round_tally", round_id=round_.id))


def _fits(round_: Round, form: TallySettingsForm) -> bool:
    """Schulze only for a shortlist (contest.results.schulze.MAX_ENTRIES)."""
    if form.ranking_method.data != RankingMethod.schulze.value:
        return True
    entries = db.session.scalar(select(func.count()).where(RoundEntry.round_id == round_.id))
    if entries <= MAX_ENTRIES:
        return True
    form.ranking_method.errors.append(
        _(
            "The Schulze method takes at most %(max)d entries; this round has %(num)d: use Borda.",
            max=MAX_ENTRIES,
            num=entries,
        )
    )
    return False


@bp.post("/rounds/<int:round_id>/raw-scores")
@organizer_required
def raw_scores(round_id: int):
    round_ = _round(round_id)
    if not DownloadForm().validate_on_submit():
        abort(400)
    sheet, _names = round_sheet(db.session, round_.id)
    record_raw_export(db.session, round_, actor_id=current_user.id, marks=len(sheet.marks))
    db.session.commit()
    buffer = io.StringIO(newline="")
    write_sheet(sheet, buffer)
    return Response(
        buffer.getvalue().encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="round-{round_.id}-raw-scores.csv"'},
    )
