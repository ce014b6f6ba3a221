"""generator/flowcharts.py: accessible SVG flowcharts laid out from a data description."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from generator import flowcharts
from generator.flowcharts import Branch, Chart, ChartError, Colours, Step

SVG = "{http://www.w3.org/2000/svg}"
COLOURS = Colours(stroke="#245c3a", fill="#e9efeb")


def sample(key: str = "sample", **changes: object) -> Chart:
    steps = (
        Step("A pupil tells you something online worries them.", "start"),
        Step(
            "Is the pupil in immediate danger?",
            "decision",
            Branch("Yes", "Call 999, then tell the DSL at once.", rejoin=True),
            "No",
        ),
        Step("Tell the DSL, Mr Daniel O'Connor, the same day."),
        Step(
            "Does the DSL judge that outside help is needed?",
            "decision",
            Branch("Yes", "The DSL refers to children's social care.", kind="end"),
            "No",
        ),
        Step("Record it in CPOMS.", "end"),
    )
    fields = {
        "key": key,
        "title": "A concern about a pupil",
        "description": "What staff do when worried about a pupil.",
        "steps": steps,
    }
    fields.update(changes)
    return Chart(**fields)  # type: ignore[arg-type]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_svg_is_accessible_with_title_desc_and_real_text():
    root = parse(flowcharts.draw(sample(), COLOURS))
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and title.text == "A concern about a pupil"
    assert desc is not None and desc.text == "What staff do when worried about a pupil."
    assert root.get("aria-labelledby") == title.get("id") == "fc-sample-title"
    assert root.get("aria-describedby") == desc.get("id") == "fc-sample-desc"
    words = " ".join(texts(root))
    for phrase in ("immediate danger?", "Call 999", "O'Connor", "Record it in CPOMS.", "Yes", "No"):
        assert phrase in words


def test_every_word_of_every_step_is_drawn():
    chart = sample()
    drawn = " ".join(texts(parse(flowcharts.draw(chart, COLOURS)))).split()
    expected = []
    for step in chart.steps:
        expected += step.text.split()
        if step.branch:
            expected += step.branch.text.split()
    for word in expected:
        assert word in drawn


def test_no_script_and_no_external_references():
    svg = flowcharts.draw(sample(), COLOURS)
    assert "<script" not in svg and "href" not in svg and "url(" not in svg
    assert "\n\n" not in svg  # a blank line would end a raw HTML block in Markdown


def test_values_are_xml_escaped():
    hostile = '<script>alert("x")</script> & [x](javascript:alert(1))'
    chart = sample(
        title=hostile,
        description=hostile,
        steps=(Step(hostile, "start"), Step(f"Tell {hostile}", "end")),
    )
    svg = flowcharts.draw(chart, COLOURS)
    assert "<script" not in svg
    root = parse(svg)  # still well-formed XML
    assert root.find(f"{SVG}title").text == hostile
    assert any("<script>" in t for t in texts(root))


def test_lines_fit_inside_their_boxes():
    long = (
        "Tell the designated safeguarding lead, Mrs Beatriz Gonçalves-Featherstonehaugh, "
        "the same day, and write down exactly what you saw and heard in the log."
    )
    chart = sample(
        steps=(
            Step(long, "start"),
            Step("Is it urgent?", "decision", Branch("Yes", long, kind="end"), "No"),
            Step(long, "end"),
        )
    )
    root = parse(flowcharts.draw(chart, COLOURS))
    limit = flowcharts.MAIN_W - 2 * flowcharts.PAD_X
    side_limit = flowcharts.SIDE_W - 2 * flowcharts.PAD_X
    for element in root.iter(f"{SVG}text"):
        if element.get("font-size"):  # arrow labels
            continue
        width = flowcharts.text_width(element.text or "", bold=element.get("font-weight") == "bold")
        x = float(element.get("x"))
        assert width <= (limit if x < flowcharts.MARGIN + flowcharts.MAIN_W else side_limit) + 0.01


def test_print_version_has_the_same_picture_and_words_as_positioned_html():
    """For WeasyPrint the words are HTML spans over an SVG of the shapes alone: the same
    shapes, the same lines in the same order, each placed inside the chart's width."""
    chart = sample()
    svg_root = parse(flowcharts.draw(chart, COLOURS))
    printed = flowcharts.draw_for_print(chart, COLOURS)
    assert "\n" not in printed
    root = parse(printed)
    assert root.tag == "div" and "height" in root.get("style", "")
    shapes = root.find(f"{SVG}svg")
    assert shapes is not None and shapes.find(f"{SVG}title").text == chart.title
    assert list(shapes.iter(f"{SVG}text")) == []
    drawn = [e.tag for e in svg_root if e.tag != f"{SVG}text"]
    assert [e.tag for e in shapes] == drawn
    spans = root.findall("span")
    lines = [line for s in spans for line in [s.text, *(br.tail for br in s)]]
    assert lines == texts(svg_root)
    assert len(spans) < len(lines)  # one box per step, not one per line
    for span in spans:
        style = dict(part.split(": ") for part in span.get("style").split("; "))
        left, width = float(style["left"][:-2]), float(style["width"][:-2])
        assert left >= 0 and left + width <= flowcharts.WIDTH * flowcharts.PRINT_SCALE + 0.1


