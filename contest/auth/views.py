"""Account pages: sign-up, e-mail confirmation, log-in and out, password reset."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from contest.auth import lockout, services, sessions
from contest.auth.forms import ForgotPasswordForm, LoginForm, RegisterForm, ResetPasswordForm
from contest.auth.models import User
from contest.auth.tokens import TokenRejected
from contest.botcheck import get_bot_check
from contest.extensions import db, limiter, login_manager
from contest.urls import safe_next

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to open this page.")
login_manager.login_message_category = "error"


@login_manager.user_loader
def load_user(login_id: str) -> User | None:
    """The account of the login the cookie names, while that login is open (contest.auth.
    sessions); a disabled account is logged out at its next request."""
    return sessions.load_user(db.session, login_id)


def _log_in(user: User, remember: bool = False) -> None:
    """Log ``user`` in on a new login row (the caller commits); the session keeps the
    account's language unless the visitor chose one.

    With the language in the session, a page needs no account load to pick its language
    (contest.i18n): the vote button's request never loads the account object.
    """
    sessions.begin(db.session, user, remember=remember, user_agent=request.user_agent.string)
    login_user(user, remember=remember)
    if user.locale in current_app.config["LANGUAGES"]:
        session.setdefault("lang", user.locale)


def _signup_limit() -> str:
    return current_app.config["SIGNUP_RATE_LIMIT"]


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _locked_message(minutes: int) -> str:
    return ngettext(
        "Too many wrong passwords for this account lately. Please try again in %(num)d minute, "
        "or choose a new password with “Forgot your password?”.",
        "Too many wrong passwords for this account lately. Please try again in %(num)d minutes, "
        "or choose a new password with “Forgot your password?”.",
        minutes,
    )


def _link_problem(purpose: str, exc: TokenRejected):
    return render_template("auth/link_problem.html", purpose=purpose, problem=exc.problem.value), 400


# --- sign-up and e-mail confirmation ----------------------------------------------------
@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_signup_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    bot_check = get_bot_check()
    # Checked before the form, whatever its state: a CAPTCHA service's answer is spent once read.
    human = not form.is_submitted() or bot_check.verify(request.form, request.remote_addr)
    if form.validate_on_submit() and human:
        services.register_entrant(
            db.session,
            email=form.email.data,
            password=form.password.data,
            full_name=form.full_name.data,
            country=form.country.data,
            birth_year=form.birth_year.data,
            locale=str(get_locale() or "vi"),
        )
        db.session.commit()
        # The same answer whether or not the mailbox has an account (its owner is told by
        # e-mail), so nobody is logged in here: a new entrant logs in next, on the login page.
        flash(
            _(
                "Welcome, %(name)s! We sent an e-mail to %(email)s: open the link in it to "
                "confirm your address, then log in.",
                name=form.full_name.data,
                email=form.email.data,
            ),
            "success",
        )
        return redirect(url_for("auth.login"))
    bot_error = (
        None
        if human
        else _(
            "The check that you are a person did not pass: the answer was wrong or came too late. Please try again."
        )
    )
    return render_template("auth/register.html", form=form, bot_check=bot_check.widget(), bot_error=bot_error)


@bp.get("/unverified")
@login_required
def unverified():
    if current_user.is_verified:
        return redirect(url_for("main.home"))
    return render_template("auth/unverified.html")


@bp.post("/resend-verification")
@limiter.limit(_signup_limit, methods=["POST"])
@login_required
def resend_verification():
    if current_user.is_verified:
        flash(_("Your e-mail address is already confirmed."), "success")
        return redirect(url_for("main.home"))
    services.send_verification_email(db.session, current_user._get_current_object())
    db.session.commit()
    flash(_("We sent a new link to %(email)s.", email=current_user.email), "success")
    return redirect(url_for("auth.unverified"))


@bp.get("/verify/<token>")
def verify_email(token: str):
    try:
        _user, newly_confirmed = services.confirm_email(db.session, token)
    except TokenRejected as exc:
        return _link_problem("verify", exc)
    db.session.commit()
    if newly_confirmed:
        flash(_("Thank you: your e-mail address is confirmed."), "success")
    else:
        flash(_("Your e-mail address is already confirmed."), "success")
    return redirect(url_for("main.home") if current_user.is_authenticated else url_for("auth.login"))


# --- logging in and out -----------------------------------------------------------------
@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.check_credentials(db.session, form.email.data, form.password.data)
        except services.BadCredentials:
            form.form_errors.append(_("Wrong e-mail address or password."))
        except services.AccountDisabled:
            form.form_errors.append(_("This account has been disabled. Please contact the organizers."))
        except lockout.AccountLocked as exc:
            form.form_errors.append(_locked_message(exc.minutes))
            return render_template("auth/login.html", form=form), 429
        else:
            _log_in(user, remember=form.remember.data)
            db.session.commit()
            flash(_("Welcome back, %(name)s.", name=user.full_name), "success")
            return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    """End this login for good: a copy of its cookies logs nobody in afterwards."""
    if current_user.is_authenticated:
        sessions.end(db.session, current_user.login_session_id)
        db.session.commit()
    logout_user()
    flash(_("You are logged out. See you soon!"), "success")
    return redirect(url_for("main.home"))


# --- password reset ---------------------------------------------------------------------
@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(_signup_limit, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(db.session, form.email.data)
        db.session.commit()
        # The same answer whether or not the address has an account.
        flash(
            _(
                "If an account uses %(email)s, we have sent it a link to choose a new password.",
                email=form.email.data,
            ),
            "success",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _choose_password(token, invitation=False)


@bp.route("/welcome/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """An invited judge chooses their first password (contest.auth.services.invite_judge)."""
    return _choose_password(token, invitation=True)


def _choose_password(token: str, *, invitation: bool):
    try:
        user = services.user_for_reset_token(db.session, token, invitation=invitation)
    except TokenRejected as exc:
        return _link_problem("reset", exc)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.reset_password(db.session, token, form.password.data, invitation=invitation)
        db.session.commit()
        flash(_("Your new password is set. You can log in with it now."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form, user=user, invitation=invitation)
