"""Speed-ups to WeasyPrint and pydyf in the PDF workers. Every PDF stays byte for byte the
same; tests render with and without them and compare.

- **Line breaks remembered.** WeasyPrint asks Pango where each line of text breaks,
  again and again for the same words: a paragraph's widths are measured before it is
  laid out, a rule is on a poster and on an agreement, and a trust's twenty policies
  share nearly every paragraph. ``split_first_line`` is kept here by its text, width
  and every style property its code reads: 18% off one school's PDFs, 28% off the next
  school's in the same worker.
- **Lines drawn once.** To draw a line of text, WeasyPrint sets its words in Pango again
  and turns every glyph into PDF text operators in Python: a fifth of a policy's time.
  A line with the same words and text style draws the same operators, so the second
  drawing of a line is recorded (the stream calls, and each glyph's width and text) and
  replayed from then on: a trust's third school on. (Recording costs, so a line is not
  recorded the first time: most lines of one school are drawn once. In a batch, where
  the next school draws them again, every school but the last records at first sight,
  and the second school replays.)
- **Images drawn once.** WeasyPrint parses an SVG image's paths and draws them afresh
  every time it is shown: a school's rule icons, logo and QR code, in every PDF. An
  image drawn at a size and from a stream state it was drawn at before gives the same
  operators, so they are recorded the second time and replayed after (9% of a warm
  school's PDFs other than the policy; an inline ``<svg>``, such as a policy's
  flowchart, belongs to one document and is drawn once). Only images that ask the
  stream for nothing but path and paint operators are kept: groups, clips, gradients,
  text and warnings tie a drawing to its page, and those are drawn afresh. Images are
  weak keys, so no finished document is kept alive by its images.
- **Glyphs read at once** (``glyphs.py``). The lines drawn afresh go through WeasyPrint's
  own glyph loop, with each run's glyphs read from Pango's array in one call instead of
  field by field through cffi, and its look-ups hoisted: a sixth off that loop.
- **Layouts kept until drawn.** WeasyPrint drops each line's Pango layout once it is
  measured and sets the line in Pango again to draw it; the layout is now kept until it
  is drawn (1.7% of a policy's instructions).
- **Struts and font descriptions per style.** A style's line height and baseline, and
  its Pango font description, are worked out once per style instead of once per line
  (3.8% of a policy's instructions).
- **Used box sizes kept per style.** A box's margins, paddings, borders and sizes
  follow from its style and its containing block's size; they are worked out once for
  each pair, not property by property for every box (3% of a policy's instructions).
- **Overflows foreseen.** After Pango breaks a line, WeasyPrint sets the line and the
  next word in Pango again to check that the word would not fit after all. When the
  line's width and the word's, both known already, exceed the width available, that
  answer is taken from them (1.4% of a policy's instructions).
- **Styles shared across documents.** WeasyPrint shares one computed style among the
  elements of a document that match the same rules, and works out every other style
  afresh: each list marker's, each contents entry's page number, every page's and its
  sixteen margin boxes', and all of them again in the next document. A style is now
  kept by its parent style and its declarations (each ``<style>`` is parsed once per
  worker, so a trust's schools with the same colours declare with the same objects):
  the next document takes it with the values already worked out, a fifth of a warm
  school's PDF time. Page styles are shared within their document only.
- **Page references built once.** pydyf builds the list of its pages' references afresh
  each time it is asked, and WeasyPrint asks once for every tagged element it writes:
  100,000 little strings for a 37-page policy, 4% of its time.
- **Operands turned into bytes by type.** pydyf's ``_to_bytes`` (190,000 calls for a
  school's PDFs) tells bytes, floats, integers and strings apart by their exact type
  before its chain of ``isinstance`` tests.
- **C types named once.** cffi turns each C type name WeasyPrint uses into a type with
  pycparser the first time it meets the name, a few milliseconds each. The PDF server
  does the common ones before it forks the workers (``parse_c_types``), so no worker
  pays for them, and a sized array (``hb_codepoint_t[57]``: every font subset has its
  own size) is made as ``hb_codepoint_t[]``, one name for every size.
- **HTML parsed by Expat.** WeasyPrint's html5 parser is pure Python, 5% of a school's
  PDF time; the print HTML is parsed by Python's XML parser when that gives the same
  tree (``xhtml.py``), by tinyhtml5 otherwise.
- **Default compression.** pydyf deflates every stream at zlib level 9, four times as
  slow as zlib's default level 6 for files 2% smaller (0.17 s of each school's PDFs,
  against 0.05 s). Readers cannot tell the two apart; only these bytes differ from
  plain WeasyPrint's.

WeasyPrint is pinned to one major version (pyproject.toml); each patch checks that it
finds the code it was written for and otherwise leaves WeasyPrint alone.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import functools
import inspect
import io
import itertools
import logging
import os
import re
import sys
import weakref
import zlib
from collections.abc import Callable
from typing import Any

from . import glyphs
from .glyphs import DRAW_FIRST_LINE_ARGS

MAX_REMEMBERED_LINES = 40_000
# Every style property that WeasyPrint's line breaking (text/line_break.py) and font
# choice (text/fonts.py) read: two texts with the same values break the same way.
TEXT_STYLE = (
    "direction",
    "font_family",
    "font_feature_settings",
    "font_kerning",
    "font_language_override",
    "font_size",
    "font_stretch",
    "font_style",
    "font_variant_alternates",
    "font_variant_caps",
    "font_variant_east_asian",
    "font_variant_ligatures",
    "font_variant_numeric",
    "font_variant_position",
    "font_variation_settings",
    "font_weight",
    "hyphenate_character",
    "hyphenate_limit_chars",
    "hyphenate_limit_zone",
    "hyphens",
    "lang",
    "letter_spacing",
    "line_height",
    "overflow_wrap",
    "tab_size",
    "text_decoration_line",
    "white_space",
    "word_break",
    "word_spacing",
)
SPLIT_FIRST_LINE_ARGS = [
    "text",
    "style",
    "context",
    "max_width",
    "justification_spacing",
    "is_line_start",
    "minimum",
]
# The C types WeasyPrint 70 names in text/, pdf/ and draw/ (a name it no longer uses
# costs nothing but its parse).
C_TYPES = (
    "PangoRectangle *",
    "PangoLogAttr[]",
    "PangoFcFontMap *",
    "FcChar8 **",
    "FcResult *",
    "unsigned int *",
    "hb_tag_t[100]",
    "hb_codepoint_t[]",
    "char[4]",
    "char[]",
)
SET_COMPUTED_STYLES_ARGS = [
    "self",
    "element",
    "parent",
    "root",
    "pseudo_type",
    "base_url",
    "target_collector",
]
# Pseudo-element styles kept from one document to the next (see _styles_shared).
KEPT_PSEUDO_ELEMENTS = ("marker", "before", "after")
# Shared within their document only: WeasyPrint's own stylesheet gives every element
# these four, which a document without footnotes never lays out. Not "note-call":
# WeasyPrint writes a note's anchor into its call's style.
DOCUMENT_PSEUDO_ELEMENTS = ("footnote-call", "footnote-marker", "note-marker", "note-callback")
SIDES = ("top", "right", "bottom", "left")
SIZED_ARRAY = re.compile(r"(\w+)\[(\d+)\]\Z")


def install() -> None:
    """Apply every speed-up (again: nothing more happens)."""
    parse_c_types()
    _styles_shared()
    _deflate_at_default_level()
    _page_references_built_once()
    _bytes_by_type()
    _line_breaks_remembered()
    glyphs.install()  # before the lines drawn once, which draw and record with it
    _lines_drawn_once()
    _images_drawn_once()
    _layouts_kept_until_drawn()
    _kept_per_style()
    _percentages_kept_per_style()
    _overflows_foreseen()
    _html_parsed_fast()


def record_drawings_at_first_sight(record: bool) -> None:
    """In a batch, where the next school draws most of these lines again, each line's
    drawing is recorded the first time (recording costs a little more than drawing)."""
    _at_first_sight[0] = record


def forget_line_breaks() -> None:
    """Drop the remembered lines and drawings (when the fonts they were measured and
    drawn with are released)."""
    _lines.clear()
    _drawings.clear()
    _image_drawings.clear()
    _styles.clear()  # no remembered line refers to them any more
    forget_shared_styles()
    _release_kept_fonts()


# ------------------------------------------------------------------ parsing


class _FastParser:
    """Stands in for the tinyhtml5 module in WeasyPrint's HTML class: a document given as
    a string is parsed by ``xhtml.parse`` when it can be, else by tinyhtml5."""

    def __init__(self, tinyhtml5: Any):
        self.plain = tinyhtml5

    def parse(self, source: Any, **options: Any) -> Any:
        if options == {"namespace_html_elements": False} and isinstance(source, io.StringIO):
            from .xhtml import parse

            root = parse(source.getvalue())
            if root is not None:
                return root
        return self.plain.parse(source, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.plain, name)


def _html_parsed_fast() -> None:
    import weasyprint

    plain = weasyprint.tinyhtml5
    if isinstance(plain, _FastParser):  # done already
        return
    if "tinyhtml5.parse(file_obj, **kwargs)" not in inspect.getsource(weasyprint.HTML):
        return  # not the WeasyPrint this was written for
    weasyprint.tinyhtml5 = _FastParser(plain)


# ------------------------------------------------------------------ line breaks

_lines: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_styles: dict[tuple[Any, ...], int] = {}  # each text style's values, as a small number
_style_numbers = itertools.count()
_font_configs = itertools.count()


def _line_breaks_remembered() -> None:
    from weasyprint.layout import inline, preferred
    from weasyprint.text import fonts, line_break

    split = line_break.split_first_line
    if hasattr(split, "plain"):  # done already
        return
    if (
        list(inspect.signature(split).parameters) != SPLIT_FIRST_LINE_ARGS
        or inline.split_first_line is not split
        or preferred.split_first_line is not split
        or not hasattr(fonts.FontConfiguration, "add_font_face")
    ):
        return  # not the WeasyPrint this was written for

    def split_first_line(
        text: str,
        style: Any,
        context: Any,
        max_width: float | None,
        justification_spacing: float,
        is_line_start: bool = True,
        minimum: bool = False,
    ) -> tuple[Any, ...]:
        if style["hyphens"] == "auto":  # reads more of the style; never in our templates
            return split(
                text, style, context, max_width, justification_spacing, is_line_start, minimum
            )
        key = (text, max_width, justification_spacing, is_line_start, minimum, _style(style))
        found = _lines.get(key)
        if found is None:
            found = split(
                text, style, context, max_width, justification_spacing, is_line_start, minimum
            )
            if len(_lines) >= MAX_REMEMBERED_LINES:
                forget_line_breaks()
            remembered = copy.copy(found[0])
            remembered.__dict__.pop(KEPT_LAYOUT, None)  # no Pango objects in the memo
            _lines[key] = (remembered, *found[1:])
            return found
        # The layout comes back inactive (its text and metrics, no Pango objects); each
        # text box gets its own copy, which WeasyPrint reactivates to draw it.
        return (copy.copy(found[0]), *found[1:])

    split_first_line.plain = split  # type: ignore[attr-defined]
    line_break.split_first_line = split_first_line
    inline.split_first_line = split_first_line  # these two imported it by name
    preferred.split_first_line = split_first_line
    _faces_counted(fonts.FontConfiguration)


def _style(style: Any) -> int:
    """A number for the text style: the style property values and the fonts known to
    its font configuration. Kept on the style: WeasyPrint sets a style's text
    properties before it lays any text out in it, and never changes them after."""
    number = style.__dict__.get("_esafety_text_style")
    if number is None:
        number = style.__dict__["_esafety_text_style"] = _style_number(style)
    return number


def _style_number(style: Any) -> int:
    config = style.font_config
    values = (
        _font_config_number(config),
        len(getattr(config, "_esafety_faces", ())),
        *(style[name] for name in TEXT_STYLE),
    )
    try:
        number = _styles.get(values)
    except TypeError:  # a list or set among the values: compared by how they print
        values = ("repr", *values[:2], *(repr(value) for value in values[2:]))
        number = _styles.get(values)
    if number is None:
        number = _styles[values] = next(_style_numbers)  # never reused: see _style
    return number


def _font_config_number(config: Any) -> int:
    number = getattr(config, "_esafety_number", None)
    if number is None:
        number = config._esafety_number = next(_font_configs)
    return number


def _faces_counted(font_configuration: type) -> None:
    """Count the distinct @font-face rules each font configuration has been given: a new
    font can change how text already measured would be set, so it starts a new style."""
    add = font_configuration.add_font_face

    def add_font_face(self: Any, rule_descriptors: Any, url_fetcher: Any) -> Any:
        self.__dict__.setdefault("_esafety_faces", set()).add(str(rule_descriptors))
        return add(self, rule_descriptors, url_fetcher)

    font_configuration.add_font_face = add_font_face


# ------------------------------------------------------------------ drawing lines

MAX_REMEMBERED_DRAWINGS = 40_000
DRAW_TEXT_ARGS = ["stream", "textbox", "offset_x", "text_overflow", "block_ellipsis"]

# A line's key -> its drawing: ("matrix",), ("font", pango font, to_unicode, widths) and
# ("call", stream method, args) steps, in the order WeasyPrint made them (None: drawn once).
Drawing = tuple[tuple[Any, ...], ...]
_drawings: dict[tuple[Any, ...], Drawing | None] = {}
_kept_fonts: dict[Any, Any] = {}  # Pango fonts a drawing names, each with a reference held
_replaying: list[tuple[Any, ...]] = []  # the drawing draw_first_line replays, if any
_at_first_sight = [False]  # record a line's drawing the first time it is drawn
_recording: list[tuple[Any, ...]] = []  # the key draw_first_line records a drawing for
_UNSEEN = object()


def _lines_drawn_once() -> None:
    from weasyprint import draw
    from weasyprint.draw import text

    plain_draw_text, plain_first_line = text.draw_text, text.draw_first_line
    if hasattr(plain_draw_text, "plain"):  # done already
        return
    if (
        list(inspect.signature(plain_draw_text).parameters) != DRAW_TEXT_ARGS
        or list(inspect.signature(plain_first_line).parameters) != DRAW_FIRST_LINE_ARGS
        or draw.draw_text is not plain_draw_text
        or not hasattr(text.Matrix, "values")
        or text.pango.pango_version() < 14802  # older Pango: sizes come from the style
    ):
        return  # not the WeasyPrint this was written for

    def draw_text(
        stream: Any, textbox: Any, offset_x: Any, text_overflow: Any, block_ellipsis: Any = "none"
    ) -> Any:
        layout = textbox.pango_layout
        if text_overflow != "clip" or block_ellipsis != "none" or "text" not in layout.__dict__:
            return plain_draw_text(stream, textbox, offset_x, text_overflow, block_ellipsis)
        key = (
            textbox.text,
            layout.text,
            layout.justification_spacing,
            _style(textbox.style),
        )
        drawing = _drawings.get(key, _UNSEEN)
        if drawing is _UNSEEN:  # most lines are drawn once: only a second one is recorded
            if len(_drawings) >= MAX_REMEMBERED_DRAWINGS:
                _drawings.clear()
            _drawings[key] = drawing = None
            if not _at_first_sight[0]:  # (in a batch, the first is)
                return plain_draw_text(stream, textbox, offset_x, text_overflow, block_ellipsis)
        fonts = None if drawing is None else _fonts_if_it_fits(stream, drawing)
        if fonts is None:
            _recording.append(key)
            try:
                return plain_draw_text(stream, textbox, offset_x, text_overflow, block_ellipsis)
            finally:
                _recording.clear()
        # Drawn before: no Pango layout is needed (its metrics are kept on the layout).
        layout.reactivate = layout.deactivate = _nothing
        _replaying.append((drawing, fonts))
        try:
            return plain_draw_text(stream, textbox, offset_x, text_overflow, block_ellipsis)
        finally:
            _replaying.clear()
            del layout.reactivate, layout.deactivate

    def draw_first_line(
        stream: Any, textbox: Any, text_overflow: Any, block_ellipsis: Any, matrix: Any
    ) -> Any:
        if _replaying:
            _replay(stream, *_replaying.pop(), matrix)
            return []
        if not _recording:
            return plain_first_line(stream, textbox, text_overflow, block_ellipsis, matrix)
        key = _recording.pop()
        recorder = _RecordingStream(stream)
        emojis = plain_first_line(recorder, textbox, text_overflow, block_ellipsis, matrix)
        if not emojis and recorder.replayable:
            _drawings[key] = tuple(recorder.steps)
        return emojis

    draw_text.plain = plain_draw_text  # type: ignore[attr-defined]
    draw_first_line.plain = plain_first_line  # type: ignore[attr-defined]
    text.draw_text = draw.draw_text = draw_text  # draw/__init__ imported it by name
    text.draw_first_line = draw_first_line  # what text.draw_text calls


def _nothing(*_args: Any) -> None:
    return None


def _fonts_if_it_fits(stream: Any, drawing: Drawing) -> list[Any] | None:
    """The document's fonts the drawing uses, if it is what WeasyPrint would draw in this
    document now (else None). A PDF font serves every size of its face, and keeps each
    glyph's width as measured at the first size that used it; the operators' spacing is
    worked out from those widths. So each glyph must have been measured as it was when
    the drawing was recorded, or not yet, with this line's size giving the width used."""
    fonts = []
    for step in drawing:
        if step[0] == "font":
            font = stream.add_font(step[1])[0]
            kept = font.widths
            for glyph, used, measured in step[3]:
                if kept.get(glyph, measured) != used:
                    return None
            fonts.append(font)
    return fonts


