"""A contest's jury for organizers: its judges (add, invite by e-mail, remove after a
confirmation) and the conflicts of interest (declare, withdraw). Every change rebalances the
open rounds through contest.jury.members, which audits it."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import aliased
from wtforms.fields.choices import SelectChoice

from contest.auth.models import Role, User
from contest.auth.policy import organizer_required
from contest.auth.services import find_user
from contest.contests.models import Contest
from contest.extensions import db
from contest.jury import members
from contest.jury.errors import JuryRefused
from contest.jury.forms import AddJudgeForm, ConfirmForm, ConflictForm, InviteJudgeForm
from contest.jury.models import Conflict, JuryMember

bp = Blueprint("members", __name__, url_prefix="/contests/<int:contest_id>")


def _contest(contest_id: int) -> Contest:
    return db.session.get(Contest, contest_id) or abort(404)


@bp.get("/judges")
@organizer_required
def judges(contest_id: int):
    return _page(_contest(contest_id))


@bp.post("/judges/add")
@organizer_required
def add(contest_id: int):
    contest = _contest(contest_id)
    form = _add_form(contest)
    chosen = form.judge.data if form.validate_on_submit() else None
    judge = db.session.get(User, chosen) if chosen else None
    if judge is None:
        form.judge.errors = [_("Choose a judge account.")]
        return _page(contest, add_form=form)
    try:
        members.add_judge(db.session, contest.id, judge, actor_id=current_user.id)
    except JuryRefused as refusal:
        form.judge.errors = [refusal.message]
        return _page(contest, add_form=form)
    db.session.commit()
    flash(_("%(name)s is on the jury.", name=judge.full_name), "success")
    return redirect(url_for(".judges", contest_id=contest.id))


@bp.post("/judges/invite")
@organizer_required
def invite(contest_id: int):
    contest = _contest(contest_id)
    form = InviteJudgeForm()
    if not form.validate_on_submit():
        return _page(contest, invite_form=form)
    try:
        judge, invited = members.invite_judge(
            db.session,
            contest.id,
            form.email.data,
            form.full_name.data,
            form.locale.data,
            actor_id=current_user.id,
        )
    except JuryRefused as refusal:
        form.email.errors = [refusal.message]
        return _page(contest, invite_form=form)
    db.session.commit()
    if invited:
        flash(
            _("An invitation was sent to %(email)s; the judge is on the jury.", email=judge.email), "success"
        )
    else:
        flash(_("%(name)s already had a judge account and is on the jury.", name=judge.full_name), "success")
    return redirect(url_for(".judges", contest_id=contest.id))


@bp.route("/judges/<int:judge_id>/remove", methods=["GET", "POST"])
@organizer_required
def remove(contest_id: int, judge_id: int):
    contest = _contest(contest_id)
    member = db.session.scalar(
        select(JuryMember).where(
            JuryMember.contest_id == contest.id,
            JuryMember.judge_id == judge_id,
            JuryMember.removed_at.is_(None),
        )
    )
    if member is None:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        members.remove_judge(db.session, contest.id, judge_id, actor_id=current_user.id)
        db.session.commit()
        flash(_("%(name)s is no longer on the jury.", name=member.judge.full_name), "success")
        return redirect(url_for(".judges", contest_id=contest.id))
    loads = members.open_loads(db.session, contest.id)
    return render_template(
        "jury/admin_remove_judge.html",
        contest=contest,
        member=member,
        load=loads.get(judge_id, 0),
    )


@bp.post("/conflicts")
@organizer_required
def declare(contest_id: int):
    contest = _contest(contest_id)
    form = _conflict_form(contest)
    if not form.validate_on_submit():
        return _page(contest, conflict_form=form)
    if form.judge.data not in {choice.value for choice in form.judge.choices}:
        form.judge.errors = [_("Choose a judge of the jury.")]
        return _page(contest, conflict_form=form)
    entrant = find_user(db.session, form.entrant_email.data)
    if entrant is None:
        form.entrant_email.errors = [_("No account uses this e-mail address.")]
        return _page(contest, conflict_form=form)
    try:
        members.declare_conflict(
            db.session, contest.id, form.judge.data, entrant.id, form.reason.data, actor_id=current_user.id
        )
    except JuryRefused as refusal:
        form.reason.errors = [refusal.message]
        return _page(contest, conflict_form=form)
    db.session.commit()
    flash(_("The conflict of interest is recorded."), "success")
    return redirect(url_for(".judges", contest_id=contest.id))


@bp.post("/conflicts/<int:conflict_id>/withdraw")
@organizer_required
def withdraw(contest_id: int, conflict_id: int):
    contest = _contest(contest_id)
    conflict = db.session.get(Conflict, conflict_id)
    if conflict is None or conflict.contest_id != contest.id:
        abort(404)
    if ConfirmForm().validate_on_submit():
        members.withdraw_conflict(db.session, conflict, actor_id=current_user.id)
        db.session.commit()
        flash(_("The conflict of interest is withdrawn."), "success")
    return redirect(url_for(".judges", contest_id=contest.id))


def _jury(contest: Contest) -> list[JuryMember]:
    return list(
        db.session.scalars(
            select(JuryMember)
            .join(User, User.id == JuryMember.judge_id)
            .where(JuryMember.contest_id == contest.id, JuryMember.removed_at.is_(None))
            .order_by(User.full_name, User.id)
        )
    )


def _add_form(contest: Contest, **formdata) -> AddJudgeForm:
    """The judge accounts not on the jury yet."""
    form = AddJudgeForm(**formdata)
    on_jury = select(JuryMember.judge_id).where(
        JuryMember.contest_id == contest.id, JuryMember.removed_at.is_(None)
    )
    others = db.session.scalars(
        select(User).where(User.role == Role.judge, User.id.not_in(on_jury)).order_by(User.full_name)
    )
    form.judge.choices = [SelectChoice(u.id, f"{u.full_name} <{u.email}>") for u in others]
    return form


def _conflict_form(contest: Contest, **formdata) -> ConflictForm:
    form = ConflictForm(**formdata)
    form.judge.choices = [SelectChoice(m.judge_id, m.judge.full_name) for m in _jury(contest)]
    return form


def _conflicts(contest: Contest) -> list[tuple[Conflict, User, User]]:
    judge, entrant = aliased(User), aliased(User)
    return list(
        db.session.execute(
            select(Conflict, judge, entrant)
            .join(judge, judge.id == Conflict.judge_id)
            .join(entrant, entrant.id == Conflict.entrant_id)
            .where(Conflict.contest_id == contest.id)
            .order_by(Conflict.created_at)
        ).all()
    )


def _page(contest: Contest, *, add_form=None, invite_form=None, conflict_form=None):
    """The jury page; a form that was refused comes back with its messages (status 400)."""
    refused = any(f is not None for f in (add_form, invite_form, conflict_form))
    return render_template(
        "jury/admin_judges.html",
        contest=contest,
        jury=_jury(contest),
        loads=members.open_loads(db.session, contest.id),
        conflicts=_conflicts(contest),
        add_form=add_form or _add_form(contest, formdata=None),
        invite_form=invite_form or InviteJudgeForm(formdata=None),
        conflict_form=conflict_form or _conflict_form(contest, formdata=None),
    ), (400 if refused else 200)
