"""deploy/: the systemd units parse and start what exists, the environment file is complete."""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from contest.config import ROOT, ConfigError, check_production, load_settings
from tests.support import migrate

DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
INSTALL, ENV_FILE, STATE = (
    "/opt/happy-nghe-an",
    "/etc/happy-nghe-an/happy-nghe-an.env",
    "/var/lib/happy-nghe-an",
)
# Read by deploy/gunicorn.conf.py and the units, not by the application.
DEPLOY_ONLY = {
    "GUNICORN_BIND",
    "GUNICORN_WORKERS",
    "FORWARDED_ALLOW_IPS",
    "WORKER_CONCURRENCY",
    "PROMETHEUS_MULTIPROC_DIR",
}


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(path)
    return parser


def environment() -> dict[str, str]:
    lines = (DEPLOY / "happy-nghe-an.env").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {key: value.removeprefix('"').removesuffix('"') for key, value in pairs}


def test_there_are_the_three_units():
    assert [path.name for path in UNITS] == [
        "happy-nghe-an-beat.service",
        "happy-nghe-an-web.service",
        "happy-nghe-an-worker.service",
    ]


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.stem)
def test_a_unit_runs_a_command_of_the_project_as_its_user_with_the_environment(path):
    service = unit(path)["Service"]
    assert service["User"] == service["Group"] == "happy-nghe-an"
    assert service["WorkingDirectory"] == INSTALL and service["EnvironmentFile"] == ENV_FILE
    assert service["StateDirectory"] == "happy-nghe-an" and service["ProtectSystem"] == "strict"
    command = shlex.split(service["ExecStart"])
    program = Path(command[0].replace(INSTALL, str(ROOT)))
    assert program.parent == ROOT / ".venv" / "bin" and program.is_file(), program
    used = set(re.findall(r"\$\{(\w+)\}", service["ExecStart"]))
    assert used <= set(environment()), used - set(environment())
    if program.name == "gunicorn":
        assert command[1:] == ["-c", "deploy/gunicorn.conf.py", "wsgi:app"]
        assert (ROOT / "deploy" / "gunicorn.conf.py").is_file() and (ROOT / "wsgi.py").is_file()
    else:
        assert command[1:3] == ["-A", "worker.celery_app"] and command[3] in ("worker", "beat")
        if command[3] == "beat":  # its schedule in the state folder, not in the checkout
            assert f"--schedule={STATE}/celerybeat-schedule" in command


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_units(tmp_path):
    """``systemd-analyze verify`` on the units as installed in this checkout (its paths, root)."""
    local_env = tmp_path / "happy-nghe-an.env"
    local_env.write_text((DEPLOY / "happy-nghe-an.env").read_text())
    for path in UNITS:
        text = path.read_text().replace(ENV_FILE, str(local_env)).replace(INSTALL, str(ROOT))
        (tmp_path / path.name).write_text(text.replace("=happy-nghe-an\n", "=root\n"))
    result = subprocess.run(
        ["systemd-analyze", "verify", *[str(tmp_path / p.name) for p in UNITS]],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_environment_file_is_a_production_configuration():
    env = environment()
    application = {key for key in env if key not in DEPLOY_ONLY}
    config_source = (ROOT / "contest" / "config.py").read_text()
    assert {key for key in application if f'"{key}"' not in config_source} == set()
    with pytest.raises(ConfigError, match="SECRET_KEY"):  # its placeholder is refused
        check_production(load_settings(env))
    settings = load_settings({**env, "SECRET_KEY": "k" * 64})
    check_production(settings)  # no ConfigError: a complete production configuration
    assert settings["INSTANCE_DIR"] == STATE and settings["LOG_FORMAT"] == "json"
    assert env["PROMETHEUS_MULTIPROC_DIR"].startswith(STATE + "/")
    assert "10.0.0.0/8" in settings["METRICS_ALLOW_IPS"]


def test_a_shell_reads_the_environment_file_as_systemd_does():
    """The bootstrap commands read the file with ``set -a; . file``: the same values come out."""
    shown = subprocess.run(
        ["bash", "-c", f"set -a; . {DEPLOY / 'happy-nghe-an.env'}; env -0"],
        capture_output=True,
        text=True,
        check=True,
        env={},
    ).stdout
    values = dict(pair.split("=", 1) for pair in shown.split("\0") if "=" in pair)
    assert {key: values.get(key) for key in environment()} == environment()


@pytest.mark.e2e
def test_gunicorn_with_the_production_settings_logs_json_and_sums_its_workers_metrics(tmp_path):
    """deploy/gunicorn.conf.py with two workers: JSON access lines with the request id, and
    /metrics counting the requests of both workers (PROMETHEUS_MULTIPROC_DIR)."""
    url = f"sqlite:///{tmp_path / 'site.sqlite'}"
    migrate(url)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTEST_", "FLASK_", "LOG_"))}
    env.update(
        CONTEST_ENV="testing",
        CONTEST_INSTANCE=str(tmp_path),
        DATABASE_URL=url,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
    )
    log_path = tmp_path / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "wsgi:app"]
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _get(port, "/healthz", timeout_s=90)
            for n in range(20):
                _get(port, "/healthz", request_id=f"req-deploy-{n:04d}")
            metrics = _get(port, "/metrics")
        finally:
            server.terminate()
            server.wait(30)
    healthz = re.search(
        r'contest_http_requests_total\{method="GET",route="/healthz",status="200"\} (\S+)', metrics
    )
    assert healthz and float(healthz.group(1)) == 21
    assert {path.name.split("_")[0] for path in (tmp_path / "prometheus").glob("*.db")} >= {"counter"}
    access = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    ids = {line["request_id"] for line in access if line["logger"] == "gunicorn.access"}
    assert {f"req-deploy-{n:04d}" for n in range(20)} <= ids


def _get(port: int, path: str, *, request_id: str | None = None, timeout_s: float = 10) -> str:
    headers = {"X-Request-Id": request_id} if request_id else {}
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
            with urllib.request.urlopen(request, timeout=30) as answer:
                assert answer.headers["X-Request-Id"] == (request_id or answer.headers["X-Request-Id"])
                return answer.read().decode()
        except (ConnectionError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
