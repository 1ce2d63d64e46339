"""A text written in Vietnamese and, optionally, in English, as a page in either language shows it.

English visitors see the English text where there is one, everyone else the Vietnamese; a
text shown in the other language than the page's carries its own ``lang`` (screen readers
then read it with the right voice): ``<h1{{ title.lang_attr }}>{{ title }}</h1>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import get_locale
from markupsafe import Markup, escape

FALLBACK = "vi"  # every text the site shows exists in Vietnamese; English is optional


@dataclass(frozen=True)
class LocalText:
    """A text, the language it is written in, and the language of the page showing it."""

    text: str
    lang: str
    page_lang: str

    @property
    def lang_attr(self) -> Markup:
        """`` lang="vi"`` when the text is not in the page's language, else nothing."""
        return Markup(' lang="%s"') % self.lang if self.lang != self.page_lang else Markup("")

    def __str__(self) -> str:
        return self.text

    def __html__(self) -> str:
        return str(escape(self.text))

    def __bool__(self) -> bool:
        return bool(self.text)


def page_language() -> str:
    return str(get_locale() or FALLBACK)


def in_language(texts: dict[str, str | None], page_lang: str | None = None) -> LocalText:
    """The text of ``texts`` (by language) a page in ``page_lang`` (the current one) shows:
    its own language's when not empty, else the Vietnamese, else any."""
    page_lang = page_lang or page_language()
    for lang in (page_lang, FALLBACK, *texts):
        if texts.get(lang):
            return LocalText(texts[lang], lang, page_lang)
    return LocalText("", page_lang, page_lang)


def localized(obj: object, field: str) -> LocalText:
    """``obj.<field>_vi`` or ``obj.<field>_en`` as the current page shows it (a contest's,
    a category's or a place's name), marked with its language."""
    return in_language({"vi": getattr(obj, f"{field}_vi", ""), "en": getattr(obj, f"{field}_en", "")})
