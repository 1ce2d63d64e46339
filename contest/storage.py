"""The single door to object storage: a local folder or any S3-compatible endpoint.

Keys under ``public/`` hold public renditions; everything else (``originals/`` ...) is
private and reached only through signed, expiring URLs. A rendition's row names its public
key; the object itself is kept under ``private/`` and copied to ``public/`` only while its
entry is approved (contest.media.publication).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import Flask, current_app, g, url_for

from contest.signed_urls import slot_presigned_urls, stable_expiry
from contest.storage_stream import LocalObjectWriter, ObjectWriter, S3MultipartWriter

PUBLIC_PREFIX = "public/"
PRIVATE_COPY_PREFIX = "private/"
_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)+$")
_CHUNK = 1024 * 1024


class StorageError(Exception):
    """Storage failed for good (bad key, missing object)."""


class StorageUnavailable(StorageError):
    """Storage could not be reached or answered with a server error: worth a retry."""


class ObjectMissing(StorageError):
    pass


def new_key(prefix: str, suffix: str = "") -> str:
    """A non-guessable key, e.g. ``public/<random>/display.webp``."""
    return f"{prefix.rstrip('/')}/{secrets.token_urlsafe(18)}{suffix}"


def private_copy_key(public_key: str) -> str:
    """Where the kept copy of the rendition published at ``public_key`` lives."""
    if not public_key.startswith(PUBLIC_PREFIX):
        raise StorageError(f"not a public key: {public_key!r}")
    return PRIVATE_COPY_PREFIX + public_key.removeprefix(PUBLIC_PREFIX)


def delete_with_copy(storage: Storage, key: str) -> None:
    """Delete an object and, for a rendition's public key, its private copy too."""
    storage.delete(key)
    if key.startswith(PUBLIC_PREFIX):
        storage.delete(private_copy_key(key))


def check_key(key: str) -> str:
    if not _KEY_RE.match(key) or ".." in key:
        raise StorageError(f"invalid storage key: {key!r}")
    return key


