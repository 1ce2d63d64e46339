"""``flask --app wsgi contest create-organizer|create-judge EMAIL --name "Full Name"``."""

from __future__ import annotations

import click
from email_validator import EmailNotValidError, validate_email

from contest.auth.models import Role
from contest.auth.services import MIN_PASSWORD_LENGTH, create_staff, find_user, normalize_email
from contest.cli import contest_cli
from contest.extensions import db


def _staff_options(command):
    # Asked for only when a new account is created: promoting someone keeps their password.
    command = click.password_option(
        "--password",
        prompt=False,
        help="Password of a new account (asked for when not given).",
    )(command)
    command = click.option("--name", "full_name", help="Full name (required for a new account).")(command)
    return click.argument("email")(command)


def _save_staff(role: Role, email: str, full_name: str | None, password: str | None) -> None:
    """Create a confirmed staff account with ``role``, or give that role to an existing account."""
    try:
        validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from exc
    email = normalize_email(email)
    is_new = find_user(db.session, email) is None
    if is_new and not (full_name and full_name.strip()):
        raise click.UsageError('A new account needs a full name: --name "Full Name".')
    if is_new and password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise click.BadParameter(f"use at least {MIN_PASSWORD_LENGTH} characters", param_hint="--password")
    user, previous = create_staff(db.session, role=role, email=email, full_name=full_name, password=password)
    db.session.commit()
    if previous is None:
        click.echo(f"Created {role.value} {user.email} ({user.full_name}), e-mail confirmed.")
    else:
        note = "; password updated" if password else ""
        click.echo(
            f"{user.email} already had an account: role changed from {previous.value} to {role.value}{note}."
        )


@contest_cli.command("create-organizer")
@_staff_options
def create_organizer(email: str, full_name: str | None, password: str | None) -> None:
    """Create an organizer account (or make an existing account an organizer)."""
    _save_staff(Role.organizer, email, full_name, password)


@contest_cli.command("create-judge")
@_staff_options
def create_judge(email: str, full_name: str | None, password: str | None) -> None:
    """Create a judge account (or make an existing account a judge)."""
    _save_staff(Role.judge, email, full_name, password)
