"""The real 2025 rules of Happy Nghe An as a template: the first edition of an install starts from
it (contest.contests.editions), and the demo edition is built from it (contest.contests.demo).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from contest.contests.models import Category, CategoryKind, Contest, Place, VoteCountDisplay, VotePolicy
from contest.results.awards import default_slots

MB = 1_000_000

# Nghe An's city, towns and districts (the district-level units the 2025 rules name).
NGHE_AN_PLACES: list[tuple[str, str, str]] = [
    ("vinh", "Thành phố Vinh", "Vinh City"),
    ("cua-lo", "Thị xã Cửa Lò", "Cua Lo Town"),
    ("thai-hoa", "Thị xã Thái Hòa", "Thai Hoa Town"),
    ("hoang-mai", "Thị xã Hoàng Mai", "Hoang Mai Town"),
    ("anh-son", "Huyện Anh Sơn", "Anh Son District"),
    ("con-cuong", "Huyện Con Cuông", "Con Cuong District"),
    ("dien-chau", "Huyện Diễn Châu", "Dien Chau District"),
    ("do-luong", "Huyện Đô Lương", "Do Luong District"),
    ("hung-nguyen", "Huyện Hưng Nguyên", "Hung Nguyen District"),
    ("ky-son", "Huyện Kỳ Sơn", "Ky Son District"),
    ("nam-dan", "Huyện Nam Đàn", "Nam Dan District"),
    ("nghi-loc", "Huyện Nghi Lộc", "Nghi Loc District"),
    ("nghia-dan", "Huyện Nghĩa Đàn", "Nghia Dan District"),
    ("que-phong", "Huyện Quế Phong", "Que Phong District"),
    ("quy-chau", "Huyện Quỳ Châu", "Quy Chau District"),
    ("quy-hop", "Huyện Quỳ Hợp", "Quy Hop District"),
    ("quynh-luu", "Huyện Quỳnh Lưu", "Quynh Luu District"),
    ("tan-ky", "Huyện Tân Kỳ", "Tan Ky District"),
    ("thanh-chuong", "Huyện Thanh Chương", "Thanh Chuong District"),
    ("tuong-duong", "Huyện Tương Dương", "Tuong Duong District"),
    ("yen-thanh", "Huyện Yên Thành", "Yen Thanh District"),
]

WORKS_FROM = date(2023, 1, 1)
WORKS_UNTIL = date(2025, 10, 1)

RULES_VI = """\
1. Cuộc thi dành cho mọi người từ 15 tuổi trở lên, người Việt Nam và người nước ngoài.
2. Tác phẩm phải được chụp hoặc quay tại tỉnh Nghệ An, trong khoảng từ 01/01/2023 đến 01/10/2025.
3. Ảnh đơn: tệp JPEG, cạnh dài tối thiểu 3.000 điểm ảnh, dung lượng tối thiểu 3 MB.
4. Bộ ảnh: từ 3 đến 10 ảnh, mỗi ảnh theo quy định của ảnh đơn.
5. Video: tệp MP4 (hoặc MOV quay từ điện thoại), dài tối đa 5 phút, dung lượng tối đa 200 MB.
6. Tác phẩm phải là của chính người gửi, chưa đoạt giải ở cuộc thi khác; người gửi đồng ý cho Ban Tổ chức sử dụng tác phẩm để quảng bá.
7. Mỗi thể loại có giải Nhất, Nhì, Ba; khoảng 100 tác phẩm vào vòng chung khảo.
8. Bình chọn: tài khoản đã đăng nhập và xác nhận e-mail được bình chọn mỗi tác phẩm một lần mỗi ngày; tác phẩm có nhiều lượt bình chọn nhất của mỗi thể loại nhận giải Khán giả, tác phẩm nhiều lượt nhất mỗi tháng nhận giải bình chọn tháng (mỗi tác phẩm chỉ nhận một lần). Lượt bình chọn từ tài khoản ảo bị hủy.
"""

RULES_EN = """\
1. The contest is open to everyone aged 15 or over, Vietnamese and foreign.
2. Works must be shot in Nghe An province between 1 January 2023 and 1 October 2025.
3. Single photo: a JPEG file, at least 3,000 pixels on the long side and at least 3 MB.
4. Photo series: 3 to 10 photos, each meeting the single-photo rules.
5. Video: an MP4 file (or a MOV from a phone) of at most 5 minutes and at most 200 MB.
6. Works must be the entrant's own and not awarded in another contest; entrants allow the organizers to use them for promotion.
7. Each category awards a 1st, 2nd and 3rd prize; about 100 works reach the final round.
8. Public vote: logged-in accounts with a confirmed e-mail address vote once a day per entry; the most voted entry of each category wins the audience prize, and the most voted entry of each month a monthly prize (an entry wins it once). Votes from fake accounts are voided.
"""


def template_categories() -> list[Category]:
    """Photo, Photo series and Video with the 2025 limits (new objects on each call)."""
    photo_rules = {
        "allowed_formats": ["jpeg"],
        "min_long_edge_px": 3000,
        "min_bytes": 3 * MB,
        "max_bytes": 60 * MB,
        "works_from": WORKS_FROM,
        "works_until": WORKS_UNTIL,
    }
    return [
        Category(
            slug="photo",
            kind=CategoryKind.photo,
            position=1,
            name_vi="Ảnh đơn",
            name_en="Photo",
            max_entries_per_person=10,
            **photo_rules,
        ),
        Category(
            slug="photo-series",
            kind=CategoryKind.photo_series,
            position=2,
            name_vi="Bộ ảnh",
            name_en="Photo series",
            min_items=3,
            max_items=10,
            max_entries_per_person=5,
            **photo_rules,
        ),
        Category(
            slug="video",
            kind=CategoryKind.video,
            position=3,
            name_vi="Video",
            name_en="Video",
            allowed_formats=["mp4", "mov"],
            max_bytes=200 * MB,
            max_duration_s=5 * 60,
            works_from=WORKS_FROM,
            works_until=WORKS_UNTIL,
            max_entries_per_person=5,
        ),
    ]


DESCRIPTION_VI = "Cuộc thi ảnh và video giới thiệu Nghệ An với bạn bè trong nước và quốc tế."
DESCRIPTION_EN = "A photo and video contest that shows Nghe An to people at home and abroad."


@dataclass(frozen=True)
class EditionDates:
    """The phases of an edition, as UTC instants."""

    submission_opens_at: datetime
    submission_closes_at: datetime
    voting_opens_at: datetime
    voting_closes_at: datetime
    results_at: datetime | None = None


@dataclass(frozen=True)
class EditionName:
    """What tells an edition apart: its slug (part of storage keys), code prefix and titles."""

    slug: str
    code_prefix: str
    title_vi: str
    title_en: str


def template_places() -> list[Place]:
    return [
        Place(code=code, name_vi=vi, name_en=en, position=i)
        for i, (code, vi, en) in enumerate(NGHE_AN_PLACES, start=1)
    ]


def build_from_template(session: Session, name: EditionName, dates: EditionDates) -> Contest:
    """A new edition with the 2025 rules, categories, places, vote policy and prize slots."""
    contest = Contest(
        slug=name.slug,
        code_prefix=name.code_prefix,
        title_vi=name.title_vi,
        title_en=name.title_en,
        description_vi=DESCRIPTION_VI,
        description_en=DESCRIPTION_EN,
        rules_vi=RULES_VI,
        rules_en=RULES_EN,
        min_entrant_age=15,
        # The national contest's public vote: one vote per entry and day, counts shown live,
        # an audience prize per category and a monthly vote prize.
        vote_policy=VotePolicy.once_per_entry_per_day,
        vote_counts=VoteCountDisplay.live,
        audience_prize_places=1,
        monthly_prize_winners=1,
        categories=template_categories(),
        places=template_places(),
        **asdict(dates),
    )
    session.add(contest)
    session.flush()
    session.add_all(default_slots(contest))  # the 2025 rules' prizes
    session.flush()
    return contest
