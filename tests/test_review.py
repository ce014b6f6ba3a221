"""The annual review: findings, `esafety review`, the What changed page and PDF."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import DEFAULT_CONFIG, write_school

from generator.build import build
from generator.checks import findings
from generator.cli import main
from generator.compose import CONTENT_DIR, Composer
from generator.config import load_config
from generator.review import compare, paragraphs, word_diff

TODAY = dt.date(2026, 11, 21)


def finding_paths(config_path: Path, on: dt.date = TODAY) -> set[str]:
    config = load_config(config_path)
    composer = Composer(config, config_path.parent)
    return {f.path for f in findings(config, on, composer.data)}


def test_overdue_filtering_and_policy_reviews_are_both_found(make_school: Any) -> None:
    config = make_school(
        {
            "review": {"approved_on": dt.date(2025, 9, 1)},
            "technology": {"filtering": {"last_reviewed": dt.date(2025, 6, 30)}},
        }
    )
    assert finding_paths(config) == {"review.next_review", "technology.filtering.last_reviewed"}


def test_a_current_complete_school_passes_strict(
    make_school: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESAFETY_TODAY", TODAY.isoformat())
    assert finding_paths(make_school()) == set()
    assert main(["check", "--strict", "--config", str(make_school())]) == 0


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"review": {"approved_on": dt.date(2025, 11, 30)}},
            {"review.next_review"},
        ),  # due in 9 days
        ({"people": {"deputy_dsls": []}}, {"people.deputy_dsls"}),
        ({"technology": {"filtering": {"provider": None}}}, {"technology.filtering.provider"}),
        ({"phones": {"pupils": {"rule": "allowed", "details": ""}}}, {"phones.pupils.details"}),
        # A stage's own rule stands alone: without exceptions it loses the school's.
        (
            {"phones": {"pupils": {"by_stage": {"ks2": {"rule": "locked_away"}}}}},
            {"phones.pupils.by_stage.ks2.exceptions"},
        ),
        ({"phones": {"pupils": {"by_stage": {"ks2": {"rule": "not_allowed"}}}}}, set()),
        (
            {
                "extra_resources": [
                    {
                        "title": "Old link",
                        "url": "https://old.example.org",
                        "last_checked": dt.date(2025, 10, 1),
                    }
                ]
            },
            {"extra_resources[0].last_checked"},
        ),
    ],
)
def test_each_finding(make_school: Any, changes: dict[str, Any], expected: set[str]) -> None:
    assert finding_paths(make_school(changes)) == expected


def test_stale_trusted_links_and_guidance_are_found(make_school: Any) -> None:
    """A year and more on, with content/ unchanged, the links and editions need checking."""
    paths = finding_paths(make_school(), on=dt.date(2028, 1, 10))
    assert "content/resources.yaml" in paths
    assert "content/guidance.yaml" in paths


def test_the_staff_page_shows_the_same_findings(
    make_school: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESAFETY_TODAY", TODAY.isoformat())
    config = make_school(
        {
            "people": {"deputy_dsls": []},
            "technology": {"filtering": {"last_reviewed": None}},
            "publish": {"staff_pages": True},
        }
    )
    result = build(config)
    page = (result.site_dir / "staff" / "review-status" / "index.html").read_text("utf-8")
    text = re.sub(r"<[^>]+>", "", page)
    assert "No deputy DSL is named" in text
    assert "No date for the annual filtering and monitoring review" in text
    assert "21 November 2026" in text
    home = (result.site_dir / "index.html").read_text("utf-8")
    assert 'href="staff/review-status/"' in home


def test_the_staff_page_is_not_built_unless_asked(make_school: Any) -> None:
    """Internal findings ("the review was due on ...") are not public by default."""
    for changes in ({}, {"publish": {"staff_pages": False}}):
        site = build(make_school(changes)).site_dir
        assert not (site / "staff").exists()
        assert "review-status" not in (site / "index.html").read_text("utf-8")
        assert "review-status" not in (site / "sitemap.xml").read_text("utf-8")


# ---------------------------------------------------------------- esafety review


def review(config: Path, *args: str) -> int:
    return main(["review", "--config", str(config), *args])


def test_review_keeps_a_snapshot_and_updates_the_config(tmp_path: Path) -> None:
    config = write_school(tmp_path, DEFAULT_CONFIG.read_text(encoding="utf-8"))  # commented
    original = config.read_text(encoding="utf-8")
    assert review(config, "--version", "2027.1", "--approved-on", "2027-10-05") == 0
    snapshot = json.loads((config.parent / "reviews" / "2026.1" / "snapshot.json").read_text())
    assert snapshot["version"] == "2026.1" and snapshot["approved_on"] == "2026-10-06"
    assert len(snapshot["sections"]) >= 20
    assert (config.parent / "reviews" / "2026.1" / "policy.md").is_file()
    updated = load_config(config)
    assert updated.review.version == "2027.1"
    assert updated.review.approved_on == dt.date(2027, 10, 5)
    # Only the two values changed: every comment and every other line is kept.
    old_lines, new_lines = original.splitlines(), config.read_text().splitlines()
    differing = [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b]
    assert len(differing) == 2
    assert all("#" in b for _a, b in differing)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--version", "2026.1", "--approved-on", "2027-10-05"], "that is the current version"),
        (["--version", "2027.1", "--approved-on", "2026-01-01"], "must be after"),
        (["--version", "2027.1", "--approved-on", "5/10/2027"], "(did you mean 2027-10-05?)"),
    ],
)
def test_review_refuses_bad_input(
    make_school: Any, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    config = make_school()
    before = config.read_text()
    assert review(config, *args) == 2
    assert message in capsys.readouterr().err
    assert config.read_text() == before
    assert not (config.parent / "reviews").exists()


def test_review_twice_for_the_same_version_is_refused(make_school: Any) -> None:
    config = make_school()
    assert review(config, "--version", "2027.1", "--approved-on", "2027-10-05") == 0
    shutil.copy(config, config.with_suffix(".bak"))
    text = config.read_text().replace('version: "2027.1"', 'version: "2026.1"')
    config.write_text(text)
    assert review(config, "--version", "2028.1", "--approved-on", "2028-10-05") == 2


def page_text(path: Path) -> str:
    html = path.read_text(encoding="utf-8")
    article = html.split("<article", 1)[1].split("</article>", 1)[0]
    return article


def marked(html: str, tag: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", m)).strip()
        for m in re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.S)
    ]


def test_what_changed_shows_exactly_the_changes(make_school: Any) -> None:
    config = make_school()
    folder = config.parent
    first = build(config)
    first_page = page_text(first.site_dir / "changes" / "index.html")
    assert "No earlier version of the policy is on record" in first_page

    assert review(config, "--version", "2027.1", "--approved-on", "2027-10-05") == 0
    # One config change (the DSL's name) and one content change (a sentence added).
    config.write_text(config.read_text().replace("Mr Daniel O'Connor", "Mr Daniel Okafor"))
    override = folder / "overrides" / "content" / "policy" / "sections"
    override.mkdir(parents=True)
    source = (CONTENT_DIR / "policy" / "sections" / "complaints.md").read_text()
    sentence = "are dealt with under our complaints procedure."
    assert sentence in source
    (override / "complaints.md").write_text(
        source.replace(sentence, sentence[:-1] + ", and we reply within ten school days.")
    )

    result = build(config)
    html = page_text(result.site_dir / "changes" / "index.html")
    removed, added = marked(html, "del"), marked(html, "ins")
    # The legend sentence uses <ins>/<del> once each to show the style.
    assert removed[0] == "struck through" and added[0] == "underlined"
    removed, added = removed[1:], added[1:]
    # Nothing is marked but the DSL's name and the one sentence.
    assert all(re.fullmatch(r"O'Connor[,.;)]?|procedure\.", w) for w in removed), removed
    assert all(
        re.fullmatch(r"Okafor[,.;)]?|procedure, and we reply within ten school days\.", w)
        for w in added
    ), added
    assert "procedure." in removed
    assert "procedure, and we reply within ten school days." in added
    assert len(removed) == len(added)
    changed = re.findall(r"<h2 id=\"[^\"]*\">(\d+)\. ", html)
    snapshot = json.loads((folder / "reviews" / "2026.1" / "snapshot.json").read_text())
    expected = {
        str(s["number"])
        for s in snapshot["sections"]
        if any("O'Connor" in p for p in s["paragraphs"]) or s["id"] == "complaints"
    }
    assert set(changed) == expected
    assert "2026.1" in html and "2027.1" in html  # the version history

    pdf_text = subprocess.run(
        ["pdftotext", str(result.site_dir / "downloads" / "changes.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flat = re.sub(r"\s+", " ", pdf_text)
    assert "we reply within ten school days" in flat
    assert "Okafor" in flat
    for number in expected:
        assert re.search(rf"\b{number}\. ", flat)


def test_paragraphs_split_lists_headings_and_tables() -> None:
    text = (
        "## 3. Title {: #x }\n\nA paragraph\nthat wraps.\n\n- one\n- two\n  continued\n\n"
        "### Sub\n\n| a | b |\n| --- | --- |\n| c | d |\n\n<svg><text>x</text></svg>\n"
    )
    assert paragraphs(text) == [
        "3. Title",
        "A paragraph that wraps.",
        "one",
        "two continued",
        "Sub",
        "a | b",
        "c | d",
    ]


def test_word_diff_marks_words_and_escapes_them() -> None:
    html, added, removed = word_diff("the cat sat", "the <dog> sat down")
    assert str(html) == "the <del>cat</del> <ins>&#60;dog&#62;</ins> sat <ins>down</ins>"
    assert (added, removed) == (2, 1)


def _snapshot(version: str, approved_on: str, paragraphs: list[str]) -> dict[str, Any]:
    section = {"id": "s", "number": 1, "title": "Review", "paragraphs": paragraphs}
    return {
        "version": version,
        "approved_on": approved_on,
        "next_review": approved_on.replace("2026", "2027"),
        "sections": [section],
    }


@pytest.mark.parametrize(("old", "new"), [("2026", "2027"), ("3", "4"), ("2026.1", "2026.2")])
def test_a_new_version_number_is_not_a_change_where_the_same_number_means_something_else(
    old: str, new: str
) -> None:
    """Only "version 2026" is the version: "the Act 2026", "Key Stage 3" and "16 October
    2026" are words of the policy, never marked as changed by a review."""
    words = [
        "This is version {v} of the policy, approved on {d}.",
        "The Children's Wellbeing and Schools Act 2026 applies from Key Stage 3.",
        "Our last check was on 16 October 2026; see section 3.",
    ]
    before = [w.format(v=old, d="6 October 2026") for w in words]
    after = [w.format(v=new, d="6 October 2027") for w in words]
    assert (
        compare(_snapshot(old, "2026-10-06", before), _snapshot(new, "2027-10-06", after)).sections
        == []
    )