def _replay(stream: Any, drawing: Drawing, fonts: list[Any], matrix: Any) -> None:
    next_font = iter(fonts)
    for step in drawing:
        if step[0] == "call":
            getattr(stream, step[1])(*step[2])
        elif step[0] == "matrix":
            stream.set_text_matrix(*matrix.values)
        else:  # a font: each glyph's text and width, the first kept, as WeasyPrint does
            font = next(next_font)
            for glyph, text in step[2]:
                font.to_unicode.setdefault(glyph, text)
            for glyph, _used, measured in step[3]:
                font.widths.setdefault(glyph, measured)


class _RecordingStream:
    """A stream that passes everything on and writes down what a line's drawing did."""

    def __init__(self, stream: Any):
        self._stream = stream
        self.steps: list[tuple[Any, ...]] = []
        self.replayable = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)  # ink_rect and logical_rect, read by the glyph loop

    def set_text_matrix(self, *values: Any) -> Any:
        self.steps.append(("matrix",))
        return self._stream.set_text_matrix(*values)

    def set_font_size(self, *args: Any) -> Any:
        self.steps.append(("call", "set_font_size", args))
        return self._stream.set_font_size(*args)

    def show_text(self, *args: Any) -> Any:
        self.steps.append(("call", "show_text", args))
        return self._stream.show_text(*args)

    def set_text_rise(self, *args: Any) -> Any:
        self.steps.append(("call", "set_text_rise", args))
        return self._stream.set_text_rise(*args)

    def add_font(self, pango_font: Any) -> Any:
        font, size = self._stream.add_font(pango_font)
        if font.png or font.svg or font.colr or font.bitmap:  # images or bitmap glyphs
            self.replayable = False
        to_unicode: list[tuple[int, str]] = []
        widths: list[tuple[int, int, int]] = []
        kept = _kept_font(pango_font)
        if kept is None:
            self.replayable = False
        self.steps.append(("font", kept, to_unicode, widths))

        def measure(glyph: int) -> int:  # as WeasyPrint measures a glyph it has not met
            from weasyprint.text.ffi import FROM_UNITS, pango

            logical = self._stream.logical_rect
            pango.pango_font_get_glyph_extents(pango_font, glyph, self._stream.ink_rect, logical)
            return round(logical.width * 1000 * FROM_UNITS / size)

        return _RecordingFont(font, to_unicode, _Widths(font.widths, widths, measure), self), size


