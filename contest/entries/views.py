"""The entrant's side: submit an entry (photo, photo series, video), see "My entries", edit, withdraw."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from contest.auth.policy import verified_entrant_required
from contest.contests.models import Contest, current_contest
from contest.entries import editing, fixing, from_uploads, next_steps, services
from contest.entries.failures import MediaRejected
from contest.entries.forms import EditEntryForm, NewEntryForm, NewFileForm, WithdrawForm
from contest.entries.models import Entry, EntryStatus
from contest.extensions import db
from contest.gallery.entry_page import is_public
from contest.gallery.share import sharing
from contest.storage import StorageUnavailable

log = logging.getLogger(__name__)
bp = Blueprint("entries", __name__)

POLL_INTERVAL_MS = 3000
STORAGE_UNAVAILABLE = _l(
    "Our file storage is unavailable at the moment. Nothing was saved: please try again in a few minutes."
)


@bp.route("/new", methods=["GET", "POST"])
@verified_entrant_required
def new():
    """One page for every kind of entry: choose a category, then send its file(s) and text.

    ``?category=<id>`` preselects a category (links from the rules and home pages). The files
    come with the form, or were sent to storage before it (``upload_<field>``); a file posted
    with a form that comes back with an error is kept, and the page refers to it.
    """
    contest = current_contest(db.session)
    if contest is None:
        abort(404)
    form = NewEntryForm(contest, data={"category": request.args.get("category", type=int)})
    blocked, refusal, status, kept = _refusal(contest), None, None, []
    if blocked is None and form.is_submitted():
        valid = form.validate_on_submit()
        kept = _referenced(form)
        if valid and not form.file_field().errors:
            try:
                entry = _submit(form, contest, kept)
            except services.SubmissionRefused as exc:
                refusal = exc.message
            except MediaRejected as exc:
                form.file_field().errors.append(exc.message)
            except StorageUnavailable:
                log.warning("storage unavailable while saving an upload", exc_info=True)
                form.file_field().errors.append(str(STORAGE_UNAVAILABLE))
                status = 503
            else:
                return redirect(url_for("entries.mine", sent=entry.code))
        elif form.uploads() and "csrf_token" not in form.errors:
            kept = _keep_posted(form, contest)
    status = status or (400 if form.is_submitted() else 200)
    return render_template(
        "entries/new.html", contest=contest, form=form, blocked=blocked, refusal=refusal, kept=kept
    ), status


def _referenced(form: NewEntryForm) -> list:
    """The stored uploads the form names for its category; a field error when one is not usable."""
    category, ids = form.chosen_category(), form.upload_ids()
    if category is None or not ids:
        return []
    try:
        return from_uploads.referenced_uploads(
            db.session, current_user, category, form.file_field().name, ids
        )
    except from_uploads.UploadNotUsable as exc:
        form.file_field().errors.append(exc.message)
        form.refer_to([])
        return []


def _keep_posted(form: NewEntryForm, contest: Contest) -> list:
    """Store the files posted with a form that came back with an error; the page refers to them.

    A file that fails its own checks is not kept: its error joins the others.
    """
    category = form.chosen_category()
    if category is None or form.file_field().errors:
        return []
    try:
        with _on_disk(form) as files:
            kept = from_uploads.keep_posted_files(
                db.session, current_user, contest, category, form.file_field().name, files
            )
        keys = [upload.storage_key for upload in kept]
        try:
            db.session.commit()
        except Exception:
            services.discard_objects(keys)
            raise
    except (MediaRejected, services.SubmissionRefused) as exc:
        db.session.rollback()
        form.file_field().errors.append(exc.message)
        return []
    except StorageUnavailable:
        db.session.rollback()
        log.warning("storage unavailable while keeping an upload", exc_info=True)
        return []
    form.refer_to([upload.id for upload in kept])
    return kept


def _refusal(contest: Contest) -> str | None:
    try:
        services.check_can_submit(db.session, current_user, contest)
    except services.SubmissionRefused as exc:
        return exc.message
    return None


def _submit(form: NewEntryForm, contest: Contest, kept: list) -> Entry:
    """Store the entry and commit; on any failure nothing is left, in the database or in storage.

    Files posted with the form are checked and stored now; an entry made from stored uploads
    waits for the worker's check of their content (contest.entries.from_uploads).
    """
    try:
        if form.uploads():
            with _on_disk(form) as files:
                entry = services.submit_entry(
                    db.session,
                    current_user,
                    contest,
                    form.chosen_category(),
                    **form.entry_details(),
                    files=files,
                )
            keys = services.stored_keys(entry)
        else:
            entry = from_uploads.submit_from_uploads(
                db.session,
                current_user,
                contest,
                form.chosen_category(),
                uploads=kept,
                **form.entry_details(),
            )
            keys = []  # the uploads' objects stay theirs until the check: nothing new to delete
        try:
            db.session.commit()
        except Exception:
            services.discard_objects(keys)
            raise
    except Exception:
        db.session.rollback()
        raise
    flash(_received_message(entry), "success")
    return entry


@contextmanager
def _on_disk(form: NewEntryForm) -> Iterator[list[services.UploadedFile]]:
    """The posted files on disk (named temporary copies, removed on the way out)."""
    tmp_dir = Path(current_app.config["INSTANCE_DIR"]) / "tmp"
    with ExitStack() as on_disk:
        yield [
            services.UploadedFile(
                on_disk.enter_context(services.upload_on_disk(upload, tmp_dir)), upload.filename
            )
            for upload in form.uploads()
        ]


def _received_message(entry: Entry) -> str:
    if entry.status is EntryStatus.checking:
        return _(
            "We received your entry %(code)s. We are checking its file: it counts as submitted "
            "once the check passes, in a few seconds.",
            code=entry.code,
        )
    return _(
        "We received your entry %(code)s. It is being processed: its thumbnail appears here in a moment.",
        code=entry.code,
    )


@bp.get("/mine")
@login_required
def mine():
    """The author's entries, each with its status, what happens next and, once public, its shares.

    ``?sent=<code>`` (where a submission lands): the steps that follow, with the contest's dates.
    """
    cards = services.my_entries(db.session, current_user)
    pending = [
        {
            "url": url_for("entries.status_json", code=c.entry.code),
            "status": c.entry.status.value,
            "job_state": c.job_state.value if c.job_state else None,
        }
        for c in cards
        if c.is_pending
    ]
    entries = [c.entry for c in cards]
    public = {e.id: sharing(e, "") for e in entries if is_public(e)}  # no description: no share tags here
    sent = next((e for e in entries if e.code == request.args.get("sent")), None)
    return render_template(
        "entries/mine.html",
        cards=cards,
        pending=pending,
        poll_ms=POLL_INTERVAL_MS,
        steps=next_steps.next_steps(db.session, entries),
        shares=public,
        sent=sent,
        after_submit=next_steps.after_submit(sent.contest) if sent else [],
    )


@bp.get("/<code>/status.json")
@login_required
def status_json(code: str):
    return services.status_summary(db.session, _own_entry(code))


@bp.route("/<code>/edit", methods=["GET", "POST"])
@login_required
def edit(code: str):
    entry = _own_entry(code)
    if editing.edits_closed(entry):
        flash(
            _(
                "Entry %(code)s is approved: this contest does not allow changes to approved entries.",
                code=entry.code,
            ),
            "error",
        )
        return redirect(url_for("entries.mine"))
    if not services.may_edit(entry):
        flash(_("Entry %(code)s can no longer be changed.", code=entry.code), "error")
        return redirect(url_for("entries.mine"))
    form = EditEntryForm(
        entry.contest, category=entry.category, data=_entry_fields(entry) if request.method == "GET" else None
    )
    if form.validate_on_submit():
        outcome = editing.update_entry(db.session, entry, current_user, **form.entry_details())
        db.session.commit()
        flash(_edit_message(outcome, entry.code), "success")
        return redirect(url_for("entries.mine"))
    status = 400 if form.is_submitted() else 200
    back_to_review = editing.edit_sends_back_to_review(entry) and entry.status is not EntryStatus.rejected
    return render_template(
        "entries/edit.html", entry=entry, form=form, back_to_review=back_to_review, reason=_reason(entry)
    ), status


@bp.route("/<code>/file", methods=["GET", "POST"])
@login_required
def new_file(code: str):
    """A rejected entry's author sends a new file while submission is open: it is processed again."""
    entry = _own_entry(code)
    if not fixing.may_send_new_file(entry):
        flash(_("Entry %(code)s can no longer be changed.", code=entry.code), "error")
        return redirect(url_for("entries.mine"))
    form = NewFileForm(entry.category)
    if form.validate_on_submit():
        try:
            _replace_files(form, entry)
        except MediaRejected as exc:
            form.file_field().errors.append(exc.message)
        except StorageUnavailable:
            log.warning("storage unavailable while saving a new file", exc_info=True)
            form.file_field().errors.append(str(STORAGE_UNAVAILABLE))
        else:
            flash(
                _("We received the new file of %(code)s: once processed, it goes back to review.", code=code),
                "success",
            )
            return redirect(url_for("entries.mine"))
    status = 400 if form.is_submitted() else 200
    return render_template("entries/new_file.html", entry=entry, form=form, reason=_reason(entry)), status


