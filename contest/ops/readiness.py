"""Whether this web process can serve: its database, broker and storage answer in time.

Each check runs in a thread of its own, all at once, and counts as failed after
``READYZ_TIMEOUT_S`` whatever the client library's own timeouts (a black-holed host).
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

from flask import Flask

from contest.storage import LocalStorage

_pool = ThreadPoolExecutor(max_workers=6, thread_name_prefix="readyz")


def database(app: Flask) -> None:
    """One round trip on a pooled connection, in no transaction (SQLite's BEGIN IMMEDIATE
    would wait for any writer)."""
    connection = app.extensions["db"].engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT 1")
        cursor.fetchone()
        cursor.close()
    finally:
        connection.close()


def broker(app: Flask) -> None:
    from kombu import Connection

    timeout = app.config["READYZ_TIMEOUT_S"]
    with Connection(app.config["BROKER_URL"], connect_timeout=timeout) as connection:
        connection.ensure_connection(max_retries=1, timeout=timeout)


def storage(app: Flask) -> None:
    store = app.extensions["storage"]
    if isinstance(store, LocalStorage):
        folder = Path(store.root)  # made on the first upload: until then its parent must take it
        while not folder.exists() and folder.parent != folder:
            folder = folder.parent
        if not (folder.is_dir() and os.access(folder, os.W_OK)):
            raise OSError(f"{folder} is not a writable folder")
        return
    store.client.head_bucket(Bucket=store.bucket)


# A check still hanging from an earlier request is not started again (the pool stays free).
_running: dict[tuple[int, str], Future] = {}


def _submit(name: str, fn, app: Flask) -> Future:
    key = (id(app), name)
    previous = _running.get(key)
    if previous is not None and not previous.done():
        return previous
    _running[key] = future = _pool.submit(fn, app)
    return future


CHECKS = {"database": database, "broker": broker, "storage": storage}


def check(app: Flask) -> dict[str, str]:
    """``{name: "ok" | "timeout" | "<error type>"}`` for every dependency."""
    futures = {name: _submit(name, fn, app) for name, fn in CHECKS.items()}
    wait(futures.values(), timeout=app.config["READYZ_TIMEOUT_S"])
    results = {}
    for name, future in futures.items():
        if not future.done():
            results[name] = "timeout"
        elif future.exception() is not None:
            results[name] = type(future.exception()).__name__
        else:
            results[name] = "ok"
    return results