class Storage(Protocol):
    def save(self, key: str, stream: BinaryIO, *, content_type: str) -> int: ...

    def download(self, key: str, target: BinaryIO) -> int: ...

    def delete(self, key: str) -> None: ...

    def copy(self, source: str, target: str, *, content_type: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def url(self, key: str, *, expires_s: int | None = None, download_name: str | None = None) -> str: ...

    def keys(self, prefix: str = "") -> Iterator[str]: ...

    def read_chunks(self, key: str, chunk_bytes: int = _CHUNK) -> Iterator[bytes]: ...

    def open_writer(self, key: str, *, content_type: str) -> ObjectWriter: ...


def _copy(source: BinaryIO, target: BinaryIO) -> int:
    total = 0
    while chunk := source.read(_CHUNK):
        target.write(chunk)
        total += len(chunk)
    return total


class LocalStorage:
    """Objects as files under one folder, served by the app (see contest.media)."""

    def __init__(self, root: str | os.PathLike, secret: str, url_expires_s: int = 3600) -> None:
        self.root = Path(root)
        self._secret = secret.encode()
        self.url_expires_s = url_expires_s

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def save(self, key: str, stream: BinaryIO, *, content_type: str) -> int:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                size = _copy(stream, out)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return size

    def download(self, key: str, target: BinaryIO) -> int:
        try:
            with self.path(key).open("rb") as source:
                return _copy(source, target)
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc

    def delete(self, key: str) -> None:
        path = self.path(key)
        path.unlink(missing_ok=True)
        # Drop the per-object folder that new_key() made, if it is now empty.
        for parent in path.parents:
            if parent == self.root or not parent.is_relative_to(self.root):
                break
            try:
                parent.rmdir()
            except OSError:
                break

    def copy(self, source: str, target: str, *, content_type: str) -> None:
        try:
            with self.path(source).open("rb") as stream:
                self.save(target, stream, content_type=content_type)
        except FileNotFoundError as exc:
            raise ObjectMissing(source) from exc

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def read_chunks(self, key: str, chunk_bytes: int = _CHUNK) -> Iterator[bytes]:
        """The object's bytes in order, a chunk at a time."""
        try:
            source = self.path(key).open("rb")
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc
        with source:
            while chunk := source.read(chunk_bytes):
                yield chunk

    def open_writer(self, key: str, *, content_type: str) -> ObjectWriter:
        return LocalObjectWriter(self.path(key))

    def keys(self, prefix: str = "") -> Iterator[str]:
        base = self.root / prefix.rpartition("/")[0]  # every key with this prefix is under it
        if not base.exists():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.startswith(".upload-"):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key

    # Signed URLs: public keys never expire, private ones carry an expiry and a MAC.
    def sign(self, key: str, expires_at: int) -> str:
        message = f"{key}\n{expires_at}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def verify(self, key: str, expires_at: int, signature: str) -> bool:
        if key.startswith(PUBLIC_PREFIX):
            return True
        if expires_at < time.time():
            return False
        return hmac.compare_digest(self.sign(key, expires_at), signature)

    def url(self, key: str, *, expires_s: int | None = None, download_name: str | None = None) -> str:
        check_key(key)  # also: nothing in a key needs quoting in a URL path
        if key.startswith(PUBLIC_PREFIX):
            return _media_base() + key
        expires_at = stable_expiry(expires_s or self.url_expires_s)  # the same URL for a while
        url = f"{_media_base()}{key}?e={expires_at}&s={self.sign(key, expires_at)}"
        # The name a download is saved under (contest.media.views), as S3's Content-Disposition.
        return f"{url}&dl={download_name_safe(download_name)}" if download_name else url


def _media_base() -> str:
    """Where media.serve's URLs start ("/media/"), built by the router once per request: a
    gallery page has a hundred renditions, and the router's build is most of a URL's cost."""
    base = g.get("_media_base")
    if base is None:
        base = g._media_base = url_for("media.serve", key="k")[:-1]
    return base


class S3Storage:
    """Any S3-compatible store (AWS S3, MinIO, Ceph RGW) through boto3."""

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None,
        region: str,
        access_key: str | None,
        secret_key: str | None,
        addressing_style: str = "path",
        public_url: str = "",
        url_expires_s: int = 3600,
        public_max_age_s: int = 300,
    ) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.bucket = bucket
        self.public_url = public_url.rstrip("/")
        self.url_expires_s = url_expires_s
        self.public_max_age_s = public_max_age_s
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=Config(
                s3={"addressing_style": addressing_style},
                signature_version="s3v4",
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
            ),
        )
        slot_presigned_urls(self.client)  # the same URL for a while (contest.signed_urls)
        # Bounded memory: 8 MiB parts, two at a time, whatever the object's size. Parts read
        # from a stream wait in memory for an upload thread; s3transfer would queue 10 (80 MiB).
        self.transfer = TransferConfig(
            multipart_threshold=8 * 1024 * 1024,
            multipart_chunksize=8 * 1024 * 1024,
            max_concurrency=2,
            io_chunksize=256 * 1024,
        )
        # boto3's TransferConfig has no argument for it; s3transfer reads the attribute.
        self.transfer.max_in_memory_upload_chunks = 2

    def _call(self, fn, *args, **kwargs):
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(*args, **kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code in {"NoSuchKey", "404", "NotFound"}:
                raise ObjectMissing(str(exc)) from exc
            if status >= 500 or code in {"SlowDown", "RequestTimeout", "ServiceUnavailable"}:
                raise StorageUnavailable(str(exc)) from exc
            raise StorageError(str(exc)) from exc
        except (BotoCoreError, S3UploadFailedError, ConnectionError) as exc:
            raise StorageUnavailable(str(exc)) from exc

    def ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self._call(self.client.head_bucket, Bucket=self.bucket)
        except (StorageError, ClientError):
            self._call(self.client.create_bucket, Bucket=self.bucket)

    def save(self, key: str, stream: BinaryIO, *, content_type: str) -> int:
        check_key(key)
        counter = _CountingReader(stream)
        self._call(
            self.client.upload_fileobj,
            counter,
            self.bucket,
            key,
            ExtraArgs=self._headers(key, content_type),
            Config=self.transfer,
        )
        return counter.count

    def _headers(self, key: str, content_type: str) -> dict[str, str]:
        """The object's content type; a public one is kept by caches for a short while only,
        so that a take-down shows within PUBLIC_MEDIA_MAX_AGE_S."""
        headers = {"ContentType": content_type}
        if key.startswith(PUBLIC_PREFIX):
            headers["CacheControl"] = f"public, max-age={self.public_max_age_s}"
        return headers

    def copy(self, source: str, target: str, *, content_type: str) -> None:
        """A copy made by the store itself (renditions are far below copy_object's 5 GB)."""
        self._call(
            self.client.copy_object,
            Bucket=self.bucket,
            Key=check_key(target),
            CopySource={"Bucket": self.bucket, "Key": check_key(source)},
            MetadataDirective="REPLACE",
            **self._headers(target, content_type),
        )

    def download(self, key: str, target: BinaryIO) -> int:
        start = target.tell() if target.seekable() else 0
        self._call(self.client.download_fileobj, self.bucket, check_key(key), target, Config=self.transfer)
        return (target.tell() - start) if target.seekable() else -1

    def delete(self, key: str) -> None:
        self._call(self.client.delete_object, Bucket=self.bucket, Key=check_key(key))

    def exists(self, key: str) -> bool:
        try:
            self._call(self.client.head_object, Bucket=self.bucket, Key=check_key(key))
        except ObjectMissing:
            return False
        except StorageError as exc:
            if "404" in str(exc) or "Not Found" in str(exc):
                return False
            raise
        return True

    def read_chunks(self, key: str, chunk_bytes: int = _CHUNK) -> Iterator[bytes]:
        """The object's bytes in order, a chunk at a time, as they come over the network."""
        body = self._call(self.client.get_object, Bucket=self.bucket, Key=check_key(key))["Body"]
        try:
            chunks = body.iter_chunks(chunk_bytes)
            while chunk := self._call(next, chunks, b""):
                yield chunk
        finally:
            body.close()

    def open_writer(self, key: str, *, content_type: str) -> ObjectWriter:
        """A multipart upload fed in order (contest.storage_stream)."""
        return S3MultipartWriter(
            self.client, self.bucket, check_key(key), content_type=content_type, call=self._call
        )

    def keys(self, prefix: str = "") -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        pages = self._call(lambda: list(paginator.paginate(Bucket=self.bucket, Prefix=prefix)))
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"]

    def url(self, key: str, *, expires_s: int | None = None, download_name: str | None = None) -> str:
        check_key(key)
        if self.public_url and key.startswith(PUBLIC_PREFIX):
            return f"{self.public_url}/{key}"
        params = {"Bucket": self.bucket, "Key": key}
        if download_name:
            params["ResponseContentDisposition"] = _attachment(download_name)
        return self.client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=expires_s or self.url_expires_s
        )


