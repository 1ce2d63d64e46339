"""The account page: who is logged in, changing the password, logging out everywhere."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from contest.auth import services, sessions
from contest.auth.forms import ChangePasswordForm
from contest.extensions import db

bp = Blueprint("account", __name__)


def _page(password_form: ChangePasswordForm | None = None):
    return render_template(
        "auth/account.html",
        open_logins=sessions.open_count(db.session, current_user.id),
        password_form=password_form or ChangePasswordForm(formdata=None),
    )


@bp.get("/")
@login_required
def index():
    return _page()


@bp.post("/password")
@login_required
def change_password():
    """A new password; the account's logins on other devices end, this one stays."""
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _page(form)
    try:
        services.change_password(
            db.session, current_user._get_current_object(), form.current_password.data, form.password.data
        )
    except services.WrongPassword:
        form.current_password.errors.append(_("This is not your current password."))
        return _page(form)
    db.session.commit()
    flash(_("Your new password is set. You are logged out on every other device."), "success")
    return redirect(url_for("account.index"))


@bp.post("/log-out-everywhere")
@login_required
def log_out_everywhere():
    """End every login of the account, this one included (CSRFProtect checks the button's token)."""
    sessions.end_all(db.session, current_user.id)
    db.session.commit()
    logout_user()
    flash(_("You are logged out on every device."), "success")
    return redirect(url_for("auth.login"))
