"""The school's colour and logo, made safe for print and screen (WCAG AA contrast)."""

from __future__ import annotations

import base64
import io
import re
import warnings
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from xml.etree import ElementTree

from .errors import BuildError

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
class Logo:
    """A school's logo made safe: an SVG cleaned of anything active, a PNG or JPEG decoded
    within limits and written again by Pillow. Only these bytes are published or printed."""

    data: bytes
    suffix: str  # .svg, .png or .jpg
    mime: str

    def data_uri(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


@dataclass(frozen=True)
class Brand:
    colour: str  # as the school gave it
    strong: str  # darkened if needed: backgrounds under white text, and text on white
    pale: str  # card backgrounds under dark text
    logo_file: Path | None = None  # the school's file: never published as it is

    @property
    def adjusted(self) -> bool:
        return self.strong != self.colour

    @cached_property
    def logo(self) -> Logo | None:
        """The logo made safe, read when first needed (validation has checked it)."""
        if self.logo_file is None:
            return None
        try:
            return read_logo(self.logo_file)
        except (LogoError, OSError) as exc:
            raise BuildError(f"school.logo: {self.logo_file}: {exc}") from None

    def logo_data_uri(self) -> str | None:
        return self.logo.data_uri() if self.logo else None


def make_brand(colour: str | None, logo: str | None, project_dir: Path) -> Brand:
    given = colour or DEFAULT_COLOUR
    strong = darken_for_white_text(given)
    return Brand(given, strong, tint(strong), (project_dir / logo) if logo else None)


# ---------------------------------------------------------------- logos

LOGO_SUFFIXES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
MAX_LOGO_BYTES = 5_000_000
MAX_LOGO_PIXELS = 25_000_000  # 5000 x 5000: a crest scanned at print resolution fits
LOGO_SIDE = 1200  # larger bitmaps are scaled down: a logo prints at 30 mm at most


class LogoError(ValueError):
    """Why a logo cannot be used, in one line (never the file's contents)."""


def read_logo(path: Path) -> Logo:
    """The logo at ``path``, made safe; LogoError says why it cannot be."""
    stat = path.stat()
    return _read_logo(path.resolve(), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=32)
def _read_logo(path: Path, mtime_ns: int, size: int) -> Logo:
    suffix = path.suffix.lower()
    if suffix not in LOGO_SUFFIXES:
        raise LogoError("must be an .svg, .png or .jpg file")
    if size > MAX_LOGO_BYTES:
        raise LogoError(f"is {size:,} bytes; a logo may be {MAX_LOGO_BYTES:,} at most")
    raw = path.read_bytes()
    if suffix == ".svg":
        return Logo(clean_svg(raw), ".svg", LOGO_SUFFIXES[".svg"])
    return _bitmap(raw, suffix)


def _bitmap(raw: bytes, suffix: str) -> Logo:
    from PIL import Image, UnidentifiedImageError

    kind = "PNG" if suffix == ".png" else "JPEG"
    try:
        with warnings.catch_warnings():  # a bomb's size is checked just below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw), formats=[kind])
        with image:
            width, height = image.size  # from the header: nothing decoded yet
            if width * height > MAX_LOGO_PIXELS:
                raise LogoError(
                    f"is {width} x {height} pixels; a logo may have "
                    f"{MAX_LOGO_PIXELS:,} pixels at most (e.g. 2000 x 2000)"
                )
            image.load()
            keep = "RGBA" if image.mode in ("RGBA", "LA", "P", "PA") else "RGB"
            image = image.convert(keep)
            image.thumbnail((LOGO_SIDE, LOGO_SIDE))
            image.info.clear()  # pixels only: no comment, profile or metadata carried over
            out = io.BytesIO()
            if kind == "PNG":
                image.save(out, "PNG")
            else:
                image.save(out, "JPEG", quality=90)
    except LogoError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise LogoError(f"is not a readable {kind} image") from None
    return Logo(out.getvalue(), ".png" if kind == "PNG" else ".jpg", LOGO_SUFFIXES[suffix])


SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_KEPT_NAMESPACES = (SVG_NS, XLINK_NS, "http://www.w3.org/XML/1998/namespace")
# Elements that run, embed or change things: removed with everything inside them.
_ACTIVE = {
    "script",
    "foreignObject",
    "iframe",
    "embed",
    "object",
    "handler",
    "listener",
    "set",
    "animate",
    "animateMotion",
    "animateTransform",
    "animateColor",
    "discard",
}
# Elements that only show what they refer to: without a reference inside the SVG, none.
_REFERENCING = {"image", "use", "feImage"}
_EXTERNAL_URL = re.compile(r"url\(\s*['\"]?\s*(?!#)|@import|expression\(", re.IGNORECASE)


def _href(element: ElementTree.Element) -> str:
    return (element.get("href") or element.get(f"{{{XLINK_NS}}}href") or "").strip()


def clean_svg(raw: bytes) -> bytes:
    """The SVG with nothing that runs or fetches: no scripts or event handlers, no
    ``foreignObject`` or animation, no link or reference but to its own parts (``#id``),
    no other namespaces (editors' metadata). LogoError if it is not an SVG."""
    if b"<!ENTITY" in raw:
        raise LogoError("declares XML entities; save it again as a plain SVG")
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError as exc:
        raise LogoError(f"is not readable SVG ({exc})") from None
    if root.tag != f"{{{SVG_NS}}}svg":
        raise LogoError("is not an SVG image (its first element is not <svg>)")
    if _depth(root) > MAX_DEPTH:
        raise LogoError(f"nests its elements over {MAX_DEPTH} deep; save it again as a plain SVG")
    _clean(root)
    _drawn(root, {e.get("id"): e for e in root.iter() if e.get("id")}, {}, set())
    ElementTree.register_namespace("", SVG_NS)
    ElementTree.register_namespace("xlink", XLINK_NS)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=False)


