"""Languages: Vietnamese by default, English on request, and complete catalogs."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from contest.config import ROOT

TRANSLATIONS = ROOT / "translations"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}
METHODS = [
    ("contest/**.py", "python"),
    ("worker/**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("templates/**.txt", "jinja2"),
]


def source_messages() -> set[str]:
    """Every msgid the code and templates use, extracted the way pybabel does."""
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map=METHODS,
        keywords=KEYWORDS,
        options_map={"templates/**.html": {"extensions": "jinja2.ext.do"}},
    ):
        if isinstance(message, tuple):
            found.update(m for m in message if m)
        elif message:
            found.add(message)
    return found


def catalog(lang: str):
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=lang)


def test_source_has_messages():
    assert len(source_messages()) > 100


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_catalog_holds_every_message(lang):
    ids = set()
    for message in catalog(lang):
        if message.id:
            ids.update([message.id] if isinstance(message.id, str) else message.id)
    missing = sorted(source_messages() - ids)
    assert missing == [], f"run 'make extract-messages' and translate: {missing[:10]}"


def test_vietnamese_catalog_is_translated():
    untranslated = [
        m.id
        for m in catalog("vi")
        if m.id and (m.fuzzy or not (m.string if isinstance(m.string, str) else all(m.string)))
    ]
    assert untranslated == []


def test_vietnamese_keeps_placeholders():
    import re

    placeholder = re.compile(r"%\((\w+)\)s")
    for message in catalog("vi"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(placeholder.findall(ids[0]))
        for string in strings:
            assert set(placeholder.findall(string)) == wanted, message.id


def test_compiled_catalogs_exist():
    for lang in ("vi", "en"):
        assert (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo").is_file(), "make translations"


def test_vietnamese_by_default(client, contest):
    page = client.get("/rules").get_data(as_text=True)
    assert "Thể loại" in page or "Quy định" in page
    assert '<html lang="vi">' in page


def test_english_for_browsers_that_ask(client, contest):
    page = client.get("/rules", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Categories and file requirements" in page
    assert "At least 3,000 pixels on the long side" in page


def test_unknown_browser_language_gets_vietnamese(client, contest):
    page = client.get("/rules", headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)
    assert '<html lang="vi">' in page


def test_language_switch_sticks_and_redirects_back(client, contest):
    response = client.post("/language/en", data={"next": "/rules"})
    assert response.status_code == 302 and response.headers["Location"] == "/rules"
    page = client.get("/rules").get_data(as_text=True)
    assert '<html lang="en">' in page
    client.post("/language/vi", data={"next": "/rules"})
    assert '<html lang="vi">' in client.get("/rules", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )


def test_language_switch_refuses_open_redirect_and_unknown_language(client):
    response = client.post("/language/en", data={"next": "https://evil.example/"})
    assert response.headers["Location"] == "/"
    assert client.post("/language/fr").status_code == 404


def test_contest_text_follows_language(client, contest):
    assert "Happy Nghe An 2025" in client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Nghệ An Hạnh phúc 2025" in client.get("/").get_data(as_text=True)


def test_error_page_is_translated(client):
    en = client.get("/no-such-page", headers={"Accept-Language": "en"})
    assert en.status_code == 404 and "Page not found" in en.get_data(as_text=True)
    vi = client.get("/no-such-page")
    assert vi.status_code == 404 and "Page not found" not in vi.get_data(as_text=True)


def test_translations_dir_is_where_babel_looks(app):
    assert Path(app.config["BABEL_TRANSLATION_DIRECTORIES"]) == TRANSLATIONS
