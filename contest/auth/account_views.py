"""The account page: details, e-mail address, password, devices, deleting the account."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, session, url_for
from flask_babel import force_locale, format_timedelta
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from contest.auth import account_email, account_services, account_sessions, services, sessions
from contest.auth.account_forms import ChangeEmailForm, DeleteAccountForm, DetailsForm
from contest.auth.forms import ChangePasswordForm
from contest.auth.tokens import TokenRejected
from contest.db import now_utc
from contest.extensions import db, limiter

bp = Blueprint("account", __name__)


@bp.teardown_app_request
def _touch_login(exc: BaseException | None) -> None:
    login_id = account_sessions.login_to_touch() if exc is None else None
    if login_id is not None:
        account_sessions.touch(db.session, login_id)


def _me():
    return current_user._get_current_object()


def _page(**forms):
    """The account page with its forms: those given (submitted, with their errors), the others blank."""
    user = _me()
    forms.setdefault("details_form", DetailsForm(formdata=None, obj=user))
    forms.setdefault("email_form", ChangeEmailForm(formdata=None))
    forms.setdefault("password_form", ChangePasswordForm(formdata=None))
    devices = account_sessions.devices(db.session, user.id, user.login_session_id)
    now = now_utc()
    return render_template(
        "auth/account.html",
        devices=devices,
        ago=lambda when: format_timedelta(when - now, add_direction=True),
        open_logins=len(devices),
        may_delete=account_services.may_delete(user),
        **forms,
    )


@bp.get("/")
@login_required
def index():
    return _page()


@bp.post("/details")
@login_required
def change_details():
    """Name, country, language; the language also becomes this visit's."""
    form = DetailsForm()
    if not form.validate_on_submit():
        return _page(details_form=form)
    changed = account_services.update_details(
        _me(), full_name=form.full_name.data, country=form.country.data, locale=form.locale.data
    )
    db.session.commit()
    session["lang"] = form.locale.data
    with force_locale(form.locale.data):  # said in the language just chosen
        flash(_("Your details are saved.") if changed else _("Nothing was changed."), "success")
    return redirect(url_for("account.index"))


@bp.post("/password")
@login_required
def change_password():
    """A new password; the account's logins on other devices end, this one stays."""
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _page(password_form=form)
    try:
        services.change_password(db.session, _me(), form.current_password.data, form.password.data)
    except services.WrongPassword:
        form.current_password.errors.append(_("This is not your current password."))
        return _page(password_form=form)
    db.session.commit()
    flash(_("Your new password is set. You are logged out on every other device."), "success")
    return redirect(url_for("account.index"))


# --- e-mail address -------------------------------------------------------------------------
def _mail_limit() -> str:
    return current_app.config["SIGNUP_RATE_LIMIT"]


@bp.post("/email")
@limiter.limit(_mail_limit, methods=["POST"])
@login_required
def change_email():
    form = ChangeEmailForm()
    if not form.validate_on_submit():
        return _page(email_form=form)
    try:
        account_email.request_email_change(db.session, _me(), form.email.data, form.password.data)
    except services.WrongPassword:
        form.password.errors.append(_("This is not your current password."))
        return _page(email_form=form)
    except account_email.SameEmail:
        form.email.errors.append(_("This is already your e-mail address."))
        return _page(email_form=form)
    db.session.commit()
    # The same answer whether or not the new address has an account.
    flash(
        _(
            "We sent a link to %(email)s, unless it belongs to another account. Your address stays "
            "%(current)s until you open that link.",
            email=form.email.data,
            current=current_user.email,
        ),
        "success",
    )
    return redirect(url_for("account.index"))


@bp.get("/email/<token>")
def confirm_email_change(token: str):
    """The link sent to the new address: opening it is the proof that the mailbox is theirs."""
    try:
        user = account_email.confirm_email_change(db.session, token)
    except TokenRejected as exc:
        return render_template("auth/account_link_problem.html", problem=exc.problem.value), 400
    except account_email.EmailTaken:
        return render_template("auth/account_link_problem.html", problem="taken"), 400
    db.session.commit()
    flash(_("Your e-mail address is now %(email)s.", email=user.email), "success")
    return redirect(url_for("account.index") if current_user.is_authenticated else url_for("auth.login"))


# --- devices --------------------------------------------------------------------------------
@bp.post("/devices/<handle>/log-out")
@login_required
def end_device(handle: str):
    """Log out one device of the account (this one too, if it is the one named)."""
    ended = account_sessions.end_device(db.session, current_user.id, handle)
    if ended is None:
        abort(404)
    db.session.commit()
    if ended == current_user.login_session_id:
        logout_user()
        flash(_("You are logged out on this device."), "success")
        return redirect(url_for("auth.login"))
    flash(_("That device is logged out."), "success")
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


# --- deleting the account -------------------------------------------------------------------
@bp.route("/delete", methods=["GET", "POST"])
@login_required
def delete():
    if not account_services.may_delete(_me()):
        abort(403)
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            account_services.delete_account(db.session, _me(), form.password.data)
        except services.WrongPassword:
            form.password.errors.append(_("This is not your current password."))
        except account_services.HoldsPrize:
            form.password.errors.append(
                _(
                    "An entry of yours is given a prize: please write to the organizers to delete your account."
                )
            )
        else:
            db.session.commit()
            logout_user()
            flash(_("Your account is deleted. Thank you for taking part."), "success")
            return redirect(url_for("main.home"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/account_delete.html", form=form), status
