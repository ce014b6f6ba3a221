"""A school's input is untrusted: each attack of issue 21, tried again, and fuzzers.

Configs, overrides, logos and trust folders written by many schools are built on one
machine and published on one domain. No input may run code, reach a page as markup, read
or publish a file outside its school's folder, delete a folder the tool did not make, or
reach another school; every failure is one clear line.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DEFAULT_CONFIG, deep_merge, school_data, write_school
from helpers import NEEDS_CHROMIUM, normalise_space, site_paths, visitor
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from generator import compose as compose_module
from generator import markup
from generator.brand import LogoError, clean_svg, read_logo
from generator.build import (
    SITE_MARKER,
    STAGING_MARKER,
    SchoolJob,
    build,
    check_site_dirs,
    find_jobs,
    remove_leftovers,
)
from generator.cache import BuildCache, school_cache_dir, tree_digest, user_cache_dir
from generator.cli import main
from generator.compose import Composer, compose
from generator.config import MAX_TEXT, load_config
from generator.errors import BuildError, ConfigError, UsageError
from generator.overrides import problems
from generator.render import RenderedPdf
from generator.schoolyear import _escape

# No shrinking: on 2 shared cores a failure's shrink took five minutes; the failing
# example is printed as found.
FUZZ_PHASES = (Phase.explicit, Phase.reuse, Phase.generate)
EXPLOIT = "{% set os = cycler.__init__.__globals__.os %}{{ os.popen('id').read() }}"
LINE = re.compile(r"^\S[^\n]*:\d+: \S[^\n]*: \S")  # file:line: key.path: message


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out + out.err


def one_school(tmp_path: Path, changes: dict[str, Any] | None = None) -> Path:
    return write_school(tmp_path / "school", deep_merge(school_data(), changes or {}))


# ---------------------------------------------------------------- 1. templates


def test_an_override_cannot_run_code(tmp_path: Path) -> None:
    config = one_school(tmp_path)
    pages = config.parent / "overrides" / "content" / "pages"
    pages.mkdir(parents=True)
    (pages / "index.md").write_text(f"# Home\n\n{EXPLOIT}\n", encoding="utf-8")
    # Found by the check, at its line, before anything runs (the sandbox stops it too:
    # test_a_template_reaches_only_its_values).
    with pytest.raises(ConfigError, match=r"overrides/content/pages/index.md:3: .*'__init__'"):
        compose(load_config(config), config.parent)


def test_a_runaway_loop_in_an_override_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sandbox bounds each range, not a loop inside a loop (10^10 steps, hours): each
    render has a time budget, and the build stops at the file, nothing published."""
    monkeypatch.setattr(compose_module, "RENDER_BUDGET", 1.0)
    config = one_school(tmp_path)
    pages = config.parent / "overrides" / "content" / "pages"
    pages.mkdir(parents=True)
    loops = "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"
    (pages / "index.md").write_text(f"# Home\n\n{loops}\n", encoding="utf-8")
    started = time.monotonic()
    code, out = run(["build", "--config", str(config)], capsys)
    assert code == 1 and time.monotonic() - started < 60, out  # the build failed
    assert re.search(r"content/pages/index\.md(:\d+)?: still rendering after 1 s", out), out
    assert "Traceback" not in out and not (config.parent / "site").exists()


@pytest.mark.parametrize(
    "source",
    [
        "{{ config.__class__.__mro__ }}",
        "{{ ''.__class__ }}",
        "{{ school.model_config.update({'x': 1}) }}",
        "{{ linked_policies.append('x') }}",
        "{{ lipsum.__globals__ }}",
    ],
)
def test_a_template_reaches_only_its_values(tmp_path: Path, source: str) -> None:
    config = one_school(tmp_path)
    composer = Composer(load_config(config), config.parent)
    with pytest.raises(BuildError, match="unsafe|not safely callable|undefined"):
        composer.text(source, "override")


