"""One id per web request, carried into the jobs it sends and into every log line of both.

A request's ``X-Request-Id`` is kept when it looks like an id (a proxy or load balancer made
it), else a new one is made; the response returns it. Jobs get it as a Celery header.
"""

from __future__ import annotations

import re
import uuid
from contextlib import suppress
from contextvars import ContextVar

from flask import Flask, Response, g, request

HEADER = "X-Request-Id"
CELERY_HEADER = "request_id"
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{8,128}")
_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def current() -> str | None:
    """The id of the request or job being handled in this thread, if any."""
    return _current.get()


def bind(value: str | None):
    """Make ``value`` the current id; returns the token that ``unbind`` takes."""
    return _current.set(value)


def unbind(token) -> None:
    _current.reset(token)


def accepted(value: str | None) -> str | None:
    """``value`` when it is a well-formed id, else None (nothing a client sends reaches a log unchecked)."""
    return value if value and _ACCEPTED.fullmatch(value) else None


def celery_headers() -> dict[str, str]:
    """The headers a job sent now carries: the current request's id."""
    value = current()
    return {CELERY_HEADER: value} if value else {}


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_answer)
    app.teardown_request(_end)


def _start() -> None:
    g.request_id = accepted(request.headers.get(HEADER)) or uuid.uuid4().hex
    g.request_id_token = bind(g.request_id)


def _answer(response: Response) -> Response:
    if "request_id" in g:
        response.headers[HEADER] = g.request_id
    return response


def _end(_exc=None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        with suppress(ValueError):  # torn down in another context (a streamed response): nothing to undo
            unbind(token)
