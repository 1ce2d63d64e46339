"""The judge's panel (/jury): who may see what, blindness, saving, recusal and ranking."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from contest.entries.models import AssetKind, MediaAsset
from contest.jury import panel_data
from contest.jury.models import Assignment, AssignmentState, RoundKind, Score
from contest.jury.rounds import close_round, open_round
from contest.jury.scores import Judgement, save_judgement
from contest.storage import new_key
from tests.jury_support import build_jury, new_round
from tests.support import create_user, log_in, make_entry
from worker.blind import strip_jpeg

JSON = {"Accept": "application/json"}
# An author nobody could mistake: what no judge may ever receive.
AUTHOR_NAME = "Quỳnh Xylophonewski"
AUTHOR_EMAIL = "xylophonewski.author@example.org"
AUTHOR_COUNTRY = ("LI", "Liechtenstein")
UPLOADED_AS = "Xylophonewski_sunset.JPG"
VOTES = 7391
OTHER_JUDGES_COMMENT = "Nhận xét riêng của giám khảo khác 55173"


def jpeg(width: int = 64, height: int = 48, exif: bytes = b"") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def signed_by_the_author() -> bytes:
    """EXIF as a camera set up by the author writes it: Artist, Copyright, XPAuthor (UTF-16LE)."""
    exif = Image.Exif()
    exif[0x013B], exif[0x8298] = AUTHOR_NAME, f"(c) {AUTHOR_NAME} <{AUTHOR_EMAIL}>"
    exif[0x9C9D] = (AUTHOR_NAME + "\0").encode("utf-16-le")
    return exif.tobytes()


def add_media(db, storage, entry, uploaded_as: str = UPLOADED_AS, position: int = 0) -> None:
    """An original (uploaded under a telling name, signed in its EXIF), its jury copy (worker.blind)
    and its display and thumbnail JPEGs, stored."""
    original = new_key(f"originals/{entry.contest.slug}", ".jpg")
    data = jpeg(320, 240, exif=signed_by_the_author())
    made = [(original, AssetKind.original, data)]
    made.append((new_key("jury", "/original.jpg"), AssetKind.jury_original, strip_jpeg(data)))
    for kind, size in ((AssetKind.display_jpeg, (160, 120)), (AssetKind.thumb_jpeg, (64, 48))):
        made.append((new_key("public/r", f"/{kind.value}.jpg"), kind, jpeg(*size)))
    for key, kind, data in made:
        storage.save(key, io.BytesIO(data), content_type="image/jpeg")
        width, height = Image.open(io.BytesIO(data)).size
        entry.assets.append(
            MediaAsset(
                kind=kind,
                position=position,
                storage_key=key,
                mime_type="image/jpeg",
                bytes=len(data),
                width=width,
                height=height,
                original_filename=uploaded_as if kind is AssetKind.original else None,
            )
        )
    db.flush()


@pytest.fixture
def panel(db, contest, storage):
    """Three judges, quorum 3, an open score round; two of its entries by a telling author with
    a telling vote count; the second judge has commented on every entry."""
    jury = build_jury(db, contest, judges=3, entries_each=1)
    author = create_user(db, AUTHOR_EMAIL, full_name=AUTHOR_NAME, country=AUTHOR_COUNTRY[0])
    for n in range(2):
        entry = make_entry(db, contest, author, title=f"Hoàng hôn Cửa Lò {n}")
        entry.vote_count = entry.rank_votes = VOTES
        add_media(db, storage, entry)
        jury.entries.append(entry)
    db.commit()
    round_ = new_round(db, jury, quorum=3)
    open_round(db, round_, actor_id=None)
    other = jury.judges[2]
    for assignment in mine(db, round_, other):
        save_judgement(db, assignment.id, other.id, Judgement(comment=OTHER_JUDGES_COMMENT))
    db.commit()
    return jury, round_


def mine(db, round_, judge) -> list[Assignment]:
    db.expire_all()
    query = select(Assignment).where(Assignment.round_id == round_.id, Assignment.judge_id == judge.id)
    return list(db.scalars(query.order_by(Assignment.id)))


def values(round_, **by_name) -> dict:
    """Form fields for criteria by English name: values(round_, Content=7.5, Technique=4)."""
    return {f"c{c.id}": str(by_name[c.name_en]) for c in round_.criteria if c.name_en in by_name}


# --- access ---------------------------------------------------------------------------------
ROUTES = [
    ("GET", "/jury/"),
    ("GET", "/jury/rounds/{round}/"),
    ("GET", "/jury/rounds/{round}/next"),
    ("GET", "/jury/rounds/{round}/entries/{assignment}"),
    ("POST", "/jury/rounds/{round}/entries/{assignment}"),
    ("POST", "/jury/rounds/{round}/entries/{assignment}/recuse"),
    ("POST", "/jury/rounds/{round}/ranking"),
]
# Expected status by role; "judge" is the assignment's judge, "outsider" a judge not on the jury.
EXPECTED = {
    "anonymous": [302] * 7,
    "entrant": [403] * 7,
    "organizer": [403] * 7,
    "outsider": [200, 403, 403, 403, 403, 403, 403],
    "judge": [200, 200, 302, 200, 302, 302, 302],
}


@pytest.mark.parametrize(("number", "route"), list(enumerate(ROUTES)))
@pytest.mark.parametrize("role", list(EXPECTED))
def test_access_matrix(db, client, panel, role, number, route):
    jury, round_ = panel
    judge = jury.judges[1]
    users = {
        "entrant": jury.entrants[0],
        "organizer": jury.organizer,
        "outsider": create_user(db, "ngoai.hoi.dong@example.com", role=jury.judges[0].role, birth_year=None),
        "judge": judge,
    }
    if role != "anonymous":
        log_in(client, users[role])
    method, path = route
    url = path.format(round=round_.id, assignment=mine(db, round_, judge)[0].id)
    data = {"reason": "Tôi quen tác giả"} if url.endswith("recuse") else {}
    response = client.open(url, method=method, data=data, headers={"Accept-Language": "en"})
    assert response.status_code == EXPECTED[role][number]
    if role == "anonymous":
        assert response.headers["Location"].startswith("/account/login")


@pytest.mark.parametrize(("method", "suffix"), [("GET", ""), ("POST", ""), ("POST", "/recuse")])
def test_another_judges_assignment_is_404(db, client, panel, method, suffix):
    jury, round_ = panel
    theirs = mine(db, round_, jury.judges[2])[0]
    log_in(client, jury.judges[1])
    response = client.open(
        f"/jury/rounds/{round_.id}/entries/{theirs.id}{suffix}",
        method=method,
        data={"reason": "x", **values(round_, Content=1)},
    )
    assert response.status_code == 404
    db.expire_all()
    assert mine(db, round_, jury.judges[2])[0].state is AssignmentState.assigned
    assert db.scalar(select(Score.id).where(Score.assignment_id == theirs.id)) is None


def test_an_assignment_of_another_round_is_404(db, client, panel):
    jury, round_ = panel
    second = new_round(db, jury, RoundKind.yes_no, name_en="Second", quorum=3)
    open_round(db, second, actor_id=None)
    db.commit()
    log_in(client, jury.judges[1])
    other_round_assignment = mine(db, second, jury.judges[1])[0]
    assert client.get(f"/jury/rounds/{round_.id}/entries/{other_round_assignment.id}").status_code == 404


# --- blindness ------------------------------------------------------------------------------
def judge_responses(client, db, round_, judge) -> list[tuple[str, str]]:
    """(what, text) of every judge route's answer, JSON included."""
    texts = []
    for url in ("/jury/", f"/jury/rounds/{round_.id}/", f"/jury/rounds/{round_.id}/?state=todo"):
        texts.append((url, client.get(url).text))
    texts.append(("next", client.get(f"/jury/rounds/{round_.id}/next", follow_redirects=True).text))
    for assignment in mine(db, round_, judge):
        url = f"/jury/rounds/{round_.id}/entries/{assignment.id}"
        page = client.get(url)
        texts.append((url, page.text))
        for link in re.findall(r'href="(/media/[^"]+)"', page.text):
            served = client.get(link.replace("&amp;", "&"))
            texts.append((link, " ".join(f"{k}: {v}" for k, v in served.headers.items())))
            texts.append((f"{link} (bytes)", readable(served.data)))
        saved = client.post(url, data={**values(round_, Content=5), "comment": "Ổn"}, headers=JSON)
        texts.append((url + " (saved)", saved.text))
    return texts


