"""Who may do what: the one place for access rules."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from contest.auth.models import Role


def role_required(*roles: Role) -> Callable:
    """Logged-in users with one of ``roles``; others get 403 (anonymous: the login page)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


organizer_required = role_required(Role.organizer)


def verified_entrant_required(view: Callable) -> Callable:
    """Entrants whose e-mail is verified; an unverified one is sent to confirm it first."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.role is not Role.entrant:
            abort(403)
        if not current_user.is_verified:
            flash(_("Please confirm your e-mail address before you submit an entry."), "error")
            return redirect(url_for("auth.unverified"))
        return view(*args, **kwargs)

    return wrapped
