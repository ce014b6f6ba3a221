"""Whole builds: safe text, exact names, same bytes, atomic publish, offline, key stages,
and the downloads manifest."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pypdf
import pytest
from conftest import (
    DEFAULT_CONFIG,
    SCHOOL_NAMES,
    school_data,
    school_path,
    write_school,
)
from helpers import (
    css_urls,
    html_pages,
    is_external,
    parse_html,
    pdf_text,
    squash,
    tree_digest,
)

from generator.build import BuildResult, build
from generator.cache import CACHE_DIR
from generator.compose import compose
from generator.config import load_config
from generator.errors import BuildError, ConfigError

HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_SHORT = "{{ 7*7 }}"
HOSTILE_DSL = "[x](javascript:alert(1))"
HOSTILE_PLACE = "<img src=x onerror=alert(2)>"


def page_text(site: Path, page: str) -> str:
    return parse_html(site / page).text


# ------------------------------------------------------------------ values are data


def test_hostile_values_make_no_markup_in_html(hostile_site: BuildResult) -> None:
    pages = html_pages(hostile_site.site_dir)
    assert len(pages) >= 5
    for page in pages:
        parsed = parse_html(page)
        for element in parsed.elements:
            for name, value in element.attrs.items():
                where = f"{page.name}: <{element.tag} {name}={value!r}>"
                assert not value.strip().lower().startswith("javascript:"), where
                assert not name.startswith("on"), where  # no inline event handlers
            if element.tag == "img":
                assert element.attrs.get("src") != "x", page
        for script in parsed.find("script"):
            assert "alert(" not in script.text, page
            assert not is_external(script.attrs.get("src", "")), page


def test_hostile_values_print_as_text_in_html(hostile_site: BuildResult) -> None:
    site = hostile_site.site_dir
    for page in html_pages(site):
        text = parse_html(page).text
        assert HOSTILE_NAME in text, page  # footer and header on every page
        assert HOSTILE_SHORT in text, page  # the site name
        assert not re.search(r"\b49\b", text), page  # the template was never evaluated
    for key in ("ks1", "ks2"):
        assert HOSTILE_DSL in page_text(site, f"rules/{key}/index.html")
    assert f"{HOSTILE_NAME}." in page_text(site, "rules/ks1/index.html")
    assert HOSTILE_PLACE in page_text(site, "rules/ks2/index.html")


def test_hostile_values_stay_text_in_the_search_index(hostile_site: BuildResult) -> None:
    index = json.loads(
        (hostile_site.site_dir / "search" / "search_index.json").read_text(encoding="utf-8")
    )
    texts = [doc[field] for doc in index["docs"] for field in ("title", "text")]
    assert any(HOSTILE_NAME in parse_html(t).text for t in texts)
    for text in texts:
        parsed = parse_html(text)
        assert not parsed.find("script") and not parsed.find("img"), text
        assert not any(
            v.strip().lower().startswith("javascript:")
            for e in parsed.elements
            for v in e.attrs.values()
        ), text


def test_hostile_values_print_as_text_in_pdfs(hostile_site: BuildResult) -> None:
    downloads = hostile_site.site_dir / "downloads"
    texts = {pdf.name: pdf_text(pdf) for pdf in sorted(downloads.glob("*.pdf"))}
    assert {"poster-ks1.pdf", "poster-ks2.pdf", "poster-smart.pdf"} <= set(texts)
    for name, text in texts.items():
        assert squash(HOSTILE_NAME) in squash(text), name  # every PDF names the school
    for name in ("poster-ks1.pdf", "poster-ks2.pdf", "poster-smart.pdf"):
        assert not re.search(r"\b49\b", texts[name]), name
    for name in ("poster-ks1.pdf", "poster-ks2.pdf"):
        assert squash(HOSTILE_DSL) in squash(texts[name]), name
    # A poster shows each rule's short line; the phone rule in full is in the agreement.
    assert squash(HOSTILE_PLACE) in squash(texts["aup-pupil-ks2.pdf"])
    manifest = json.loads((downloads / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["school"] == HOSTILE_NAME


# ------------------------------------------------------------------ names print exactly

NAMES = [
    ("primary", "Mr Daniel O'Connor"),
    ("secondary", "Ms Siobhán Ní Bhriain"),
    ("welsh_middle", "Ysgol Gymraeg Llŷn"),
    ("all_through", "St Mary's"),
    ("all_through", "St Mary's C of E All-Through School"),
]


@pytest.mark.parametrize(("school", "name"), NAMES, ids=[n for _, n in NAMES])
def test_names_print_exactly_on_rules_pages_and_posters(
    built_sites: Any, school: str, name: str
) -> None:
    site = built_sites(school).site_dir
    rule_pages = sorted(site.glob("rules/*/index.html"))
    posters = sorted(site.glob("downloads/poster-ks*.pdf"))
    assert rule_pages and len(rule_pages) == len(posters)
    for page in rule_pages:
        assert name in parse_html(page).text, page
    for poster in posters:
        assert squash(name) in squash(pdf_text(poster)), poster


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_no_escaped_entities_show_as_text(built_sites: Any, school: str) -> None:
    """Double escaping would print "O&#39;Connor" or "&amp;" for a parent to read."""
    for page in html_pages(built_sites(school).site_dir):
        text = parse_html(page).text
        assert not re.search(r"&(#\d+|#x[0-9a-f]+|[a-z]+);", text, re.I), page


# ------------------------------------------------------------------ atomic publish


@pytest.fixture
def previous_site(tmp_path: Path, built_sites: Any) -> tuple[Path, Path]:
    """A school folder holding a valid config and a good site from an earlier build."""
    folder = tmp_path / "school"
    config = write_school(folder, DEFAULT_CONFIG.read_text(encoding="utf-8"))
    shutil.copytree(built_sites("primary").site_dir, folder / "site")
    return config, folder / "site"


def beside(site: Path) -> list[str]:
    """What sits beside the site (the build cache may; staging folders may not)."""
    return sorted(p.name for p in site.parent.iterdir() if p.name != CACHE_DIR)


def snapshot(site: Path) -> tuple[dict[str, str], list[str], list[str]]:
    """Every file's hash, every folder, and what sits beside the site."""
    folders = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_dir())
    return tree_digest(site), folders, beside(site)