def readable(data: bytes) -> str:
    """A file's bytes as text a name can be found in: UTF-8, and UTF-16LE at either alignment."""
    return "\n".join(
        (
            data.decode("utf-8", "replace"),
            data.decode("utf-16-le", "replace"),
            data[1:].decode("utf-16-le", "replace"),
        )
    )


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_nothing_a_judge_receives_names_the_author_or_the_votes(db, client, panel, lang):
    jury, round_ = panel
    judge = jury.judges[1]
    log_in(client, judge, lang=lang)
    responses = judge_responses(client, db, round_, judge)
    assert len(responses) > 8 and any("Hoàng hôn Cửa Lò 0" in text for _, text in responses)
    telling = [AUTHOR_NAME, "Xylophonewski", AUTHOR_EMAIL, AUTHOR_COUNTRY[1], OTHER_JUDGES_COMMENT]
    for what, text in responses:
        for word in telling:
            assert word.lower() not in text.lower(), f"{word!r} in {what}"
        # The count as a number of its own (signatures are hex: "7391" may occur inside one).
        assert not re.search(r"\b7[.,\s]?391\b", text), f"the vote count in {what}"
        assert "/e/" not in text, f"a link to a public entry page in {what}"


def test_the_original_downloads_under_the_entry_code(db, client, panel):
    jury, round_ = panel
    judge = jury.judges[1]
    log_in(client, judge)
    entry = jury.entries[-1]
    assignment = next(a for a in mine(db, round_, judge) if a.entry_id == entry.id)
    page = client.get(f"/jury/rounds/{round_.id}/entries/{assignment.id}").text
    link = re.search(r'href="([^"]+)" download', page).group(1).replace("&amp;", "&")
    assert link.startswith("/media/jury/")  # the jury copy, never the file as uploaded
    served = client.get(link)
    assert served.status_code == 200 and served.data[:2] == b"\xff\xd8"
    assert served.headers["Content-Disposition"] == f"attachment; filename={entry.code}.jpg"
    assert client.get(link.split("?")[0]).status_code == 403  # signed, never public


