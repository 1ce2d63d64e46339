"""Pictures for the demo gallery (worker.demo_gallery): landscapes of Nghệ An drawn with Pillow.

Pure image work. Each landscape (a beach, a forest, a village, tea hills, a city, a river,
rice terraces) is drawn in a light (dawn, day, dusk, night) from a fixed random seed, so the
same entry gets the same picture on every run; a caption band names the place. The demo
entries' pictures lie more than contest.entries.flags.NEAR_DUPLICATE_BITS apart, so they
raise no duplicate flag for the organizers.
"""

from __future__ import annotations

import functools
import math
import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from contest.contests.demo import NGHE_AN_PLACES, DemoEntry, DemoPicture

SIZE = (2400, 1600)
# Landscapes are drawn at half size and scaled up: smooth edges for free.
CANVAS = (SIZE[0] // 2, SIZE[1] // 2)
RGB = tuple[int, int, int]
FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
)
_PLACE_NAMES = {code: vi for code, vi, _en in NGHE_AN_PLACES}


@dataclass(frozen=True)
class Light:
    sky_top: RGB
    sky_horizon: RGB
    sun: RGB
    sun_height: float  # above the horizon, as a fraction of the sky's height
    shade: float  # how much the land darkens: 0 in daylight


LIGHTS = {
    "dawn": Light((58, 80, 150), (252, 186, 132), (255, 228, 170), 0.18, 0.25),
    "day": Light((62, 128, 212), (190, 224, 246), (255, 252, 228), 0.78, 0.0),
    "dusk": Light((72, 46, 112), (250, 128, 76), (255, 176, 96), 0.1, 0.38),
    "night": Light((8, 12, 38), (52, 56, 104), (236, 236, 214), 0.62, 0.72),
}


def draw_picture(picture: DemoPicture, *, seed: int, size: tuple[int, int] = SIZE) -> Image.Image:
    """The landscape (RGB, without a caption) at ``size``, in the proportions of SIZE."""
    canvas = Canvas(LIGHTS[picture.light], random.Random(seed))
    LANDSCAPES[picture.landscape](canvas)
    return canvas.image.resize(size, Image.Resampling.LANCZOS)