def test_a_link_in_overrides_cannot_publish_a_file_from_elsewhere(tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("TOP SECRET\n", encoding="utf-8")
    config = one_school(tmp_path)
    pages = config.parent / "overrides" / "content" / "pages"
    pages.mkdir(parents=True)
    (pages / "index.md").symlink_to(secret)
    with pytest.raises(ConfigError, match="overrides/content/pages/index.md:1: .*outside its"):
        compose(load_config(config), config.parent)


def test_an_overrides_folder_that_leads_elsewhere_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere" / "content"
    elsewhere.mkdir(parents=True)
    config = one_school(tmp_path)
    (config.parent / "overrides").symlink_to(elsewhere.parent)
    with pytest.raises(BuildError, match="overrides/content: leads outside the school's folder"):
        Composer(load_config(config), config.parent)


@pytest.mark.parametrize(
    ("page", "problem"),
    [
        ("<script>alert(1)</script>", "<script> is not allowed"),
        ('<span title=">" onclick=alert(1)>x</span>', "the attribute onclick is not allowed"),
        ("<svg/onload=alert(1)>", "not a tag that can be read safely"),
        ("# Hello {: onclick=alert(1) }", "onclick=... } is not allowed"),
        ("[x](javascript:alert(1))", "a link to 'javascript:alert(1'"),
        ("[x](java&#115;cript:alert(1))", "a link to 'java&#115;cript:alert(1'"),
        ('[x]({{ "javascript:alert(1)" }})', "a link to '{{'"),
        ("[r]: javascript:alert(1)", "a link to 'javascript:alert(1)'"),
    ],
)
def test_an_override_page_holds_no_active_markup(tmp_path: Path, page: str, problem: str) -> None:
    config = one_school(tmp_path)
    pages = config.parent / "overrides" / "content" / "pages"
    pages.mkdir(parents=True)
    (pages / "index.md").write_text(f"# Home\n\n{page}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(problem)):
        compose(load_config(config), config.parent)


def test_a_value_in_an_override_link_cannot_make_a_script_link(tmp_path: Path) -> None:
    config = one_school(tmp_path, {"school": {"trust": "javascript:alert(1)"}})
    pages = config.parent / "overrides" / "content" / "pages"
    pages.mkdir(parents=True)
    (pages / "index.md").write_text("# Home\n\n[Our trust]({{ school.trust }})\n")
    with pytest.raises(BuildError, match="overrides/content/pages/index.md: a link to 'java"):
        compose(load_config(config), config.parent)


def test_override_words_hold_no_active_markup(tmp_path: Path) -> None:
    config = one_school(tmp_path)
    rules = config.parent / "overrides" / "content" / "rules"
    rules.mkdir(parents=True)
    source = yaml.safe_load((DEFAULT_CONFIG.parent / "content/rules/ks2.yaml").read_text())
    source["rules"][0]["text"] = "I tell an adult <img src=x onerror=alert(1)>"
    (rules / "ks2.yaml").write_text(yaml.safe_dump(source), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"overrides/content/rules/ks2.yaml:\d+: rules\[0\]"):
        compose(load_config(config), config.parent)


def test_the_tools_own_content_passes_as_an_override(tmp_path: Path) -> None:
    """A school that copies content/ into overrides/ to edit it is not refused."""
    import shutil

    config = one_school(tmp_path)
    shutil.copytree(DEFAULT_CONFIG.parent / "content", config.parent / "overrides" / "content")
    assert compose(load_config(config), config.parent).pages


# ---------------------------------------------------------------- 2. values are text

# Each would add an element, an attribute, a script or an ICS field if printed as markup.
HOSTILE = [
    "<esafety-x data-injected=1>",
    '"><esafety-x data-injected="1">',
    "' data-injected='1",
    '" data-injected="1',
    "</title><esafety-x data-injected>",
    "--><esafety-x data-injected>",
    "</style><esafety-x data-injected>",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    "{{ 7*7 }} {% raw %}",
    "&lt;esafety-x data-injected&gt;",
    "key: value # comment",
    "- item\nBEGIN:VEVENT\rSUMMARY:evil",
]
TEXT_PATHS = [
    ("school", "name"),
    ("school", "short_name"),
    ("school", "address"),
    ("school", "trust"),
    ("people", "headteacher", "name"),
    ("people", "dsl", "name"),
    ("people", "dsl", "role"),
    ("people", "online_safety_governor", "name"),
    ("technology", "filtering", "provider"),
    ("technology", "incident_log"),
    ("phones", "pupils", "handed_to"),
    ("review", "version"),
    ("review", "approved_by"),
]
SAFE_CHARS = st.characters(codec="ascii", categories=("L", "N", "P", "S", "Zs"))


@st.composite
def hostile_values(draw: Any) -> dict[tuple[str, ...], str]:
    """One hostile value per text field (batched: one build checks them all)."""
    values = {}
    for path in TEXT_PATHS:
        parts = draw(st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=2))
        noise = draw(st.text(SAFE_CHARS, max_size=12))
        values[path] = f"{noise} {' '.join(parts)} {path[-1]}".strip()
    return values


def with_values(data: dict[str, Any], values: dict[tuple[str, ...], str]) -> dict[str, Any]:
    for path, value in values.items():
        node = data
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return data


_INJECTED = """() => {
  const found = document.querySelectorAll('esafety-x, [data-injected]').length;
  const handlers = [...document.querySelectorAll('*')].filter(
    e => [...e.attributes].some(a => a.name.startsWith('on'))).length;
  const scripts = [...document.scripts].filter(s => s.text.includes('alert(')).length;
  return {found, handlers, scripts};
}"""


@NEEDS_CHROMIUM
@settings(
    max_examples=1,
    deadline=None,
    derandomize=True,
    phases=FUZZ_PHASES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=hostile_values())
def test_hostile_text_everywhere_stays_text(
    browser: Any, tmp_path_factory: pytest.TempPathFactory, values: dict[Any, str]
) -> None:
    import pypdf

    folder = tmp_path_factory.mktemp("hostile")
    config = write_school(folder, with_values(school_data(), values))
    result = build(config, folder / "site")
    site = result.site_dir
    with visitor(browser, site) as (v, page):
        for path in site_paths(site):
            visit = v.visit(page, path)
            assert visit.problems == [], path  # no alert() dialog, no error
            assert page.evaluate(_INJECTED) == {"found": 0, "handlers": 0, "scripts": 0}, path
        home = v.visit(page, "")
    name = normalise_space(values[("school", "name")])
    assert name in normalise_space(home.text)  # printed as the text it is
    policy = pypdf.PdfReader(site / "downloads" / "policy.pdf")
    assert normalise_space(policy.metadata.author or "") == name
    ics = (site / "downloads" / "calendar.ics").read_bytes().decode("utf-8")
    assert not any(line.startswith("SUMMARY:evil") for line in re.split(r"\r\n|\r|\n", ics))


def test_a_lone_carriage_return_cannot_start_an_ics_line() -> None:
    assert "\r" not in _escape("a\rBEGIN:VEVENT") and "\n" not in _escape("a\r\nb\nc")


# ---------------------------------------------------------------- 3. the site folder


@pytest.mark.parametrize(
    ("where", "message"),
    [
        (lambda school: school, "holds a school's config"),
        (lambda school: school.parent, "holds a school's config"),
        (lambda school: school / "overrides", "inside the school's overrides/ folder"),
        (lambda school: school / "reviews" / "x", "inside the school's reviews/ folder"),
    ],
)
def test_the_site_folder_is_never_the_schools_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: Any, message: str
) -> None:
    config = one_school(tmp_path)
    (config.parent / "reviews").mkdir()
    (config.parent / "overrides").mkdir()
    before = sorted(p.name for p in config.parent.iterdir())
    code, out = run(
        ["build", "--config", str(config), "--site-dir", str(where(config.parent))], capsys
    )
    assert code == 2 and message in out and len(out.strip().splitlines()) == 1
    assert sorted(p.name for p in config.parent.iterdir()) == before


