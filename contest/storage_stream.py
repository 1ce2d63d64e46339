"""Streaming writes into storage, for contest.storage's backends: an object written in
order, piece by piece, never held whole in memory or on disk (the winners' ZIP).

A writer is a non-seekable file: ``write`` and ``tell`` only. ``commit`` makes the object
appear under its key at once; ``abort`` (or an exception inside ``with``) leaves nothing.
Opening a writer drops what an earlier writer of the same key left unfinished (a worker that
died mid-way): one writer per key at a time, which the caller ensures (the export job's claim).
"""

from __future__ import annotations

import logging
import os
import queue
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
# S3 refuses parts below 5 MiB (but the last) and more than 10,000 parts: 8 MiB parts make
# objects up to 78 GiB; two uploading while the next fills: 24 MiB of buffers, whatever the size.
PART_BYTES = 8 * 1024 * 1024
PARTS_IN_FLIGHT = 2


class ObjectWriter:
    """What both backends' writers share: the position, and commit or abort by ``with``."""

    def __init__(self) -> None:
        self.size = 0
        self.closed = False

    def tell(self) -> int:
        return self.size

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        pass

    def write(self, data: bytes) -> int:
        raise NotImplementedError

    def commit(self) -> int:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> ObjectWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self._abort_quietly()
        elif not self.closed:
            try:
                self.commit()
            except BaseException:
                self._abort_quietly()
                raise

    def _abort_quietly(self) -> None:
        """Abort after a failure, whose exception is the one worth raising."""
        try:
            self.abort()
        except Exception:
            log.warning("could not abort the write of an object", exc_info=True)


class LocalObjectWriter(ObjectWriter):
    """A file written in order next to its target, renamed into place by ``commit``."""

    def __init__(self, target: Path) -> None:
        super().__init__()
        self.target = target
        target.parent.mkdir(parents=True, exist_ok=True)
        prefix = f".upload-{target.name}."
        for unfinished in target.parent.glob(prefix + "*"):
            unfinished.unlink(missing_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=prefix)
        self._tmp = Path(tmp)
        self._file = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> int:
        self._file.write(data)
        self.size += len(data)
        return len(data)

    def commit(self) -> int:
        self._file.close()
        os.replace(self._tmp, self.target)
        self.closed = True
        return self.size

    def abort(self) -> None:
        self._file.close()
        self._tmp.unlink(missing_ok=True)
        self.closed = True


class S3MultipartWriter(ObjectWriter):
    """An S3 multipart upload fed in order. The bytes fill fixed buffers of ``part_bytes``;
    a full buffer is uploaded as it is (no copy) by one of ``PARTS_IN_FLIGHT`` threads while
    the next fills, and comes back to be filled again once its part is stored: memory stays
    at ``PARTS_IN_FLIGHT + 1`` buffers, and reading and uploading overlap.

    ``call`` runs a client method and maps its errors (contest.storage.S3Storage._call).
    ``waited_s`` and ``complete_s``: time spent waiting for a buffer, and in the store's
    assembly of the parts (the bench reports them).
    """

    def __init__(
        self,
        client: Any,
        bucket: str,
        key: str,
        *,
        content_type: str,
        call: Callable[..., Any],
        part_bytes: int | None = None,
    ) -> None:
        super().__init__()
        self._client, self._bucket, self._key, self._call = client, bucket, key, call
        self._part_bytes = part_bytes or PART_BYTES
        self._abort_unfinished()
        started = call(client.create_multipart_upload, Bucket=bucket, Key=key, ContentType=content_type)
        self.upload_id: str = started["UploadId"]
        self._free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        self._spare = PARTS_IN_FLIGHT + 1  # buffers not made yet
        self._buffer, self._filled = self._take_buffer(), 0
        self._parts: list[Future] = []
        self._pool = ThreadPoolExecutor(max_workers=PARTS_IN_FLIGHT, thread_name_prefix="s3-part")
        self.waited_s = self.complete_s = 0.0

    def _abort_unfinished(self) -> None:
        from contest.storage import StorageError  # (contest.storage imports this module)

        try:
            listed = self._call(self._client.list_multipart_uploads, Bucket=self._bucket, Prefix=self._key)
        except StorageError:  # e.g. no right to list uploads: the bucket's lifecycle rule then cleans up
            log.warning("could not list the unfinished uploads of %s", self._key, exc_info=True)
            return
        for upload in listed.get("Uploads", []):
            if upload["Key"] == self._key:
                self._call(
                    self._client.abort_multipart_upload,
                    Bucket=self._bucket,
                    Key=self._key,
                    UploadId=upload["UploadId"],
                )

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        while view:
            room = self._part_bytes - self._filled
            taken = view[:room]
            self._buffer[self._filled : self._filled + len(taken)] = taken
            self._filled += len(taken)
            view = view[len(taken) :]
            if self._filled == self._part_bytes:
                self._send_part(self._buffer)
                self._buffer, self._filled = self._take_buffer(), 0
        self.size += len(data)
        return len(data)

    def _take_buffer(self) -> bytearray:
        """A buffer to fill: a new one while fewer than allowed exist, else the next one whose
        part is stored (waiting for it: the uploads set the pace)."""
        if self._spare:
            self._spare -= 1
            return bytearray(self._part_bytes)
        started = time.monotonic()
        buffer = self._free.get()
        self.waited_s += time.monotonic() - started
        for failed in (f for f in self._parts if f.done() and f.exception()):
            failed.result()  # a failed part stops the writing now
        return buffer

    def _send_part(self, body: bytearray | bytes) -> None:
        number = len(self._parts) + 1
        self._parts.append(self._pool.submit(self._upload_part, number, body))

    def _upload_part(self, number: int, body: bytearray | bytes) -> dict:
        try:
            answer = self._call(
                self._client.upload_part,
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self.upload_id,
                PartNumber=number,
                Body=body,
            )
        finally:
            if isinstance(body, bytearray):
                self._free.put(body)  # back to be filled (even on failure: the writer must not hang)
        return {"PartNumber": number, "ETag": answer["ETag"]}

    def commit(self) -> int:
        if self._filled or not self._parts:
            self._send_part(bytes(self._buffer[: self._filled]))  # the last part, short
        parts = [future.result() for future in self._parts]
        self._pool.shutdown()
        started = time.monotonic()
        self._call(
            self._client.complete_multipart_upload,
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": parts},
        )
        self.complete_s = time.monotonic() - started
        self.closed = True
        return self.size

    def abort(self) -> None:
        """Stop the parts and abort the upload: the store drops what it received."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.closed = True
        self._call(
            self._client.abort_multipart_upload, Bucket=self._bucket, Key=self._key, UploadId=self.upload_id
        )