def test_a_new_version_dated_before_the_last_one_is_refused_at_its_line(
    make_school: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """After `esafety review`, a year typed wrong by hand (2026 for 2027) would publish the
    new version as approved, out of order, with nothing to compare: refused, exit 2."""
    config = make_school()
    assert review(config, "--version", "2027.1", "--approved-on", "2027-10-05") == 0
    capsys.readouterr()
    config.write_text(config.read_text().replace("2027-10-05", "2026-10-05"))
    assert main(["build", "-f", str(config)]) == 2
    err = capsys.readouterr().err
    lines = config.read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "2026-10-05" in text)
    assert (
        f"{config}:{line}: review.approved_on: 5 October 2026 is not after the approval of "
        "version 2026.1 on 6 October 2026 (kept in reviews/)"
    ) in err
    assert not (config.parent / "site").exists()


def test_a_new_heading_is_shown_apart_from_the_paragraph_under_it() -> None:
    """Each changed paragraph is its own tracked change: a heading added above a reworded
    paragraph is not run into it ("... to the next. Years 7 to 11 The sixth form ...")."""
    before = ["Our rule.", "Phones are locked away all day, breaks included."]
    after = [
        "Our rule.",
        "The sixth form",
        "Phones are locked away all day, breaks included, except in the study centre.",
    ]
    change = compare(
        _snapshot("1", "2026-10-06", before), _snapshot("2", "2027-10-06", after)
    ).sections[0]
    assert [str(p) for p in change.paragraphs] == [
        "<ins>The sixth form</ins>",
        "Phones are locked away all day, breaks <del>included.</del> <ins>included, except in "
        "the study centre.</ins>",
    ]


