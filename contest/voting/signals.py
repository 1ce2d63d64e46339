"""What is kept of a vote's circumstances for review: keyed hashes, never the address itself."""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass
from datetime import datetime

# The network a client address belongs to: a home or office line (IPv4 /24), a site (IPv6 /48).
IPV4_PREFIX, IPV6_PREFIX = 24, 48


@dataclass(frozen=True)
class VoteSignals:
    """The request's facts about a vote, before hashing."""

    address: str = ""
    user_agent: str = ""
    viewed_at: datetime | None = None  # when the entry page was served to this voter


def keyed_hash(secret: str, purpose: str, value: str) -> str:
    """16 hex digits of HMAC-SHA256: equal inputs match, the input cannot be read back."""
    if not value:
        return ""
    return hmac.digest(secret.encode(), f"{purpose}\0{value}".encode(), "sha256").hex()[:16]


def network_of(address: str) -> str:
    """The address's network prefix as text ("203.0.113.0/24"), or "" if it is not an address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    prefix = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    host_bits = ip.max_prefixlen - prefix  # the network's address: the host bits cleared
    return f"{type(ip)(int(ip) >> host_bits << host_bits)}/{prefix}"


def hashed(secret: str, signals: VoteSignals) -> dict[str, str]:
    """The Vote columns for these signals."""
    return {
        "ip_hash": keyed_hash(secret, "ip", signals.address),
        "net_hash": keyed_hash(secret, "net", network_of(signals.address)),
        "ua_hash": keyed_hash(secret, "ua", signals.user_agent.strip()),
    }


def since_view_ms(viewed_at: datetime | None, at: datetime) -> int | None:
    """Milliseconds from the entry page being served to the vote (None: unknown)."""
    if viewed_at is None or viewed_at > at:
        return None
    return min(int((at - viewed_at).total_seconds() * 1000), 2**31 - 1)
