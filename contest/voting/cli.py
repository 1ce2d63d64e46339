"""``flask --app wsgi contest recount-votes``: rebuild the vote counters from the votes.

The counters are kept in each vote's transaction and should never drift; this command
checks that they agree with the valid votes (and repairs them if not), for example before
the audience prizes are announced, or after votes were edited by hand in the database.
"""

from __future__ import annotations

import click

from contest.cli import contest_cli
from contest.contests.models import current_contest
from contest.extensions import db
from contest.voting.services import recount


@contest_cli.command("recount-votes")
def recount_votes_command() -> None:
    """Recount the current contest's valid votes into its counters."""
    contest = current_contest(db.session)
    if contest is None:
        raise click.ClickException("there is no published contest")
    changed = recount(db.session, contest)
    db.session.commit()
    click.echo(f"{contest.slug}: counters recounted, {changed} entries corrected")
