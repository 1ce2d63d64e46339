"""``flask --app wsgi contest seed-demo``: the demo edition, its development accounts and gallery.

Output is for the developer at the terminal, so it is plain English (not translated).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from flask import current_app

from contest.cli import contest_cli
from contest.contests.services import DemoSeed, seed_demo
from contest.extensions import db

if TYPE_CHECKING:
    from worker.demo_gallery import GallerySeed


@contest_cli.command("seed-demo")
@click.option(
    "--force-production",
    is_flag=True,
    help="Seed even when CONTEST_ENV=production (creates accounts with known passwords).",
)
def seed_demo_command(force_production: bool) -> None:
    """Create the 2025 demo contest, demo accounts and a small demo gallery, if missing."""
    if current_app.config["ENV_NAME"] == "production" and not force_production:
        raise click.ClickException(
            "refusing to seed demo accounts with published passwords in production; "
            "pass --force-production if you really mean it"
        )
    seed = seed_demo(db.session)
    # The demo gallery's files are made by the worker's own rendition code; this development
    # command is the one place where contest/ calls into worker/ (imported here, not at load).
    from worker.demo_gallery import seed_demo_gallery

    gallery = seed_demo_gallery(db.session, seed.contest)
    db.session.commit()
    production = current_app.config["ENV_NAME"] == "production"
    _report(seed, current_app.config["PUBLIC_BASE_URL"], gallery, show_passwords=not production)


def _report(seed: DemoSeed, url: str, gallery: GallerySeed, *, show_passwords: bool) -> None:
    """What was made; the demo passwords only outside production (set new ones there)."""
    contest_state = "created" if seed.contest_created else "already there"
    click.echo(f"Contest {seed.contest.title_en} ({seed.contest.slug}): {contest_state}")
    rows = [("role", "e-mail", "password", "account")]
    rows += [
        (
            s.account.role.value,
            s.account.email,
            s.account.password if show_passwords else "(not shown in production)",
            "created" if s.created else "already there",
        )
        for s in seed.accounts
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    click.echo(gallery.summary())
    if not seed.changed_anything and not gallery.created:
        click.echo("Everything was already there; nothing changed.")
    elif not all(s.created for s in seed.accounts):
        click.echo("Accounts marked 'already there' keep the password they had.")
    click.echo(f"Open {url}")
