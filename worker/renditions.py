"""A rendition written to a local file, ready to upload; and the file digest."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from contest.entries.kinds import AssetKind


@dataclass(frozen=True)
class Rendition:
    kind: AssetKind
    path: Path
    mime_type: str
    width: int
    height: int
    bytes: int
    sha256: str
    # Which work of the entry (photo series) and which variant ("720p", frame "2").
    position: int = 0
    label: str = ""
    duration_s: float | None = None

    def asset(self, storage_key: str):
        """The MediaAsset row for this rendition stored under ``storage_key``."""
        from contest.entries.models import MediaAsset  # here: the decoding child stays lean

        return MediaAsset(
            position=self.position,
            kind=self.kind,
            label=self.label,
            storage_key=storage_key,
            mime_type=self.mime_type,
            width=self.width,
            height=self.height,
            duration_s=self.duration_s,
            bytes=self.bytes,
            sha256=self.sha256,
        )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()
