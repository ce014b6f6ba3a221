"""The school's colour and logo, made safe for print and screen (WCAG AA contrast)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

DEFAULT_COLOUR = "#1d4f91"
WHITE = "#ffffff"
INK = "#1b1b1b"
AA_NORMAL_TEXT = 4.5


def _channels(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(max(0, min(255, c))):02x}" for c in rgb)


def luminance(colour: str) -> float:
    """WCAG relative luminance of #rrggbb."""

    def linear(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _channels(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def darken_for_white_text(colour: str, ratio: float = AA_NORMAL_TEXT) -> str:
    """The colour, darkened in small steps until white text on it meets ``ratio``."""
    rgb = _channels(colour)
    factor = 1.0
    candidate = colour
    while contrast(candidate, WHITE) < ratio and factor > 0:
        factor -= 0.02
        candidate = _hex(tuple(c * factor for c in rgb))
    return candidate


def tint(colour: str, amount: float = 0.9) -> str:
    """A pale background made by mixing ``colour`` with white."""
    return _hex(tuple(c + (255 - c) * amount for c in _channels(colour)))


# Posters give each rule a colour of its own, in this order: strong enough for white
# text (and as text on its own pale tint) at WCAG AA, and unlike their neighbours.
POSTER_COLOURS = (
    "#1d4f91",  # blue
    "#b3261e",  # red
    "#1b6e3a",  # green
    "#6a3fa0",  # purple
    "#a34700",  # orange
    "#00607a",  # teal
    "#8a1c7c",  # plum
    "#4a5a0f",  # olive
)
POSTER_TINT = 0.88


@dataclass(frozen=True)
class Colour:
    strong: str
    pale: str


def poster_colours() -> tuple[Colour, ...]:
    return tuple(Colour(c, tint(c, POSTER_TINT)) for c in POSTER_COLOURS)


@dataclass(frozen=True)
class Brand:
    colour: str  # as the school gave it
    strong: str  # darkened if needed: backgrounds under white text, and text on white
    pale: str  # card backgrounds under dark text
    logo_path: Path | None

    @property
    def adjusted(self) -> bool:
        return self.strong != self.colour

    def logo_data_uri(self) -> str | None:
        if not self.logo_path:
            return None
        mime = "image/svg+xml" if self.logo_path.suffix.lower() == ".svg" else "image/png"
        data = base64.b64encode(self.logo_path.read_bytes()).decode("ascii")
        return f"data:{mime};base64,{data}"


def make_brand(colour: str | None, logo: str | None, project_dir: Path) -> Brand:
    given = colour or DEFAULT_COLOUR
    strong = darken_for_white_text(given)
    return Brand(given, strong, tint(strong), (project_dir / logo).resolve() if logo else None)