class Canvas:
    """A half-size picture being drawn, its light and a random source of its own."""

    def __init__(self, light: Light, rng: random.Random) -> None:
        self.light, self.rng = light, rng
        self.width, self.height = CANVAS
        self.image = Image.new("RGB", CANVAS, light.sky_horizon)  # haze below a low ridge
        self.draw = ImageDraw.Draw(self.image, "RGBA")

    def land(self, color: RGB) -> RGB:
        """``color`` in this light: darker and tinted by the sky at dawn, dusk and night."""
        tinted = mix(color, self.light.sky_horizon, self.light.shade * 0.35)
        return mix(tinted, (14, 16, 36), self.light.shade)

    def sky(self, horizon: float) -> None:
        """Sky down to ``horizon`` (pixels), with the sun (or the moon) and its glow."""
        box = (self.width, max(1, round(horizon)))
        self.image.paste(gradient(box, self.light.sky_top, self.light.sky_horizon), (0, 0))
        self.sun_x = self.rng.uniform(0.15, 0.85) * self.width
        self.sun_y = horizon - self.light.sun_height * horizon - self.height * 0.02
        radius = self.height * (0.035 if self.light is LIGHTS["night"] else 0.05)
        self.glow(self.sun_x, self.sun_y, radius * 6, self.light.sun, 0.55)
        self.draw.ellipse(
            (self.sun_x - radius, self.sun_y - radius, self.sun_x + radius, self.sun_y + radius),
            fill=self.light.sun,
        )

    def glow(self, x: float, y: float, radius: float, color: RGB, strength: float) -> None:
        """A soft light around (x, y), blurred on a small mask (a full-size blur is slow)."""
        scale = 8
        mask = Image.new("L", (self.width // scale, self.height // scale))
        small = radius / scale
        ImageDraw.Draw(mask).ellipse(
            (x / scale - small, y / scale - small, x / scale + small, y / scale + small),
            fill=round(255 * strength),
        )
        mask = mask.filter(ImageFilter.GaussianBlur(small / 2)).resize(CANVAS, Image.Resampling.BILINEAR)
        self.image.paste(Image.new("RGB", CANVAS, color), (0, 0), mask)

    def ridge(self, base: float, amplitude: float, *, roughness: float = 0.55, steps: int = 7) -> list[tuple]:
        """A mountain ridge across the picture (midpoint displacement), as polygon points."""
        heights = [base + self.rng.uniform(-amplitude, amplitude) / 2 for _ in range(2)]
        spread = amplitude
        for _ in range(steps):
            refined = []
            for left, right in pairwise(heights):
                refined += [left, (left + right) / 2 + self.rng.uniform(-spread, spread) / 2]
            heights = [*refined, heights[-1]]
            spread *= roughness
        last = len(heights) - 1
        return [(self.width * i / last, y) for i, y in enumerate(heights)]

    def wave(self, base: float, amplitude: float, waves: float) -> list[tuple]:
        """A smooth line across the picture (rolling hills, a shore)."""
        phase = self.rng.uniform(0, math.tau)
        step = self.width / 60
        return [(i * step, base + amplitude * math.sin(phase + waves * math.tau * i / 60)) for i in range(61)]

    def fill_below(self, line: list[tuple], color: RGB) -> None:
        self.draw.polygon([*line, (self.width, self.height), (0, self.height)], fill=color)

    def tree(self, x: float, ground: float, height: float, color: RGB) -> None:
        """A round-crowned tree: a trunk and three overlapping leaves."""
        trunk = height * 0.07
        self.draw.rectangle(
            (x - trunk, ground - height * 0.45, x + trunk, ground), fill=self.land((70, 50, 34))
        )
        for dx, dy, r in ((0, 0.72, 0.28), (-0.16, 0.56, 0.22), (0.17, 0.58, 0.21)):
            cx, cy, radius = x + dx * height, ground - dy * height, r * height
            self.draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=color)

    def pine(self, x: float, ground: float, height: float, color: RGB, *, slim: float = 0.22) -> None:
        """A pointed tree (casuarina, forest conifer)."""
        half = height * slim
        self.draw.polygon([(x, ground - height), (x + half, ground), (x - half, ground)], fill=color)


def _beach(c: Canvas) -> None:
    horizon = c.height * c.rng.uniform(0.4, 0.5)
    c.sky(horizon)
    shore = c.wave(c.height * c.rng.uniform(0.68, 0.76), c.height * 0.015, c.rng.uniform(1.5, 3))
    sea = gradient((c.width, c.height - round(horizon)), c.land((40, 96, 150)), c.land((70, 160, 176)))
    c.image.paste(sea, (0, round(horizon)))
    for i in range(26):  # the sun's path on the water
        y = horizon + (i + 1) * (shore[0][1] - horizon) / 28
        half = c.width * 0.012 * (1 + i / 6) * c.rng.uniform(0.5, 1.2)
        c.draw.ellipse((c.sun_x - half, y - 2, c.sun_x + half, y + 2), fill=(*c.light.sun, 150))
    c.fill_below([(x, y - 5) for x, y in shore], (240, 244, 240))  # foam
    c.fill_below(shore, c.land((232, 210, 162)))
    side = c.rng.choice((-1, 1))  # casuarinas along one end of the beach
    for i in range(9):
        x = (c.width * 0.06 * i) if side < 0 else c.width * (1 - 0.06 * i)
        height = c.height * c.rng.uniform(0.16, 0.26)
        c.pine(x, shore[0][1] + c.height * 0.02, height, c.land((38, 82, 52)), slim=0.12)
    for _ in range(c.rng.randint(2, 4)):  # fishing boats out at sea
        x, y = c.rng.uniform(0.1, 0.9) * c.width, horizon + c.rng.uniform(0.05, 0.4) * (shore[0][1] - horizon)
        size = c.width * 0.02 * (1 + (y - horizon) / c.height * 4)
        c.draw.polygon(
            [
                (x - size, y),
                (x + size, y),
                (x + size * 0.7, y + size * 0.3),
                (x - size * 0.7, y + size * 0.3),
            ],
            fill=c.land((58, 40, 30)),
        )
        c.draw.line([(x, y), (x, y - size * 1.2)], fill=c.land((58, 40, 30)), width=2)
    for _ in range(c.rng.randint(3, 5)):  # basket boats (thuyền thúng) on the sand
        x, y = c.rng.uniform(0.2, 0.9) * c.width, c.rng.uniform(0.8, 0.95) * c.height
        rx = c.width * c.rng.uniform(0.03, 0.045)
        c.draw.ellipse((x - rx, y - rx * 0.35, x + rx, y + rx * 0.35), fill=c.land((88, 62, 40)))
        c.draw.ellipse((x - rx * 0.8, y - rx * 0.3, x + rx * 0.8, y + rx * 0.15), fill=c.land((120, 90, 58)))


def _forest(c: Canvas) -> None:
    c.sky(c.height * 0.55)
    far, near = c.land((120, 150, 150)), c.land((24, 70, 38))
    layers = 5
    for layer in range(layers):
        t = layer / (layers - 1)
        line = c.ridge(c.height * (0.32 + 0.14 * layer), c.height * (0.3 - 0.03 * layer))
        c.fill_below(line, mix(mix(far, c.light.sky_horizon, 0.3), near, t))
        if layer in (1, 3):  # mist in the valleys
            c.glow(
                c.rng.uniform(0.2, 0.8) * c.width,
                line[16][1] + c.height * 0.05,
                c.width * 0.3,
                (236, 240, 244),
                0.5,
            )
    front = c.ridge(c.height * 0.86, c.height * 0.06)
    for x, y in front[::2]:
        c.pine(x + c.rng.uniform(-8, 8), y + 12, c.height * c.rng.uniform(0.12, 0.2), c.land((18, 56, 30)))


def _village(c: Canvas) -> None:
    horizon = c.height * 0.5
    c.sky(horizon)
    c.fill_below(
        c.ridge(horizon - c.height * 0.02, c.height * 0.12),
        mix(c.land((110, 140, 130)), c.light.sky_horizon, 0.35),
    )
    c.fill_below(c.wave(horizon + c.height * 0.04, 4, 1), c.land((118, 168, 76)))
    for _ in range(c.rng.randint(4, 6)):  # bamboo behind the houses
        c.tree(
            c.rng.uniform(0, 1) * c.width,
            horizon + c.height * 0.1,
            c.height * c.rng.uniform(0.2, 0.3),
            c.land((52, 110, 52)),
        )
    x = c.rng.uniform(0.05, 0.15) * c.width
    while x < c.width * 0.9:  # thatched houses
        w, ground = c.width * c.rng.uniform(0.12, 0.16), horizon + c.height * 0.14
        wall_top = ground - w * 0.35
        c.draw.rectangle((x, wall_top, x + w, ground), fill=c.land((214, 196, 150)))
        c.draw.rectangle((x + w * 0.42, wall_top + w * 0.12, x + w * 0.58, ground), fill=c.land((80, 56, 36)))
        c.draw.polygon(
            [
                (x - w * 0.1, wall_top),
                (x + w * 1.1, wall_top),
                (x + w * 0.8, wall_top - w * 0.32),
                (x + w * 0.2, wall_top - w * 0.32),
            ],
            fill=c.land((150, 116, 66)),
        )
        x += w * c.rng.uniform(1.4, 2.0)
    pond = horizon + c.height * 0.2
    c.image.paste(
        gradient((c.width, c.height - round(pond)), c.land((76, 120, 118)), c.land((40, 84, 80))),
        (0, round(pond)),
    )
    for _ in range(70):  # lotus leaves and flowers
        x, y = c.rng.uniform(0, c.width), c.rng.uniform(pond + 10, c.height)
        r = c.height * 0.025 * (0.6 + (y - pond) / (c.height - pond))
        c.draw.ellipse((x - r, y - r * 0.45, x + r, y + r * 0.45), fill=c.land((60, 132, 60)))
        if c.rng.random() < 0.4:
            c.draw.ellipse(
                (x - r * 0.35, y - r * 1.1, x + r * 0.35, y - r * 0.2), fill=c.land((236, 120, 160))
            )


def _tea_hills(c: Canvas) -> None:
    horizon = c.height * 0.42
    c.sky(horizon)
    c.fill_below(c.ridge(horizon, c.height * 0.1), mix(c.land((100, 140, 120)), c.light.sky_horizon, 0.4))
    for layer in range(3):
        line = c.wave(horizon + c.height * (0.08 + 0.17 * layer), c.height * 0.06, c.rng.uniform(0.8, 1.6))
        green = c.land(mix((120, 180, 70), (60, 130, 50), layer / 2))
        c.fill_below(line, green)
        rows = mix(green, (20, 60, 24), 0.45)
        for row in range(1, 12):  # the rows of tea bushes follow the hill
            offset = row * c.height * (0.018 + 0.008 * layer)
            c.draw.line([(x, y + offset) for x, y in line], fill=rows, width=3 + layer * 2)
        top = min(line, key=lambda point: point[1])
        c.tree(top[0], top[1] + 4, c.height * 0.12, c.land((40, 90, 40)))


def _city(c: Canvas) -> None:
    horizon = c.height * 0.72
    c.sky(horizon)
    for layer, (color, lit) in enumerate((((70, 76, 110), 0.15), ((34, 38, 60), 0.35))):
        x = -c.rng.uniform(0, 40)
        while x < c.width:
            w = c.width * c.rng.uniform(0.04, 0.09)
            top = horizon - c.height * c.rng.uniform(0.12, 0.42 - 0.12 * layer)
            c.draw.rectangle((x, top, x + w, horizon), fill=color)
            for wy in range(round(top) + 8, round(horizon) - 6, 14):
                for wx in range(round(x) + 6, round(x + w) - 6, 12):
                    if c.rng.random() < lit:
                        c.draw.rectangle((wx, wy, wx + 5, wy + 7), fill=(255, 214, 120))
            x += w + c.rng.uniform(2, 20)
    c.draw.rectangle((0, horizon, c.width, c.height), fill=(26, 28, 40))
    for lane in range(5):  # the lights of the traffic
        y = horizon + (lane + 1) * (c.height - horizon) / 6
        color = (255, 90, 70) if lane % 2 else (255, 236, 180)
        for _ in range(6):
            x = c.rng.uniform(0, c.width)
            c.draw.line([(x, y), (x + c.width * c.rng.uniform(0.05, 0.2), y)], fill=color, width=3)


def _river(c: Canvas) -> None:
    horizon = c.height * 0.45
    c.sky(horizon)
    c.fill_below(c.ridge(horizon, c.height * 0.18), mix(c.land((96, 120, 130)), c.light.sky_horizon, 0.35))
    c.fill_below(c.ridge(horizon + c.height * 0.06, c.height * 0.08), c.land((60, 110, 70)))
    c.fill_below(c.wave(horizon + c.height * 0.1, 3, 1), c.land((110, 160, 70)))
    center, phase = c.rng.uniform(0.35, 0.65) * c.width, c.rng.uniform(0, math.tau)
    left, right = [], []
    for i in range(41):  # the river widens towards the viewer and bends
        t = i / 40
        y = horizon + c.height * (0.1 + 0.9 * t)
        middle = center + math.sin(phase + t * 4) * c.width * 0.2 * t
        half = c.width * (0.015 + 0.2 * t)
        left.append((middle - half, y))
        right.append((middle + half, y))
    water = mix(c.light.sky_horizon, c.light.sky_top, 0.3)  # the river mirrors the sky
    c.draw.polygon([*left, *reversed(right)], fill=water)
    for i in range(8, 40, 3):  # ripples
        (x0, y), (x1, _) = left[i], right[i]
        x = x0 + (x1 - x0) * c.rng.uniform(0.2, 0.6)
        c.draw.line([(x, y), (x + (x1 - x0) * 0.25, y)], fill=mix(water, (255, 255, 255), 0.4), width=2)
    x, y = left[26][0] + (right[26][0] - left[26][0]) * 0.4, left[26][1]
    size = c.width * 0.035
    hull = [(x - size, y), (x + size, y), (x + size * 0.8, y + size * 0.2), (x - size * 0.8, y + size * 0.2)]
    c.draw.polygon(hull, fill=c.land((50, 36, 28)))
    for side, away in ((left, -1), (right, 1)):
        for px, py in side[5::7]:
            height = c.height * c.rng.uniform(0.08, 0.16)
            c.tree(px + away * height * c.rng.uniform(0.4, 0.9), py, height, c.land((42, 96, 48)))


def _terraces(c: Canvas) -> None:
    horizon = c.height * 0.36
    c.sky(horizon)
    c.fill_below(c.ridge(horizon, c.height * 0.16), mix(c.land((100, 126, 120)), c.light.sky_horizon, 0.35))
    ripe, young = c.land((222, 186, 64)), c.land((176, 184, 62))
    base, waves = horizon + c.height * 0.08, c.rng.uniform(0.6, 1.2)
    phase = c.rng.uniform(0, math.tau)
    for row in range(16):  # terraces stepping down the hillside, each a band with a dark edge
        y = base + row * c.height * 0.04 * (1 + row / 20)
        line = [
            (
                i * c.width / 60,
                y + c.height * 0.05 * math.sin(phase + waves * math.tau * i / 60) * (1 + row / 8),
            )
            for i in range(61)
        ]
        c.fill_below(line, ripe if row % 3 else young)
        c.draw.line(line, fill=c.land((96, 80, 40)), width=3)
    for _ in range(4):
        c.tree(c.rng.uniform(0, c.width), base + c.height * 0.02, c.height * 0.14, c.land((40, 86, 44)))


LANDSCAPES: dict[str, Callable[[Canvas], None]] = {
    "beach": _beach,
    "forest": _forest,
    "village": _village,
    "tea_hills": _tea_hills,
    "city": _city,
    "river": _river,
    "terraces": _terraces,
}


# --- drawing helpers -------------------------------------------------------------------------
def mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))


def gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    mask = Image.linear_gradient("L").resize(size)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def caption_layer(size: tuple[int, int], demo: DemoEntry) -> Image.Image:
    """A transparent layer: a dark band at the bottom with the place's name and the entry's title."""
    width, height = size
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    band = round(height * 0.16)
    draw.rectangle((0, height - band, width, height), fill=(0, 0, 0, 120))
    unit = band / 256
    big, small = _font(round(96 * unit)), _font(round(44 * unit))
    margin = round(80 * unit)
    place = _PLACE_NAMES[demo.place]
    draw.text((margin, height - band + 28 * unit), _printable(place), font=big, fill=(255, 255, 255, 255))
    line = f"{demo.title} · Nghệ An · ảnh minh họa (demo)"
    draw.text((margin, height - band + 160 * unit), _printable(line), font=small, fill=(235, 235, 235, 255))
    return layer


def with_caption(image: Image.Image, demo: DemoEntry) -> Image.Image:
    return Image.alpha_composite(image.convert("RGBA"), caption_layer(image.size, demo)).convert("RGB")


@functools.cache
def _font_file() -> str | None:
    return next((path for path in FONT_FILES if Path(path).is_file()), None)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = _font_file()
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size)


def _printable(text: str) -> str:
    """``text``, without its Vietnamese marks when only Pillow's own (Latin) font is there."""
    if _font_file():
        return text
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in folded if not unicodedata.combining(ch)).replace("·", "-")
