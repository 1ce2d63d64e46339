"""Prize slots and awards: proposals from the final round's tally, changes with a reason, the
database's own rules, freezing, and the organizer pages' access matrix."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from contest.audit.models import AuditEvent
from contest.auth.models import Role
from contest.results import awards, proposals, publication
from contest.results.awards import AwardRefused
from contest.results.prizes import Award, PrizeKind, PrizeSlot, PublicationState
from contest.results.publication import PublicationRefused
from tests.prize_support import scored_contest
from tests.support import create_user, log_in


@pytest.fixture
def prizes(db, contest):
    return scored_contest(db, contest)


def _actions(db, contest_id) -> list[str]:
    query = select(AuditEvent.action).where(AuditEvent.contest_id == contest_id).order_by(AuditEvent.id)
    return list(db.scalars(query))


def test_proposals_follow_the_final_rounds_tally(db, contest, prizes):
    proposed = proposals.contest_proposals(db, contest)
    ids = [e.id for e in prizes.ranked]
    assert {place: p.entry_id for place, p in proposed[prizes.first.id].items()} == {1: ids[0]}
    assert {place: p.entry_id for place, p in proposed[prizes.second.id].items()} == {1: ids[1], 2: ids[2]}
    assert [p.entry_id for p in proposed[prizes.third.id].values()] == ids[3:6]
    assert {p.round_id for by in proposed.values() for p in by.values()} == {prizes.round.id}


def test_accepting_the_proposals_fills_every_place_and_is_audited(db, contest, prizes):
    filled = awards.accept_proposals(db, contest, actor_id=prizes.jury.organizer.id)
    db.commit()
    assert filled == 6
    given = awards.winners(db, contest.id)
    assert [(w.slot.id, w.place, w.entry.id) for w in given][:3] == [
        (prizes.first.id, 1, prizes.ranked[0].id),
        (prizes.second.id, 1, prizes.ranked[1].id),
        (prizes.second.id, 2, prizes.ranked[2].id),
    ]
    assert all(w.award.reason is None and w.award.round_id == prizes.round.id for w in given)
    assert "awards.prefilled" in _actions(db, contest.id)
    # Run twice: nothing more to fill.
    assert awards.accept_proposals(db, contest, actor_id=prizes.jury.organizer.id) == 0


def test_another_winner_needs_a_reason(db, contest, prizes):
    actor = prizes.jury.organizer.id
    awards.accept_proposals(db, contest, actor_id=actor)
    outsider = prizes.ranked[8]
    with pytest.raises(AwardRefused, match="reason_needed"):
        awards.assign(db, contest, prizes.first, 1, outsider.code, "  ", actor_id=actor)
    award = awards.assign(db, contest, prizes.first, 1, outsider.code, "Ảnh bị sao chép", actor_id=actor)
    db.commit()
    assert (award.entry_id, award.proposed_entry_id, award.reason) == (
        outsider.id,
        prizes.ranked[0].id,
        "Ảnh bị sao chép",
    )
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "award.assigned")).one()
    assert event.reason == "Ảnh bị sao chép" and event.details["entry"] == outsider.code
    # The proposed entry back: no reason needed.
    awards.assign(db, contest, prizes.first, 1, prizes.ranked[0].code.lower(), "", actor_id=actor)
    assert award.reason is None


def test_the_database_refuses_a_departure_without_a_reason(db, contest, prizes):
    awards.accept_proposals(db, contest, actor_id=prizes.jury.organizer.id)
    db.commit()
    award = db.scalars(select(Award).where(Award.slot_id == prizes.first.id)).one()
    award.entry_id = prizes.ranked[9].id
    with pytest.raises(IntegrityError, match="departure_has_reason"):
        db.flush()
    db.rollback()


def test_one_entry_cannot_hold_two_jury_prizes_of_its_category(db, contest, prizes):
    actor = prizes.jury.organizer.id
    awards.accept_proposals(db, contest, actor_id=actor)
    db.commit()
    with pytest.raises(AwardRefused, match="already_has_jury_prize"):
        awards.assign(db, contest, prizes.third, 1, prizes.ranked[0].code, "Hai giải", actor_id=actor)
    db.rollback()
    third = db.scalars(select(Award).where(Award.slot_id == prizes.third.id, Award.place == 1)).one()
    third.entry_id, third.reason = prizes.ranked[0].id, "Hai giải"
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()


def test_entries_of_another_category_or_contest_are_refused(db, contest, prizes):
    with pytest.raises(AwardRefused, match="unknown_entry"):
        awards.assign(db, contest, prizes.first, 1, "XYZ-0001", "Lý do", actor_id=prizes.jury.organizer.id)
    with pytest.raises(AwardRefused, match="no_such_place"):
        awards.assign(
            db, contest, prizes.first, 2, prizes.ranked[0].code, "", actor_id=prizes.jury.organizer.id
        )


def test_frozen_awards_cannot_change_and_unfreezing_needs_a_reason(db, contest, prizes):
    actor = prizes.jury.organizer.id
    awards.accept_proposals(db, contest, actor_id=actor)
    publication.freeze(db, contest, actor_id=actor)
    db.commit()
    with pytest.raises(AwardRefused, match="frozen"):
        awards.assign(db, contest, prizes.first, 1, prizes.ranked[7].code, "Lý do", actor_id=actor)
    with pytest.raises(PublicationRefused, match="reason_needed"):
        publication.unfreeze(db, contest, " ", actor_id=actor)
    publication.unfreeze(db, contest, "Sửa giải Ba", actor_id=actor)
    db.commit()
    assert publication.current_publication(db, contest.id).state is PublicationState.draft
    assert _actions(db, contest.id)[-2:] == ["results.frozen", "results.unfrozen"]


def test_published_results_cannot_be_unfrozen(db, contest, prizes):
    actor = prizes.jury.organizer.id
    publication.freeze(db, contest, actor_id=actor)
    publication.publish_now(db, contest, actor_id=actor)
    db.commit()
    with pytest.raises(PublicationRefused):
        publication.unfreeze(db, contest, "Quá muộn", actor_id=actor)


def test_slots_refuse_a_count_below_the_places_given(db, contest, prizes):
    actor = prizes.jury.organizer.id
    awards.accept_proposals(db, contest, actor_id=actor)
    spec = awards.SlotSpec(PrizeKind.jury, prizes.third.category_id, "Giải Ba", "Third prize", 2, 3)
    with pytest.raises(AwardRefused, match="count_below_given"):
        awards.save_slot(db, contest, spec, actor_id=actor, slot=prizes.third)
    with pytest.raises(AwardRefused, match="jury_needs_category"):
        awards.save_slot(db, contest, awards.SlotSpec(PrizeKind.jury, None, "A", "B", 1, 0), actor_id=actor)


def test_the_demo_contest_has_the_2025_prizes(db, contest):
    slots = db.scalars(select(PrizeSlot).where(PrizeSlot.contest_id == contest.id)).all()
    assert {s.name_en for s in slots} == {
        "First prize",
        "Second prize",
        "Third prize",
        "Audience prize",
        "Monthly vote prize",
    }
    assert sum(s.kind is PrizeKind.jury for s in slots) == 3 * len(contest.categories)


# --- the organizer pages ----------------------------------------------------------------------
ROLES = ("anonymous", "entrant", "judge", "organizer")


def _as(client, db, role):
    if role != "anonymous":
        user = create_user(
            db, f"{role}-h4@example.com", role=Role(role), birth_year=None if role != "entrant" else 1990
        )
        db.commit()
        log_in(client, user)


def _routes(contest_id, slot_id):
    base = f"/admin/results/contests/{contest_id}"
    return [
        ("GET", "/admin/results/prizes"),
        ("GET", "/admin/results/awards"),
        ("GET", f"{base}/prizes"),
        ("POST", f"{base}/prizes"),
        ("GET", f"{base}/prizes/{slot_id}"),
        ("POST", f"{base}/prizes/{slot_id}"),
        ("GET", f"{base}/awards"),
        ("POST", f"{base}/awards/accept"),
        ("POST", f"{base}/awards/{slot_id}/1"),
        ("POST", f"{base}/freeze"),
        ("POST", f"{base}/unfreeze"),
        ("POST", f"{base}/schedule"),
        ("POST", f"{base}/publish"),
        ("POST", f"{base}/prizes/{slot_id}/delete"),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix_of_the_prize_pages(app, client, db, contest, role):
    slot = db.scalars(select(PrizeSlot).where(PrizeSlot.contest_id == contest.id)).first()
    _as(client, db, role)
    for method, path in _routes(contest.id, slot.id):
        response = client.open(path, method=method, data={})
        expected = {"anonymous": {302}, "entrant": {403}, "judge": {403}}.get(role, {200, 302, 400})
        assert response.status_code in expected, (method, path, response.status_code)
        if role == "anonymous":
            assert response.headers["Location"].startswith("/account/login")
        if role == "organizer" and method == "GET" and "/contests/" in path:
            assert response.status_code == 200


# --- audience and monthly prizes ----------------------------------------------------------------
def test_audience_and_monthly_slots_propose_the_most_voted_entries(db, voting):
    from contest.results.models import AudienceMode
    from contest.results.settings import save_audience_share
    from tests.support import vn
    from tests.test_voting import approved_entry, vote

    less, most = approved_entry(db, voting), approved_entry(db, voting)
    voters = [create_user(db, f"binh.chon{i}@example.com") for i in range(3)]
    vote(db, voting, less, voters[0], vn(2025, 6, 10, 9))
    for i, voter in enumerate(voters[1:]):
        vote(db, voting, most, voter, vn(2025, 6, 11, 9, i))
    slots = {s.kind: s for s in db.scalars(select(PrizeSlot).where(PrizeSlot.contest_id == voting.id))}
    audience = next(
        s
        for s in db.scalars(select(PrizeSlot).where(PrizeSlot.kind == PrizeKind.audience))
        if s.category_id == most.category_id
    )
    proposed = proposals.contest_proposals(db, voting)
    assert proposed[audience.id][1] == proposals.Proposal(most.id, None)
    assert proposed[slots[PrizeKind.monthly].id] == {1: proposals.Proposal(most.id, None)}  # June's
    # With the votes a share of the final figure, there is no separate audience proposal.
    organizer = create_user(db, "btc.share@example.com", role=Role.organizer, birth_year=None)
    save_audience_share(db, voting.id, AudienceMode.share, 0.2, actor_id=organizer.id)
    assert proposals.contest_proposals(db, voting)[audience.id] == {}


def test_an_organizer_adds_a_bilingual_prize_and_bad_input_is_explained(client, db, contest, organizer):
    log_in(client, organizer)
    url = f"/admin/results/contests/{contest.id}/prizes"
    form = {"kind": "jury", "category": str(contest.categories[0].id), "name_vi": "Giải Khuyến khích"}
    form |= {"name_en": "Consolation prize", "count": "10", "position": "4"}
    assert client.post(url, data=form).status_code == 302
    slot = db.scalars(select(PrizeSlot).where(PrizeSlot.name_en == "Consolation prize")).one()
    assert (slot.name_vi, slot.count, slot.kind) == ("Giải Khuyến khích", 10, PrizeKind.jury)
    assert "prize_slot.saved" in _actions(db, contest.id)
    page = client.get(url, headers={"Accept-Language": "en"}).text
    assert "Consolation prize" in page and "Giải Khuyến khích" in page
    bad = client.post(url, data=form | {"count": "0"})
    assert bad.status_code == 200 and "Number must be between 1 and 100" in bad.text
    contest_wide_jury = client.post(url, data=form | {"category": ""}, headers={"Accept-Language": "en"})
    assert (
        contest_wide_jury.status_code == 400
        and "A jury prize belongs to a category." in contest_wide_jury.text
    )