def test_a_folder_the_tool_did_not_make_is_never_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = one_school(tmp_path)
    webroot = tmp_path / "www"
    webroot.mkdir()
    (webroot / "index.html").write_text("the trust's own site", encoding="utf-8")
    code, out = run(["build", "--config", str(config), "--site-dir", str(webroot)], capsys)
    assert code == 2 and f"has no {SITE_MARKER}" in out
    assert (webroot / "index.html").read_text(encoding="utf-8") == "the trust's own site"
    # New, empty, or marked as the tool's own: accepted.
    (tmp_path / "empty").mkdir()
    (tmp_path / "ours").mkdir()
    (tmp_path / "ours" / SITE_MARKER).write_text("", encoding="utf-8")
    (tmp_path / "ours" / "old.html").write_text("", encoding="utf-8")
    for site in ("new", "empty", "ours"):
        check_site_dirs([SchoolJob(config, tmp_path / site)])


def test_a_trust_folder_is_never_a_site_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trust = tmp_path / "trust"
    for name in ("oak", "ash"):
        write_school(trust / name, school_data())
    code, out = run(["build", str(trust), "--site-dir", str(trust)], capsys)
    assert code == 2 and "holds a school's config" in out
    assert sorted(p.name for p in trust.iterdir()) == ["ash", "oak"]


