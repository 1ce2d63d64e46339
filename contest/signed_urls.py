"""Signed URLs that stay the same for a while, so that a browser's cache can hit.

A signed URL that changes on every call (a new expiry, a new signature) defeats the cache: the
judge's panel fetches the next entry's picture ahead, then the next page asks for it again
under another URL. Both backends therefore sign as of the start of a time *slot* of half the
URL's lifetime: every call within a slot gives the same URL, on every process, and it stays
valid at least half its lifetime after any of them.
"""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime

SIGNER = "contest-s3v4-query"  # our name for S3's presigned-URL signer with a slotted time


def slot_start(lifetime_s: int, now: float | None = None) -> int:
    """The start (Unix seconds) of the slot of half ``lifetime_s`` that ``now`` falls in."""
    slot = max(1, lifetime_s // 2)
    moment = int(time.time() if now is None else now)
    return moment - moment % slot


def stable_expiry(lifetime_s: int, now: float | None = None) -> int:
    """An expiry shared by a whole slot, at least half ``lifetime_s`` after ``now`` (a lifetime
    under 2 s, e.g. an already expired URL in a test, is taken as it is)."""
    if lifetime_s < 2:
        return int(time.time() if now is None else now) + lifetime_s
    return slot_start(lifetime_s, now) + lifetime_s // 2 * 2


def slot_presigned_urls(client) -> None:
    """Make ``client``'s presigned GET URLs slotted (other requests are signed as before)."""
    import botocore.auth

    botocore.auth.AUTH_TYPE_MAPS.setdefault(SIGNER, _slotted_signer())
    client.meta.events.register_first("choose-signer.s3.GetObject", _choose_slotted)


def _choose_slotted(signature_version, **_kwargs):
    """botocore's choose-signer event: S3's presigned URLs go to the slotted signer."""
    return SIGNER if signature_version == "s3v4-query" else None


@functools.cache
def _slotted_signer() -> type:
    """botocore's presigned-URL signer (SigV4 in the query), signing as of the slot's start.

    ``SigV4Auth.add_auth`` reads the clock itself and has no parameter for the time: this is
    its body with the slot's start in place of the clock. A URL signed up to half its lifetime
    ago is as valid as a new one until it expires (X-Amz-Date + X-Amz-Expires). Built on first
    use: botocore is imported only where S3 is used."""
    import botocore.auth
    from botocore.exceptions import NoCredentialsError

    class SlottedS3QueryAuth(botocore.auth.S3SigV4QueryAuth):
        def add_auth(self, request):
            if self.credentials is None:
                raise NoCredentialsError()
            signed_at = datetime.fromtimestamp(slot_start(self._expires), UTC).replace(tzinfo=None)
            request.context["timestamp"] = signed_at.strftime(botocore.auth.SIGV4_TIMESTAMP)
            self._modify_request_before_signing(request)
            canonical_request = self.canonical_request(request)
            string_to_sign = self.string_to_sign(request, canonical_request)
            self._inject_signature_to_request(request, self.signature(string_to_sign, request))

    return SlottedS3QueryAuth