def test_invalid_config_leaves_previous_site(previous_site: tuple[Path, Path]) -> None:
    config, site = previous_site
    before = snapshot(site)
    config.write_text(
        config.read_text(encoding="utf-8").replace("phase: primary ", "phase: primery ")
    )
    with pytest.raises(ConfigError):
        build(config, site)
    assert snapshot(site) == before


TINY_HTML = (
    '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>{0}</title>'
    "</head><body><h1>{0}</h1><p>A stand-in page.</p></body></html>"
)


def tiny_print_html(failing: str = "") -> Any:
    """A stand-in for PrintJob.html: small real documents (quick to render in the workers);
    ``failing`` asks for an image on the network, which the PDF workers refuse."""

    def html(job: Any) -> str:
        page = TINY_HTML.format(job.doc.filename)
        if job.doc.filename == failing:
            page = page.replace("</h1>", '</h1><img src="https://example.com/x.png" alt="x">')
        return page

    return html


def test_render_failure_leaves_previous_site(
    previous_site: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One PDF fails in the workers (its HTML asks for a file from the network) while the
    others render there for real: the build fails, names the PDF, keeps the good PDFs in
    the cache, and leaves the site as it was."""
    import generator.pdf

    config, site = previous_site
    before = snapshot(site)
    monkeypatch.setattr(generator.pdf.PrintJob, "html", tiny_print_html("poster-smart.pdf"))
    with pytest.raises(BuildError, match=r"poster-smart\.pdf: .*example\.com"):
        build(config, site)
    assert snapshot(site) == before
    cached = list((config.parent / CACHE_DIR / "pdf").glob("*.pdf"))
    listed = json.loads((site / "downloads" / "manifest.json").read_text(encoding="utf-8"))
    assert len(cached) == len(listed["documents"]) - 1
    assert all(p.read_bytes().startswith(b"%PDF") for p in cached)


@pytest.mark.parametrize(
    "error",
    [BuildError("MkDocs: broken link"), RuntimeError("bug")],
    ids=["build error", "unexpected error"],
)
def test_site_failure_after_pdfs_leaves_previous_site(
    previous_site: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    """PDFs are in the staging folder when MkDocs fails: the folder goes, the site stays."""
    import generator.build
    import generator.pdf

    config, site = previous_site
    before = snapshot(site)
    staged: list[Path] = []

    def fail(engine: str, config_path: Path) -> Path:
        staged.append(config_path.parent)
        assert (config_path.parent / "docs" / "downloads" / "manifest.json").is_file()
        raise error

    monkeypatch.setattr(generator.pdf.PrintJob, "html", tiny_print_html())
    monkeypatch.setattr(generator.build, "run_engine", fail)
    # An unexpected error is reported as one line naming the school's folder.
    folder = re.escape(str(config.parent))
    with pytest.raises(BuildError, match=rf"{folder}: internal error: RuntimeError: bug|broken"):
        build(config, site)
    assert staged and not staged[0].exists()  # the staging folder was removed
    assert snapshot(site) == before


def test_successful_build_leaves_nothing_beside_the_site(built_sites: Any) -> None:
    site = built_sites("primary").site_dir
    assert beside(site) == ["assets", "school_config.yaml", "site"]


def test_the_site_carries_no_search_code_for_other_languages(built_sites: Any) -> None:
    """The search is in English, so the word splitters Material ships for Japanese, Thai
    and 30 other languages (1 MB) are left out. The browser test shows search still works."""
    site = built_sites("primary").site_dir
    scripts = site / "assets" / "javascripts"
    assert list(scripts.glob("workers/search.*.min.js"))
    assert not (scripts / "lunr").exists()
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert index["config"]["lang"] == ["en"]


# ------------------------------------------------------------------ a second build, offline


class OfflineRebuild:
    """The sample school built a second time, over a copy of its first site with stale
    files added, while every attempt to open a network connection is refused."""

    def __init__(self, first: Path, folder: Path) -> None:
        self.first = first
        config = write_school(folder, DEFAULT_CONFIG.read_text(encoding="utf-8"))
        self.site = folder / "site"
        shutil.copytree(first, self.site)
        (self.site / "stale.html").write_text("<h1>old</h1>", encoding="utf-8")
        (self.site / "downloads" / "poster-ks9.pdf").write_bytes(b"%PDF-old")
        self.attempts: list[Any] = []
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(socket.socket, "connect", self.refuse)
            patch.setattr(socket.socket, "connect_ex", self.refuse)
            patch.setattr(socket, "getaddrinfo", self.refuse)
            patch.setattr(socket, "create_connection", self.refuse)
            self.result = build(config, self.site, use_cache=False)

    def refuse(self, *args: Any, **kwargs: Any) -> Any:
        self.attempts.append(args[1:] or kwargs)
        raise OSError("network access during the build")


@pytest.fixture(scope="module")
def offline_rebuild(built_sites: Any, tmp_path_factory: pytest.TempPathFactory) -> OfflineRebuild:
    return OfflineRebuild(built_sites("primary").site_dir, tmp_path_factory.mktemp("rebuild"))


def test_build_with_sockets_refused(offline_rebuild: OfflineRebuild) -> None:
    assert offline_rebuild.attempts == []
    pdfs = sorted(p.name for p in (offline_rebuild.site / "downloads").glob("*.pdf"))
    assert sorted(p.filename for p in offline_rebuild.result.pdfs) == pdfs
    assert "poster-smart.pdf" in pdfs


def test_two_builds_give_identical_bytes(offline_rebuild: OfflineRebuild) -> None:
    first, second = tree_digest(offline_rebuild.first), tree_digest(offline_rebuild.site)
    assert len(first) > 20
    assert sorted(first) == sorted(second)
    assert [f for f in first if first[f] != second[f]] == []


def test_rebuild_replaces_the_whole_site(offline_rebuild: OfflineRebuild) -> None:
    site = offline_rebuild.site
    assert not (site / "stale.html").exists()
    assert not (site / "downloads" / "poster-ks9.pdf").exists()
    assert beside(site) == ["assets", "school_config.yaml", "site"]


def _unshare_works() -> str | None:
    """None if ``unshare -n`` can make a network namespace here, else why not."""
    if not shutil.which("unshare"):
        return "the unshare command is not installed"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"unshare -n is not permitted here: {probe.stderr.strip()}"
    return None


def test_build_without_a_network_namespace(tmp_path: Path) -> None:
    reason = _unshare_works()
    if reason:
        pytest.skip(reason)
    config = write_school(tmp_path / "offline", DEFAULT_CONFIG.read_text(encoding="utf-8"))
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        ["unshare", "-n", sys.executable, "-m", "generator", "build", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "offline" / "site" / "downloads" / "poster-smart.pdf").is_file()


# ------------------------------------------------------------------ no other hosts

LOADING_ATTRIBUTES = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
    "link": ("href",),
    "image": ("href", "xlink:href"),
    "use": ("href", "xlink:href"),
}


def loaded_urls(page: Path) -> list[str]:
    """Every URL a browser would fetch for this page by itself (not links to follow)."""
    parsed = parse_html(page)
    urls = []
    for element in parsed.elements:
        if element.tag == "link" and element.attrs.get("rel", "").lower() == "canonical":
            continue
        for name in LOADING_ATTRIBUTES.get(element.tag, ()):
            value = element.attrs.get(name, "")
            if name == "srcset":
                urls += [part.split()[0] for part in value.split(",") if part.strip()]
            elif value:
                urls.append(value)
        if element.tag == "meta" and element.attrs.get("http-equiv", "").lower() == "refresh":
            urls.append(element.attrs.get("content", "").partition("url=")[2])
    for css in parsed.styles:
        urls += css_urls(css)
    return urls


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_no_asset_from_another_host(built_sites: Any, school: str) -> None:
    site = built_sites(school).site_dir
    external = []
    for page in html_pages(site):
        external += [f"{page.relative_to(site)}: {u}" for u in loaded_urls(page) if is_external(u)]
    for sheet in sorted(site.rglob("*.css")):
        external += [
            f"{sheet.relative_to(site)}: {u}"
            for u in css_urls(sheet.read_text(encoding="utf-8"))
            if is_external(u)
        ]
    for script in sorted(site.rglob("*.js")):
        text = script.read_text(encoding="utf-8")
        external += [
            f"{script.relative_to(site)}: {m}"
            for m in re.findall(
                r"""(?:importScripts\(|import\(|\bfrom\s*)["'`]((?:https?:)?//[^"'`]+)""", text
            )
        ]
    assert external == []


def test_no_external_asset_detector_is_not_blind(tmp_path: Path) -> None:
    """The checks above would notice a Google Font or a CDN script."""
    page = (
        '<html><head><link rel="stylesheet" href="https://fonts.googleapis.com/css">'
        '<style>@import url("//cdn.example.com/x.css");</style></head>'
        '<body><script src="https://cdn.example.com/x.js"></script>'
        '<img srcset="a.png 1x, https://img.example.com/b.png 2x">'
        '<a href="https://www.childnet.com/">a link is fine</a></body></html>'
    )
    sample = tmp_path / "page.html"
    sample.write_text(page, encoding="utf-8")
    assert [u for u in loaded_urls(sample) if is_external(u)] == [
        "https://fonts.googleapis.com/css",
        "https://cdn.example.com/x.js",
        "https://img.example.com/b.png",
        "//cdn.example.com/x.css",
    ]


# ------------------------------------------------------------------ key stages

EXPECTED_SETS = {
    "primary": ("ks1", "ks2"),
    "secondary": ("ks3",),
    "all_through": ("ks1", "ks2", "ks3"),
    "infant_minimal": ("ks1",),
    "welsh_middle": ("ks2", "ks3"),
    "academy_sixth_form": ("ks1", "ks2", "ks3"),
}


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_built_rule_pages_and_posters_follow_the_phase(built_sites: Any, school: str) -> None:
    site = built_sites(school).site_dir
    sets = EXPECTED_SETS[school]
    assert sorted(p.name for p in (site / "rules").iterdir()) == list(sets)
    assert sorted(p.name for p in (site / "downloads").glob("poster-*.pdf")) == sorted(
        [f"poster-{s}.pdf" for s in sets] + ["poster-smart.pdf"]
    )
    home = parse_html(site / "index.html")
    linked = {
        m.group(1)
        for a in home.find("a")
        if (m := re.match(r"^rules/(ks\d)/", a.attrs.get("href", "")))
    }
    assert linked == set(sets)


PHASES = {
    "nursery": ("ks1",),
    "infant": ("ks1",),
    "junior": ("ks2",),
    "primary": ("ks1", "ks2"),
    "middle": ("ks2", "ks3"),
    "secondary": ("ks3",),
    "all-through": ("ks1", "ks2", "ks3"),
    "special": ("ks1", "ks2", "ks3"),
}


@pytest.mark.parametrize(("phase", "sets"), PHASES.items(), ids=PHASES.keys())
def test_rule_sets_follow_the_phase(tmp_path: Path, phase: str, sets: tuple[str, ...]) -> None:
    data = school_data("primary")
    del data["school"]["key_stages"]
    data["school"]["phase"] = phase
    config_path = write_school(tmp_path, data)
    config = load_config(config_path)
    assert config.rule_sets == sets
    pack = compose(config, config_path.parent)
    assert [p.path for p in pack.pages if p.path.startswith("rules/")] == [
        f"rules/{s}.md" for s in sets
    ]
    assert [d.filename for d in pack.prints if d.filename.startswith("poster-")] == [
        f"poster-{s}.pdf" for s in sets
    ] + ["poster-smart.pdf"]


@pytest.mark.parametrize(
    ("base", "stages", "sets"),
    [
        ("primary", ["ks2"], ("ks2",)),
        ("secondary", ["ks4", "ks5"], ("ks3",)),
        ("infant_minimal", ["eyfs", "ks1", "ks2", "ks3"], ("ks1", "ks2", "ks3")),
        ("secondary", ["ks2", "ks3"], ("ks2", "ks3")),
    ],
)
def test_explicit_key_stages_override_the_phase(
    make_school: Any, base: str, stages: list[str], sets: tuple[str, ...]
) -> None:
    config_path = make_school({"school": {"key_stages": stages}}, base=base)
    config = load_config(config_path)
    assert config.key_stages == tuple(stages)
    pack = compose(config, config_path.parent)
    assert [p.path for p in pack.pages if p.path.startswith("rules/")] == [
        f"rules/{s}.md" for s in sets
    ]
    assert [
        d.filename
        for d in pack.prints
        if d.filename.startswith("poster-") and d.filename != "poster-smart.pdf"
    ] == [f"poster-{s}.pdf" for s in sets]


# ------------------------------------------------------------------ manifest


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_manifest_lists_every_pdf_truthfully(built_sites: Any, school: str) -> None:
    downloads = built_sites(school).site_dir / "downloads"
    manifest = json.loads((downloads / "manifest.json").read_text(encoding="utf-8"))
    config = load_config(school_path(school))
    assert manifest["school"] == config.school.name
    assert manifest["version"] == config.review.version
    assert manifest["approved_on"] == config.review.approved_on.isoformat()
    assert manifest["next_review"] == config.next_review.isoformat()
    entries = manifest["documents"]
    assert sorted(e["file"] for e in entries) == sorted(p.name for p in downloads.glob("*.pdf"))
    assert len({e["file"] for e in entries}) == len(entries)
    for entry in entries:
        assert set(entry) == {"file", "title", "audience", "pages", "bytes", "sha256"}
        data = (downloads / entry["file"]).read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        reader = pypdf.PdfReader(downloads / entry["file"])
        assert entry["pages"] == len(reader.pages)
        assert isinstance(entry["title"], str) and entry["title"].strip()
        assert isinstance(entry["audience"], str) and entry["audience"].strip()
        assert reader.metadata.title.startswith(entry["title"])
    downloads_page = parse_html(downloads / "index.html")
    hrefs = {a.attrs.get("href", "").rsplit("/", 1)[-1] for a in downloads_page.find("a")}
    assert {e["file"] for e in entries} <= hrefs


def test_the_404_page_links_to_where_the_pack_is_published(built_sites: Any) -> None:
    """The 404 page is served at any depth, so its links cannot be relative: with
    publish.url they start with the published path, which a site in a subfolder needs."""
    primary = load_config(school_path("primary"))
    assert primary.publish.url and urlsplit(primary.publish.url).path == "/online-safety/"
    for school, prefix in (("primary", "/online-safety/"), ("secondary", "/")):
        page = built_sites(school).site_dir / "404.html"
        links = re.findall(r'(?:href|src)="(/[^"]*)"', page.read_text(encoding="utf-8"))
        assert links, school
        assert all(link.startswith(prefix) for link in links), (school, links[:5])
    index = (built_sites("primary").site_dir / "index.html").read_text(encoding="utf-8")
    assert 'href="assets/' in index  # ordinary pages keep relative links


def everything_said(site: Path) -> dict[Path, str]:
    """The visible text of every page, PDF and the calendar of a built site."""
    said = {path: parse_html(path).text for path in html_pages(site)}
    said |= {path: pdf_text(path) for path in sorted((site / "downloads").glob("*.pdf"))}
    said[site / "downloads" / "calendar.ics"] = (site / "downloads" / "calendar.ics").read_text()
    return said


def test_a_welsh_school_says_learners_on_every_page_and_document(built_sites: Any) -> None:
    """The nation's words (content/nations.yaml) reach the parents' page, the forms, the
    rules and the calendar, not only the policy: a Welsh school never says "pupils", nor
    names England's key stages."""
    site = built_sites("welsh_middle").site_dir
    said = everything_said(site)
    for path, text in said.items():
        assert not re.search(r"\bpupils?\b|Key Stage", text, re.I), path.relative_to(site)
    for page in ("parents/index.html", "forms/index.html", "downloads/aup-staff.pdf"):
        assert re.search(r"\blearners\b", said[site / page], re.I), page
    assert "Years 3 to 6" in said[site / "rules" / "ks2" / "index.html"]


def test_a_scottish_school_names_its_stages_as_scottish_schools_do(make_school: Any) -> None:
    """P1 to P7 and S1 to S6, not key stages: in the rules, the agreements, the posters
    and what the parents' page says each stage learns."""
    config = make_school({"school": {"nation": "scotland"}}, base="all_through")
    site = build(config, config.parent / "site").site_dir
    said = everything_said(site)
    for path, text in said.items():
        assert "Key Stage" not in text, path.relative_to(site)
    assert "P5 to P7" in said[site / "rules" / "ks2" / "index.html"]
    assert "S1 to S6" in said[site / "downloads" / "aup-pupil-ks3.pdf"]
    assert "P2 to P4:" in said[site / "parents" / "index.html"]


def test_the_policy_is_handed_to_the_pdf_workers_first_and_every_pdf_once(
    make_school: Any,
) -> None:
    """compose() passes each module's print documents on as soon as they are composed
    (so the longest PDF starts first), always with the pack it finally returns."""
    config_path = make_school({})
    handed: list[tuple[Any, list[Any]]] = []
    pack = compose(
        load_config(config_path),
        config_path.parent,
        on_prints=lambda into, docs: handed.append((into, list(docs))),
    )
    assert [doc.filename for doc in handed[0][1]] == ["policy.pdf"]
    assert all(into is pack for into, _docs in handed)
    given = [doc for _into, docs in handed for doc in docs]
    assert sorted(map(id, given)) == sorted(map(id, pack.prints))
    assert len(pack.prints) == 15  # 11 documents and forms, and the 4 policy appendices


def test_a_second_school_compiles_and_loads_no_content_template_again(
    make_school: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trust's schools share compiled content templates in memory: a school uses more
    than Jinja's default cache of 400, which made every school load them all again."""
    from jinja2 import ChoiceLoader

    first = make_school({"school": {"name": "Alder Grove Primary School"}})
    second = make_school({"school": {"name": "Birch Hill Primary School"}})
    compose(load_config(first), first.parent)
    loaded: list[str] = []
    load = ChoiceLoader.load

    def spy(self: Any, environment: Any, name: str, globals: Any = None) -> Any:  # noqa: A002
        loaded.append(name)  # Jinja asks its loader only for what its cache lacks
        return load(self, environment, name, globals)

    monkeypatch.setattr(ChoiceLoader, "load", spy)
    pack = compose(load_config(second), second.parent)
    assert "Birch Hill Primary School" in pack.pages[0].markdown
    assert loaded == []
