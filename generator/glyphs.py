"""Drawing a line's glyphs: WeasyPrint's own loop, with Pango's glyph arrays read at once.

To draw a line of text, WeasyPrint walks Pango's glyph runs and turns each glyph into PDF
text operators in Python, reading every glyph's number, width and offsets through cffi,
one field at a time, and looking up the same constants and font attributes for every
glyph. Here each run's glyphs are read from Pango's array in one call
(``struct.iter_unpack``), the look-ups are hoisted and a glyph and its kerning are
written in one append; otherwise the loop is WeasyPrint's, step for step: the same
operators, in the same order, with the same numbers (a sixth off the loop's time, about
4% of a cold policy's). Lines with an ellipsis keep WeasyPrint's own function.

A speed-up of ``speedups.py`` (installed from there, before the lines drawn once, which
call this to draw and to record); written for WeasyPrint 70's ``draw/text.py``.
"""

from __future__ import annotations

import inspect
import struct
from typing import Any

# PangoGlyphInfo: glyph (guint32), geometry (width, x_offset, y_offset: gint32), attr.
_GLYPH_INFO = struct.Struct("=I3i4x")
DRAW_FIRST_LINE_ARGS = ["stream", "textbox", "text_overflow", "block_ellipsis", "matrix"]


def install() -> None:
    """Put the fast loop in place of ``draw_first_line``, if this is the WeasyPrint (and
    the Pango glyph layout) it was written for."""
    from weasyprint.draw import text

    plain = text.draw_first_line
    if hasattr(plain, "plain"):
        return  # done already (or wrapped by the lines drawn once)
    ffi = text.ffi
    if (
        list(inspect.signature(plain).parameters) != DRAW_FIRST_LINE_ARGS
        or ffi.sizeof("PangoGlyphInfo") != _GLYPH_INFO.size
        or ffi.offsetof("PangoGlyphInfo", "geometry") != 4
        or text.pango.pango_version() < 14802  # older Pango: sizes come from the style
    ):
        return
    text.draw_first_line = _fast_first_line(plain)


def _fast_first_line(plain: Any) -> Any:
    from weasyprint.draw import text

    pango = text.pango

    def draw_first_line(
        stream: Any, textbox: Any, text_overflow: Any, block_ellipsis: Any, matrix: Any
    ) -> Any:
        if text_overflow == "ellipsis" or block_ellipsis != "none":
            return plain(stream, textbox, text_overflow, block_ellipsis, matrix)
        # Don't draw lines with only invisible characters.
        if not textbox.text.strip():
            return []
        if textbox.style["font_size"] < 1e-6:  # default float precision used by pydyf
            return []
        pango.pango_layout_set_single_paragraph_mode(textbox.pango_layout.layout, True)
        first_line, _index = textbox.pango_layout.get_first_line()
        stream.set_text_matrix(*matrix.values)
        return _draw_runs(stream, textbox, first_line.runs[0], text)

    draw_first_line.plain = plain  # type: ignore[attr-defined]
    return draw_first_line