MAX_DRAWN = 50_000  # shapes a logo draws once every <use> is followed (a crest: hundreds)
MAX_DEPTH = 100  # groups within groups (an editor's export: a dozen); the cleaning recurses


def _depth(root: ElementTree.Element) -> int:
    deepest, todo = 0, [(root, 1)]
    while todo:
        element, depth = todo.pop()
        deepest = max(deepest, depth)
        todo += [(child, depth + 1) for child in element]
    return deepest


def _drawn(
    element: ElementTree.Element,
    ids: dict[str | None, ElementTree.Element],
    seen: dict[int, int],
    open_: set[int],
) -> int:
    """How many elements drawing ``element`` draws, each <use> followed: a few kilobytes
    of nested <use> can ask for billions (and hold the build for ever)."""
    if id(element) in seen:
        return seen[id(element)]
    if id(element) in open_:
        raise LogoError("has a <use> that refers to itself; save it again as a plain SVG")
    open_.add(id(element))
    count = 1 + sum(_drawn(child, ids, seen, open_) for child in element)
    if element.tag == f"{{{SVG_NS}}}use" and (target := ids.get(_href(element)[1:])) is not None:
        count += _drawn(target, ids, seen, open_)
    open_.discard(id(element))
    if count > MAX_DRAWN:
        raise LogoError(
            f"repeats its shapes too many times (over {MAX_DRAWN:,} with every <use> "
            "followed); save it again with its shapes written out"
        )
    seen[id(element)] = count
    return count


def _clean(element: ElementTree.Element) -> None:
    for child in list(element):
        tag = child.tag if isinstance(child.tag, str) else ""
        namespace, _, name = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
        text = "".join(child.itertext())
        if (
            namespace != SVG_NS
            or name in _ACTIVE
            or (name == "style" and _EXTERNAL_URL.search(text))
            or (name in _REFERENCING and not _href(child).startswith("#"))
        ):
            element.remove(child)
            continue
        _clean(child)
    for attr, value in list(element.attrib.items()):
        namespace, _, name = attr[1:].partition("}") if attr.startswith("{") else ("", "", attr)
        if (
            (namespace and namespace not in _KEPT_NAMESPACES)
            or name.lower().startswith("on")
            or (name == "href" and not value.strip().startswith("#"))
            or _EXTERNAL_URL.search(value)
        ):
            del element.attrib[attr]
