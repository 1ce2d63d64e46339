"""bench.scale's entrants: each logs in through the login form and sends one entry.

``resumable``: each file goes through the upload API as the entry form's script sends it
(bench.upload_resumable.Entrant: POST /uploads, the parts to presigned URLs, complete), then
the entry form is posted with the stored uploads' ids in ``upload_<field>``. ``form``: the files
are posted in the form's own file fields.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from bench.upload import csrf_token, log_in
from bench.upload_resumable import Entrant

FIELDS = {"photo": "photo", "photo-series": "photos", "video": "video"}
TYPES = {".jpg": "image/jpeg", ".mp4": "video/mp4"}


def resumable_supported() -> bool:
    """Whether the entry form takes stored uploads (``upload_<field>``)."""
    from contest.entries.forms import NewEntryForm

    return hasattr(NewEntryForm, "upload_photo")


@dataclass(frozen=True)
class Planned:
    index: int
    slug: str
    files: tuple[Path, ...]


@dataclass(frozen=True)
class Answer:
    ok: bool
    seconds: float
    problem: str = ""


class Submitter:
    def __init__(self, base: str, categories: dict[str, int], path: str) -> None:
        self.base, self.categories, self.path = base, categories, path

    def plan(
        self, mix: dict[str, int], series_items: int, photos: list[Path], videos: list[Path]
    ) -> list[Planned]:
        photos, videos = iter(photos), iter(videos)
        planned = []
        for slug, count in mix.items():
            for _ in range(count):
                if slug == "video":
                    files = (next(videos),)
                else:
                    files = tuple(next(photos) for _ in range(series_items if slug == "photo-series" else 1))
                planned.append(Planned(len(planned), slug, files))
        # Interleaved, as entrants of every category send at the same time.
        return sorted(planned, key=lambda p: (p.index * 7919) % len(planned))

    def send(self, item: Planned) -> Answer:
        started = time.perf_counter()
        try:
            browser = log_in(self.base, f"entrant-{item.index:04d}@example.com")
            form = {
                "category": str(self.categories[item.slug]),
                "title": f"Bench {item.index}",
                "description": "",
                "place": str(self.categories["place"]),
                "taken_on": "2024-05-01",
                "accept_own_work": "y",
                "accept_promo_use": "y",
                "accept_not_awarded": "y",
            }
            field = FIELDS[item.slug]
            if self.path == "resumable":
                entrant = Entrant(self.base, browser, self.categories[item.slug])
                ids = [
                    entrant.send(path, path.name, field=field, type_=TYPES[path.suffix])["id"]
                    for path in item.files
                ]
                form["csrf_token"] = entrant.headers["X-CSRFToken"]
                form[f"upload_{field}"] = ",".join(ids)
                response = browser.post(
                    f"{self.base}/entries/new", data=form, allow_redirects=False, timeout=300
                )
            else:
                form["csrf_token"] = csrf_token(browser.get(f"{self.base}/entries/new").text)
                files = [(field, (p.name, p.read_bytes(), TYPES[p.suffix])) for p in item.files]
                response = browser.post(
                    f"{self.base}/entries/new", data=form, files=files, allow_redirects=False, timeout=300
                )
        except Exception as exc:  # a bench figure: the refusal is counted and shown, the run goes on
            return Answer(False, time.perf_counter() - started, f"{item.slug}: {exc!r}"[:300])
        ok = response.status_code == 302 and "/entries/new" not in response.headers.get("Location", "")
        problem = "" if ok else f"{item.slug}: {response.status_code} {response.text[:300]}"
        return Answer(ok, time.perf_counter() - started, problem)
