"""A category's file rules and their messages for the browser's checks before an upload.

static/js/entry-upload.js reads them from the form's data-upload-rules attribute, so that a
file is refused in the page's language before a byte is sent, and a date outside the works'
window when the button is pressed, while the file travels. The messages are the server's own
(contest.entries.failures, contest.entries.validation, contest.entries.forms): one wording.
"""

from __future__ import annotations

from datetime import timedelta

from flask import request
from flask_babel import get_locale
from flask_babel import gettext as _

from contest.contests.models import Category
from contest.entries.failures import MESSAGES
from contest.entries.forms import works_window_error
from contest.entries.validation import series_count_problem
from contest.timeutil import vn_today

# The server's failure codes the browser can tell before sending.
BROWSER_CODES = (
    "empty_file",
    "too_small_bytes",
    "too_large_bytes",
    "unsupported_format",
    "not_recognised",
    "too_small_pixels",
    "not_a_video",
    "video_too_long",
    "series_item",
)


class _Count(int):
    """A number of photos that prints as ``{num}``: the browser puts the chosen count there."""

    def __str__(self) -> str:
        return "{num}"


def category_rules(category: Category) -> dict:
    rules = {
        "kind": category.kind.value,
        "formats": list(category.allowed_formats or []),
        "minBytes": category.min_bytes,
        "maxBytes": category.max_bytes,
        "minLongPx": category.min_long_edge_px,
        "maxDurationS": category.max_duration_s,
        "minItems": category.min_items,
        "maxItems": category.max_items,
    }
    rules["series"] = _series_messages(category) if category.kind.value == "photo_series" else {}
    rules.update(_date_rules(category))
    return rules


def _date_rules(category: Category) -> dict:
    """The works' window (ISO dates, compared as text in the browser) and the server's message
    for a date after today, before the window and after it."""
    today, start, end = vn_today(), category.works_from, category.works_until
    day = timedelta(days=1)
    return {
        "today": today.isoformat(),
        "worksFrom": start.isoformat() if start else None,
        "worksUntil": end.isoformat() if end else None,
        "dateMessages": {
            "future": works_window_error(today + day, category),
            "early": works_window_error(start - day, category) if start else None,
            "late": works_window_error(end + day, category) if end and end < today else None,
        },
    }


def _series_messages(category: Category) -> dict[str, str]:
    """The count message for one photo too few (singular and plural) and for one too many."""
    low, high = category.min_items, category.max_items
    counts = {
        "few_one": 1 if low and low > 1 else None,
        "few": 0 if low else None,
        "many": high + 1 if high else None,
    }
    return {
        name: str(series_count_problem(_Count(count), category))
        for name, count in counts.items()
        if count is not None and series_count_problem(count, category)
    }


def upload_rules(categories: list[Category]) -> dict:
    """Everything the upload script needs: each category's rules and the messages."""
    messages = {code: str(MESSAGES[code]) for code in BROWSER_CODES}
    messages.update(
        progress=_("%(percent)s · %(speed)s/s · %(left)s left"),
        sending=_("Sending… %(percent)s"),
        offline=_("No network: the upload waits and goes on by itself when the network is back."),
        sent=_("The file is sent."),
        failed=_("The upload stopped: %(reason)s Press the button to try again."),
        resumed=_("The upload of %(filename)s goes on where it stopped."),
        checking=_("Checking the file…"),
    )
    return {
        "api": f"{request.script_root}/uploads",
        "locale": str(get_locale() or "vi"),  # numbers and sizes written as the server writes them
        "categories": {str(c.id): category_rules(c) for c in categories},
        "messages": messages,
    }
