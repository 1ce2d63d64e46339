"""gunicorn in production: ``gunicorn -c deploy/gunicorn.conf.py wsgi:app`` from the project's folder.

Every setting can be changed in the EnvironmentFile (deploy/happy-nghe-an.env) without editing
this file. The project's own gunicorn.conf.py (no ``Server`` banner) is applied first.
"""

import multiprocessing
import os
import runpy
import shutil
from pathlib import Path

from contest.ops.access_log import JsonAccessLogger

runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))

# Behind the reverse proxy (nginx, a load balancer) on the same machine or network.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: each request has a process; 2 per core (+1) keeps the cores busy while some
# wait for PostgreSQL, Redis or S3.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# An upload through the web (local storage, or a phone's small photo) may take this long.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (a slow leak cannot grow for ever).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 5000))
max_requests_jitter = max_requests // 10
# Heartbeat files in memory, not on a disk that may stall.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# The proxies whose X-Forwarded-Proto gunicorn believes (the application's ProxyFix reads
# X-Forwarded-For and -Proto itself, PROXY_FIX_X_FOR): only the proxy's own addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Access log: one JSON object a line on stdout (the journal), with the request id.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logger_class = JsonAccessLogger
proc_name = "happy-nghe-an-web"


def on_starting(server):
    """Prometheus' multiprocess folder starts empty at each start (counts of dead processes go)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder, exist_ok=True)


def child_exit(server, worker):
    """A worker process that ended: its live gauges leave the metrics (prometheus_client)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
