"""Classroom posters read back from their PDFs: type readable at five metres, few words,
big pictures, one page, and no date that goes stale on the wall."""

from __future__ import annotations

import logging
import re
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import pypdf
import pytest
from conftest import SCHOOL_NAMES, school_path
from helpers import _matrix, pdf_text, squash, text_pieces
from pypdf.generic import ContentStream

from generator.brand import POSTER_COLOURS, POSTER_TINT, contrast, tint
from generator.build import build
from generator.compose import Composer
from generator.config import load_config
from generator.markup import to_plain_text
from generator.pdf import small_posters

MM = 72 / 25.4
PAPER = {"A3": 1.0, "A4": 0.707}
MIN_BODY_PT = {"ks1": 48, "ks2": 36, "ks3": 30}  # on A3
MAX_WORDS = {"ks1": 90, "ks2": 130, "ks3": 160}
# Schools whose posters are A3 or A4 landscape, as most classrooms hang them: the minimum
# sizes hold there for every rule set (see NOTES: a portrait KS1 poster of nine rules
# is scaled below them rather than cut off).
LANDSCAPE = [
    n for n in SCHOOL_NAMES if load_config(school_path(n)).posters.orientation == "landscape"
]
SETS = [(n, key) for n in LANDSCAPE for key in load_config(school_path(n)).rule_sets]


def text_sizes(pdf: Path) -> list[tuple[str, float]]:
    """Each piece of text on page 1 with its size on paper in points."""
    return [(text, size) for text, size, _ in text_pieces(pdf)]


def figure_boxes_mm(pdf: Path) -> list[tuple[float, float]]:
    """Width and height (mm) of each tagged figure (picture) on page 1: the extent of its
    drawing's paths, with the transformation matrix followed."""
    reader = pypdf.PdfReader(pdf)
    page = reader.pages[0]
    boxes, ctm, stack = [], [1.0, 0, 0, 1.0, 0, 0], []
    depth, points = 0, None
    for args, op in ContentStream(page.get_contents(), reader).operations:
        if op == b"q":
            stack.append(ctm)
        elif op == b"Q":
            ctm = stack.pop()
        elif op == b"cm":
            ctm = _matrix([float(a) for a in args], ctm)
        elif op == b"BDC":
            depth += 1
            if args[0] == "/Figure" and points is None:
                points, figure_depth = [], depth
        elif op == b"EMC":
            if points is not None and depth == figure_depth:
                xs, ys = [p[0] for p in points], [p[1] for p in points]
                boxes.append(((max(xs) - min(xs)) / MM, (max(ys) - min(ys)) / MM))
                points = None
            depth -= 1
        elif points is not None and op in (b"m", b"l", b"c", b"re"):
            nums = [float(a) for a in args]
            pairs = [(nums[0], nums[1]), (nums[0] + nums[2], nums[1] + nums[3])] if op == b"re" \
                else list(zip(nums[0::2], nums[1::2], strict=True))  # fmt: skip
            a, b, c, d, e, f = ctm
            points += [(a * x + c * y + e, b * x + d * y + f) for x, y in pairs]
    return boxes


def words(pdf: Path) -> int:
    return len([w for w in pdf_text(pdf).split() if re.search(r"\w", w)])


@pytest.mark.parametrize(("school", "key"), SETS)
def test_rule_poster_is_readable_at_five_metres(built_sites: Any, school: str, key: str) -> None:
    config = load_config(school_path(school))
    pdf = built_sites(school).site_dir / "downloads" / f"poster-{key}.pdf"
    assert len(pypdf.PdfReader(pdf).pages) == 1
    rule_set = Composer(config, school_path(school).parent).rule_set(key)
    said = [squash(to_plain_text(t)) for r in rule_set.rules for t in (r.headline, r.line)]
    said.append(squash(to_plain_text(rule_set.poster_help)))
    floor = MIN_BODY_PT[key] * PAPER[config.posters.paper] - 0.05
    rule_pieces = [(t, s) for t, s in text_sizes(pdf) if any(squash(t) in x for x in said)]
    assert len(rule_pieces) >= len(rule_set.rules)
    small = [(t, round(s, 1)) for t, s in rule_pieces if s < floor]
    assert small == [], f"{pdf.name}: text below {floor:.1f} pt"
    assert words(pdf) <= MAX_WORDS[key], f"{pdf.name}: {words(pdf)} words"


