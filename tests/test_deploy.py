"""deploy/: the systemd units parse and start what exists, the environment file is complete."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from contest.config import ROOT, ConfigError, check_production, load_settings

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
