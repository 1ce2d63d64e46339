"""Multipart uploads a browser sends part by part, for contest.storage's two backends.

S3: the browser PUTs each part to a presigned ``upload_part`` URL; the app starts, lists,
completes and aborts the multipart upload. Local folder: the app itself takes each part
(contest.uploads.views) into a folder of parts outside the media root, and completing
concatenates them into the object, streaming. Both answer parts as S3 does:
``{"PartNumber", "Size", "ETag"}`` with the ETag a quoted MD5 of the part.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlsplit

from contest.storage import LocalStorage, S3Storage, StorageError, check_key

MAX_PARTS = 10_000
S3_MIN_PART_BYTES = 5 * 1024 * 1024  # S3 refuses a smaller part, but for the last one
_CHUNK = 256 * 1024
_TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
_PART_RE = re.compile(r"^(\d{5})\.([0-9a-f]{32})$")


class PartsMismatch(StorageError):
    """The parts named at completion are not the parts stored (missing, other ETag)."""


class PartTooLarge(StorageError):
    """A part sent to the app is larger than the upload's part size."""


@dataclass(frozen=True)
class Part:
    number: int
    size: int
    etag: str  # quoted, as S3 gives it

    def as_json(self) -> dict:
        return {"PartNumber": self.number, "Size": self.size, "ETag": self.etag}


class Multipart(Protocol):
    def start(self, key: str, *, content_type: str) -> str: ...

    def part_url(
        self, key: str, multipart_id: str, number: int, expires_s: int, length: int
    ) -> str | None: ...

    def parts(self, key: str, multipart_id: str) -> list[Part]: ...

    def complete(self, key: str, multipart_id: str, parts: list[Part]) -> None: ...

    def abort(self, key: str, multipart_id: str) -> None: ...


def chosen_parts(stored: list[Part], named: list[tuple[int, str]]) -> list[Part]:
    """The stored parts the client names (number, ETag), in order; PartsMismatch if one is not stored."""
    by_number = {p.number: p for p in stored}
    chosen = []
    for number, etag in sorted(named):
        part = by_number.get(number)
        if part is None or part.etag.strip('"') != etag.strip('"'):
            raise PartsMismatch(f"part {number} is not stored with ETag {etag}")
        chosen.append(part)
    if len({p.number for p in chosen}) != len(chosen):
        raise PartsMismatch("a part is named twice")
    return chosen


class S3Multipart:
    """S3's own multipart upload, its parts sent by the browser to presigned URLs."""

    def __init__(self, storage: S3Storage) -> None:
        self.storage = storage
        self.client = storage.client
        self.bucket = storage.bucket

    def start(self, key: str, *, content_type: str) -> str:
        answer = self.storage._call(
            self.client.create_multipart_upload,
            Bucket=self.bucket,
            Key=check_key(key),
            ContentType=content_type,
        )
        return answer["UploadId"]

    def part_url(self, key: str, multipart_id: str, number: int, expires_s: int, length: int) -> str:
        """A presigned PUT of part ``number``; its Content-Length is signed, so S3 refuses a
        part of another size (the browser sets the header itself)."""
        params = {
            "Bucket": self.bucket,
            "Key": check_key(key),
            "UploadId": multipart_id,
            "PartNumber": number,
            "ContentLength": length,
        }
        return self.client.generate_presigned_url("upload_part", Params=params, ExpiresIn=expires_s)

    def parts(self, key: str, multipart_id: str) -> list[Part]:
        found, marker = [], 0
        while True:
            page = self.storage._call(
                self.client.list_parts,
                Bucket=self.bucket,
                Key=check_key(key),
                UploadId=multipart_id,
                PartNumberMarker=marker,
            )
            found += [Part(p["PartNumber"], p["Size"], p["ETag"]) for p in page.get("Parts", [])]
            if not page.get("IsTruncated"):
                return found
            marker = page["NextPartNumberMarker"]

    def complete(self, key: str, multipart_id: str, parts: list[Part]) -> None:
        self.storage._call(
            self.client.complete_multipart_upload,
            Bucket=self.bucket,
            Key=check_key(key),
            UploadId=multipart_id,
            MultipartUpload={"Parts": [{"PartNumber": p.number, "ETag": p.etag} for p in parts]},
        )

    def abort(self, key: str, multipart_id: str) -> None:
        """Abort the upload (its parts are deleted); one already gone is no error."""
        try:
            self.storage._call(
                self.client.abort_multipart_upload,
                Bucket=self.bucket,
                Key=check_key(key),
                UploadId=multipart_id,
            )
        except StorageError as exc:
            if "NoSuchUpload" not in str(exc):
                raise