class _RecordingFont:
    """A document's font as the glyph loop sees it: every glyph's text is worked out (as
    if the font had none yet) and written down with its width; the font itself keeps
    the first text and width of each glyph, as before."""

    def __init__(
        self,
        font: Any,
        to_unicode: list[tuple[int, str]],
        widths: _Widths,
        recorder: _RecordingStream,
    ):
        self._font = font
        self.to_unicode = _FirstOnly(font.to_unicode, to_unicode)
        self.widths = widths
        self._recorder = recorder

    def __getattr__(self, name: str) -> Any:
        return getattr(self._font, name)

    def get_unused_glyph_id(self, codepoint: int) -> Any:
        self._recorder.replayable = False  # a missing glyph: drawn afresh every time
        return self._font.get_unused_glyph_id(codepoint)


class _FirstOnly:
    def __init__(self, kept: dict[int, str], written: list[tuple[int, str]]):
        self._kept, self._written = kept, written

    def __contains__(self, glyph: object) -> bool:
        return False  # so that the loop works out every glyph's text

    def __setitem__(self, glyph: int, text: str) -> None:
        self._written.append((glyph, text))
        self._kept.setdefault(glyph, text)


class _Widths:
    """Writes down, the first time the line uses each glyph, the width it used (kept from
    an earlier line, or measured now) and the width this line's size measures."""

    def __init__(self, kept: dict[int, int], written: list[tuple[int, int, int]], measure: Any):
        self._kept, self._written, self._measure = kept, written, measure
        self._seen: set[int] = set()

    def __contains__(self, glyph: object) -> bool:
        return glyph in self._kept

    def __getitem__(self, glyph: int) -> int:
        width = self._kept[glyph]
        if glyph not in self._seen:
            self._seen.add(glyph)
            self._written.append((glyph, width, self._measure(glyph)))
        return width

    def __setitem__(self, glyph: int, width: int) -> None:
        if glyph not in self._seen:
            self._seen.add(glyph)
            self._written.append((glyph, width, width))
        self._kept[glyph] = width