def test_staging_folders_of_a_killed_build_are_removed(tmp_path: Path) -> None:
    dead = tmp_path / ".esafety-build-999999999-abc"  # no such process
    older = tmp_path / ".esafety-build-x1y2z3"  # an older version's, without a pid
    mine = tmp_path / f".esafety-build-{os.getpid()}-abc"  # a build still running
    swapped = tmp_path / ".site.old-999999999"  # publish()'s previous site, mid-swap
    stranger = tmp_path / "esafety-build-notes"
    dotfile = tmp_path / ".config.old-backup"  # someone else's
    # Named like ours, but not marked as ours: a school's own folders.
    photos, notes = tmp_path / ".photos.old-2019", tmp_path / ".esafety-build-notes"
    for folder in (dead, older, mine, swapped, stranger, dotfile, photos, notes):
        (folder / "site").mkdir(parents=True)
    for folder in (dead, older, mine):
        (folder / STAGING_MARKER).write_text("")
    (swapped / SITE_MARKER).write_text("")
    remove_leftovers(tmp_path)
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert kept == sorted([mine.name, stranger.name, dotfile.name, photos.name, notes.name])


def test_a_site_folder_that_is_a_link_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = one_school(tmp_path)
    elsewhere = tmp_path / "another-schools-site"
    elsewhere.mkdir()
    (elsewhere / "keep.html").write_text("theirs", encoding="utf-8")
    (config.parent / "site").symlink_to(elsewhere)
    code, out = run(["build", "--config", str(config)], capsys)
    assert code == 2 and "is a link" in out
    assert [p.name for p in elsewhere.iterdir()] == ["keep.html"]


# ---------------------------------------------------------------- 4. schools apart


