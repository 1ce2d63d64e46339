"""Log lines as JSON objects (one a line) or plain text, each with the request id.

``LOG_FORMAT`` is ``json`` (production's default) or ``text``; ``LOG_LEVEL`` the least level
written (INFO). The web processes configure the root logger here; Celery's worker and beat
keep their own set-up and get these formatters and level (``contest.ops.tasks``).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from contest.ops import request_id

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
# What a LogRecord carries of its own: anything else was given with ``extra=`` and is kept.
_RECORD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class RequestIdFilter(logging.Filter):
    """Puts the current request (or job) id on every record as ``record.request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id.current() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id_of(record),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and key not in line:
                line[key] = value if isinstance(value, str | int | float | bool | None) else repr(value)
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def _request_id_of(record: logging.LogRecord) -> str | None:
    value = getattr(record, "request_id", None) or request_id.current()
    return None if value in (None, "-") else value


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def dress(handler: logging.Handler, log_format: str) -> None:
    """Give ``handler`` this site's format and the request id filter (once)."""
    handler.setFormatter(formatter(log_format))
    if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
        handler.addFilter(RequestIdFilter())


def configure(config) -> None:
    """The root logger of a web process (or a command): one handler on stderr in the site's format.

    A root logger that already has handlers (Celery's, pytest's) keeps them; its level is set.
    """
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        dress(handler, config["LOG_FORMAT"])
        root.addHandler(handler)
    root.setLevel(config["LOG_LEVEL"])
