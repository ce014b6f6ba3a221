"""Incremental builds: a rebuild renders only the PDFs whose input changed, and leaves an
unchanged site alone. PDFs are keyed by their print HTML, templates, fonts and WeasyPrint's
version (generator/pdf.py); the site by the engine's input (generator/build.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import built_site_lock
from helpers import pdf_text, squash

import generator.build
import generator.pool
from generator import markup
from generator.build import build
from generator.cache import CACHE_DIR, seal, tree_digest


class Recorder:
    """Which PDFs a build sent to be rendered, and whether it ran the site engine."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rendered: list[str] = []
        self.engine_runs = 0
        render = generator.pool.PdfRenderer._render
        run_engine = generator.build.run_engine

        def recording_render(renderer: Any, job: Any, *args: Any) -> Any:
            self.rendered.append(job.doc.filename)
            return render(renderer, job, *args)

        def recording_engine(*args: Any) -> Any:
            self.engine_runs += 1
            return run_engine(*args)

        monkeypatch.setattr(generator.pool.PdfRenderer, "_render", recording_render)
        monkeypatch.setattr(generator.build, "run_engine", recording_engine)

    def clear(self) -> None:
        self.rendered, self.engine_runs = [], 0


@pytest.fixture
def school(tmp_path: Path, built_sites: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A copy of the sample school with its build cache, built once in its new place."""
    source = built_sites("primary").site_dir.parent
    folder = tmp_path / "school"
    with built_site_lock(source):
        shutil.copytree(source, folder)
    config = folder / "school_config.yaml"
    recorder = Recorder(monkeypatch)
    build(config, folder / "site")
    assert recorder.rendered == []  # every PDF came from the copied cache
    recorder.clear()
    return config, recorder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_nothing_changed_renders_nothing_and_leaves_the_site_alone(school: Any) -> None:
    config, recorder = school
    site = config.parent / "site"
    before = site.stat().st_ino, site.stat().st_mtime_ns
    build(config, site)
    assert recorder.rendered == [] and recorder.engine_runs == 0
    assert (site.stat().st_ino, site.stat().st_mtime_ns) == before


def test_the_first_rebuild_after_a_fresh_build_is_recognised_as_unchanged(
    tmp_path: Path, school: Any
) -> None:
    """A fresh build stages its site inside the generated project; the key of what the
    engine was given must not include that output, or the next build rebuilds for nothing."""
    config, recorder = school
    shutil.rmtree(config.parent / CACHE_DIR / "pdf")
    build(config, config.parent / "site")  # every PDF rendered afresh
    assert len(recorder.rendered) == 15  # with the 4 policy appendices
    recorder.clear()
    build(config, config.parent / "site")
    assert recorder.rendered == [] and recorder.engine_runs == 0


def _shows(site: Path, pdf: str, text: str = "Full Governing Board") -> bool:
    return squash(text) in squash(pdf_text(site / "downloads" / pdf))


def test_a_config_value_re_renders_only_the_documents_that_show_it(school: Any) -> None:
    config, recorder = school
    site = config.parent / "site"
    before = build(config, site)
    showing = sorted(p.filename for p in before.pdfs if _shows(site, p.filename))
    assert "policy.pdf" in showing and len(showing) < len(before.pdfs) / 2
    edit(config, 'approved_by: "Full Governing Board"', 'approved_by: "Governing Board"')
    result = build(config, config.parent / "site")
    assert sorted(recorder.rendered) == showing
    assert recorder.engine_runs == 1  # the web pages show it too
    for pdf in result.pdfs:
        assert not _shows(site, pdf.filename)


def test_a_content_override_re_renders_only_its_documents(school: Any) -> None:
    """A school's own copy of the SMART tips changes the SMART poster and nothing else
    that is printed."""
    config, recorder = school
    override = config.parent / "overrides" / "content"
    override.mkdir(parents=True)
    smart = Path(generator.build.__file__).parent.parent / "content" / "smart.yaml"
    shutil.copy(smart, override / "smart.yaml")
    edit(override / "smart.yaml", "Tell a trusted adult if you are worried.", "Tell an adult.")
    build(config, config.parent / "site")
    assert recorder.rendered == ["poster-smart.pdf"]


def test_a_hand_edited_site_is_rebuilt(school: Any) -> None:
    """The site is skipped only if it is still exactly what the last build published."""
    config, recorder = school
    site = config.parent / "site"
    page = site / "index.html"
    good = page.read_bytes()
    page.write_text("defaced", encoding="utf-8")
    build(config, site)
    assert recorder.rendered == [] and recorder.engine_runs == 1
    assert page.read_bytes() == good


def test_a_damaged_cached_pdf_is_rendered_again(school: Any) -> None:
    config, recorder = school
    cached = sorted((config.parent / CACHE_DIR / "pdf").glob("*.pdf"))
    cached[0].write_bytes(b"%PDF-1.7 truncated")
    result = build(config, config.parent / "site")
    assert len(recorder.rendered) == 1
    assert all(pdf.data.startswith(b"%PDF") and len(pdf.data) > 1000 for pdf in result.pdfs)


# ------------------------------------------------------------------ Markdown kept


def kept_fragments(config: Path) -> dict[str, str]:
    saved = json.loads((config.parent / CACHE_DIR / "markdown.json").read_text("utf-8"))
    assert saved["converter"].startswith("markdown ")
    return saved["conversions"]


def test_a_rebuild_keeps_only_the_markdown_this_build_converted(school: Any) -> None:
    """The build cache keeps each Markdown fragment this build converted (a rebuild then
    converts only what changed), and forgets the ones an edit replaced."""
    config, _ = school
    before = kept_fragments(config)
    credit = "These tips are written in our own words."
    said = [fragment for fragment in before if credit in fragment]
    assert said and all(credit in before[f] for f in said)
    override = config.parent / "overrides" / "content"
    override.mkdir(parents=True)
    shutil.copy(Path(generator.build.__file__).parent.parent / "content" / "smart.yaml", override)
    edit(override / "smart.yaml", credit, "These tips are in our words.")
    build(config, config.parent / "site")
    after = kept_fragments(config)
    assert not any(credit in fragment for fragment in after)
    assert any("These tips are in our words." in fragment for fragment in after)


def test_a_rebuild_from_kept_markdown_is_the_same_as_a_fresh_build(
    school: Any, tmp_path: Path
) -> None:
    """An edited config rebuilt with the last build's PDFs and Markdown gives the same site,
    byte for byte, as the same config built from nothing."""
    config, recorder = school
    edit(config, 'approved_by: "Full Governing Board"', 'approved_by: "Governing Board"')
    markup._converted.clear()  # as in a new process: conversions come from the cache file
    incremental = build(config, config.parent / "site")
    assert recorder.engine_runs == 1
    # Built again with no kept Markdown (PDFs whose print HTML comes out the same are
    # taken from the cache; any difference would render them again, other bytes).
    fresh_folder = tmp_path / "fresh"
    kept = shutil.ignore_patterns("site", "markdown.json", "sites.json")
    shutil.copytree(config.parent, fresh_folder, ignore=kept)
    markup._converted.clear()
    fresh = build(fresh_folder / "school_config.yaml", fresh_folder / "site")
    assert tree_digest(incremental.site_dir) == tree_digest(fresh.site_dir)


def test_kept_markdown_is_used_only_from_the_same_converter(tmp_path: Path) -> None:
    """A cache written by another version of Markdown is not trusted (each is sealed as
    our own build seals it)."""
    path = tmp_path / "markdown.json"
    fragment = "A *kept* fragment, not seen before in this test session."
    converted = {
        "markdown 0.0 ['elsewhere']": f"<p>{fragment.replace('*kept*', '<em>kept</em>')}</p>",
        markup._converter_version(): "<p>KEPT</p>",
    }
    for converter, expected in converted.items():
        conversions = {fragment: "<p>KEPT</p>"}
        saved = {
            "converter": converter,
            "conversions": conversions,
            "seal": seal(json.dumps(conversions, sort_keys=True)),
        }
        path.write_text(json.dumps(saved), encoding="utf-8")
        markup._converted.clear()
        with markup.conversions_kept(path):
            assert str(markup.to_html(fragment)) == expected
    markup._converted.clear()


def test_a_damaged_markdown_cache_is_ignored_and_replaced(tmp_path: Path) -> None:
    path = tmp_path / "markdown.json"
    path.write_text('{"converter": "markdown', encoding="utf-8")  # cut short
    with markup.conversions_kept(path):
        assert str(markup.to_html("*Fine*")) == "<p><em>Fine</em></p>"
    assert json.loads(path.read_text("utf-8"))["conversions"] == {"*Fine*": "<p><em>Fine</em></p>"}


def test_the_pdf_key_covers_our_rendering_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """render.py can change a PDF's bytes (fitting, options), so editing it renders every
    PDF again."""
    from generator import pdf, render

    before = pdf._renderer_fingerprint()
    edited = tmp_path / "render.py"
    edited.write_bytes(Path(render.__file__).read_bytes() + b"\n# edited\n")
    monkeypatch.setattr(render, "__file__", str(edited))
    pdf._renderer_fingerprint.cache_clear()
    try:
        assert pdf._renderer_fingerprint() != before
    finally:
        monkeypatch.undo()
        pdf._renderer_fingerprint.cache_clear()
    assert pdf._renderer_fingerprint() == before