def test_the_changes_report_lists_the_decisions_the_governors_are_asked_to_make(
    make_school: Any,
) -> None:
    """Beyond the words: a new DSL, a new filtering provider and a new phone rule, each
    once, as was and now, on the page and in changes.pdf."""
    config = make_school()
    assert review(config, "--version", "2027.1", "--approved-on", "2027-10-05") == 0
    text = config.read_text()
    for old, new in (
        ("Mr Daniel O'Connor", "Mr Daniel Okafor"),
        ("provider: Smoothwall Filter", "provider: Lightspeed Filter"),
        ("rule: handed_in", "rule: locked_away"),
    ):
        assert old in text
        text = text.replace(old, new)
    config.write_text(text)
    site = build(config).site_dir
    page = " ".join(re.sub(r"<[^>]+>", " ", page_text(site / "changes" / "index.html")).split())
    pdf = " ".join(
        subprocess.run(
            ["pdftotext", str(site / "downloads" / "changes.pdf"), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    )
    rows = [
        "Designated safeguarding lead Mr Daniel O'Connor Mr Daniel Okafor",
        "Filtering Smoothwall Filter Lightspeed Filter",
        "handed in on arrival",
        "locked away all day",
    ]
    page = page.replace("&#39;", "'")
    assert "Decisions in this version" in page
    for row in rows:
        assert row in page, row
    assert "Headteacher Mrs Joanna Whitfield" not in page  # unchanged: not listed
    # The PDF's text interleaves its draft mark with the table: its values, one by one.
    assert "Decisions in this version" in pdf
    for value in ("Mr Daniel Okafor", "Smoothwall Filter", "Lightspeed Filter"):
        assert value in pdf, value
