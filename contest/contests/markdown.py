"""The rules and the home page text, written by organizers in Markdown, rendered safely.

markdown-it-py with raw HTML disabled escapes any tag the text holds; links and images keep only
http(s), mailto and addresses on this site (no ``javascript:``, ``data:`` or ``//host``); pictures are
not drawn from addresses in the text.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markupsafe import Markup

SAFE_SCHEMES = ("http://", "https://", "mailto:")


def _safe_url(url: str) -> bool:
    """Absolute http(s) or mailto, or a path on this site (never ``//host`` or another scheme)."""
    plain = "".join(url.split()).lower()
    if plain.startswith(SAFE_SCHEMES):
        return True
    if plain.startswith("//"):
        return False
    before_path = re.split(r"[/?#]", plain, maxsplit=1)[0]
    return ":" not in before_path


def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")  # pictures come from the contest's own uploads, not from addresses in text
    md.validateLink = _safe_url
    return md


_MD = _renderer()


def render_markdown(text: str | None) -> Markup:
    """HTML for ``text``: Markdown without raw HTML, unsafe links left as plain text."""
    return Markup(_MD.render(text or ""))