class LocalMultipart:
    """Parts as files ``<parts_root>/<token>/<number>.<md5>``, concatenated into the object."""

    def __init__(self, storage: LocalStorage, parts_root: str | os.PathLike) -> None:
        self.storage = storage
        self.parts_root = Path(parts_root)

    def _folder(self, multipart_id: str) -> Path:
        if not _TOKEN_RE.match(multipart_id or ""):
            raise StorageError(f"invalid multipart id: {multipart_id!r}")
        return self.parts_root / multipart_id

    def start(self, key: str, *, content_type: str) -> str:
        check_key(key)
        token = secrets.token_hex(16)
        self._folder(token).mkdir(parents=True)
        return token

    def part_url(self, key: str, multipart_id: str, number: int, expires_s: int, length: int) -> None:
        return None  # the app takes the parts itself (contest.uploads.views)

    def write_part(self, multipart_id: str, number: int, stream: BinaryIO, max_bytes: int) -> Part:
        """Store part ``number`` read from ``stream``, a chunk at a time; PartTooLarge past ``max_bytes``."""
        folder = self._folder(multipart_id)
        if not folder.is_dir():
            raise StorageError(f"no such multipart upload: {multipart_id}")
        digest, size = hashlib.md5(usedforsecurity=False), 0
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise PartTooLarge(f"part {number} is over {max_bytes} bytes")
                    digest.update(chunk)
                    out.write(chunk)
            for older in folder.glob(f"{number:05d}.*"):  # a part sent again replaces the last one
                older.unlink(missing_ok=True)
            os.replace(tmp, folder / f"{number:05d}.{digest.hexdigest()}")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return Part(number, size, f'"{digest.hexdigest()}"')

    def parts(self, key: str, multipart_id: str) -> list[Part]:
        folder = self._folder(multipart_id)
        if not folder.is_dir():
            return []
        found = []
        for path in sorted(folder.iterdir()):
            match = _PART_RE.match(path.name)
            if match:
                found.append(Part(int(match[1]), path.stat().st_size, f'"{match[2]}"'))
        return found

    def complete(self, key: str, multipart_id: str, parts: list[Part]) -> None:
        folder = self._folder(multipart_id)
        paths = [folder / f"{p.number:05d}.{p.etag.strip(chr(34))}" for p in parts]
        with _Concatenated(paths) as stream:
            self.storage.save(key, stream, content_type="application/octet-stream")
        shutil.rmtree(folder, ignore_errors=True)

    def abort(self, key: str, multipart_id: str) -> None:
        shutil.rmtree(self._folder(multipart_id), ignore_errors=True)

    def folders_older_than(self, before_ts: float) -> Iterator[str]:
        """The multipart ids whose folder of parts was last changed before ``before_ts``."""
        if self.parts_root.is_dir():
            for path in self.parts_root.iterdir():
                if _TOKEN_RE.match(path.name) and path.stat().st_mtime < before_ts:
                    yield path.name


class _Concatenated:
    """The files at ``paths`` read one after the other as one stream."""

    def __init__(self, paths: list[Path]) -> None:
        self._paths = iter(paths)
        self._current: BinaryIO | None = None

    def read(self, size: int = -1) -> bytes:
        size = _CHUNK if size is None or size < 0 else size
        while True:
            if self._current is None:
                path = next(self._paths, None)
                if path is None:
                    return b""
                try:
                    self._current = path.open("rb")
                except FileNotFoundError as exc:
                    raise PartsMismatch(f"part file {path.name} is gone") from exc
            data = self._current.read(size)
            if data:
                return data
            self._current.close()
            self._current = None

    def __enter__(self) -> _Concatenated:
        return self

    def __exit__(self, *_exc) -> None:
        if self._current is not None:
            self._current.close()


def origin_of(base_url: str) -> str:
    """``https://example.org`` of ``https://example.org/some/path``."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


def browser_upload_rules(origin: str) -> dict:
    """The bucket's CORS: the site's pages PUT parts and read the ETag S3 answers with."""
    rule = {
        "AllowedOrigins": [origin],
        "AllowedMethods": ["PUT", "GET", "HEAD"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 3600,
    }
    return {"CORSRules": [rule]}


# Parts of an upload never completed are deleted by the bucket itself after a day.
LIFECYCLE = {
    "Rules": [
        {
            "ID": "abort-incomplete-multipart-uploads",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        }
    ]
}


def prepare_bucket(storage: S3Storage, site_url: str) -> None:
    """Let the site's pages upload parts to the bucket (CORS), and have the bucket drop
    multipart uploads left unfinished (lifecycle rule); storage-init runs it."""
    client, bucket = storage.client, storage.bucket
    storage._call(
        client.put_bucket_cors, Bucket=bucket, CORSConfiguration=browser_upload_rules(origin_of(site_url))
    )
    storage._call(client.put_bucket_lifecycle_configuration, Bucket=bucket, LifecycleConfiguration=LIFECYCLE)


def multipart_for(storage, parts_root: str | os.PathLike) -> Multipart:
    """The multipart side of ``storage``: S3's own, or the app's parts folder for a local one."""
    if isinstance(storage, S3Storage):
        return S3Multipart(storage)
    if isinstance(storage, LocalStorage):
        return LocalMultipart(storage, parts_root)
    raise StorageError(f"no multipart uploads for {type(storage).__name__}")
