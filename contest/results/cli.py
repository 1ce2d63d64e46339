"""``flask --app wsgi contest recompute FILE [--digest HEX]``: an outsider's check of a ranking.

Reads a raw-score file (contest.results.rawfile), runs the very tally the organizers ran, prints
the ranking (place, code, figure) and its digest, and says whether it matches the digest given,
or else the one published for that round in this database. A mismatch exits with status 1.
"""

from __future__ import annotations

import click

from contest.cli import contest_cli
from contest.results.rawfile import RawFileError, read_sheet
from contest.results.readout import ranking_digest
from contest.results.tally import tally


@contest_cli.command("recompute")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--digest", "expected", help="The published ranking digest (sha256, hex) to compare with.")
def recompute_command(file: str, expected: str | None) -> None:
    """Recompute a round's ranking from its raw-score file and check it against a digest."""
    try:
        with open(file, encoding="utf-8", newline="") as stream:
            sheet = read_sheet(stream)
        result = tally(sheet)
    except (RawFileError, ValueError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{file}: {error}") from error
    click.echo(f"round {sheet.round_id} ({sheet.kind}): {len(result.rows)} entries, {len(sheet.marks)} marks")
    for row in result.rows:
        figure = "-" if row.figure is None else f"{row.figure:.6f}"
        click.echo(f"{row.place:>6}  {row.entry:<16} {figure}")
    digest = ranking_digest(result)
    click.echo(f"digest: {digest}")
    source = "the digest given"
    if expected is None:
        expected, source = _published(sheet.round_id), "the published digest"
    if expected is None:
        click.echo("no digest to compare with: this round's results are not published here (use --digest)")
        return
    if expected.strip().lower() != digest:
        click.echo(f"does not match {source} ({expected.strip()})")
        raise SystemExit(1)
    click.echo(f"matches {source}")


def _published(round_id: int) -> str | None:
    from contest.extensions import db
    from contest.results.publication import published_digest

    return published_digest(db.session, round_id)