def test_a_school_named_like_the_trust_index_is_refused_before_a_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trust = tmp_path / "trust"
    write_school(trust / "oak", school_data())
    (trust / "index.html.yaml").write_text(
        (trust / "oak" / "school_config.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    code, out = run(["build", str(trust), "--site-dir", str(tmp_path / "out")], capsys)
    assert code == 2 and "would be built as index.html" in out
    assert not (tmp_path / "out").exists()


def test_a_pipe_among_the_overrides_is_refused_not_read(tmp_path: Path) -> None:
    config = one_school(tmp_path)
    pages = config.parent / "overrides" / "content" / "pages"
    pages.mkdir(parents=True)
    os.mkfifo(pages / "privacy.md")
    found = problems(Composer(load_config(config), config.parent))
    assert [(p.file, p.message) for p in found] == [
        ("overrides/content/pages/privacy.md", "not a plain file; refusing it")
    ]


def test_two_schools_never_share_an_output_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for area in ("north", "south"):
        write_school(tmp_path / area / "st-marys", school_data())
    jobs = find_jobs([tmp_path / "north", tmp_path / "south"], tmp_path / "out")
    with pytest.raises(UsageError, match="two schools would be built into this one folder"):
        check_site_dirs(jobs)
    code, out = run(
        [
            "build",
            str(tmp_path / "north"),
            str(tmp_path / "south"),
            "--site-dir",
            str(tmp_path / "out"),
        ],
        capsys,
    )
    assert code == 2 and not (tmp_path / "out").exists()


def test_extends_names_a_defaults_file_never_a_school(tmp_path: Path) -> None:
    write_school(tmp_path / "oak", school_data())
    other = school_data()
    other["extends"] = "../oak/school_config.yaml"
    config = write_school(tmp_path / "ash", other)
    with pytest.raises(ConfigError, match="is a school's config"):
        load_config(config)
    # Neither school is lost from the batch: both are found (and ash reports its error).
    assert len(find_jobs([tmp_path / "oak", tmp_path / "ash"])) == 2


@pytest.mark.parametrize("target", ["/etc/passwd", "../../../etc/hosts", "a\0b"])
def test_extends_stays_near_the_school(tmp_path: Path, target: str) -> None:
    data = school_data()
    data["extends"] = target
    config = write_school(tmp_path / "trust" / "oak", data)
    with pytest.raises(ConfigError, match="extends: .*(outside|not a usable file name)"):
        load_config(config)


def test_a_schools_markdown_cache_is_never_read_for_another(tmp_path: Path) -> None:
    fragment = f"Fragment {tmp_path.name} only"
    first, second = tmp_path / "a" / "markdown.json", tmp_path / "b" / "markdown.json"
    with markup.conversions_kept(first):
        markup.to_html(fragment)
    saved = json.loads(first.read_text(encoding="utf-8"))
    assert saved["conversions"] == {fragment: f"<p>{fragment}</p>"}
    markup._converted.clear()
    with markup.conversions_kept(second):  # another school: converted afresh
        assert str(markup.to_html(fragment)) == f"<p>{fragment}</p>"


def test_a_cache_the_school_wrote_is_never_published(tmp_path: Path) -> None:
    """The cache is in the school's folder: an entry it forged (right shape, right
    sha256, a committed .esafety-cache/) is a miss; only our own sealed entries count."""
    fragment = f"Forged {tmp_path.name}"
    forged = {
        "converter": markup._converter_version(),
        "conversions": {fragment: "<script>alert(1)</script>"},
    }
    path = tmp_path / "markdown.json"
    path.write_text(json.dumps(forged), encoding="utf-8")
    markup._converted.clear()
    with markup.conversions_kept(path):
        assert "script" not in markup.to_html(fragment)

    cache = BuildCache(tmp_path)
    cache.store_pdf(RenderedPdf("policy.pdf", b"%PDF real", 1, ()), "k")
    assert cache.pdf("policy.pdf", "k").data == b"%PDF real"
    evil = b"%PDF /OpenAction <</S/JavaScript/JS(app.alert(1))>>"
    (tmp_path / "pdf" / "k.pdf").write_bytes(evil)
    meta = json.loads((tmp_path / "pdf" / "k.json").read_text(encoding="utf-8"))
    meta["sha256"] = hashlib.sha256(evil).hexdigest()
    (tmp_path / "pdf" / "k.json").write_text(json.dumps(meta), encoding="utf-8")
    assert cache.pdf("policy.pdf", "k") is None

    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("ours", encoding="utf-8")
    cache.remember_site(site, "input")
    assert cache.site_key(site) == "input"
    (site / "index.html").write_text("<script>alert(1)</script>", encoding="utf-8")
    sites = json.loads((tmp_path / "sites.json").read_text(encoding="utf-8"))
    sites[str(site)]["tree"] = tree_digest(site)  # as the helper's forgery did
    (tmp_path / "sites.json").write_text(json.dumps(sites), encoding="utf-8")
    assert cache.site_key(site) is None


@pytest.mark.parametrize("meta", ["[]", '"x"', '{"sha256": 1}', '{"pages": "2"}', "null"])
def test_a_cache_entry_of_the_wrong_shape_is_a_miss(tmp_path: Path, meta: str) -> None:
    cache = BuildCache(tmp_path)
    (tmp_path / "pdf").mkdir()
    (tmp_path / "pdf" / "k.pdf").write_bytes(b"%PDF")
    (tmp_path / "pdf" / "k.json").write_text(meta, encoding="utf-8")
    (tmp_path / "sites.json").write_text(meta, encoding="utf-8")
    assert cache.pdf("x.pdf", "k") is None
    assert cache.site_key(tmp_path) is None


def test_a_read_only_school_folder_caches_in_the_users_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = one_school(tmp_path)
    other = one_school(tmp_path / "2")
    assert school_cache_dir(config) == config.parent / ".esafety-cache"
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # root ignores chmod
    read_only = school_cache_dir(config)
    assert read_only.is_relative_to(user_cache_dir())
    assert read_only != school_cache_dir(other)  # one per config, never shared


def test_one_failing_school_is_named_and_the_others_still_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator import build as build_module

    trust = tmp_path / "trust"
    write_school(trust / "oak", school_data())
    write_school(trust / "ash", "school: " + "[" * 5000)
    real_prepare = build_module.prepare

    def prepare(job: SchoolJob, *args: Any, **kwargs: Any) -> Any:
        if job.config_path.parent.name == "oak":
            raise RuntimeError("something broke")
        return real_prepare(job, *args, **kwargs)

    monkeypatch.setattr(build_module, "prepare", prepare)
    code, out = run(["build", str(trust)], capsys)
    assert code == 2
    assert f"{trust / 'oak'}: internal error: RuntimeError: something broke" in out
    assert "nested more than" in out
    assert "0 of 2 schools built." in out
    assert "Traceback" not in out


# ---------------------------------------------------------------- 5. limits


def test_a_huge_config_is_refused_by_its_size(tmp_path: Path) -> None:
    path = tmp_path / "school_config.yaml"
    with path.open("wb") as file:
        file.truncate(3 * 1024**3)  # sparse: 3 GB that cost nothing to make
    with pytest.raises(ConfigError, match="larger than 1 MB"):
        load_config(path)


def test_every_text_value_has_a_maximum_length(tmp_path: Path) -> None:
    config = one_school(tmp_path, {"school": {"name": "x" * 120_000}})
    with pytest.raises(
        ConfigError, match=f"school.name: is 120,000 characters long; the most is {MAX_TEXT:,}"
    ):
        load_config(config)
    schema = json.loads((DEFAULT_CONFIG.parent / "school_config.schema.json").read_text())
    assert schema["$defs"]["SchoolInfo"]["properties"]["name"]["maxLength"] == MAX_TEXT


def test_characters_the_print_font_cannot_draw_are_refused_at_their_key(tmp_path: Path) -> None:
    config = one_school(tmp_path, {"people": {"dsl": {"name": "Mrs 学校 😀"}}})
    with pytest.raises(ConfigError) as error:
        load_config(config)
    assert re.search(
        r":\d+: people.dsl.name: the bundled print font cannot show '学'", str(error.value)
    )
    load_config(one_school(tmp_path / "w", {"school": {"name": "Ysgol Gŵyr – Llŷn"}}))


@pytest.mark.parametrize("day", ["1926-09-01", "2107-01-01", "1969-12-31"])
def test_only_dates_that_build_are_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], day: str
) -> None:
    config = one_school(tmp_path)
    text = re.sub(r"approved_on: \S+", f"approved_on: {day}", config.read_text(encoding="utf-8"))
    config.write_text(text, encoding="utf-8")
    code, out = run(["check", "--config", str(config)], capsys)
    assert code == 2 and "review.approved_on" in out and "use a year from 2000 to 2099" in out