def _kept_font(pango_font: Any) -> Any:
    """The Pango font, with a reference held so that it outlives the layout it came from
    (dropped with the drawings, when the font configuration is released). None where
    GObject's reference counting cannot be reached: then nothing is recorded."""
    from weasyprint.text.ffi import ffi

    address = int(ffi.cast("uintptr_t", pango_font))
    if address not in _kept_fonts:
        gobject = _gobject()
        if gobject is None:
            return None
        gobject.g_object_ref(ctypes.c_void_p(address))
        _kept_fonts[address] = pango_font
    return _kept_fonts[address]


def _release_kept_fonts() -> None:
    gobject = _gobject() if _kept_fonts else None
    for address in _kept_fonts:
        if gobject is not None:
            gobject.g_object_unref(ctypes.c_void_p(address))
    _kept_fonts.clear()


@functools.cache
def _gobject() -> Any:
    """GObject, the library WeasyPrint has loaded already (its declarations lack
    ``g_object_ref``, so it is called through ctypes)."""
    for name in ("libgobject-2.0.so.0", "libgobject-2.0.0.dylib", "libgobject-2.0-0.dll"):
        with contextlib.suppress(OSError):
            library = ctypes.CDLL(name)
            library.g_object_ref.argtypes = library.g_object_unref.argtypes = [ctypes.c_void_p]
            library.g_object_ref.restype = ctypes.c_void_p
            return library
    return None


