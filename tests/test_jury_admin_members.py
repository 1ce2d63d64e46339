"""A contest's jury for organizers: judges added, invited by e-mail (end to end) and removed
with a confirmation, conflicts declared and withdrawn; each rebalances and is audited."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from contest.audit.models import AuditEvent
from contest.auth.models import Role, User
from contest.jury.models import AssignmentState, Conflict, JuryMember, RoundKind
from contest.jury.rounds import open_round
from contest.jury.scores import Judgement, save_judgement
from contest.mail.models import OutboundEmail
from tests.jury_support import assignments, build_jury, holders, new_round
from tests.support import create_user, log_in, login

EN = {"Accept-Language": "en"}
NEW_PASSWORD = "giám khảo mới 2025"


def _events(db, action: str) -> list[AuditEvent]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _member(db, contest_id: int, judge_id: int) -> JuryMember | None:
    db.expire_all()
    query = select(JuryMember).where(JuryMember.contest_id == contest_id, JuryMember.judge_id == judge_id)
    return db.scalar(query)


def test_an_organizer_adds_an_existing_judge_account(client, db, contest, organizer, judge):
    log_in(client, organizer)
    url = f"/admin/jury/contests/{contest.id}/judges"
    page = client.get(url, headers=EN).text
    assert f'<option value="{judge.id}">' in page and "judge@example.com" in page
    refused = client.post(f"{url}/add", data={"judge": str(organizer.id)}, headers=EN)
    assert refused.status_code == 400 and "Only a judge account can join the jury." in refused.text

    added = client.post(f"{url}/add", data={"judge": str(judge.id)}, headers=EN, follow_redirects=True)
    assert f"{judge.full_name} is on the jury." in added.text
    assert f'<tr id="judge-{judge.id}">' in added.text
    assert _member(db, contest.id, judge.id).is_active
    assert [e.details["judge_id"] for e in _events(db, "jury.judge_added")] == [judge.id]


def test_removing_a_judge_mid_round_asks_first_and_keeps_their_judgements(client, db, contest, organizer):
    jury = build_jury(db, contest, judges=4, entries_each=3)
    round_ = new_round(db, jury, RoundKind.yes_no, quorum=2)
    open_round(db, round_, actor_id=jury.organizer.id, seed=11)
    db.commit()
    leaving = jury.judges[1]
    mine = [a for a in assignments(db, round_) if a.judge_id == leaving.id]
    save_judgement(db, mine[0].id, leaving.id, Judgement(verdict=True))
    db.commit()
    log_in(client, organizer)

    url = f"/admin/jury/contests/{contest.id}/judges/{leaving.id}/remove"
    confirm = client.get(url, headers=EN)
    assert confirm.status_code == 200 and f"They hold {len(mine)} entries in open rounds." in confirm.text
    assert _member(db, contest.id, leaving.id).is_active  # asking removes nothing

    done = client.post(url, headers=EN, follow_redirects=True)
    assert f"{leaving.full_name} is no longer on the jury." in done.text
    assert not _member(db, contest.id, leaving.id).is_active
    kept = [a for a in assignments(db, round_) if a.judge_id == leaving.id]
    assert [(a.id, a.verdict) for a in kept] == [(mine[0].id, True)]  # the judgement given stays
    assert all(len(judges) == 2 for judges in holders(db, round_).values())
    assert _events(db, "jury.judge_removed") and _events(db, "round.rebalanced")
    assert client.get(url, headers=EN).status_code == 404  # not on the jury any more


def _link(email: OutboundEmail) -> str:
    match = re.search(r"https?://\S+/account/welcome/\S+", email.body_text)
    assert match, email.body_text
    return urlsplit(match.group(0)).path


def test_an_invited_judge_sets_a_password_logs_in_and_is_on_the_jury(client, db, contest, organizer):
    log_in(client, organizer)
    url = f"/admin/jury/contests/{contest.id}/judges/invite"
    data = {"email": " Tran.Thi.Mai@Example.com ", "full_name": "Trần Thị Mai", "locale": "en"}
    page = client.post(url, data=data, headers=EN, follow_redirects=True)
    assert "An invitation was sent to tran.thi.mai@example.com; the judge is on the jury." in page.text
    db.expire_all()
    judge = db.scalar(select(User).where(User.email == "tran.thi.mai@example.com"))
    assert (judge.role, judge.is_verified, judge.locale) == (Role.judge, False, "en")
    assert _member(db, contest.id, judge.id).is_active
    assert [e.subject_id for e in _events(db, "jury.judge_invited")] == [judge.id]

    (email,) = db.scalars(select(OutboundEmail).where(OutboundEmail.recipient == judge.email)).all()
    assert email.subject == "You are invited to the jury of Happy Nghe An"
    assert "Trần Thị Mai" not in email.body_text  # no text an organizer typed
    path = _link(email)
    client.post("/account/logout")
    form = client.get(path, headers=EN)
    assert form.status_code == 200 and "Welcome to the jury: choose your password" in form.text
    assert client.get(f"/account/reset/{path.rsplit('/', 1)[1]}", headers=EN).status_code == 400
    done = client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}, headers=EN)
    assert done.status_code == 302 and done.headers["Location"] == "/account/login"
    db.expire_all()
    assert db.get(User, judge.id).is_verified
    assert client.get(path, headers=EN).status_code == 400  # the link works once

    logged_in = login(client, "tran.thi.mai@example.com", NEW_PASSWORD, headers=EN)
    assert logged_in.status_code == 302
    assert client.get(f"/admin/jury/contests/{contest.id}/judges", headers=EN).status_code == 403
    log_in(client, organizer)
    listed = client.get(f"/admin/jury/contests/{contest.id}/judges", headers=EN).text
    assert f'<tr id="judge-{judge.id}">' in listed and "Trần Thị Mai" in listed


def test_an_invitation_to_another_kind_of_account_is_refused(client, db, contest, organizer, entrant):
    log_in(client, organizer)
    url = f"/admin/jury/contests/{contest.id}/judges/invite"
    data = {"email": entrant.email, "full_name": "Ai đó", "locale": "vi"}
    refused = client.post(url, data=data, headers=EN)
    assert refused.status_code == 400
    assert "This e-mail address belongs to an account that is not a judge's." in refused.text
    bad = client.post(url, data={**data, "email": "not an address"}, headers=EN)
    assert bad.status_code == 400 and "Please enter a valid e-mail address" in bad.text
    db.expire_all()
    assert db.scalar(select(JuryMember)) is None and db.scalar(select(OutboundEmail)) is None


def test_inviting_an_existing_confirmed_judge_just_adds_them(client, db, contest, organizer, judge):
    log_in(client, organizer)
    data = {"email": judge.email, "full_name": "Ignored", "locale": "en"}
    page = client.post(f"/admin/jury/contests/{contest.id}/judges/invite", data=data, follow_redirects=True)
    assert "already had a judge account and is on the jury." in page.text
    assert _member(db, contest.id, judge.id).is_active
    assert db.scalar(select(OutboundEmail)) is None and not _events(db, "jury.judge_invited")


def test_conflicts_are_declared_and_withdrawn(client, db, contest, organizer):
    jury = build_jury(db, contest, judges=3, entries_each=2)
    round_ = new_round(db, jury, RoundKind.yes_no, quorum=3)
    open_round(db, round_, actor_id=jury.organizer.id, seed=2)
    db.commit()
    judge, entrant = jury.judges[1], jury.entrants[0]
    log_in(client, organizer)
    url = f"/admin/jury/contests/{contest.id}/conflicts"
    data = {"judge": str(judge.id), "entrant_email": entrant.email, "reason": "Anh em ruột"}

    for changes, message in [
        ({"reason": ""}, "Please give the reason."),
        ({"entrant_email": "nobody@example.com"}, "No account uses this e-mail address."),
        ({"judge": str(organizer.id)}, "Choose a judge of the jury."),
    ]:
        refused = client.post(url, data={**data, **changes}, headers=EN)
        assert refused.status_code == 400 and message in refused.text
    assert db.scalar(select(Conflict)) is None

    page = client.post(url, data=data, headers=EN, follow_redirects=True)
    assert "The conflict of interest is recorded." in page.text and "Anh em ruột" in page.text
    db.expire_all()
    conflict = db.scalar(select(Conflict))
    assert (conflict.judge_id, conflict.entrant_id, conflict.declared_by_id) == (
        judge.id,
        entrant.id,
        organizer.id,
    )
    theirs = {e.id for e in jury.entries if e.author_id == entrant.id}
    held = [a for a in assignments(db, round_) if a.judge_id == judge.id and a.entry_id in theirs]
    assert held and all(a.state is AssignmentState.recused for a in held)
    assert _events(db, "jury.conflict_declared")

    page = client.post(f"{url}/{conflict.id}/withdraw", headers=EN, follow_redirects=True)
    assert "The conflict of interest is withdrawn." in page.text
    db.expire_all()
    assert db.scalar(select(Conflict)) is None
    (event,) = _events(db, "jury.conflict_withdrawn")
    assert (event.reason, event.details["judge_id"]) == ("Anh em ruột", judge.id)


def test_a_judge_added_mid_round_is_dealt_a_share_that_the_page_shows(client, db, contest, organizer):
    jury = build_jury(db, contest, judges=2, entries_each=2)
    round_ = new_round(db, jury, RoundKind.yes_no, quorum=1)
    open_round(db, round_, actor_id=jury.organizer.id, seed=4)
    db.commit()
    newcomer = create_user(
        db, "moi.vao@example.com", role=Role.judge, birth_year=None, full_name="Lê Văn Mới"
    )
    log_in(client, organizer)
    client.post(f"/admin/jury/contests/{contest.id}/judges/add", data={"judge": str(newcomer.id)})
    loads = {j: len(js) for j, js in _loads(db, round_).items()}
    page = client.get(f"/admin/jury/contests/{contest.id}/judges", headers=EN).text
    row = re.search(rf'<tr id="judge-{newcomer.id}">(.*?)</tr>', page, re.S).group(1)
    assert f'<td class="num">{loads[newcomer.id]}</td>' in row and loads[newcomer.id] > 0


def _loads(db, round_) -> dict[int, list[int]]:
    by_judge: dict[int, list[int]] = {}
    for a in assignments(db, round_):
        if a.state is AssignmentState.assigned:
            by_judge.setdefault(a.judge_id, []).append(a.entry_id)
    return by_judge