# ---------------------------------------------------------------- 6. logos

EVIL_SVG = b"""<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
 xmlns:ed="http://example.org/editor" onload="alert(1)" viewBox="0 0 10 10" ed:x="1">
<script>alert(2)</script><foreignObject><p>x</p></foreignObject>
<style>@import url(http://evil.example/x.css);</style>
<a href="javascript:alert(3)"><rect width="5" height="5" onclick="alert(4)"
 style="fill:url(http://evil.example/a)"/></a>
<image href="data:image/svg+xml;base64,AAAA"/><use xlink:href="http://evil.example/#x"/>
<set attributeName="href" to="javascript:alert(5)"/><circle id="r" r="2" fill="url(#g)"/>
<use href="#r"/></svg>"""


def test_an_svg_logo_is_cleaned_of_everything_active() -> None:
    cleaned = clean_svg(EVIL_SVG).decode("utf-8")
    for gone in (
        "script",
        "alert",
        "onload",
        "onclick",
        "foreignObject",
        "evil",
        "data:",
        "javascript",
        "<set",
        "<image",
        "editor",
        "@import",
    ):
        assert gone not in cleaned, gone
    assert '<circle id="r" r="2" fill="url(#g)"' in cleaned and '<use href="#r"' in cleaned


def test_an_svg_that_would_draw_for_ever_is_refused() -> None:
    """Eight levels of ten <use> each: 1.4 KB asking for 10^8 shapes held a build for ever."""
    svg = ['<svg xmlns="http://www.w3.org/2000/svg"><defs><g id="a0"><rect width="1"/></g>']
    for i in range(1, 9):
        uses = "".join(f'<use href="#a{i - 1}" x="{j}"/>' for j in range(10))
        svg.append(f'<g id="a{i}">{uses}</g>')
    svg.append('</defs><use href="#a8"/></svg>')
    with pytest.raises(LogoError, match="repeats its shapes too many times"):
        clean_svg("".join(svg).encode())
    loop = '<svg xmlns="http://www.w3.org/2000/svg"><g id="a"><use href="#a"/></g></svg>'
    with pytest.raises(LogoError, match="refers to itself"):
        clean_svg(loop.encode())
    deep = '<svg xmlns="http://www.w3.org/2000/svg">' + "<g>" * 3000 + "</g>" * 3000 + "</svg>"
    with pytest.raises(LogoError, match="nests its elements over 100 deep"):
        clean_svg(deep.encode())  # was a RecursionError: "internal error"
    few = svg[:3] + ['</defs><use href="#a2"/></svg>']  # 100 shapes: an ordinary logo
    assert b"<use" in clean_svg("".join(few).encode())


def test_an_svg_with_entities_is_refused() -> None:
    bomb = b'<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>'
    with pytest.raises(LogoError, match="entities"):
        clean_svg(bomb)


def logo_school(tmp_path: Path, name: str, data: bytes) -> Path:
    config = one_school(tmp_path, {"school": {"logo": f"assets/{name}"}})
    (config.parent / "assets" / name).write_bytes(data)
    return config


def test_a_huge_bitmap_is_refused_before_it_is_decoded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (13000, 13000)).save(out, "PNG", optimize=True)
    config = logo_school(tmp_path, "crest.png", out.getvalue())
    code, text = run(["check", "--config", str(config)], capsys)
    assert code == 2
    assert 'school.logo: "assets/crest.png" is 13000 x 13000 pixels' in text


