"""Give every empty msgstr of the English catalog its msgid, so the catalog is complete.

English is the source language: its catalog only exists so that wording can be edited
without touching code. Run by ``make extract-messages``.
"""

from pathlib import Path

from babel.messages.pofile import read_po, write_po

PATH = Path(__file__).parent / "en" / "LC_MESSAGES" / "messages.po"

with PATH.open("rb") as f:
    catalog = read_po(f, locale="en")
for message in catalog:
    if not message.id:
        continue
    if isinstance(message.id, tuple):
        if not all(message.string):
            message.string = tuple(message.id)
    elif not message.string:
        message.string = message.id
    message.flags.discard("fuzzy")
with PATH.open("wb") as f:
    write_po(f, catalog, width=100, omit_header=False)