# ------------------------------------------------------------------ drawing images

MAX_DRAWINGS_PER_IMAGE = 64  # sizes and stream states
DRAW_IMAGE_ARGS = ["self", "stream", "concrete_width", "concrete_height", "_style"]
# What WeasyPrint's SVG code may ask of a stream for its drawing to be replayed in
# another place or document: path and paint operators. Anything else (the current
# matrix, groups, patterns, text, images) ties the drawing to where it is drawn.
SVG_STREAM_CALLS = frozenset(
    {
        *("push_state", "pop_state", "transform", "move_to", "line_to", "curve_to", "close"),
        *("rectangle", "clip", "end", "fill", "stroke", "fill_and_stroke", "set_color"),
        *("set_dash", "set_line_cap", "set_line_join", "set_line_width", "set_miter_limit"),
    }
)
# What a stream remembers of its colours (it leaves out operators that would repeat
# them): a drawing is replayed only from the same state. Its current font is not part
# of the key (it is the document's own, and such a drawing sets no text): popping the
# graphics state clears it, and a replay does the same.
STREAM_STATE = (
    "_current_color",
    "_current_color_stroke",
    "_current_alpha",
    "_current_alpha_stroke",
)
SVG_CODE = f"{os.sep}weasyprint{os.sep}svg{os.sep}"
# Image -> {(width, height, stream state): its drawing (the operators it drew, the
# ExtGState resources they name and those it added, the stream state after), or None:
# drawn afresh every time, or _UNSEEN: drawn once}. Images are weak keys: an inline
# <svg> is an image of its own document, and must not keep that document alive.
_image_drawings: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], Any]] = (
    weakref.WeakKeyDictionary()
)
_watching: dict[type, type] = {}


def _images_drawn_once() -> None:
    from weasyprint.images import SVGImage

    plain = SVGImage.draw
    if hasattr(plain, "plain"):  # done already
        return
    if list(inspect.signature(plain).parameters) != DRAW_IMAGE_ARGS:
        return  # not the WeasyPrint this was written for

    def draw(self: Any, stream: Any, concrete_width: Any, concrete_height: Any, style: Any) -> None:
        key = (concrete_width, concrete_height, *(getattr(stream, n) for n in STREAM_STATE))
        drawings = _image_drawings.get(self)
        if drawings is None:
            drawings = _image_drawings[self] = {}
        known = drawings.get(key)
        if known is None and key not in drawings:  # recorded when drawn again, if ever
            if len(drawings) < MAX_DRAWINGS_PER_IMAGE:
                drawings[key] = _UNSEEN
            plain(self, stream, concrete_width, concrete_height, style)
        elif known is _UNSEEN:
            size = (concrete_width, concrete_height)
            drawings[key] = _recorded(plain, self, stream, *size, style)
        elif known is None or not _replayed(stream, *known):
            plain(self, stream, concrete_width, concrete_height, style)

    draw.plain = plain  # type: ignore[attr-defined]
    SVGImage.draw = draw


def _recorded(
    draw: Callable[..., None], image: Any, stream: Any, *args: Any
) -> tuple[Any, ...] | None:
    """Draw the image, watching the stream: what it drew, if that can be replayed."""
    operators, states = stream.stream, stream._resources["ExtGState"]
    start, last = len(operators), operators[-1] if operators else None
    resources, states_before = _resource_counts(stream), dict(states)
    depth = len(stream._ctm_stack)
    plain_class, stream.__class__ = stream.__class__, _watched(stream.__class__)
    stream.__dict__["_esafety_unusual"] = False
    warnings = _Counter()
    logging.getLogger("weasyprint").addHandler(warnings)
    try:
        draw(image, stream, *args)
    finally:
        logging.getLogger("weasyprint").removeHandler(warnings)
        stream.__class__ = plain_class
        unusual = stream.__dict__.pop("_esafety_unusual")
    # Transparency (set_alpha) adds its graphics state to the page's resources if the
    # page has none yet: such additions are kept with the drawing and made again.
    added = tuple((name, value) for name, value in states.items() if name not in states_before)
    resources["ExtGState"] += len(added)
    if (
        unusual
        or warnings.count
        or len(operators) < start
        or (start and operators[start - 1] is not last)
        or len(stream._ctm_stack) != depth
        or _resource_counts(stream) != resources
        or any(states[name] is not value for name, value in states_before.items())
    ):
        return None
    drawn = tuple(operators[start:])
    named = frozenset(
        op[1:-3].decode() for op in drawn if isinstance(op, bytes) and op.endswith(b" gs")
    )
    exit_state = (
        *(getattr(stream, name) for name in STREAM_STATE),
        stream._current_font is None,
    )
    return drawn, named, added, exit_state


def _replayed(
    stream: Any,
    drawn: tuple[Any, ...],
    named: frozenset[str],
    added: tuple[tuple[str, Any], ...],
    exit_state: tuple[Any, ...],
) -> bool:
    """Replay a drawing, as WeasyPrint would draw it here (else False, nothing done)."""
    states = stream._resources["ExtGState"]
    if not named <= states.keys() | {name for name, _ in added}:
        return False
    for name, value in added:
        if name not in states:
            states[name] = copy.copy(value)
    stream.stream.extend(drawn)
    *colours, font_cleared = exit_state
    for name, value in zip(STREAM_STATE, colours, strict=True):
        setattr(stream, name, value)
    if font_cleared:
        stream._current_font = None
    return True


def _resource_counts(stream: Any) -> dict[str, int]:
    return {name: len(value) for name, value in stream._resources.items() if value is not None}


