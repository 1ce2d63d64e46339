"""Jinja helpers available in every template."""

from __future__ import annotations

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, get_locale

from contest.entries.texts import localized


def filesize(num_bytes: int | None) -> str:
    """Bytes in decimal units as people read them (3 MB, 200 MB), in the page's language."""
    if num_bytes is None:
        return ""
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if num_bytes >= size:
            return f"{format_decimal(round(num_bytes / size, 1))} {unit}"
    return f"{format_decimal(num_bytes)} B"


def _upload_rules(categories) -> dict:
    from contest.entries.upload_rules import upload_rules  # imports the entries package: not at start-up

    return upload_rules(categories)


def init_app(app: Flask) -> None:
    from contest.main import nav  # the menu's links

    nav.init_app(app)
    app.jinja_env.globals.update(
        current_locale=lambda: str(get_locale() or "vi"),
        format_date=format_date,
        format_datetime=format_datetime,
        format_decimal=format_decimal,
        localized=localized,  # a name in the page's language, marked with its own (lang_attr)
        upload_rules=_upload_rules,  # the entry forms' file rules for the browser's checks
    )
    app.jinja_env.filters["filesize"] = filesize
