"""The 2025 edition of Happy Nghe An with demo accounts and entries: used by ``seed-demo`` and the tests.

Its rules are the template's (contest.contests.template), so the demo and a real first edition
share one definition of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.auth.models import Role
from contest.contests.models import Contest
from contest.contests.template import (  # noqa: F401 (re-exported for the worker, bench and tests)
    NGHE_AN_PLACES,
    EditionDates,
    EditionName,
    build_from_template,
)
from contest.contests.template import template_categories as _categories  # noqa: F401
from contest.db import now_utc

DEMO_SLUG = "happy-nghean-2025"
DEMO_NAME = EditionName(DEMO_SLUG, "HNA25", "Nghệ An Hạnh phúc 2025", "Happy Nghe An 2025")


def build_demo_contest(session: Session, now: datetime | None = None) -> tuple[Contest, bool]:
    """Create the 2025 edition with its phases open around ``now``; (contest, created)."""
    existing = session.scalar(select(Contest).where(Contest.slug == DEMO_SLUG))
    if existing is not None:
        return existing, False
    now = now or now_utc()
    dates = EditionDates(
        submission_opens_at=now - timedelta(days=30),
        submission_closes_at=now + timedelta(days=60),
        voting_opens_at=now - timedelta(days=7),
        voting_closes_at=now + timedelta(days=90),
        results_at=now + timedelta(days=100),
    )
    return build_from_template(session, DEMO_NAME, dates), True


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