def test_a_broken_logo_is_one_short_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = b"\x89PNG\r\n\x1a\n" + base64.b64encode(os.urandom(150_000))
    config = logo_school(tmp_path, "crest.png", junk)
    code, text = run(["check", "--config", str(config)], capsys)
    assert code == 2 and 'school.logo: "assets/crest.png" is not a readable PNG image' in text
    assert len(text) < 400


def test_a_jpeg_crest_is_accepted_and_written_again(tmp_path: Path) -> None:
    from PIL import Image

    out = io.BytesIO()
    Image.new("CMYK", (3000, 2000), (0, 80, 80, 0)).save(out, "JPEG", comment=b"<script>")
    config = logo_school(tmp_path, "crest.jpeg", out.getvalue())
    load_config(config)
    logo = read_logo(config.parent / "assets" / "crest.jpeg")
    assert logo.mime == "image/jpeg" and logo.suffix == ".jpg" and b"<script>" not in logo.data
    assert Image.open(io.BytesIO(logo.data)).size == (1200, 800)


# ---------------------------------------------------------------- 8. esafety review


def review(config: Path, *args: str) -> int:
    return main(["review", "--config", str(config), *args])


NEW = ["--version", "2027.1", "--approved-on", "2027-10-05", "--approved-by", "Full Governing Body"]


def test_review_edits_a_flow_style_review(tmp_path: Path) -> None:
    config = one_school(tmp_path)
    text = config.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data.pop("review")
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    config.write_text(
        body + "review: {version: '2026.1', approved_on: 2026-10-06}  # the last review\n",
        encoding="utf-8",
    )
    assert review(config, *NEW) == 0
    updated = config.read_text(encoding="utf-8")
    assert updated.startswith(body) and updated.endswith("}  # the last review\n")
    loaded = load_config(config).review
    assert (loaded.version, loaded.approved_on) == ("2027.1", dt.date(2027, 10, 5))
    assert loaded.approved_by == "Full Governing Body"
    assert (config.parent / "school_config.yaml.2026.1.bak").read_text(encoding="utf-8") == (
        body + "review: {version: '2026.1', approved_on: 2026-10-06}  # the last review\n"
    )


def test_review_edits_a_wrapped_value_and_keeps_every_other_line(tmp_path: Path) -> None:
    data = school_data()
    data.pop("review")
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    config = write_school(
        tmp_path / "school",
        body + "review:\n"
        '  version: "2026.1"   # the version\n'
        "  approved_on: 2026-10-06\n"
        "  approved_by: The Full Governing Body of the school,\n"
        "    meeting in the autumn term   # wrapped\n"
        "  cycle_months: 12\n",
    )
    assert load_config(config).review.approved_by.endswith("meeting in the autumn term")
    assert review(config, *NEW) == 0
    assert config.read_text(encoding="utf-8") == body + (
        "review:\n"
        '  version: "2027.1"   # the version\n'
        "  approved_on: 2027-10-05\n"
        '  approved_by: "Full Governing Body"   # wrapped\n'
        "  cycle_months: 12\n"
    )


def test_a_failed_review_leaves_config_and_reviews_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = one_school(tmp_path)
    before = config.read_bytes()
    real_rename = Path.rename

    def failing_rename(self: Path, target: Any) -> Any:
        if ".review-" in self.name:
            raise OSError(28, "No space left on device")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", failing_rename)
    assert review(config, *NEW) == 1
    assert config.read_bytes() == before
    assert not (config.parent / "reviews").exists()
    monkeypatch.undo()
    assert review(config, *NEW) == 0  # a retry works


def test_a_malformed_snapshot_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = one_school(tmp_path)
    folder = config.parent / "reviews" / "2025.1"
    folder.mkdir(parents=True)
    (folder / "snapshot.json").write_text('{"version": 1, "sections": "x"}', encoding="utf-8")
    before = config.read_bytes()
    code, out = run(["review", "--config", str(config), *NEW], capsys)
    assert code == 2 and "snapshot.json: not a snapshot esafety review wrote" in out
    assert config.read_bytes() == before


# ---------------------------------------------------------------- 10. fuzzing

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True),
    st.dates(min_value=dt.date(1, 1, 1)),
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=12), inner, max_size=3)
    ),
    max_leaves=8,
)
BASE = school_data()


