"""gunicorn's access log as JSON lines (``logger_class`` in deploy/gunicorn.conf.py).

gunicorn's own ``access_log_format`` does not escape a quote inside a user agent or a path,
so a line built with it is not always JSON; this logger builds each line with ``json.dumps``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from gunicorn.glogging import Logger


class JsonAccessLogger(Logger):
    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        line = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "INFO",
            "logger": "gunicorn.access",
            "remote": atoms["h"],
            "method": atoms["m"],
            "path": atoms["U"],
            "query": atoms["q"] or "",
            "status": int(atoms["s"]) if str(atoms["s"]).isdigit() else atoms["s"],
            "bytes": atoms["B"],
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "user_agent": atoms["a"],
            "referer": atoms["f"],
            "request_id": atoms.get("{x-request-id}o"),
        }
        self.access_log.info(json.dumps(line, ensure_ascii=False))