def _watched(stream_class: type) -> type:
    """The stream's class, noting any call from WeasyPrint's SVG code other than the path
    and paint operators (``SVG_STREAM_CALLS``)."""
    if stream_class not in _watching:

        class Watched(stream_class):  # type: ignore[valid-type, misc]
            def __getattribute__(self, name: str) -> Any:
                if name not in SVG_STREAM_CALLS and SVG_CODE in sys._getframe(1).f_code.co_filename:
                    object.__getattribute__(self, "__dict__")["_esafety_unusual"] = True
                return super().__getattribute__(name)

        _watching[stream_class] = Watched
    return _watching[stream_class]


class _Counter(logging.Handler):
    """Counts WeasyPrint's log messages: a drawing that said something is not kept."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


# ------------------------------------------------------------------ Pango layouts

KEPT_LAYOUT = "_esafety_kept"
DRAWN = "_esafety_drawn"


def _layouts_kept_until_drawn() -> None:
    """WeasyPrint drops each line's Pango layout once the line is measured and makes it
    again, from its text and style, to draw it. Kept, it is drawn as it is: a fresh one
    would hold the same text in the same style, unless the line was justified (drawn
    with extra word spacing) or its box took another style since. A layout is kept only
    until it is drawn, and lines remembered by their text keep none."""
    from weasyprint.text.line_break import Layout

    deactivate, reactivate = Layout.deactivate, Layout.reactivate
    if hasattr(deactivate, "plain"):  # done already
        return
    if list(inspect.signature(reactivate).parameters) != ["self", "style"]:
        return  # not the WeasyPrint this was written for

    def deactivate_keeping(self: Any) -> None:
        if DRAWN not in self.__dict__:
            self.__dict__[KEPT_LAYOUT] = (self.layout, self.language, self.style)
        deactivate(self)

    def reactivate_kept(self: Any, style: Any) -> None:
        self.__dict__[DRAWN] = True
        kept = self.__dict__.pop(KEPT_LAYOUT, None)
        if kept is not None and kept[2] is style and not self.justification_spacing:
            self.layout, self.language, self.style = kept
        else:
            reactivate(self, style)

    deactivate_keeping.plain = deactivate  # type: ignore[attr-defined]
    reactivate_kept.plain = reactivate  # type: ignore[attr-defined]
    Layout.deactivate = deactivate_keeping
    Layout.reactivate = reactivate_kept


def _kept_per_style() -> None:
    """A style's strut (its line height and baseline) and Pango font description, worked
    out once per style rather than for every line set in it: WeasyPrint looked the strut
    up under a key it printed afresh each time, and made a new description for every
    layout. Both depend only on text properties, which a style never changes."""
    from weasyprint.css import computed_values, units
    from weasyprint.layout import inline
    from weasyprint.text import line_break

    strut, describe = line_break.strut, line_break.get_font_description
    if hasattr(strut, "plain"):  # done already
        return
    users = (line_break, inline, units, computed_values)
    if any(getattr(module, "strut", None) is not strut for module in users):
        return  # not the WeasyPrint this was written for

    def kept(name: str, work_out: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def per_style(style: Any) -> Any:
            found = style.__dict__.get(name)
            if found is None:
                found = style.__dict__[name] = per_style.plain(style)  # type: ignore[attr-defined]
            return found

        per_style.plain = work_out  # type: ignore[attr-defined]
        return per_style

    kept_strut = kept("_esafety_strut", strut)
    for module in users:
        module.strut = kept_strut
    line_break.get_font_description = kept("_esafety_font_description", describe)


# Every box attribute WeasyPrint's resolve_percentages sets (layout/percent.py).
RESOLVED_BOX_ATTRIBUTES = (
    *(f"{edge}_{side}" for edge in ("margin", "padding") for side in SIDES),
    *(f"{prefix}{axis}" for axis in ("width", "height") for prefix in ("", "min_", "max_")),
    *(f"border_{side}_width" for side in SIDES),
)


def _percentages_kept_per_style() -> None:
    """A box's used margins, paddings, borders and sizes follow from its style and the
    size of its containing block only: WeasyPrint works them out property by property
    each time a box is laid out (104,000 values in a policy). They are now kept per
    style and containing block size and set in one step. Collapsed table borders, which
    come from the neighbouring cells too, are left to WeasyPrint."""
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout import absolute, block, column, grid, inline, page, percent, table
    from weasyprint.layout import float as floats  # flex calls percent.resolve_percentages

    resolve = percent.resolve_percentages
    if hasattr(resolve, "plain"):  # done already
        return
    users = (percent, absolute, block, column, floats, grid, inline, page, table)
    if any(getattr(module, "resolve_percentages", None) is not resolve for module in users):
        return  # not the WeasyPrint this was written for
    if list(inspect.signature(resolve).parameters) != ["box", "containing_block"]:
        return

    def resolve_kept(box: Any, containing_block: Any) -> None:
        style = box.__dict__.get("style")  # absent from a placeholder, which passes it on
        if style is None or style["border_collapse"] == "collapse":
            return resolve_kept.plain(box, containing_block)  # type: ignore[attr-defined]
        if isinstance(containing_block, boxes.Box):
            size = (containing_block.width, containing_block.height)
        else:
            size = tuple(containing_block)
        key = (*size, isinstance(box, boxes.PageBox))
        kept = style.__dict__.setdefault("_esafety_resolved", {})
        values = kept.get(key)
        if values is None:
            resolve_kept.plain(box, containing_block)  # type: ignore[attr-defined]
            values = kept[key] = {name: box.__dict__[name] for name in RESOLVED_BOX_ATTRIBUTES}
        else:
            box.__dict__.update(values)
        return None

    resolve_kept.plain = resolve  # type: ignore[attr-defined]
    for module in users:
        module.resolve_percentages = resolve_kept


FORESEEN = "_esafety_foreseen"
BROKEN_AT = "_esafety_broken_at"  # the text Pango last broke, and where its line 1 starts
FORESIGHT_MARGIN = 2.0  # px: more than any kerning next to a space could take back


def _overflows_foreseen() -> None:
    """WeasyPrint breaks a line where Pango does, then checks that the next word would
    not fit on it after all by setting the line and that word in Pango again. Both are in
    the layout it has already: when the line's width and the word's own width already
    exceed the width available, the check is answered from them (Pango would break at
    the same place, since it fills a line greedily), and a quarter of the settings of
    text in Pango is saved. Near misses, spacing, tabs, soft hyphens and right-to-left
    text still go to Pango."""
    from weasyprint.text import line_break
    from weasyprint.text.ffi import FROM_UNITS, ffi, pango

    layout_class = line_break.Layout
    set_text, get_first_line = layout_class.set_text, layout_class.get_first_line
    if hasattr(set_text, "plain"):  # done already
        return
    if list(inspect.signature(set_text).parameters) != ["self", "text", "justify"]:
        return  # not the WeasyPrint this was written for

    def overflow(layout: Any, text: str, start: int) -> tuple[Any, int] | None:
        """Line 0 and ``start`` (where line 1 starts), if ``text`` (the layout's text cut
        inside its line 1) cannot fit on one line; else None (ask Pango)."""
        style, max_width = layout.style, layout.max_width
        if (
            max_width is None
            or style["direction"] != "ltr"
            or style["letter_spacing"] != "normal"
            or style["word_spacing"]
            or layout.justification_spacing
            or "\t" in text
            or "\xad" in text
        ):
            return None
        first = pango.pango_layout_get_line_readonly(layout.layout, 0)
        second = pango.pango_layout_get_line_readonly(layout.layout, 1)
        end = len(text.encode())
        if second == ffi.NULL or second.start_index != start or end > start + second.length:
            return None
        word = 0
        run = second.runs
        while run != ffi.NULL:
            item, glyphs = run.data.item, run.data.glyphs
            for i in range(glyphs.num_glyphs):
                if item.offset + glyphs.log_clusters[i] < end:
                    word += glyphs.glyphs[i].geometry.width
            run = run.next
        width, _height = line_break.line_size(first, style)
        if width + word * FROM_UNITS <= max_width + FORESIGHT_MARGIN:
            return None
        return first, start

    def set_text_foreseen(self: Any, text: str, justify: bool = False) -> None:
        # Only straight after Pango broke this very text (its lines are laid out already),
        # and only for a shorter text that reaches into the second line.
        broken = self.__dict__.pop(BROKEN_AT, None)
        if (
            broken is not None
            and not justify
            and broken[1] is not None
            and broken[0] is self.__dict__.get("text")
            and len(text) < len(broken[0])
            and broken[0].startswith(text)
            and len(text.encode()) > broken[1]
        ):
            foreseen = overflow(self, text, broken[1])
            if foreseen is not None:
                self.text = text
                self.__dict__[FORESEEN] = foreseen
                return
        self.__dict__.pop(FORESEEN, None)
        set_text(self, text, justify)

    def get_first_line_foreseen(self: Any) -> tuple[Any, int | None]:
        foreseen = self.__dict__.pop(FORESEEN, None)
        if foreseen is not None:
            first, start = foreseen
            self.first_line_direction = first.resolved_dir
            return first, start
        first, start = get_first_line(self)
        self.__dict__[BROKEN_AT] = (self.__dict__.get("text"), start)
        return first, start

    set_text_foreseen.plain = set_text  # type: ignore[attr-defined]
    get_first_line_foreseen.plain = get_first_line  # type: ignore[attr-defined]
    layout_class.set_text = set_text_foreseen
    layout_class.get_first_line = get_first_line_foreseen


# ------------------------------------------------------------------ computed styles

MAX_SHARED_STYLES = 4_000  # a school's documents make about 1,250 (4 MB)
# Computed styles kept from one document to the next (see _styles_shared). A key names
# its parent style by id: the parent is kept here too, so no other object takes its id.
_shared_styles: dict[tuple[Any, ...], Any] = {}
_shared_ids: set[int] = set()  # the styles in _shared_styles


def _styles_shared() -> None:
    from weasyprint.css import StyleFor
    from weasyprint.layout.page import PageType

    compute = StyleFor.set_computed_styles
    if hasattr(compute, "plain"):  # done already
        return
    if list(inspect.signature(compute).parameters) != SET_COMPUTED_STYLES_ARGS:
        return  # not the WeasyPrint this was written for

    def set_computed_styles(
        self: Any,
        element: Any,
        parent: Any,
        root: Any = None,
        pseudo_type: str | None = None,
        base_url: str | None = None,
        target_collector: Any = None,
    ) -> None:
        computed = self.get_computed_styles()
        if isinstance(element, PageType) or pseudo_type in DOCUMENT_PSEUDO_ELEMENTS:
            shared, key = _document_style_key(self, element, parent, pseudo_type)
        elif pseudo_type is None or pseudo_type in KEPT_PSEUDO_ELEMENTS:
            shared, key = _shared_style_key(self, element, parent, pseudo_type, base_url)
        else:
            shared = key = None
        style = None if shared is None else shared.get(key)
        if style is None:
            compute(self, element, parent, root, pseudo_type, base_url, target_collector)
            if shared is not None:
                _keep(shared, key, computed[element, pseudo_type], parent is None or parent == root)
            return None
        computed[element, pseudo_type] = style
        if target_collector and style["anchor"]:
            target_collector.collect_anchor(style["anchor"])
        return None

    set_computed_styles.plain = compute  # type: ignore[attr-defined]
    StyleFor.set_computed_styles = set_computed_styles


def _shared_style_key(
    style_for: Any, element: Any, parent: Any, pseudo_type: str | None, base_url: Any
) -> tuple[dict[Any, Any] | None, tuple[Any, ...] | None]:
    """Where an element's or pseudo-element's style is shared from, and its key there:
    what its computed values follow from. The key holds the declared values themselves
    (values parsed from the same text are equal, and tokens equal only themselves), and
    names the parent style by id only when the parent is shared as well."""
    if parent is None:  # the root: a new document
        if len(_shared_styles) >= MAX_SHARED_STYLES:
            forget_shared_styles()
        parent_id = None
    else:
        parent_id = id(style_for.get_computed_styles()[parent, None])
        if parent_id not in _shared_ids:
            if pseudo_type is None:
                return None, None  # WeasyPrint shares it within the document already
            return _document_style_key(style_for, element, parent, pseudo_type)
    config = style_for.font_config
    cascaded = style_for.get_cascaded_styles().get((element, pseudo_type), {})
    declared = tuple((name, values, weight) for name, (values, weight) in cascaded.items())
    try:
        hash(declared)
    except TypeError:  # a list among the values (a content list, say): kept as itself
        declared = tuple((name, _hashable(values), weight) for name, values, weight in declared)
    key = (
        _font_config_number(config),
        len(getattr(config, "_esafety_faces", ())),
        base_url,
        parent_id,
        pseudo_type,
        declared,
    )
    return _shared_styles, key


class _Itself:
    """A value in a key that equals only itself (and keeps it alive)."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Itself) and other.value is self.value


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return _Itself(value)
    return value


