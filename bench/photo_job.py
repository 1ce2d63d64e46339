"""One photo job's work in a fresh process: ``python -m bench.photo_job PATH``.

Prints a JSON line with the CPU seconds and the memory the check and the renditions took,
so that one measurement is not blurred by what an earlier photo left in the heap.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def main(path: str) -> None:
    from contest.contests.demo import _categories
    from contest.entries.validation import check_photo
    from worker.photo import render_photo

    category = _categories()[0]
    before_kb = _status_kb("VmRSS")
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    wall0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        check_photo(path, category, max_pixels=120_000_000, quick=False)
        renditions = render_photo(Path(path), Path(out))
    wall = time.perf_counter() - wall0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "cpu_s": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
                "wall_s": wall,
                "rss_before_mb": before_kb / 1024,
                "peak_rss_mb": _status_kb("VmHWM") / 1024,
                "renditions": len(renditions),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
