"""The limits a process facing an uploaded file runs under: memory, CPU and wall time.

Every program that parses an uploaded file's content beyond its first bytes runs as a
child under the same limits, in the request and in the worker: ffprobe, the HEIF header
read and the worker's photo decode child. Address space (PHOTO_RENDER_MAX_MEMORY_MB), CPU
seconds and wall time (PHOTO_RENDER_TIMEOUT_S), no core file, and death with the process
that started it. A child that overruns a limit or crashes meets a file that is damaged or
too complex (LimitHit); it contains crashes and resource use, it is not a sandbox.
Importable without Flask (the worker's decode child uses it).
"""

from __future__ import annotations

import ctypes
import math
import resource
import signal
import subprocess
from dataclasses import dataclass
from functools import partial

# How a child that met a hostile file ends (SIGXCPU: the CPU limit).
LIMIT_SIGNALS = frozenset(
    {
        signal.SIGSEGV,
        signal.SIGBUS,
        signal.SIGABRT,
        signal.SIGFPE,
        signal.SIGILL,
        signal.SIGSYS,
        signal.SIGXCPU,
    }
)
_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded here: the child between fork and exec only calls it


class LimitHit(Exception):
    """The child overran its memory or time, or crashed: the file is damaged or too complex."""


@dataclass(frozen=True)
class ChildLimits:
    """What a child may use: wall and CPU seconds, address space in MB."""

    timeout_s: float
    max_memory_mb: int

    @classmethod
    def of(cls, config) -> ChildLimits:
        return cls(config["PHOTO_RENDER_TIMEOUT_S"], config["PHOTO_RENDER_MAX_MEMORY_MB"])


def run_limited(command: list[str], limits: ChildLimits, **options) -> subprocess.CompletedProcess:
    """Run ``command`` (stdin closed, output captured) under ``limits``; LimitHit when it overran one.

    ``options`` go to subprocess.run (cwd, env); the caller reads the return code otherwise.
    """
    try:
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=limits.timeout_s,
            preexec_fn=partial(limit_child, limits),
            check=False,
            **options,
        )
    except subprocess.TimeoutExpired:  # run() has killed the child
        raise LimitHit(f"{command[0]} ran longer than {limits.timeout_s} s") from None
    if -done.returncode in LIMIT_SIGNALS:
        raise LimitHit(
            f"{command[0]} ended with {ending(done.returncode)} (memory limit {limits.max_memory_mb} MB)"
        )
    return done


def limit_child(limits: ChildLimits) -> None:
    """In the child, before exec: the limits, and death with the parent."""
    cpu_s = math.ceil(limits.timeout_s)
    _lower(resource.RLIMIT_AS, limits.max_memory_mb * 1024 * 1024)
    _lower(resource.RLIMIT_CPU, cpu_s, hard=cpu_s + 1)  # the soft limit sends SIGXCPU
    _lower(resource.RLIMIT_CORE, 0)  # no core file of a hostile file
    die_with_parent()


def die_with_parent() -> None:
    """In the child, before exec: be killed when the process that started us dies."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def ending(returncode: int) -> str:
    """How a child ended, in words: a signal's name or the exit status."""
    if returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    return f"exit status {returncode}"


def _lower(limit: int, soft: int, *, hard: int | None = None) -> None:
    """Set ``limit`` to ``soft`` (and ``hard``, default the same), never above the current hard limit."""
    _current_soft, current_hard = resource.getrlimit(limit)
    hard = soft if hard is None else hard
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    resource.setrlimit(limit, (soft, hard))
