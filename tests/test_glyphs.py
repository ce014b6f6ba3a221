"""generator/glyphs.py: WeasyPrint's glyph loop with Pango's arrays read at once: the
same bytes as WeasyPrint's own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from generator import speedups
from generator.pdf import BASE_URL, TEMPLATES_DIR
from generator.render import PdfTask, render_task

# Every path of the loop the fonts here can take: marks set above and below their letter
# (offsets and rises), a zero-width space (an empty glyph), a character no font has (a
# .notdef box), right-to-left words, justified and letter-spaced lines (kerning), a
# ligature, bold and italic runs, several sizes, and a line set in two fonts.
TRICKY = """<title>t</title>
<style>
  @font-face { font-family: Andika; src: url("../fonts/Andika-Regular.ttf"); }
  body { font-family: "DejaVu Sans", sans-serif; font-size: 11pt; }
  .mixed { font-family: Andika, "DejaVu Sans"; }
  .j { text-align: justify; width: 90mm; }
  .s { letter-spacing: 1.3px; word-spacing: 4px; }
  .big { font-size: 23.7pt; }
</style>
<p>Diacritics stacked: q\u0303\u0323 e\u0301\u0323\u0302 x\u0302\u0302\u0302 A\u030a\u0301.</p>
<p>A zero\u200bwidth space, and a private character: \ue000\ue001 here.</p>
<p dir="rtl">\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd and some English words</p>
<p class="j">Offices affix official efficient waffles; justified lines spread their words
out across the full measure, so every gap gets a little more room than its neighbour.</p>
<p class="s">Letter-spaced words <b>in bold</b> and <i>in italic</i>, with figures 0123.</p>
<p class="big">Large type: Wave, AVAT, fi fl ffi.</p>
<p class="mixed">One line, two fonts: Andika's letters and \u05e9\u05dc\u05d5\u05dd from DejaVu.</p>
"""


@pytest.fixture(scope="module")
def installed() -> None:
    render_task(PdfTask("t.pdf", "<title>t</title><p>x</p>", "file:///", (), "0"))
    from weasyprint.draw import text

    wrapper = text.draw_first_line  # the lines drawn once, around our loop
    assert wrapper.plain.__module__ == "generator.glyphs", "the fast glyph loop is not in place"


@contextmanager
def weasyprints_glyph_loop() -> Iterator[None]:
    """WeasyPrint's own draw_first_line under the lines drawn once, in place of ours."""
    from weasyprint.draw import text

    wrapper = text.draw_first_line  # the lines drawn once: it calls the loop it captured
    cells = dict(zip(wrapper.__code__.co_freevars, wrapper.__closure__ or (), strict=True))
    cell = cells["plain_first_line"]
    fast = cell.cell_contents
    cell.cell_contents = fast.plain
    try:
        yield
    finally:
        cell.cell_contents = fast


def task(html: str) -> PdfTask:
    return PdfTask("t.pdf", html, BASE_URL, (str(TEMPLATES_DIR),), "0")


def rendered(html: str) -> bytes:
    speedups.forget_line_breaks()  # every line drawn afresh, none replayed
    return render_task(task(html)).data


def test_tricky_lines_draw_the_same_bytes_as_weasyprints_loop(installed: None) -> None:
    fast = rendered(TRICKY)
    with weasyprints_glyph_loop():
        plain = rendered(TRICKY)
    assert fast == plain


def test_the_loop_is_ours_and_wraps_weasyprints(installed: None) -> None:
    from weasyprint.draw import text

    wrapper = text.draw_first_line
    cells = dict(zip(wrapper.__code__.co_freevars, wrapper.__closure__ or (), strict=True))
    fast = cells["plain_first_line"].cell_contents
    assert fast.__module__ == "generator.glyphs"
    assert fast.plain.__module__ == "weasyprint.draw.text"


def test_recorded_lines_replay_the_same_bytes_with_either_loop(installed: None) -> None:
    """A line's drawing recorded through our loop replays as WeasyPrint's would draw it."""
    with weasyprints_glyph_loop():
        plain = rendered(TRICKY)
    speedups.forget_line_breaks()
    speedups.record_drawings_at_first_sight(True)
    try:
        recorded = render_task(task(TRICKY)).data
        replayed = render_task(task(TRICKY)).data
    finally:
        speedups.record_drawings_at_first_sight(False)
    assert recorded == plain and replayed == plain