def _document_style_key(
    style_for: Any, element: Any, parent: Any, pseudo_type: str | None
) -> tuple[dict[Any, Any] | None, tuple[Any, ...] | None]:
    """Where a style is shared within its document only, and its key there: the same
    parent style and the same declarations (each one object of a stylesheet for the
    whole document). Page and margin box styles stay in their document, because
    WeasyPrint writes each page's counters and overflow into them."""
    if parent is None:
        return None, None
    cascaded = style_for.get_cascaded_styles().get((element, pseudo_type), {})
    key = (
        type(element),  # a page or an element
        id(style_for.get_computed_styles()[parent, None]),
        pseudo_type,
        tuple((name, id(values)) for name, (values, _weight) in cascaded.items()),
    )
    return style_for.__dict__.setdefault("_esafety_document_styles", {}), key


def _keep(shared: dict[Any, Any], key: tuple[Any, ...], style: Any, top: bool) -> None:
    if shared is not _shared_styles:
        shared[key] = style
    elif not top or style["overflow"] == "visible":
        # WeasyPrint moves the root's or body's overflow to the page and sets it to
        # visible in the style: only a style that has it visible already is the same after.
        shared[key] = style
        _shared_ids.add(id(style))


def forget_shared_styles() -> None:
    _shared_styles.clear()
    _shared_ids.clear()