# --- saving ---------------------------------------------------------------------------------
def test_a_save_answers_the_new_state_and_what_comes_next(db, client, panel):
    jury, round_ = panel
    judge = jury.judges[1]
    first, second = mine(db, round_, judge)[:2]
    log_in(client, judge)
    url = f"/jury/rounds/{round_.id}/entries/{first.id}"
    partial = client.post(url, data=values(round_, Content=7.5), headers=JSON).get_json()
    assert (partial["ok"], partial["done"], partial["state"]) == (True, False, "todo")
    assert partial["next_url"] == f"/jury/rounds/{round_.id}/entries/{second.id}"
    whole = client.post(url, data={**values(round_, Technique=4), "comment": "Đẹp"}, headers=JSON).get_json()
    assert (whole["done"], whole["state"]) == (True, "done")
    assert whole["values"][f"c{round_.criteria[0].id}"] == 7.5 and whole["values"]["comment"] == "Đẹp"
    db.expire_all()
    steps = db.scalars(
        select(Score.steps).where(Score.assignment_id == first.id).order_by(Score.criterion_id)
    )
    assert list(steps) == [15, 3]  # 7.5 by 0.5 from 0; 4 by 1 from 1
    nxt = client.get(f"/jury/rounds/{round_.id}/next")
    assert nxt.headers["Location"] == f"/jury/rounds/{round_.id}/entries/{second.id}"


def test_a_plain_form_post_goes_on_to_the_next_entry(db, client, panel):
    jury, round_ = panel
    judge = jury.judges[1]
    first, second = mine(db, round_, judge)[:2]
    log_in(client, judge)
    url = f"/jury/rounds/{round_.id}/entries/{first.id}"
    response = client.post(url, data=values(round_, Content=3, Technique=2))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/jury/rounds/{round_.id}/entries/{second.id}"


@pytest.mark.parametrize(
    ("lang", "typed", "status", "message"),
    [
        ("en", "7.3", 409, "A score is not on its criterion's scale."),
        ("en", "10.5", 409, "A score is not on its criterion's scale."),
        ("en", "bảy", 400, "A score must be a number."),
        ("en", "nan", 400, "A score must be a number."),
        ("en", "-inf", 400, "A score must be a number."),
        ("vi", "bảy", 400, "Điểm phải là một con số."),
    ],
)
def test_a_value_off_the_scale_is_refused_with_a_message(db, client, panel, lang, typed, status, message):
    jury, round_ = panel
    judge = jury.judges[1]
    assignment = mine(db, round_, judge)[0]
    log_in(client, judge, lang=lang)
    url = f"/jury/rounds/{round_.id}/entries/{assignment.id}"
    response = client.post(url, data={f"c{round_.criteria[0].id}": typed}, headers=JSON)
    assert response.status_code == status
    assert response.get_json()["ok"] is False and message in response.get_json()["message"]
    assert db.scalar(select(Score.id).where(Score.assignment_id == assignment.id)) is None


def test_a_closed_round_refuses_edits_and_shows_them_read_only(db, client, panel):
    jury, round_ = panel
    judge = jury.judges[1]
    assignment = mine(db, round_, judge)[0]
    save_judgement(db, assignment.id, judge.id, Judgement(values={round_.criteria[0].id: 6}))
    close_round(db, round_, actor_id=jury.organizer.id)
    db.commit()
    log_in(client, judge)
    url = f"/jury/rounds/{round_.id}/entries/{assignment.id}"
    refused = client.post(url, data=values(round_, Content=9), headers=JSON)
    assert refused.status_code == 409
    assert refused.get_json()["message"] == "This round is closed: its scores can no longer be changed."
    page = client.get(url)
    assert page.status_code == 200 and 'class="jury-fields" disabled' in page.text
    assert re.search(r'value="6(\.0)?"', page.text)
    db.expire_all()
    assert db.scalar(select(Score.steps).where(Score.assignment_id == assignment.id)) == 12


