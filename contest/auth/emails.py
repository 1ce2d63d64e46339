"""What an e-mail address says about its mailbox: one mailbox is one account.

Addresses are compared by their canonical form: lower case, and for providers that
deliver ``a.b.c+anything@`` to ``abc@`` the dots and the ``+tag`` are dropped. The list
of providers is deliberately short and explicit: dropping a dot at a provider that
treats it as significant would merge two different people.
"""

from __future__ import annotations

from functools import cache

# Providers whose mailboxes ignore dots in the local part (Google only).
DOTS_IGNORED = frozenset({"gmail.com", "googlemail.com"})
# Providers that deliver "name+tag@" to "name@" (sub-addressing).
PLUS_TAGS_IGNORED = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "protonmail.com",
        "proton.me",
        "pm.me",
        "fastmail.com",
        "yandex.com",
        "yandex.ru",
        "zoho.com",
    }
)
# Domains that are one mailbox service under two names.
SAME_MAILBOXES = {"googlemail.com": "gmail.com"}


def canonical_email(address: str) -> str:
    """The canonical form of ``address`` (already trimmed and lower-cased or not)."""
    address = address.strip().lower()
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    if domain in PLUS_TAGS_IGNORED:
        local = local.split("+", 1)[0]
    if domain in DOTS_IGNORED:
        local = local.replace(".", "")
    return f"{local}@{SAME_MAILBOXES.get(domain, domain)}"


def is_disposable(
    address: str, extra: frozenset[str] = frozenset(), allowed: frozenset[str] = frozenset()
) -> bool:
    """Whether the address belongs to a throw-away mail service (or one of its subdomains).

    ``extra`` and ``allowed`` are the deployment's own additions to and exceptions from the
    maintained list (settings DISPOSABLE_EMAIL_DOMAINS_EXTRA / _ALLOWED).
    """
    domain = address.strip().lower().rpartition("@")[2]
    parts = domain.split(".")
    for start in range(len(parts) - 1):
        candidate = ".".join(parts[start:])
        if candidate in allowed:
            return False
        if candidate in extra or candidate in _blocklist():
            return True
    return False


@cache
def _blocklist() -> frozenset[str]:
    from disposable_email_domains import blocklist

    return frozenset(blocklist)