# ------------------------------------------------------------------ C types


def parse_c_types() -> None:
    """Parse the C types WeasyPrint names, once (in the PDF server: every worker forked
    after it starts with them)."""
    from weasyprint.text.ffi import ffi

    _sized_arrays_by_element_type(ffi)
    for name in C_TYPES:
        with contextlib.suppress(Exception):  # a type this WeasyPrint does not declare
            ffi.typeof(name)


def _sized_arrays_by_element_type(ffi: Any) -> None:
    """``ffi.new("T[n]", items)`` with n items made as ``ffi.new("T[]", items)``: the same
    array, without parsing a new type name for every n."""
    new = ffi.new
    if hasattr(new, "plain"):  # done already
        return

    def new_array_once(cdecl: Any, init: Any = None) -> Any:
        if isinstance(cdecl, str) and isinstance(init, list | tuple):
            sized = SIZED_ARRAY.match(cdecl)
            if sized and int(sized[2]) == len(init):
                return new(f"{sized[1]}[]", init)
        return new(cdecl, init)

    new_array_once.plain = new  # type: ignore[attr-defined]
    ffi.new = new_array_once


# ------------------------------------------------------------------ pydyf


def _page_references_built_once() -> None:
    import pydyf

    built = getattr(pydyf.PDF, "page_references", None)
    if not isinstance(built, property) or built.fget is None:  # not the pydyf this knows
        return
    build = built.fget
    if hasattr(build, "plain"):  # done already
        return

    def page_references(pdf: Any) -> tuple[bytes, ...]:
        count = len(pdf.pages["Kids"])
        kept = pdf.__dict__.get("_esafety_page_references")
        if kept is None or kept[0] != count:
            kept = pdf.__dict__["_esafety_page_references"] = count, build(pdf)
        return kept[1]

    page_references.plain = build  # type: ignore[attr-defined]
    pydyf.PDF.page_references = property(page_references)


def _bytes_by_type() -> None:
    """pydyf turns every operand and name of a PDF into bytes with ``_to_bytes``, through
    a chain of ``isinstance`` tests: 190,000 calls for a school's PDFs. The common types
    are told apart by their exact type first; anything else takes pydyf's own path."""
    import pydyf

    plain = getattr(pydyf, "_to_bytes", None)
    if plain is None or hasattr(plain, "plain") or plain(1.5) != b"1.5" or plain(2.0) != b"2":
        return  # done already, or not the pydyf this was written for

    def to_bytes(item: Any) -> Any:
        kind = type(item)
        if kind is bytes:
            return item
        if kind is float:
            if item.is_integer():
                return str(int(item)).encode("ascii")
            return f"{item:f}".rstrip("0").encode("ascii")
        if kind is int:
            return str(item).encode("ascii")
        if kind is str:
            return item.encode("ascii")
        return plain(item)

    to_bytes.plain = plain  # type: ignore[attr-defined]
    pydyf._to_bytes = to_bytes


def _deflate_at_default_level() -> None:
    import pydyf

    if getattr(pydyf, "zlib", None) is zlib:  # only the pydyf this was written for
        pydyf.zlib = _ZlibAtDefaultLevel()


class _ZlibAtDefaultLevel:
    """zlib as pydyf sees it: the same module, but every compressor at the default level."""

    def __getattr__(self, name: str) -> Any:
        return getattr(zlib, name)

    @staticmethod
    def compressobj(level: int = zlib.Z_DEFAULT_COMPRESSION, *args: Any, **kwargs: Any) -> Any:
        return zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, *args, **kwargs)
