"""``flask --app wsgi contest export-results ROUND_ID`` and ``export-winners``: the results
exports from the command line, for contests too large to wait on a web request.

The file is written beside its final name and moved into place when complete, with a
progress bar over the rows; each export is audited (no account: the system user is recorded).
"""

from __future__ import annotations

import getpass
import os

import click
from flask_babel import force_locale
from sqlalchemy import select

from contest.cli import contest_cli
from contest.contests.models import Contest, current_contest
from contest.extensions import db
from contest.results.export_files import FORMATS, write
from contest.results.exports import Table, record_export, round_table, winners_table

LANGUAGES = ("vi", "en")


FORMAT = click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
OUT = click.option("--out", required=True, type=click.Path(dir_okay=False), help="The file to write.")
LANG = click.option("--lang", type=click.Choice(LANGUAGES), help="The column titles' language.")


@contest_cli.command("export-results")
@click.argument("round_id", type=int)
@FORMAT
@OUT
@LANG
@click.option("--names", is_flag=True, help="Name the judges instead of Judge A, Judge B...")
def export_results_command(round_id: int, fmt: str, out: str, lang: str | None, names: bool) -> None:
    """Write a round's full results (every entry, each judge's figures, the final figures)."""
    with force_locale(lang or _default_language()):
        try:
            table = round_table(db.session, round_id, names=names)
        except LookupError as error:
            raise click.ClickException(f"there is no round {round_id}") from error
        _export(table, fmt, out, names)


@contest_cli.command("export-winners")
@FORMAT
@OUT
@LANG
@click.option("--contest", "slug", help="The contest's slug (the current contest by default).")
def export_winners_command(fmt: str, out: str, lang: str | None, slug: str | None) -> None:
    """Write the contest's winners: prize, place, entry and author."""
    with force_locale(lang or _default_language()):
        _export(winners_table(db.session, _contest(slug)), fmt, out, names=False)


def _contest(slug: str | None) -> Contest:
    if slug is None:
        found = current_contest(db.session)
    else:
        found = db.session.scalar(select(Contest).where(Contest.slug == slug))
    if found is None:
        raise click.ClickException(
            f"there is no contest {slug!r}" if slug else "there is no published contest"
        )
    return found


def _default_language() -> str:
    from flask import current_app

    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _export(table: Table, fmt: str, out: str, names: bool) -> None:
    """Write ``table`` to ``out`` (complete or not at all), then audit the export."""
    partial = f"{out}.part"
    try:
        with (
            open(partial, "wb") as stream,
            click.progressbar(table.rows, length=table.count, label=f"{table.name}.{fmt}") as rows,
        ):
            write(table, fmt, stream, rows)
        os.replace(partial, out)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    record_export(
        db.session, table, actor_id=None, fmt=fmt, names=names, via="cli", operator=getpass.getuser()
    )
    db.session.commit()
    click.echo(f"{table.count} rows written to {out}")
