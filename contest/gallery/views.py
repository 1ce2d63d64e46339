"""Public pages: the gallery (/gallery), an entry's page (/e/<code>) and its share image."""

from __future__ import annotations

import time
from dataclasses import replace

from flask import (
    Blueprint,
    abort,
    current_app,
    get_template_attribute,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from contest.db import now_utc
from contest.entries import next_steps
from contest.entries.services import STATUS_LABELS
from contest.extensions import db
from contest.gallery import entry_page, listing, pictures, random_order, search, sets
from contest.gallery.cache import (
    CachedPage,
    GalleryCaches,
    cached_page,
    cached_response,
    caches,
    fragment,
    fragment_ttl_s,
    keep_page,
    page_key,
    page_response,
    store_and_respond,
    ttl_s,
    votes_slot,
)
from contest.gallery.cards import gallery_cards
from contest.gallery.filters import GalleryFilter, Sort, gallery_filter
from contest.gallery.forms import GalleryFilterForm
from contest.gallery.listing import GalleryPage
from contest.gallery.public_contest import GalleryContest, current_gallery_contest
from contest.gallery.share import entry_url, qr_svg, sharing
from contest.results.publication import public_awards
from contest.storage import get_storage
from contest.timeutil import vn_today
from contest.voting.views import vote_box

bp = Blueprint("gallery", __name__)

SEED_SESSION_KEY = "gallery_seed"
# How often a web process looks whether the contest's public version has moved on
# (contest.gallery.versions): a change shows on the public pages within this time.
VERSION_CHECK_S = 1.0
OG_IMAGE_MAX_AGE_S = 300
QR_MAX_AGE_S = 24 * 3600


@bp.record_once
def _install_cache(state) -> None:
    state.app.extensions.setdefault("gallery_cache", GalleryCaches.create(state.app.config["PAGE_CACHE_URL"]))


# --- the gallery ---------------------------------------------------------------------------
@bp.get("/gallery")
def index():
    """The gallery. A page is kept for anonymous visitors as long as its cards are (the contest's
    version changing makes a new one at once), but in "most voted" order, which the votes move:
    that one lives GALLERY_CACHE_S. The cards' vote counts are filled in as it is served."""
    contest = _gallery_contest()
    if contest is None:
        abort(404)
    visible = contest.vote_counts_visible()
    flt = _asked_filter(contest, visible)
    start = _random_start(contest, flt) if flt.sort is Sort.random else None
    key = page_key(visible, start, contest.version)
    page = cached_page(key)
    if page is None:
        rows = _page_rows(contest, flt, start or 0, visible)
        lives = ttl_s() if flt.sort is Sort.votes else fragment_ttl_s()
        page = keep_page(key, _render_gallery(contest, flt, rows, visible), lives)
    return page_response(key, _with_counts(key, page))


def _gallery_contest() -> GalleryContest | None:
    check_s = VERSION_CHECK_S if ttl_s() > 0 else 0
    return current_gallery_contest(caches().data, db.session, check_s=check_s, keep_s=fragment_ttl_s())


def _random_start(contest: GalleryContest, flt: GalleryFilter) -> int:
    """Where this visitor's random order starts: one of as many points as the set needs."""
    if search.looks_like_code(flt.q):
        buckets = 1  # it finds that entry (or next to nothing): one order for everyone
    else:
        size = sets.found_size(caches().data, ttl_s(), fragment_ttl_s(), db.session, contest, flt)
        buckets = random_order.order_buckets(size)
    return random_order.random_start(_visitor_seed(), vn_today(), buckets)


def _page_rows(contest: GalleryContest, flt: GalleryFilter, start: int, visible: bool) -> GalleryPage:
    whole = (
        None
        if search.looks_like_code(flt.q)
        else sets.whole_set(caches().data, ttl_s(), db.session, contest, flt)
    )
    return listing.gallery_page(
        caches().data, ttl_s(), db.session, contest, flt, whole, start=start, counts_visible=visible
    )


def _with_counts(key: tuple | None, page: CachedPage) -> CachedPage:
    """The page with each card's current count in its slot (there are slots only while counts
    are public), as served: made once per GALLERY_CACHE_S by this process from the counts of
    the page's cards (one query by primary key, kept as long) and kept as long."""
    if not page.slots[1]:
        return page
    served_key = ("with_counts", key, page.etag)  # the ETag: of the page it is made from
    served = caches().pages.get(served_key) if key is not None else None
    if served is None:
        ttl = max(0.0, min(ttl_s(), page.expires_at - time.monotonic()))
        served = CachedPage.made(page.filled(_counts_html), ttl)
        if key is not None:
            caches().pages.put(served_key, served, ttl, size=len(served.body))
    return served


def _counts_html(ids: tuple[int, ...]) -> list[bytes]:
    """The cards' counts ("12 votes") in the order of ``ids``, each number rendered once per
    language and kept."""
    found = listing.vote_counts(caches().counts, ttl_s(), db.session, ids)
    fragments, locale, html = caches().fragments, str(get_locale()), {None: b""}  # None: taken down
    for count in set(found.values()):
        key = ("card_votes", count, locale)
        html[count] = fragments.get(key) or _votes_html(key, count)
    return [html[found.get(entry_id)] for entry_id in ids]


def _votes_html(key: tuple, count: int) -> bytes:
    html = str(get_template_attribute("gallery/_card.html", "votes")(count)).encode()
    caches().fragments.put(key, html, fragment_ttl_s(), size=len(html))
    return html


def _render_gallery(
    contest: GalleryContest, flt: GalleryFilter, page: GalleryPage, counts_visible: bool
) -> str:
    """The page, with a slot for each card's vote count while counts are public."""
    filtered = bool(flt.q or flt.category_id or flt.place_id)
    return render_template(
        "gallery/index.html",
        contest=contest,
        filters=fragment(
            ("filters", str(get_locale()), contest.names, counts_visible, replace(flt, page=1)),
            lambda: _render_filters(contest, flt, counts_visible, filtered),
        ),
        page=page,
        cards=_card_fragments(contest, page, counts_visible, public_awards(db.session, contest.id)),
        filtered=filtered,
        previous_url=_page_url(flt.page - 1) if page.has_previous else None,
        next_url=_page_url(flt.page + 1) if page.has_next else None,
    )


def _asked_filter(contest: GalleryContest, counts_visible: bool) -> GalleryFilter:
    """The visitor's filters, checked (the first value of each; unknown ones are ignored).

    Read from the query string before anything else: they are part of the page cache's key.
    """
    args = request.args
    return gallery_filter(
        contest,
        category=args.get("category"),
        place=args.get("place"),
        q=args.get("q"),
        sort=args.get("sort"),
        page=args.get("page", type=int),
        counts_visible=counts_visible,
    )


def _render_filters(contest: GalleryContest, flt: GalleryFilter, counts_visible: bool, filtered: bool) -> str:
    """The filter form showing the filters as understood (a category given by id, an order
    that was ignored)."""
    category = next((c for c in contest.categories if c.id == flt.category_id), None)
    place = next((p for p in contest.places if p.id == flt.place_id), None)
    form = GalleryFilterForm(
        formdata=None,
        q=flt.q,
        category=category.slug if category else "",
        place=place.code if place else "",
        sort=flt.sort.value,
    ).offer(contest, counts_visible=counts_visible)
    return get_template_attribute("gallery/_filters.html", "filters")(form, filtered)


def _visitor_seed() -> int:
    """This visitor's draw for the random order: made once, kept in their session."""
    seed = session.get(SEED_SESSION_KEY)
    if not random_order.valid_seed(seed):
        seed = random_order.new_seed()
        session[SEED_SESSION_KEY] = seed
    return seed


def _card_fragments(
    contest: GalleryContest, page: GalleryPage, counts_visible: bool, prizes: dict
) -> list[Markup]:
    """The page's cards as HTML. A card is rendered once per language and kept: the pages of
    every order, filter and starting point it appears in share it. Its vote count is not part
    of it (votes come by the second): while counts are public, the card holds a slot naming
    its entry, filled in as the page is served (_with_counts). ``prizes``: the published ones
    (contest.results.publication.public_awards), part of the card and of its key."""
    fragments, locale, ttl = caches().fragments, str(get_locale()), fragment_ttl_s()
    ribbons = {row.id: tuple(prizes.get(row.id, ())) for row in page.rows}
    keys = [
        ("card", row.card_key(), locale, contest.names, counts_visible, ribbons[row.id]) for row in page.rows
    ]
    html = [fragments.get(key) for key in keys]
    missing = [i for i, found in enumerate(html) if found is None]
    if missing:
        cards = gallery_cards(db.session, contest, [page.rows[i] for i in missing])
        render = get_template_attribute("gallery/_card.html", "card")
        for i in missing:
            row = page.rows[i]
            votes = votes_slot(row.id) if counts_visible else Markup("")
            html[i] = Markup(render(cards[row.id], votes, ribbons[row.id]))
            fragments.put(keys[i], html[i], ttl, size=len(html[i]))
    if html:
        # The first image is not lazy: on a phone it is the page's largest paint.
        html[0] = html[0].replace(' loading="lazy"', "", 1)
    return html


def _page_url(page: int) -> str:
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    if page > 1:
        args["page"] = page
    return url_for("gallery.index", **args)


# --- one entry ---------------------------------------------------------------------------
@bp.get("/e/<code>")
def entry(code: str):
    """The entry's page and short link: /e/HNA25-0123 (any case redirects to this one)."""
    if code != code.upper():
        return redirect(url_for("gallery.entry", code=code.upper()), 301)
    # The page ignores its query string (?fbclid=... of a shared link): one page per entry. A
    # take-down or an edit of the current contest's entries moves its version on: a new copy.
    current = _gallery_contest()
    key = page_key(current.version if current is not None else None, with_query=False)
    cached = cached_response(key)
    if cached is not None:
        return cached
    found = entry_page.entry_by_code(db.session, code)
    if found is None:
        abort(404)
    public = entry_page.is_public(found)
    if not public and not entry_page.may_preview(current_user, found):
        abort(404)
    body = _render_entry(found, public)
    if public:
        return store_and_respond(key, body, max_ttl_s=_until_the_vote_box_changes(found.contest))
    response = make_response(body)
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _render_entry(entry, public: bool) -> str:
    shown = entry.media_is_public
    return render_template(
        "gallery/entry.html",
        entry=entry,
        kind=entry.category.kind.value,
        photos=[p for p in (pictures.picture(entry.assets, i, public=shown) for i in _positions(entry)) if p],
        poster=pictures.picture(entry.assets, 0, pictures.POSTER_LADDER, public=shown),
        videos=pictures.video_sources(entry.assets, public=shown),
        share=sharing(entry, _fallback_description(entry)),
        vote_box=vote_box(entry.contest, entry),
        prizes=public_awards(db.session, entry.contest_id).get(entry.id, []),
        preview_status=None if public else str(STATUS_LABELS[entry.status]),
        preview_note=None if public else _author_note(entry),
        language_next=request.path,
    )


def _author_note(entry):
    """What happens next to a non-public entry, for its author's preview (organizers: None)."""
    if current_user.id != entry.author_id:
        return None
    return next_steps.next_steps(db.session, [entry])[entry.id]


def _until_the_vote_box_changes(contest) -> float | None:
    """Seconds until voting opens or closes (the vote box and the count change then)."""
    now = now_utc()
    ahead = [
        (at - now).total_seconds() for at in (contest.voting_opens_at, contest.voting_closes_at) if at > now
    ]
    return min(ahead, default=None)


def _fallback_description(entry) -> str:
    """What a shared link says of an entry that has no description of its own."""
    return _(
        "By %(author)s, %(place)s. %(contest)s",
        author=entry.author.full_name,
        place=entry.place.name,
        contest=entry.contest.title,
    )


def _positions(entry) -> list[int]:
    return sorted({a.position for a in entry.assets if a.is_public})


@bp.get("/e/<code>/qr.svg")
def qr_code(code: str):
    """The QR code of the entry's short link, for its page's share panel: public entries only
    (a preview shares nothing, not even to its author)."""
    found = entry_page.entry_by_code(db.session, code)
    if found is None or not entry_page.is_public(found):
        abort(404)
    response = current_app.response_class(qr_svg(entry_url(found)), mimetype="image/svg+xml")
    # It depends on the entry's code and the site's address only: kept a day by anyone.
    response.headers["Cache-Control"] = f"public, max-age={QR_MAX_AGE_S}"
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/e/<code>/og.jpg")
def og_image(code: str):
    """A stable address for the share image: crawlers fetch it later than a signed URL lives."""
    found = entry_page.entry_by_code(db.session, code)
    if found is None or not entry_page.is_public(found):
        abort(404)
    asset = pictures.share_image(found.category.kind, found.assets)
    if asset is None:
        abort(404)
    response = redirect(pictures.absolute(get_storage().url(asset.storage_key)), 302)
    response.headers["Cache-Control"] = f"public, max-age={OG_IMAGE_MAX_AGE_S}"
    return response
