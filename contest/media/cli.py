"""``flask --app wsgi contest media-sync``: make every entry's public copies agree with its status.

The worker's beat runs the same sweep (100 entries at a time); this command runs it to the
end, e.g. once after upgrading to migration 0008, which marks every entry that has
renditions as published: the command keeps a private copy of each rendition and deletes
the public copies of the entries that are not approved. Plain English output.
"""

from __future__ import annotations

import click

from contest.cli import contest_cli
from contest.extensions import db
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
