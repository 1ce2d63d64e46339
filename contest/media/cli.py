"""``flask --app wsgi contest media-sync``: make every entry's public copies agree with its status;
``flask --app wsgi contest jury-copies SLUG``: have the worker make the missing jury copies.

The worker's beat runs the same sweep (100 entries at a time); this command runs it to the
end, e.g. once after upgrading to migration 0008, which marks every entry that has
renditions as published: the command keeps a private copy of each rendition and deletes
the public copies of the entries that are not approved. Plain English output.
"""

from __future__ import annotations

import click
from sqlalchemy import select

from contest.cli import contest_cli
from contest.contests.models import Contest
from contest.extensions import db
from contest.media import jury_copies
from contest.media.publication import sweep


@contest_cli.command("media-sync")
def media_sync_command() -> None:
    """Publish the renditions of approved entries and take down those of all others."""
    after, synced, failed = 0, 0, []
    while batch := sweep(db.session, after_id=after):
        after = batch[-1].entry_id
        synced += sum(1 for s in batch if s.ok)
        failed += [s.code for s in batch if not s.ok]
    click.echo(f"entries synced: {synced}")
    if failed:
        click.echo(f"storage failed for: {', '.join(failed)} (the worker's sweep tries again)")


@contest_cli.command("jury-copies")
@click.argument("contest_slug")
def jury_copies_command(contest_slug: str) -> None:
    """Send the worker the entries of a contest whose originals lack a jury copy (issue 15)."""
    found = db.session.scalar(select(Contest).where(Contest.slug == contest_slug))
    if found is None:
        raise click.ClickException(f"no contest with the slug {contest_slug!r}")
    sent, not_sent = jury_copies.send_for_contest(db.session, found.id)
    click.echo(f"entries sent to the worker for their jury copies: {len(sent)}")
    if not_sent:
        raise click.ClickException(
            f"{len(not_sent)} entries could not be sent (broker down or JOB_DISPATCH=off): run the command again"
        )