def test_a_yes_no_round(db, client, panel):
    jury, _ = panel
    judge = jury.judges[1]
    round_ = new_round(db, jury, RoundKind.yes_no, name_en="Keep or drop", quorum=3)
    open_round(db, round_, actor_id=None)
    db.commit()
    assignment = mine(db, round_, judge)[0]
    log_in(client, judge)
    url = f"/jury/rounds/{round_.id}/entries/{assignment.id}"
    assert 'data-verdict="yes"' in client.get(url).text
    saved = client.post(url, data={"verdict": "yes"}, headers=JSON).get_json()
    assert (saved["done"], saved["values"]["verdict"]) == (True, "yes")
    assert mine(db, round_, judge)[0].verdict is True


# --- recusal --------------------------------------------------------------------------------
def test_a_judge_stands_aside_with_a_reason(db, client, panel):
    jury, round_ = panel
    judge = jury.judges[1]
    assignment = mine(db, round_, judge)[0]
    log_in(client, judge)
    url = f"/jury/rounds/{round_.id}/entries/{assignment.id}/recuse"
    blank = client.post(url, data={"reason": "  "}, follow_redirects=True)
    assert "Please give the reason why you stand aside from this entry." in blank.text
    assert mine(db, round_, judge)[0].state is AssignmentState.assigned
    response = client.post(url, data={"reason": "Tác giả là người nhà tôi"})
    assert response.status_code == 302 and "/next" in response.headers["Location"]
    recused = mine(db, round_, judge)[0]
    assert (recused.state, recused.recusal_reason) == (AssignmentState.recused, "Tác giả là người nhà tôi")
    grid = client.get(f"/jury/rounds/{round_.id}/?state=recused").text
    assert grid.count('class="jury-card jury-card-recused"') == 1


def test_the_grid_filters_by_state(db, client, panel):
    jury, round_ = panel
    judge = jury.judges[1]
    first = mine(db, round_, judge)[0]
    crit = {c.id: c.scale_min for c in round_.criteria}
    save_judgement(db, first.id, judge.id, Judgement(values=crit))
    db.commit()
    log_in(client, judge)
    total = len(mine(db, round_, judge))
    base = f"/jury/rounds/{round_.id}/"
    assert client.get(base).text.count('class="jury-card ') == total
    assert client.get(base + "?state=done").text.count('class="jury-card ') == 1
    assert client.get(base + "?state=todo").text.count('class="jury-card ') == total - 1
    assert f"1 of {total} judged" in client.get("/jury/").text


# --- ranking --------------------------------------------------------------------------------
def test_a_ranking_is_saved_in_the_judges_order(db, client, panel):
    jury, _ = panel
    judge = jury.judges[1]
    round_ = new_round(db, jury, RoundKind.ranking, name_en="Final ranking", quorum=None)
    open_round(db, round_, actor_id=None)
    db.commit()
    ids = [a.id for a in mine(db, round_, judge)]
    log_in(client, judge)
    page = client.get(f"/jury/rounds/{round_.id}/").text
    assert page.count('class="jury-rank-item"') == len(ids)
    url = f"/jury/rounds/{round_.id}/ranking"
    refused = client.post(url, data={"order": ",".join(map(str, ids[1:]))}, headers=JSON)
    assert refused.status_code == 409 and "each entry of your shortlist once" in refused.get_json()["message"]
    wanted = list(reversed(ids))
    saved = client.post(url, data={"order": ",".join(map(str, wanted))}, headers=JSON)
    assert saved.status_code == 200 and saved.get_json()["ok"] is True
    ranks = {a.id: a.rank for a in mine(db, round_, judge)}
    assert [ranks[i] for i in wanted] == list(range(1, len(ids) + 1))


def test_the_next_entry_to_judge_beyond_the_nearby_ones_and_around(db, panel, monkeypatch):
    jury, round_ = panel
    judge = jury.judges[1]
    monkeypatch.setattr(panel_data, "NEARBY", 1)
    ids = [a.id for a in mine(db, round_, judge)]
    assert len(ids) >= 5

    def judge_all(chosen):
        for assignment_id in chosen:
            full = Judgement(values={c.id: c.scale_min for c in round_.criteria})
            save_judgement(db, assignment_id, judge.id, full)
        db.commit()

    judge_all(ids[1:3])
    assert panel_data.next_to_judge(db, round_, judge.id, after=ids[0]) == ids[3]
    judge_all(ids[3:])
    assert panel_data.next_to_judge(db, round_, judge.id, after=ids[-1]) == ids[0]
    judge_all(ids[:1])
    assert panel_data.next_to_judge(db, round_, judge.id, after=ids[0]) is None