def test_print_version_escapes_values():
    hostile = '<script>alert("x")</script> & more'
    printed = flowcharts.draw_for_print(sample(steps=(Step(hostile, "start"),)), COLOURS)
    assert "<script" not in printed
    assert any("<script>" in "".join(s.itertext()) for s in parse(printed).iter("span"))


def test_wrap_splits_on_words_and_breaks_overlong_words():
    assert flowcharts.wrap("one two three", 10_000) == ["one two three"]
    lines = flowcharts.wrap("one two three four five six", 60)
    assert len(lines) > 1 and " ".join(lines) == "one two three four five six"
    pieces = flowcharts.wrap("x" * 80, 100)
    assert all(flowcharts.text_width(p) <= 100 for p in pieces)
    assert "".join(p.rstrip("-") for p in pieces) == "x" * 80


def test_height_grows_with_the_number_of_steps():
    def height(n: int) -> float:
        svg = flowcharts.draw(sample(steps=tuple(Step(f"Step {i}") for i in range(n))), COLOURS)
        return float(parse(svg).get("height"))

    assert height(2) < height(4) < height(8)
    assert float(parse(flowcharts.draw(sample(), COLOURS)).get("width")) == flowcharts.WIDTH


def test_same_input_same_bytes():
    assert flowcharts.draw(sample(), COLOURS) == flowcharts.draw(sample(), COLOURS)
    assert not re.search(r"\d\.\d\d", flowcharts.draw(sample(), COLOURS))


def test_ids_follow_the_chart_key():
    svg = flowcharts.draw(sample(key="illegal"), COLOURS)
    assert 'id="fc-illegal-title"' in svg and 'id="fc-illegal-desc"' in svg


@pytest.mark.parametrize(
    "steps, message",
    [
        ((), "at least one step"),
        ((Step("x", "oval"),), "kind 'oval'"),
        ((Step("q?", "decision", Branch("Yes", "y", rejoin=True)),), "rejoin"),
        (
            (
                Step("q?", "decision", Branch("Yes", "y", rejoin=True)),
                Step("r?", "decision", Branch("Yes", "z")),
            ),
            "rejoin",
        ),
    ],
)
def test_impossible_charts_are_refused(steps, message):
    with pytest.raises(ChartError, match=message):
        flowcharts.draw(sample(steps=steps), COLOURS)


def test_font_metrics_are_kept_per_machine_and_measured_again_when_damaged(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    flowcharts._font_metrics.cache_clear()
    try:
        measured = flowcharts._font_metrics(False)
        (kept,) = (tmp_path / "esafety-pack").glob("metrics-Andika-Regular-*.json")
        flowcharts._font_metrics.cache_clear()
        measure = flowcharts._measure
        monkeypatch.setattr(flowcharts, "_measure", lambda _font: pytest.fail("measured again"))
        assert flowcharts._font_metrics(False) == measured  # read back, the same numbers
        monkeypatch.setattr(flowcharts, "_measure", measure)
        widths, fallback, ascent, descent = measured
        assert widths[ord("W")] > widths[ord("i")] > 0 and ascent > 0 < descent
        kept.write_text("{damaged", encoding="utf-8")
        flowcharts._font_metrics.cache_clear()
        assert flowcharts._font_metrics(False) == measured
        assert kept.read_text(encoding="utf-8").startswith("[{")  # written afresh
    finally:
        flowcharts._font_metrics.cache_clear()