def _replace_files(form: NewFileForm, entry: Entry) -> None:
    """Store the new file(s) and commit, then delete the old objects; on failure nothing changes."""
    tmp_dir = Path(current_app.config["INSTANCE_DIR"]) / "tmp"
    try:
        with ExitStack() as on_disk:
            files = [
                services.UploadedFile(on_disk.enter_context(services.upload_on_disk(u, tmp_dir)), u.filename)
                for u in form.uploads()
            ]
            old_keys = fixing.replace_files(db.session, entry, current_user, files)
        new_keys = services.stored_keys(entry)
        try:
            db.session.commit()
        except Exception:
            services.discard_objects(new_keys)
            raise
    except Exception:
        db.session.rollback()
        raise
    services.discard_objects(old_keys)


@bp.route("/<code>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(code: str):
    entry = _own_entry(code)
    if not services.may_withdraw(entry):
        flash(_("Entry %(code)s can no longer be withdrawn.", code=entry.code), "error")
        return redirect(url_for("entries.mine"))
    form = WithdrawForm()
    if form.validate_on_submit():
        services.withdraw_entry(db.session, entry)
        db.session.commit()
        flash(_("Entry %(code)s was withdrawn. Its files will be deleted.", code=entry.code), "success")
        return redirect(url_for("entries.mine"))
    status = 400 if form.is_submitted() else 200
    return render_template("entries/withdraw.html", entry=entry, form=form), status


def _edit_message(outcome: editing.EditOutcome, code: str) -> str:
    if outcome is editing.EditOutcome.back_to_review:
        return _(
            "Entry %(code)s was saved and sent back to review: it is out of the gallery until the "
            "organizers approve it again.",
            code=code,
        )
    if outcome is editing.EditOutcome.resubmitted:
        return _("Entry %(code)s was fixed and sent back to the organizers for review.", code=code)
    if outcome is editing.EditOutcome.unchanged:
        return _("Entry %(code)s was not changed.", code=code)
    return _("Entry %(code)s was saved.", code=code)


def _reason(entry: Entry) -> str:
    """Why the organizers rejected the entry, shown while its author fixes it."""
    if entry.status is not EntryStatus.rejected:
        return ""
    return next_steps.rejection_reasons(db.session, [entry.id]).get(entry.id, "")


def _own_entry(code: str) -> Entry:
    """The current user's entry, or 404 for everyone else (organizers included)."""
    entry = services.owned_entry(db.session, code, current_user)
    if entry is None:
        abort(404)
    return entry


def _entry_fields(entry: Entry) -> dict:
    return {
        "title": entry.title,
        "description": entry.description,
        "title_en": entry.title_en,
        "description_en": entry.description_en,
        "place": entry.place_id,
        "taken_on": entry.taken_on,
    }
