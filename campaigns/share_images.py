"""Images drawn by the app: the share image (Open Graph, per page and language, with the current
count) and the favicon set, in the white-red-white colours of Belarus's democratic movement.

Drawn with Pillow on the server, so no service elsewhere sees who shares what. Share images are
kept in the cache and drawn anew at most every SHARE_IMAGE_MAX_AGE seconds.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from PIL import Image, ImageDraw, ImageFont

WHITE = (255, 255, 255)
RED = (168, 17, 28)  # --red in site.css
INK = (27, 27, 31)
LINE = (214, 208, 200)
SIZE = (1200, 630)
FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
    "/usr/share/fonts/noto/NotoSans-Bold.ttf",
)


@functools.cache
def font_path() -> str | None:
    """The configured font, else the first system font found that has Cyrillic letters."""
    for candidate in (settings.SHARE_IMAGE_FONT, *FONTS):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = font_path()
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size)


def wrap(draw: ImageDraw.ImageDraw, text: str, size: int, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font(size)) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def fit(draw: ImageDraw.ImageDraw, text: str, width: int, height: int, largest: int) -> tuple:
    """The largest type size at which `text` fits the box in at most three lines."""
    for size in range(largest, 20, -4):
        lines = wrap(draw, text, size, width)
        too_wide = any(draw.textlength(line, font=font(size)) > width for line in lines)
        if len(lines) <= 3 and len(lines) * size * 1.2 <= height and not too_wide:
            return size, lines
    return 20, wrap(draw, text, 20, width)[:3]


def draw_share_image(title: str, count_text: str, site: str) -> bytes:
    """1200×630 PNG: white, red, white bands; the title on the red one, the count below."""
    image = Image.new("RGB", SIZE, WHITE)
    draw = ImageDraw.Draw(image)
    width, height = SIZE
    band_top, band_bottom = 150, 430
    draw.rectangle((0, band_top, width, band_bottom), fill=RED)
    draw.rectangle((0, 0, width - 1, height - 1), outline=LINE, width=2)
    margin = 72
    draw.text((margin, 58), site, font=font(40), fill=INK)
    size, lines = fit(draw, title, width - 2 * margin, band_bottom - band_top - 50, 76)
    block = len(lines) * size * 1.2
    y = band_top + (band_bottom - band_top - block) / 2
    for line in lines:
        draw.text((margin, y), line, font=font(size), fill=WHITE)
        y += size * 1.2
    count_size, count_lines = fit(draw, count_text, width - 2 * margin, 120, 52)
    y = band_bottom + 40
    for line in count_lines[:2]:
        draw.text((margin, y), line, font=font(count_size), fill=RED)
        y += count_size * 1.2
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def share_image(key: str, title: str, count_text: str, site: str) -> bytes:
    """The cached image; drawn again once SHARE_IMAGE_MAX_AGE has passed."""
    cache_key = f"share-image:{key}"
    png = cache.get(cache_key)
    if png is None:
        png = draw_share_image(title, count_text, site)
        cache.set(cache_key, png, settings.SHARE_IMAGE_MAX_AGE)
    return png


@functools.cache
def icon_png(size: int, opaque: bool = False) -> bytes:
    """A PNG icon; `opaque` on white for Apple's touch icon (iOS fills transparency black)."""
    image = draw_icon(size)
    if opaque:
        image = Image.alpha_composite(Image.new("RGBA", image.size, WHITE + (255,)), image)
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


@functools.cache
def favicon_ico() -> bytes:
    out = io.BytesIO()
    draw_icon(64).save(out, "ICO", sizes=[(16, 16), (32, 32), (48, 48)])
    return out.getvalue()


def draw_icon(size: int) -> Image.Image:
    """The flag of the democratic movement on a rounded tile, as in static/img/icon.svg."""
    scale = 4  # drawn large and scaled down, for smooth edges
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    radius = big * 12 // 64
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=radius, fill=WHITE, outline=LINE,
                           width=max(scale, big // 32))  # fmt: skip
    draw.rectangle((0, big * 22 // 64, big - 1, big * 42 // 64), fill=RED)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=radius, outline=LINE,
                           width=max(scale, big // 32))  # fmt: skip
    return image.resize((size, size), Image.Resampling.LANCZOS)
