"""A HEIF photo's header read in a child process, under the limits of every child facing an upload.

libheif parses the whole HEIF container (boxes, item properties, grids) to state a photo's
size: in the web request that runs as ``python -m contest.media.header_child REQUEST``
under contest.media.limits, so that a hostile file costs a child, never the web process.
The child prints the PhotoInfo as JSON, or ``{"rejected": code, "params": {...}}``.
Importable without Flask.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import asdict
from pathlib import Path

from contest.media.limits import ChildLimits, LimitHit, ending, run_limited
from contest.media.photo_files import PhotoInfo, PhotoRules, read_photo_header
from contest.media.rejection import MediaRejected

log = logging.getLogger(__name__)
_ROOT = Path(__file__).resolve().parents[2]
_CHILD_ENVIRONMENT = ("PATH", "PYTHONPATH", "LANG", "LC_ALL", "LC_CTYPE")


def read_header_in_child(
    path: str | os.PathLike, rules: PhotoRules, *, max_pixels: int, limits: ChildLimits
) -> PhotoInfo:
    """read_photo_header in a child under ``limits``; MediaRejected("too_complex") when it overran one."""
    asked = json.dumps({"path": str(Path(path).resolve()), "max_pixels": max_pixels, "rules": asdict(rules)})
    environment = {name: os.environ[name] for name in _CHILD_ENVIRONMENT if name in os.environ}
    command = [sys.executable, "-m", "contest.media.header_child", asked]
    try:
        done = run_limited(command, limits, cwd=_ROOT, env=environment)
    except LimitHit as exc:
        log.warning("photo header refused: %s", exc)
        raise MediaRejected("too_complex") from None
    try:
        result = json.loads(done.stdout) if done.returncode == 0 else None
    except ValueError:
        result = None
    if result is None:  # out of memory before or while reading: the same limit
        log.warning("photo header child ended with %s: %s", ending(done.returncode), done.stderr[-500:])
        raise MediaRejected("too_complex")
    if "rejected" in result:
        raise MediaRejected(result["rejected"], **result["params"])
    return PhotoInfo(**result)


def main(argv: list[str]) -> int:
    asked = json.loads(argv[0])
    rules = asked["rules"]
    rules = PhotoRules(**{**rules, "allowed_formats": tuple(rules["allowed_formats"])})
    try:
        info = read_photo_header(asked["path"], rules, max_pixels=asked["max_pixels"])
    except MediaRejected as exc:
        result = {"rejected": exc.code, "params": exc.params}
    except MemoryError:
        return 3
    else:
        result = asdict(info)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
