"""``flask --app wsgi contest recount-votes``: rebuild the vote counters from the votes;
``contest review-votes``: run the vote review and store its cases.

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


@contest_cli.command("review-votes")
@click.option(
    "--days", type=click.IntRange(1, 366), default=None, help="Days of votes examined (VOTE_REVIEW_DAYS)."
)
def review_votes_command(days: int | None) -> None:
    """Run the vote review over the current contest's recent votes and store its cases
    (the organizers' case pages read them); for a scheduled job, e.g. nightly."""
    from contest.voting import review_runs

    contest = current_contest(db.session)
    if contest is None:
        raise click.ClickException("there is no published contest")
    run = review_runs.run_review(db.session, contest.id, days)
    db.session.commit()
    click.echo(f"{contest.slug}: {len(review_runs.run_cases(run))} cases in {run.seconds:.1f} s")