def test_a_poster_shrunk_below_its_readable_size_is_said(
    make_school: Any, built_sites: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Nine KS1 rules do not fit portrait A3 at 48 pt: the build says so, with the size
    the PDF really has, and what keeps 48 pt."""
    config_path = make_school({"posters": {"orientation": "portrait"}})
    with caplog.at_level(logging.WARNING):
        result = build(config_path, config_path.parent / "site")
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    shrunk = [p for p in result.pdfs if p.scale < 0.995]
    assert "poster-ks1.pdf" in [p.filename for p in shrunk]
    assert len(said) == len(shrunk)
    for pdf, line in zip(shrunk, said, strict=True):
        key = pdf.filename.removeprefix("poster-").removesuffix(".pdf")
        rule_set = Composer(load_config(config_path), config_path.parent).rule_set(key)
        lines = [squash(to_plain_text(r.line)) for r in rule_set.rules]
        pieces = text_sizes(result.site_dir / "downloads" / pdf.filename)
        least = min(size for text, size in pieces if any(squash(text) in x for x in lines))
        assert line.startswith(f"{pdf.filename}: fits one A3 portrait page only with its words ")
        assert f"at {MIN_BODY_PT[key] * pdf.scale:.0f} pt, under the {MIN_BODY_PT[key]} pt" in line
        assert abs(least - MIN_BODY_PT[key] * pdf.scale) < 1, (least, pdf.scale)
    landscape = built_sites("primary")
    assert all(p.scale >= 1 for p in landscape.pdfs)
    assert small_posters(load_config(school_path("primary")), list(landscape.pdfs)) == []


@pytest.mark.parametrize("school", LANDSCAPE)
def test_ks1_pictograms_are_at_least_45_mm(built_sites: Any, school: str) -> None:
    config = load_config(school_path(school))
    if "ks1" not in config.rule_sets:
        pytest.skip("no KS1 poster")
    pdf = built_sites(school).site_dir / "downloads" / "poster-ks1.pdf"
    rules = Composer(config, school_path(school).parent).rule_set("ks1").rules
    logo = 1 if config.school.logo else 0
    boxes = figure_boxes_mm(pdf)
    assert len(boxes) == len(rules) + logo
    icons = sorted(boxes, key=lambda b: -max(b))[: len(rules)]
    # The picture's box is 45.7 mm; a Tabler icon draws within its inner 20 of 24 units,
    # so each drawing's longer side is at least 45 mm x 20/24, less a little for its shape.
    least = 45 * PAPER[config.posters.paper] * 20 / 24 * 0.95
    assert min(max(b) for b in icons) >= least, icons


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_posters_carry_the_version_not_a_review_date(built_sites: Any, school: str) -> None:
    config = load_config(school_path(school))
    downloads = built_sites(school).site_dir / "downloads"
    for key in [*config.rule_sets, "smart"]:
        text = pdf_text(downloads / f"poster-{key}.pdf")
        assert f"Version {config.review.version}" in text
        assert "review" not in text.lower()
        assert config.school.name.split()[0] in text  # the school's wordmark


@pytest.mark.parametrize("school", ["primary", "all_through"])
def test_smart_letters_are_huge(built_sites: Any, school: str) -> None:
    config = load_config(school_path(school))
    pdf = built_sites(school).site_dir / "downloads" / "poster-smart.pdf"
    letters = [s for t, s in text_sizes(pdf) if t.strip() in list("SMART")]
    assert len(letters) == 5
    assert min(letters) >= 150 * PAPER[config.posters.paper]


@pytest.mark.parametrize("school", ["primary", "all_through"])
def test_smart_cards_leave_no_empty_band_at_the_foot(built_sites: Any, school: str) -> None:
    """The SMART type stops growing where a larger size would break a word, well before
    the page is full; the height left goes to the cards, so the credit line under them
    sits at the foot of the page (it sat 16% of the page up, under an empty band)."""
    pdf = built_sites(school).site_dir / "downloads" / "poster-smart.pdf"
    height = float(pypdf.PdfReader(pdf).pages[0].mediabox.height)
    assert min(y for _, _, y in text_pieces(pdf)) < 0.08 * height


def test_portrait_smart_letters_stay_in_their_column(built_sites: Any) -> None:
    """On a portrait SMART poster each huge letter has a column of its own: the widest,
    "M", never runs into its word (it did, at 3.9 em in a 3.4 em column)."""
    pdf = built_sites("all_through").site_dir / "downloads" / "poster-smart.pdf"
    assert load_config(school_path("all_through")).posters.orientation == "portrait"
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True)
    words = [
        (float(x0), float(y0), float(x1), float(y1), text)
        for x0, y0, x1, y1, text in re.findall(
            r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]+)<',
            bbox.stdout,
        )
    ]
    letters = [w for w in words if w[4] in "SMART" and w[3] - w[1] > 150]
    assert [w[4] for w in letters] == list("SMART")
    for x0, y0, x1, y1, letter in letters:  # words to its right, level with its middle
        top, bottom = y0 + (y1 - y0) / 4, y1 - (y1 - y0) / 4
        beside = [w for w in words if w not in letters and w[0] > x0 and top < w[1] < bottom]
        assert beside, letter
        assert x1 <= min(w[0] for w in beside), f"{letter} runs into {beside[0][4]}"


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_no_word_is_broken_across_lines(built_sites: Any, school: str) -> None:
    """Type grows only while every word fits its card: "someone" never prints as
    "someon" / "e", nor a full stop alone on a line, nor "grown-up" as "grown-" / "up"."""
    config = load_config(school_path(school))
    composer = Composer(config, school_path(school).parent)
    downloads = built_sites(school).site_dir / "downloads"
    tips = composer.smart_tips()["tips"]
    texts = {"smart": [t for tip in tips for t in (tip["word"], tip["line"])]}
    for key in config.rule_sets:
        texts[key] = [t for r in composer.rule_set(key).rules for t in (r.headline, r.line)]
    for key, said in texts.items():
        pieces = [plain(t).split() for t, _ in text_sizes(downloads / f"poster-{key}.pdf")]
        for word in {w for t in said for w in plain(to_plain_text(t)).split()}:
            assert any(word in piece for piece in pieces), f"poster-{key}.pdf: {word}"


def plain(text: str) -> str:
    """Text as compared: a non-breaking hyphen (how posters keep "grown-up" whole) is a hyphen."""
    return unicodedata.normalize("NFKC", text).replace("\u2010", "-")


def test_rule_colours_meet_wcag_aa() -> None:
    for colour in POSTER_COLOURS:
        assert contrast(colour, "#ffffff") >= 4.5
        assert contrast(colour, tint(colour, POSTER_TINT)) >= 4.5
