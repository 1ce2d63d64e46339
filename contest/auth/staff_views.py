"""Organizer pages for staff accounts (/admin/accounts): invitations, roles, disabled accounts."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from contest.auth import staff
from contest.auth.models import Role, User
from contest.auth.policy import organizer_required
from contest.auth.staff_forms import ROLE_LABELS, ActiveForm, FindAccountForm, InviteStaffForm, RoleForm
from contest.extensions import db

bp = Blueprint("staff", __name__)


@bp.get("/")
@organizer_required
def accounts():
    return _page()


@bp.post("/invite")
@organizer_required
def invite():
    form = InviteStaffForm()
    if form.validate_on_submit():
        data = {f: form[f].data for f in ("email", "full_name", "locale")}
        try:
            staff.invite(db.session, **data, role=Role(form.role.data), actor_id=current_user.id)
        except staff.StaffRefused as exc:
            db.session.rollback()
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("An invitation was sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for(".accounts"))
    return _page(invite_form=form), 400


@bp.post("/<int:user_id>/role")
@organizer_required
def change_role(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = RoleForm(prefix=f"u{user_id}")
    if not form.validate_on_submit():
        abort(400)
    return _changed(
        lambda: staff.change_role(db.session, user, Role(form.role.data), actor=current_user), user
    )


@bp.post("/<int:user_id>/disable")
@organizer_required
def disable(user_id: int):
    return _set_active(user_id, False)


@bp.post("/<int:user_id>/enable")
@organizer_required
def enable(user_id: int):
    return _set_active(user_id, True)


def _set_active(user_id: int, active: bool):
    user = db.session.get(User, user_id) or abort(404)
    if not ActiveForm().validate_on_submit():
        abort(400)
    return _changed(lambda: staff.set_active(db.session, user, active, actor=current_user), user)


def _changed(change, user: User):
    try:
        change()
    except staff.StaffRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("The account of %(email)s was saved.", email=user.email), "success")
    return redirect(url_for(".accounts", email=user.email))


def _page(invite_form: InviteStaffForm | None = None):
    find_form = FindAccountForm(request.args)
    found = None
    if request.args.get("email") and find_form.validate():
        found = staff.find_account(db.session, find_form.email.data)
    return render_template(
        "auth/staff.html",
        people=staff.staff_accounts(db.session),
        found=found,
        find_form=find_form,
        invite_form=invite_form or InviteStaffForm(formdata=None),
        role_form=lambda user: RoleForm(formdata=None, role=user.role.value, prefix=f"u{user.id}"),
        active_form=ActiveForm(formdata=None),
        role_labels=ROLE_LABELS,
    )
