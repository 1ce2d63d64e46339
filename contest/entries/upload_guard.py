"""Uploads refused before their body is read: larger than the contest accepts, or too frequent.

Registered ahead of the CSRF check (``create_app``), which reads the whole form. The bound is
the category named in the query string (the entry form's script puts the chosen one there),
else the largest of the contest's categories; the files' own checks after parsing stay.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, make_response, request
from flask_babel import gettext as _
from flask_login import current_user

from contest.contests.models import Category, CategoryKind, current_contest
from contest.errors import render_error
from contest.extensions import db
from contest.ratelimit import within
from contest.templating import filesize

# Routes that take files; the entry's edit page takes text only.
UPLOAD_ENDPOINTS = frozenset({"entries.new"})
# Room for the text fields, the declarations and the multipart boundaries around the files.
FORM_OVERHEAD_BYTES = 1_000_000


@dataclass(frozen=True)
class UploadBound:
    """The most an upload may send: ``files_bytes`` of files (told to the entrant) in a body of
    ``body_bytes`` (the form around them), never more than the site's cap (MAX_UPLOAD_BYTES)."""

    files_bytes: int
    body_bytes: int
    category: Category | None


def init_app(app: Flask) -> None:
    app.before_request(refuse_early)


def refuse_early():
    """A 429 or 413 answer for an upload that must not be read, else None (the view runs)."""
    if request.method != "POST" or request.endpoint not in UPLOAD_ENDPOINTS:
        return None
    if current_user.is_authenticated and not within(
        current_app.config["SUBMIT_RATE_LIMIT"], "submit", "account", str(current_user.id)
    ):
        return render_error(429)
    bound = upload_bound(request.args.get("category", type=int))
    if bound is None:
        return None
    request.max_content_length = bound.body_bytes  # also a body sent without Content-Length
    if (request.content_length or 0) <= bound.body_bytes:
        return None
    response = make_response(render_error(413, _too_large_message(request.content_length, bound)))
    response.headers["Connection"] = "close"  # the unread body is not taken for a next request
    return response


def upload_bound(category_id: int | None) -> UploadBound | None:
    """The bound for the chosen category, or the contest's largest; None when one has no limit."""
    contest = current_contest(db.session)
    if contest is None:
        return None
    chosen = [c for c in contest.categories if c.id == category_id] or list(contest.categories)
    sizes = [files_bytes(c) for c in chosen]
    if not sizes or None in sizes:
        return None
    files, body = max(sizes), max(sizes) + FORM_OVERHEAD_BYTES
    cap = current_app.config["MAX_CONTENT_LENGTH"] or body
    return UploadBound(min(files, cap), min(body, cap), chosen[0] if len(chosen) == 1 else None)


def files_bytes(category: Category) -> int | None:
    """The most one entry of ``category`` sends in files (a series: every photo at its largest)."""
    if category.max_bytes is None:
        return None
    if category.kind is CategoryKind.photo_series:
        return category.max_bytes * category.max_items if category.max_items else None
    return category.max_bytes


def _too_large_message(size: int, bound: UploadBound) -> str:
    if bound.category is not None:
        return _(
            "This upload is %(size)s: an entry in “%(category)s” may send %(limit)s at most. "
            "Nothing was saved: please choose a smaller file.",
            size=filesize(size),
            category=bound.category.name,
            limit=filesize(bound.files_bytes),
        )
    return _(
        "This upload is %(size)s: an entry may send %(limit)s at most. "
        "Nothing was saved: please choose a smaller file.",
        size=filesize(size),
        limit=filesize(bound.files_bytes),
    )
