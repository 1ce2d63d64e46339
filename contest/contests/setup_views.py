"""Organizer pages to set an edition up: a new edition, its settings, categories, places, logo and banner.

The URLs stay under /admin; the overview of every contest is the admin dashboard (contest.admin.views).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from contest.admin.services import all_contests
from contest.auth.policy import organizer_required
from contest.contests import editions, places, settings
from contest.contests.images import ImageRefused, image_url, store_image
from contest.contests.markdown import render_markdown
from contest.contests.models import Category, Contest, Place
from contest.contests.settings_forms import CATEGORY_FORMS, ContestForm
from contest.contests.setup_forms import TEMPLATE_SOURCE, ImageForm, NewEditionForm, PlaceForm
from contest.contests.template import EditionDates, EditionName
from contest.extensions import db
from contest.timeutil import from_vn_local

bp = Blueprint("contests", __name__)
bp.add_app_template_filter(render_markdown, "markdown")
bp.add_app_template_global(image_url, "contest_image_url")

IMAGE_KINDS = ("logo", "banner")


@bp.route("/contests/new", methods=["GET", "POST"])
@organizer_required
def new_edition():
    """The first edition from the 2025 rules, or the next one as a copy of an earlier one."""
    contests = all_contests(db.session)
    form = NewEditionForm(contests=contests)
    if not form.is_submitted() and contests:
        form.source.data = contests[0].id
    if form.validate_on_submit():
        contest = _created(form, contests)
        if contest is not None:
            flash(
                _(
                    "The edition %(title)s was created. Check its dates, texts and rules.",
                    title=contest.title,
                ),
                "success",
            )
            return redirect(url_for(".edit_contest", contest_id=contest.id))
    status = 400 if form.is_submitted() else 200
    return render_template("contests/new_edition.html", form=form), status


def _created(form: NewEditionForm, contests: list[Contest]) -> Contest | None:
    source = next((c for c in contests if c.id == form.source.data), None)
    if source is None and form.source.data != TEMPLATE_SOURCE:
        form.source.errors.append(_("Choose where the edition starts from."))
        return None
    name = EditionName(form.slug.data, form.code_prefix.data, form.title_vi.data, form.title_en.data)
    moments = {f: form[f].data and from_vn_local(form[f].data) for f in EditionDates.__dataclass_fields__}
    try:
        contest = editions.create_edition(
            db.session, name, EditionDates(**moments), source=source, actor_id=current_user.id
        )
    except editions.EditionRefused as exc:
        db.session.rollback()
        form[exc.field].errors.append(exc.message)
        return None
    db.session.commit()
    return contest


@bp.route("/contests/<int:contest_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit_contest(contest_id: int):
    contest = db.session.get(Contest, contest_id) or abort(404)
    locked = settings.has_entries(db.session, contest)
    form = ContestForm(data=settings.contest_settings(contest))
    if form.validate_on_submit() and _saved(
        form, lambda: settings.update_contest(db.session, contest, form.data, current_user)
    ):
        flash(_("The contest settings were saved."), "success")
        return redirect(url_for("admin.index"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "contests/contest_form.html", form=form, contest=contest, prefix_locked=locked
    ), status


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit_category(category_id: int):
    category = db.session.get(Category, category_id) or abort(404)
    form = CATEGORY_FORMS[category.kind](data=settings.category_settings(category))
    if form.validate_on_submit() and _saved(
        form, lambda: settings.update_category(db.session, category, form.data, current_user)
    ):
        flash(_("The category %(name)s was saved.", name=category.name), "success")
        return redirect(url_for("admin.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("contests/category_form.html", form=form, category=category), status


def _saved(form, save) -> bool:
    """Run ``save`` and commit; a refusal (SettingsRejected) becomes the field's error."""
    try:
        save()
    except settings.SettingsRejected as exc:
        db.session.rollback()
        form[exc.field].errors.append(exc.message)
        return False
    db.session.commit()
    return True


# --- places -----------------------------------------------------------------------------------
@bp.route("/contests/<int:contest_id>/places", methods=["GET", "POST"])
@organizer_required
def contest_places(contest_id: int):
    contest = db.session.get(Contest, contest_id) or abort(404)
    form = PlaceForm()
    if form.validate_on_submit() and _saved(
        form, lambda: places.add_place(db.session, contest, form.data, actor_id=current_user.id)
    ):
        flash(_("The place %(name)s was added.", name=form.name_vi.data), "success")
        return redirect(url_for(".contest_places", contest_id=contest.id))
    status = 400 if form.is_submitted() else 200
    return render_template("contests/places.html", contest=contest, form=form), status


@bp.route("/places/<int:place_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit_place(place_id: int):
    place = db.session.get(Place, place_id) or abort(404)
    form = PlaceForm(obj=place)
    if form.validate_on_submit() and _saved(
        form, lambda: places.update_place(db.session, place, form.data, actor_id=current_user.id)
    ):
        flash(_("The place %(name)s was saved.", name=place.name), "success")
        return redirect(url_for(".contest_places", contest_id=place.contest_id))
    status = 400 if form.is_submitted() else 200
    return render_template("contests/place_form.html", place=place, form=form), status


# --- logo and banner --------------------------------------------------------------------------
@bp.get("/contests/<int:contest_id>/images")
@organizer_required
def images(contest_id: int):
    contest = db.session.get(Contest, contest_id) or abort(404)
    return _images_page(contest)


@bp.post("/contests/<int:contest_id>/images/<which>")
@organizer_required
def upload_image(contest_id: int, which: str):
    contest = db.session.get(Contest, contest_id) or abort(404)
    if which not in IMAGE_KINDS:
        abort(404)
    form = ImageForm(prefix=which)
    if form.validate_on_submit():
        try:
            store_image(db.session, contest, which, form.picture.data.stream, actor_id=current_user.id)
        except ImageRefused as exc:
            db.session.rollback()
            form.picture.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The picture was saved."), "success")
            return redirect(url_for(".images", contest_id=contest.id))
    return _images_page(contest, **{which: form}), 400


def _images_page(contest: Contest, **forms):
    forms = {which: forms.get(which) or ImageForm(prefix=which, formdata=None) for which in IMAGE_KINDS}
    return render_template("contests/images.html", contest=contest, forms=forms)
