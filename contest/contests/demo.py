"""The 2025 edition of Happy Nghe An, as configuration: used by ``seed-demo`` and the tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.auth.models import Role
from contest.contests.models import Category, CategoryKind, Contest, Place, VoteCountDisplay, VotePolicy
from contest.db import now_utc
from contest.results.awards import default_slots

DEMO_SLUG = "happy-nghean-2025"
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


def _categories() -> list[Category]:
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


def build_demo_contest(session: Session, now: datetime | None = None) -> tuple[Contest, bool]:
    """Create the 2025 edition with its phases open around ``now``; (contest, created)."""
    existing = session.scalar(select(Contest).where(Contest.slug == DEMO_SLUG))
    if existing is not None:
        return existing, False
    now = now or now_utc()
    contest = Contest(
        slug=DEMO_SLUG,
        code_prefix="HNA25",
        title_vi="Nghệ An Hạnh phúc 2025",
        title_en="Happy Nghe An 2025",
        description_vi="Cuộc thi ảnh và video giới thiệu Nghệ An với bạn bè trong nước và quốc tế.",
        description_en="A photo and video contest that shows Nghe An to people at home and abroad.",
        rules_vi=RULES_VI,
        rules_en=RULES_EN,
        submission_opens_at=now - timedelta(days=30),
        submission_closes_at=now + timedelta(days=60),
        voting_opens_at=now - timedelta(days=7),
        voting_closes_at=now + timedelta(days=90),
        results_at=now + timedelta(days=100),
        min_entrant_age=15,
        # The national contest's public vote: one vote per entry and day, counts shown live,
        # an audience prize per category and a monthly vote prize.
        vote_policy=VotePolicy.once_per_entry_per_day,
        vote_counts=VoteCountDisplay.live,
        audience_prize_places=1,
        monthly_prize_winners=1,
        categories=_categories(),
        places=[
            Place(code=code, name_vi=vi, name_en=en, position=i)
            for i, (code, vi, en) in enumerate(NGHE_AN_PLACES, start=1)
        ],
    )
    session.add(contest)
    session.flush()
    session.add_all(default_slots(contest))  # the 2025 rules' prizes
    session.flush()
    return contest, True


@dataclass(frozen=True)
class DemoAccount:
    """A development account that ``seed-demo`` creates; never meant for production."""

    email: str
    password: str
    role: Role
    full_name: str
    birth_year: int | None = None


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("organizer@demo.happynghean.vn", "demo-organizer-2025", Role.organizer, "Ban Tổ chức (demo)"),
    DemoAccount("judge@demo.happynghean.vn", "demo-judge-2025", Role.judge, "Giám khảo (demo)"),
    DemoAccount(
        "entrant@demo.happynghean.vn", "demo-entrant-2025", Role.entrant, "Nguyễn Thị Hoa", birth_year=1995
    ),
    # The authors of the demo gallery's entries (DEMO_ENTRIES).
    DemoAccount(
        "minh@demo.happynghean.vn", "demo-minh-2025", Role.entrant, "Hoàng Văn Minh", birth_year=1986
    ),
    DemoAccount("mai@demo.happynghean.vn", "demo-mai-2025", Role.entrant, "Trần Thị Mai", birth_year=1999),
    DemoAccount("huy@demo.happynghean.vn", "demo-huy-2025", Role.entrant, "Lê Quang Huy", birth_year=1978),
    # A verified account with no entry, to vote in the demo gallery.
    DemoAccount(
        "voter@demo.happynghean.vn", "demo-voter-2025", Role.entrant, "Phan Thị Lan", birth_year=2001
    ),
)


# --- the demo gallery ------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoPicture:
    """A picture ``seed-demo`` draws (worker.demo_gallery): a kind of landscape in a light."""

    landscape: str  # beach, forest, village, tea_hills, city, river, terraces
    light: str  # dawn, day, dusk, night


@dataclass(frozen=True)
class DemoEntry:
    """An approved entry of the demo gallery; found again by its author and title (seed-demo runs twice)."""

    title: str
    description: str
    category: str  # a category slug of _categories()
    place: str  # a place code of NGHE_AN_PLACES
    author: str  # the e-mail of a DEMO_ACCOUNTS entrant
    taken_on: date
    pictures: tuple[DemoPicture, ...]  # one per photo; a video pans across its one picture


DEMO_ENTRIES: tuple[DemoEntry, ...] = (
    DemoEntry(
        "Bình minh trên biển Cửa Lò",
        "Sáng sớm, những chiếc thuyền thúng nằm chờ trên bãi cát khi mặt trời vừa nhô lên khỏi "
        "mặt biển Cửa Lò. Bãi biển dài, nước trong xanh và hàng phi lao rì rào chào ngày mới.",
        "photo",
        "cua-lo",
        "minh@demo.happynghean.vn",
        date(2024, 6, 14),
        (DemoPicture("beach", "dawn"),),
    ),
    DemoEntry(
        "Sương sớm trên rừng Pù Mát",
        "Vườn quốc gia Pù Mát ở Con Cuông giữ những cánh rừng nguyên sinh rộng nhất Bắc Trung Bộ. "
        "Buổi sớm, sương mù nằm giữa những dãy núi trùng điệp.",
        "photo",
        "con-cuong",
        "mai@demo.happynghean.vn",
        date(2023, 11, 2),
        (DemoPicture("forest", "dawn"),),
    ),
    DemoEntry(
        "Sen nở ở làng Kim Liên",
        "Tháng Sáu, đầm sen trước những mái nhà tranh ở làng Sen, xã Kim Liên, quê nội Chủ tịch "
        "Hồ Chí Minh, nở hồng một góc trời Nam Đàn.",
        "photo",
        "nam-dan",
        "huy@demo.happynghean.vn",
        date(2025, 6, 8),
        (DemoPicture("village", "day"),),
    ),
    DemoEntry(
        "Đồi chè Thanh Chương",
        "Những hàng chè xanh mướt chạy vòng quanh các quả đồi ở Thanh Chương; nắng sớm vừa lên "
        "thì người hái chè đã có mặt trên đồi.",
        "photo",
        "thanh-chuong",
        "huy@demo.happynghean.vn",
        date(2024, 4, 20),
        (DemoPicture("tea_hills", "day"),),
    ),
    DemoEntry(
        "Thành Vinh lên đèn",
        "Hoàng hôn vừa tắt, phố phường thành phố Vinh sáng rực ánh đèn bên những tòa nhà mới.",
        "photo",
        "vinh",
        "minh@demo.happynghean.vn",
        date(2024, 9, 2),
        (DemoPicture("city", "night"),),
    ),
    DemoEntry(
        "Một ngày ở làng chài Quỳnh Lưu",
        "Ba khoảnh khắc trên bãi biển Quỳnh Lưu: bình minh thuyền về, trưa nắng trên cát, "
        "và hoàng hôn khi làng chài chuẩn bị ra khơi.",
        "photo-series",
        "quynh-luu",
        "minh@demo.happynghean.vn",
        date(2024, 7, 21),
        (DemoPicture("beach", "dawn"), DemoPicture("beach", "day"), DemoPicture("beach", "dusk")),
    ),
    DemoEntry(
        "Mùa lúa chín trên ruộng bậc thang Kỳ Sơn",
        "Ruộng bậc thang của đồng bào Mông và Khơ Mú ở Kỳ Sơn vào mùa lúa chín, từ sáng sớm đến chiều muộn.",
        "photo-series",
        "ky-son",
        "mai@demo.happynghean.vn",
        date(2023, 9, 30),
        (DemoPicture("terraces", "dawn"), DemoPicture("terraces", "day"), DemoPicture("forest", "dusk")),
    ),
    DemoEntry(
        "Hoàng hôn trên biển Diễn Thành",
        "Vài giây sóng vỗ bờ khi mặt trời lặn trên bãi biển Diễn Thành, Diễn Châu.",
        "video",
        "dien-chau",
        "mai@demo.happynghean.vn",
        date(2025, 5, 17),
        (DemoPicture("beach", "dusk"),),
    ),
    DemoEntry(
        "Chiều trên dòng sông Lam",
        "Dòng sông Lam hiền hòa chảy qua Đô Lương giữa hai bờ bãi ngô xanh, dưới chân những dãy núi xa.",
        "video",
        "do-luong",
        "huy@demo.happynghean.vn",
        date(2024, 10, 12),
        (DemoPicture("river", "day"),),
    ),
)