def _draw_runs(stream: Any, textbox: Any, run: Any, text: Any) -> list[Any]:
    """WeasyPrint's loop over a line's runs and glyphs (``text``: its draw/text.py module),
    its names kept."""
    ffi, pango, FROM_UNITS, LOGGER = text.ffi, text.pango, text.FROM_UNITS, text.LOGGER  # noqa: N806
    empty, unknown = pango.PANGO_GLYPH_EMPTY, pango.PANGO_GLYPH_UNKNOWN_FLAG
    null = ffi.NULL
    previous_pango_font = None
    string = ""
    x_advance = 0
    emojis: list[Any] = []
    font: Any = None
    font_size: Any = None
    while run != null:
        # Get Pango objects.
        glyph_item = run.data
        run = run.next
        glyph_string = glyph_item.glyphs
        num_glyphs = glyph_string.num_glyphs
        utf8_text = None

        pango_font = glyph_item.item.analysis.font
        if pango_font != previous_pango_font:
            # Add font file content and get font size.
            previous_pango_font = pango_font
            font, font_size = stream.add_font(pango_font)
            if font.png:  # raster emoji fonts take their size from the style (#2800)
                font_size = textbox.style["font_size"]
            if string:
                stream.show_text(string)
            string = ""
            stream.set_font_size(font.hash, 1 if font.bitmap else font_size)
        string += "<"
        bitmap, widths, to_unicode = font.bitmap, font.widths, font.to_unicode
        hex_digits = "02x" if bitmap else "04x"
        emoji_font = font.svg or font.png or font.colr
        raw = ffi.buffer(glyph_string.glyphs, num_glyphs * _GLYPH_INFO.size)
        for i, (glyph_id, width, x_offset, y_offset) in enumerate(_GLYPH_INFO.iter_unpack(raw)):
            # Display zero-width empty glyph.
            if glyph_id == empty:
                string += f">{-width / font_size}<"
                continue

            # Display .notdef and log warning for missing glyphs.
            if glyph_id & unknown:
                codepoint = glyph_id - unknown
                LOGGER.warning(
                    '.notdef glyph rendered for Unicode string unsupported by fonts: "%s" (U+%04X)',
                    chr(codepoint),
                    codepoint,
                )
                glyph_id = font.get_unused_glyph_id(codepoint)
                widths[glyph_id] = round(width * 1000 * FROM_UNITS / font_size)
                if 0 not in widths:
                    widths[0] = widths[glyph_id]

            # Create mapping between glyphs and Unicode codepoints.
            if glyph_id not in to_unicode:
                utf8_text = utf8_text or textbox.pango_layout.text.encode()
                to_unicode[glyph_id] = _glyph_text(glyph_item, i, num_glyphs, utf8_text)

            # Set horizontal and vertical offsets.
            offset = x_offset / font_size
            rise = y_offset / 1000
            if rise:
                if string[-1] == "<":
                    string = string[:-1]
                else:
                    string += ">"
                if string:
                    stream.show_text(string)
                stream.set_text_rise(-rise)
                string = ""
                if offset:
                    string = f"{-offset}"
                string += f"<{glyph_id:02x}>" if bitmap else f"<{glyph_id:04x}>"
                stream.show_text(string)
                stream.set_text_rise(0)
                string = "<"
            elif offset:
                string += f">{-offset}<"
            # (The glyph is written below, with its kerning: one append, not two.)

            # Get glyph logical widths.
            if glyph_id in widths:
                logical_width = widths[glyph_id]
            else:
                pango.pango_font_get_glyph_extents(
                    pango_font, glyph_id, stream.ink_rect, stream.logical_rect
                )
                logical_width = widths[glyph_id] = round(
                    stream.logical_rect.width * 1000 * FROM_UNITS / font_size
                )

            # Set kerning, word spacing, letter spacing.
            kerning = logical_width + offset - width * 1000 * FROM_UNITS / font_size
            if rise:
                if kerning:
                    string += f">{int(kerning)}<"
            elif kerning:
                string += f"{glyph_id:{hex_digits}}>{int(kerning)}<"
            else:
                string += f"{glyph_id:{hex_digits}}"

            if emoji_font:  # colour glyphs: WeasyPrint's own code, unchanged
                _add_emoji(
                    emojis,
                    stream,
                    textbox,
                    font,
                    pango_font,
                    glyph_id,
                    logical_width,
                    kerning,
                    x_advance,
                )

            x_advance += (logical_width + offset - kerning) / 1000

        # Close the last glyphs list, remove if empty.
        if string[-1] == "<":
            string = string[:-1]
        else:
            string += ">"

    # Draw text.
    stream.show_text(string)
    return emojis


def _glyph_text(glyph_item: Any, i: int, num_glyphs: int, utf8_text: bytes) -> str:
    """The text a glyph stands for: its cluster's bytes of the layout's UTF-8 text."""
    clusters = glyph_item.glyphs.log_clusters
    offset = glyph_item.item.offset
    t1 = clusters[i]
    if glyph_item.item.analysis.level % 2:  # rtl
        t2 = glyph_item.item.length if i == 0 else clusters[i - 1]
    else:
        t2 = glyph_item.item.length if i == num_glyphs - 1 else clusters[i + 1]
    return utf8_text[offset + t1 : offset + t2].decode()


def _add_emoji(
    emojis: list[Any],
    stream: Any,
    textbox: Any,
    font: Any,
    pango_font: Any,
    glyph_id: int,
    logical_width: Any,
    kerning: Any,
    x_advance: Any,
) -> None:
    """Create the list of emojis, as WeasyPrint's loop does for fonts with colour glyphs."""
    from io import BytesIO
    from xml.etree import ElementTree

    from weasyprint.draw.text import FROM_UNITS, Image, RasterImage, SVGImage, get_hb_object_data
    from weasyprint.text.ffi import pango

    if font.svg:
        svg_data = get_hb_object_data(font.hb_face, "svg", glyph_id)
        if svg_data:
            tree = ElementTree.fromstring(svg_data)
            if tree.get("id") != f"glyph{glyph_id}":
                defs = ElementTree.Element("defs")
                for child in list(tree):
                    defs.append(child)
                    tree.remove(child)
                tree.append(defs)
                ElementTree.SubElement(tree, "use", attrib={"href": f"#glyph{glyph_id}"})
            if "viewBox" not in tree.attrib:
                tree.attrib["viewBox"] = f"0 0 {font.upem} {font.upem}"
            image = SVGImage(tree, None, None, None)
            emojis.append([image, font, 1, 1, x_advance, 0])
    elif font.png:
        png_data = get_hb_object_data(font.hb_font, "png", glyph_id)
        if png_data:
            pillow_image = Image.open(BytesIO(png_data))
            image_id = f"{font.hash}{glyph_id}"
            image = RasterImage(pillow_image, image_id, png_data)
            d = logical_width / 1000
            a = pillow_image.width / pillow_image.height * d
            pango.pango_font_get_glyph_extents(
                pango_font, glyph_id, stream.ink_rect, stream.logical_rect
            )
            f = -stream.logical_rect.y
            f = f * FROM_UNITS / textbox.style["font_size"] - textbox.style["font_size"]
            emojis.append([image, font, a, d, x_advance, f])
    elif font.colr:
        svg_data = get_hb_object_data(font.hb_font, "colr", glyph_id)
        if svg_data:
            tree = ElementTree.fromstring(svg_data)
            image = SVGImage(tree, None, None, None)
            emojis.append([image, font, 1, 1, x_advance - kerning, -textbox.baseline])