def download_name_safe(name: str) -> str:
    """A download's file name made of letters, digits, ``.``, ``_`` and ``-`` only."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "download"


def _attachment(name: str) -> str:
    from urllib.parse import quote

    safe = download_name_safe(name)
    return f"attachment; filename=\"{safe}\"; filename*=UTF-8''{quote(name)}"


class _CountingReader:
    """Wraps a stream to count the bytes boto3 reads from it."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.count += len(data)
        return data


def build_storage(config: dict) -> Storage:
    backend = config["STORAGE_BACKEND"]
    if backend == "local":
        return LocalStorage(config["STORAGE_LOCAL_ROOT"], config["SECRET_KEY"], config["MEDIA_URL_EXPIRES_S"])
    if backend == "s3":
        return S3Storage(
            bucket=config["S3_BUCKET"],
            endpoint_url=config["S3_ENDPOINT_URL"],
            region=config["S3_REGION"],
            access_key=config["S3_ACCESS_KEY_ID"],
            secret_key=config["S3_SECRET_ACCESS_KEY"],
            addressing_style=config["S3_ADDRESSING_STYLE"],
            public_url=config["S3_PUBLIC_URL"],
            url_expires_s=config["MEDIA_URL_EXPIRES_S"],
            public_max_age_s=config.get("PUBLIC_MEDIA_MAX_AGE_S", 300),
        )
    raise ValueError(f"STORAGE_BACKEND must be 'local' or 's3', not {backend!r}")


def init_app(app: Flask) -> None:
    app.extensions["storage"] = build_storage(app.config)


def get_storage() -> Storage:
    return current_app.extensions["storage"]


def copy_to_tempfile(storage: Storage, key: str, directory: str | None = None) -> Path:
    """Download ``key`` into a new temporary file and return its path (caller removes it)."""
    fd, name = tempfile.mkstemp(dir=directory, prefix="obj-")
    try:
        with os.fdopen(fd, "wb") as out:
            storage.download(key, out)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


__all__ = [
    "PRIVATE_COPY_PREFIX",
    "PUBLIC_PREFIX",
    "LocalStorage",
    "ObjectMissing",
    "S3Storage",
    "Storage",
    "StorageError",
    "StorageUnavailable",
    "build_storage",
    "check_key",
    "copy_to_tempfile",
    "delete_with_copy",
    "get_storage",
    "new_key",
    "private_copy_key",
]