def key_paths(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path] if path else []
    if isinstance(data, dict):
        for key, value in data.items():
            out += key_paths(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += key_paths(value, (*path, i))
    return out


PATHS = key_paths(BASE)


def assert_clean(code: int, out: str) -> None:
    """A safe result or a clear refusal: never a traceback or an internal error."""
    assert "Traceback" not in out and "internal error" not in out, out
    assert code in (0, 1, 2), out
    if code == 2:
        problems = [line for line in out.splitlines() if line and not line.endswith(" found.")]
        assert problems and all(LINE.match(line) for line in problems), out


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    phases=FUZZ_PHASES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    changes=st.lists(st.tuples(st.sampled_from(PATHS), VALUES), min_size=1, max_size=4),
    extra=st.dictionaries(st.text(max_size=10), VALUES, max_size=2),
)
def test_fuzzed_configs_are_checked_or_refused_clearly(
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    changes: list[tuple[tuple[Any, ...], Any]],
    extra: dict[str, Any],
) -> None:
    data = json.loads(json.dumps(BASE, default=str))
    for path, value in changes:
        node = data
        for key in path[:-1]:
            node = node[key] if isinstance(node, dict | list) and _has(node, key) else None
            if node is None:
                break
        if isinstance(node, dict | list) and _has(node, path[-1]):
            node[path[-1]] = value
    data.update(extra)
    folder = tmp_path_factory.mktemp("fuzz")
    config = write_school(folder, yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    assert_clean(*run(["check", "--config", str(config)], capsys))


def _has(node: Any, key: Any) -> bool:
    return key in node if isinstance(node, dict) else isinstance(key, int) and key < len(node)


YAML_PIECES = st.sampled_from(
    [
        "[",
        "{",
        "]",
        "}",
        "&a ",
        "*a ",
        "<<: *a\n",
        "!!python/object:os.system ",
        "!!binary ",
        "? ",
        "- ",
        ": ",
        "\t",
        "'",
        '"',
        "\\",
        "%YAML 1.1\n",
        "---\n",
        "...\n",
        "#",
        "\n",
        "school:\n  name: ",
        "extends: ",
        "../",
        "/etc/passwd",
        "school_config.yaml",
        "\x00",
        "\ufeff",
        "0x" + "f" * 400,
        "1e999",
        "2026-13-45",
        "yes",
        "~",
        "|\n  ",
        ">-\n  ",
    ]
)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    phases=FUZZ_PHASES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    pieces=st.lists(YAML_PIECES, max_size=20),
    at=st.integers(min_value=0, max_value=4000),
    defaults=st.lists(YAML_PIECES, max_size=8),
)
def test_fuzzed_yaml_text_and_trust_folders_are_refused_clearly(
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    pieces: list[str],
    at: int,
    defaults: list[str],
) -> None:
    """Broken YAML spliced into a real config, and a trust's defaults file of broken YAML
    (the school extends it)."""
    folder = tmp_path_factory.mktemp("trust")
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    at = min(at, len(text))
    text = "extends: ../trust.yaml\n" + text[:at] + "".join(pieces) + text[at:]
    (folder / "trust.yaml").write_text("".join(defaults) or "{}", encoding="utf-8")
    config = write_school(folder / "oak", text)
    assert_clean(*run(["check", "--config", str(config)], capsys))


OVERRIDE_PIECES = st.sampled_from(
    [
        "{{ school.name }}",
        "{{ ",
        " }}",
        "{% ",
        " %}",
        "{% for x in ",
        "{% endfor %}",
        "{{ x.__class__ }}",
        "{{ cycler.__init__ }}",
        "{% include '/etc/passwd' %}",
        "{% extends '../../school_config.yaml' %}",
        "{% import 'x' as y %}",
        "{{ range(10**9) | list }}",
        "{{ 'a' * 10 }}",
        "| date",
        "| nosuchfilter",
        "{# ",
        " #}",
        "<script>",
        "text ",
        "\n",
        "{{ people.dsl.name | the }}",
        "{% raw %}",
        "{% endraw %}",
        "{{ config.model_dump() }}",
    ]
)


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    phases=FUZZ_PHASES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pieces=st.lists(OVERRIDE_PIECES, max_size=12))
def test_fuzzed_overrides_render_or_fail_in_one_line(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[str]
) -> None:
    folder = tmp_path_factory.mktemp("override")
    config = write_school(folder, DEFAULT_CONFIG.read_text(encoding="utf-8"))
    pages = folder / "overrides" / "content" / "pages"
    pages.mkdir(parents=True)
    (pages / "index.md").write_text("".join(pieces), encoding="utf-8")
    composer = Composer(load_config(config), folder)
    for problem in problems(composer):  # the check before a build never fails itself
        assert "\n" not in str(problem) and LINE.match(str(problem))
    try:
        out = composer.page("pages/index.md")
    except BuildError as exc:
        assert "\n" not in str(exc).strip() and str(exc).startswith("content/pages/index.md")
    else:
        assert "root:" not in out and len(out) < 1_000_000
