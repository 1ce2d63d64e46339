"""``flask --app wsgi contest ...``: set-up and maintenance commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup

contest_cli = AppGroup("contest", help="Happy Nghe An: set-up and maintenance commands.")


def _load_commands() -> None:
    # Each feature adds its own commands to the group.
    from contest.auth import cli as _auth_cli  # noqa: F401
    from contest.contests import cli as _contests_cli  # noqa: F401
    from contest.entries import gps_cli as _gps_cli  # noqa: F401
    from contest.media import cli as _media_cli  # noqa: F401
    from contest.processing import cli as _processing_cli  # noqa: F401
    from contest.results import cli as _results_cli  # noqa: F401
    from contest.results import export_cli as _results_export_cli  # noqa: F401
    from contest.results import zip_cli as _results_zip_cli  # noqa: F401
    from contest.voting import cli as _voting_cli  # noqa: F401


@contest_cli.command("storage-init")
def storage_init() -> None:
    """Create the S3 bucket if it does not exist, let the site's pages upload parts to it (CORS)
    and have it drop unfinished multipart uploads after a day (the local backend needs nothing)."""
    from flask import current_app

    from contest.storage import S3Storage, get_storage
    from contest.storage_multipart import prepare_bucket

    storage = get_storage()
    if isinstance(storage, S3Storage):
        storage.ensure_bucket()
        prepare_bucket(storage, current_app.config["PUBLIC_BASE_URL"])
    click.echo("storage ready")


_load_commands()
