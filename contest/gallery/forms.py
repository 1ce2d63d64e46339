"""The gallery's filter form (a GET form: no CSRF, bad values fall back to defaults)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SearchField, SelectField

from contest.gallery.filters import Sort
from contest.gallery.public_contest import GalleryContest

SORT_LABELS = {
    Sort.random: _l("Random order"),
    Sort.newest: _l("Newest"),
    Sort.votes: _l("Most voted"),
}


class GalleryFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(_l("Search"), description=_l("Entry code, title or author"))
    category = SelectField(_l("Category"), validate_choice=False)
    place = SelectField(_l("Place"), validate_choice=False)
    sort = SelectField(_l("Order"), validate_choice=False)
    page = IntegerField()

    def offer(self, contest: GalleryContest, *, counts_visible: bool) -> GalleryFilterForm:
        """Fill the lists for rendering (not needed to read the visitor's choice)."""
        self.category.choices = [("", _l("All categories"))] + [(c.slug, c.name) for c in contest.categories]
        self.place.choices = [("", _l("All places"))] + [(p.code, p.name) for p in contest.places]
        self.sort.choices = [
            (sort.value, label)
            for sort, label in SORT_LABELS.items()
            if counts_visible or sort is not Sort.votes
        ]
        return self
