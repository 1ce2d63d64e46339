"""``flask --app wsgi contest create-edition``: a real edition; ``seed-demo``: the demo edition, its
development accounts and gallery.

Output is for the developer at the terminal, so it is plain English (not translated).
"""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import select

from contest.cli import contest_cli
from contest.contests.editions import EditionRefused, create_edition, latest_edition
from contest.contests.models import Contest
from contest.contests.services import DemoSeed, seed_demo
from contest.contests.template import EditionDates, EditionName
from contest.extensions import db
from contest.timeutil import from_vn_local


@contest_cli.command("seed-demo")
@click.option(
    "--force-production",
    is_flag=True,
    help="Seed even when CONTEST_ENV=production (creates accounts with known passwords).",
)
def seed_demo_command(force_production: bool) -> None:
    """Create the 2025 demo contest and demo accounts, if missing (the gallery: ``python -m worker.demo_gallery``)."""
    if current_app.config["ENV_NAME"] == "production" and not force_production:
        raise click.ClickException(
            "refusing to seed demo accounts with published passwords in production; "
            "pass --force-production if you really mean it"
        )
    seed = seed_demo(db.session)
    db.session.commit()
    production = current_app.config["ENV_NAME"] == "production"
    _report(seed, current_app.config["PUBLIC_BASE_URL"], show_passwords=not production)


def _report(seed: DemoSeed, url: str, *, show_passwords: bool) -> None:
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
    if not seed.changed_anything:
        click.echo("Everything was already there; nothing changed.")
    elif not all(s.created for s in seed.accounts):
        click.echo("Accounts marked 'already there' keep the password they had.")
    # The gallery's files are made by the worker's own rendition code: contest/ never imports worker/.
    click.echo("The demo gallery: python -m worker.demo_gallery")
    click.echo(f"Open {url}")


_VN_MOMENT = click.DateTime(formats=["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"])


@contest_cli.command("create-edition")
@click.option(
    "--slug", required=True, help="Lower-case name in addresses and storage keys, e.g. happy-nghean-2026."
)
@click.option("--code-prefix", required=True, help="Prefix of the entry codes, e.g. HNA26.")
@click.option("--title-vi", required=True)
@click.option("--title-en", required=True)
@click.option("--submission-opens", type=_VN_MOMENT, required=True, help="Vietnam time, YYYY-MM-DD HH:MM.")
@click.option("--submission-closes", type=_VN_MOMENT, required=True)
@click.option("--voting-opens", type=_VN_MOMENT, required=True)
@click.option("--voting-closes", type=_VN_MOMENT, required=True)
@click.option("--results", type=_VN_MOMENT, default=None)
@click.option("--copy-from", default=None, help="Slug of the edition to copy; default: the latest one.")
@click.option("--from-template", is_flag=True, help="Start from the 2025 rules even if an edition exists.")
def create_edition_command(
    slug, code_prefix, title_vi, title_en, copy_from, from_template, **moments
) -> None:
    """Create an edition (no demo accounts or entries): a copy of the latest one, or the 2025 rules."""
    name = EditionName(slug, code_prefix.upper(), title_vi, title_en)
    dates = EditionDates(
        submission_opens_at=from_vn_local(moments["submission_opens"]),
        submission_closes_at=from_vn_local(moments["submission_closes"]),
        voting_opens_at=from_vn_local(moments["voting_opens"]),
        voting_closes_at=from_vn_local(moments["voting_closes"]),
        results_at=from_vn_local(moments["results"]) if moments["results"] else None,
    )
    source = None if from_template else _source(copy_from)
    try:
        contest = create_edition(db.session, name, dates, source=source, actor_id=None)
    except EditionRefused as exc:
        raise click.ClickException(f"{exc.field}: {exc.message}") from None
    db.session.commit()
    origin = f"a copy of {source.slug}" if source else "the 2025 rules"
    state = "published" if contest.is_published else "not published yet"
    click.echo(f"Contest {contest.title_en} ({contest.slug}) created from {origin}; {state}.")


def _source(slug: str | None) -> Contest | None:
    if slug is None:
        return latest_edition(db.session)
    source = db.session.scalar(select(Contest).where(Contest.slug == slug))
    if source is None:
        raise click.ClickException(f"no contest with the slug {slug!r}")
    return source
