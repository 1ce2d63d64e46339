"""gunicorn's settings for this site, read from the working directory (``gunicorn wsgi:app``).

gunicorn writes ``Server: gunicorn`` on every response and has no setting to leave it out; the
banner only tells a visitor which server to aim at, so its line is dropped here (the
application's own headers are contest.security's).
"""

from gunicorn.http import wsgi as _gunicorn_wsgi

_default_headers = _gunicorn_wsgi.Response.default_headers


def _without_server_banner(response) -> list[str]:
    return [line for line in _default_headers(response) if not line.lower().startswith("server:")]


_gunicorn_wsgi.Response.default_headers = _without_server_banner
