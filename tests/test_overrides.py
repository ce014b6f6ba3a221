"""A school's or trust's overrides are checked before anything is built: every problem at
once, each at its file and line, with a did-you-mean, exit 2, the last site untouched."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import DEFAULT_CONFIG, school_data, write_school
from test_trust import run, trust  # noqa: F401 (the fixture)

from generator.compose import CONTENT_DIR, TEMPLATES_DIR, Composer, compose
from generator.config import load_config
from generator.errors import ConfigError
from generator.overrides import problems

BROKEN = {
    "content/pages/parents.md": "# Parents\n\nAsk {{ school.nmae }} or {{ schol.name }}.\n\n"
    "{{ school.name | uppper }}\n",
    "content/pages/rules.md": "# Rules\n\n{% if %}\n",
    "content/rules/ks2.yml": (CONTENT_DIR / "rules" / "ks2.yaml").read_text(encoding="utf-8"),
    "content/rules/ks1.yaml": 'title: "Our rules\nrules: [\n',
    "content/smart.yaml": (CONTENT_DIR / "smart.yaml")
    .read_text(encoding="utf-8")
    .replace("credit:", "credit: <script>alert(1)</script>\nold_credit:", 1),
    "templates/print/poster.html": "<p>{{ rule_set.title | nosuch }}</p>\n",
}
EXPECTED = [
    "overrides/content/pages/parents.md:3: (template): {{ schol }} names nothing the pack "
    "knows (did you mean 'school'?)",
    "overrides/content/pages/parents.md:3: (template): {{ school.nmae }}: school has no "
    "'nmae' (did you mean 'name'?)",
    "overrides/content/pages/parents.md:5: (template): no filter named 'uppper' (did you "
    "mean 'upper'?)",
    "overrides/content/pages/rules.md:3: (template): Jinja syntax: Expected an expression",
    "overrides/content/rules/ks1.yaml:1: title: YAML syntax error: a quote is opened and never "
    "closed",
    "overrides/content/rules/ks2.yml:1: (file): the tool reads content/rules/ks2.yaml, so "
    "this file is never used; rename it overrides/content/rules/ks2.yaml",
    "overrides/content/smart.yaml:",  # its line: see below
    "overrides/templates/print/poster.html:1: (template): no filter named 'nosuch'",
]


def school_with(tmp_path: Path, files: dict[str, str]) -> Path:
    config = write_school(tmp_path / "school", school_data())
    for name, text in files.items():
        path = config.parent / "overrides" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return config


def test_every_broken_override_is_named_at_its_line_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = school_with(tmp_path, BROKEN)
    code, out, err = run(capsys, "check", "--config", config)
    assert code == 2, out + err
    lines = err.strip().splitlines()
    for expected in EXPECTED:
        assert any(line.startswith(expected) for line in lines), (expected, lines)
    smart = next(line for line in lines if line.startswith("overrides/content/smart.yaml"))
    number = int(smart.split(":")[1])
    written = (config.parent / "overrides/content/smart.yaml").read_text().splitlines()
    assert "<script>" in written[number - 1] and "credit: <script> is not allowed" in smart
    assert "Traceback" not in err


def test_a_build_with_a_broken_override_leaves_the_last_site(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = school_with(tmp_path, {})
    site = config.parent / "site"
    site.mkdir()
    (site / ".esafety-site").write_text("", encoding="utf-8")
    (site / "index.html").write_text("last good", encoding="utf-8")
    school_with(tmp_path, BROKEN)
    code, out, err = run(capsys, "build", "--config", config, "--site-dir", site)
    assert code == 2 and "nothing was built" in err, err
    assert len([line for line in err.splitlines() if line.startswith("overrides/")]) >= 8
    assert (site / "index.html").read_text() == "last good"


def test_the_tools_own_files_pass_as_overrides(tmp_path: Path) -> None:
    """A school that copies content/ and templates/ into overrides/ to edit is not refused."""
    config = write_school(tmp_path / "school", DEFAULT_CONFIG.read_text(encoding="utf-8"))
    shutil.copytree(CONTENT_DIR, config.parent / "overrides" / "content")
    shutil.copytree(TEMPLATES_DIR, config.parent / "overrides" / "templates")
    assert problems(Composer(load_config(config), config.parent)) == []


def test_a_trusts_broken_override_is_reported_once_for_all_its_schools(
    trust: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    shared = trust / "overrides" / "content" / "pages" / "index.md"
    shared.parent.mkdir(parents=True)
    shared.write_text("# Home\n\nWelcome to {{ school.nmae }}\n", encoding="utf-8")
    code, out, err = run(capsys, "check", "--config", trust)
    assert code == 2
    assert out.count("pages/index.md:3: (template): {{ school.nmae }}") == 1, out
    assert "(shared by 3 schools)" in out


def test_the_parents_embed_template_is_sandboxed(tmp_path: Path) -> None:
    config = school_with(
        tmp_path, {"templates/site/embed-parents.html": "{{ ''.__class__.__mro__ }}"}
    )
    with pytest.raises(ConfigError, match="may not reach Python's internals"):
        compose(load_config(config), config.parent)


@pytest.mark.parametrize(
    "reach", ["{{ ''.__class__.__mro__ }}", "{{ lipsum.__globals__ }}", "{{ cycler['__init__'] }}"]
)
def test_an_override_reaching_for_pythons_internals_fails_the_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], reach: str
) -> None:
    config = school_with(tmp_path, {"content/policy/sections/complaints.md": f"Text\n\n{reach}\n"})
    code, out, err = run(capsys, "check", "--config", config)
    assert code == 2, out + err
    assert "overrides/content/policy/sections/complaints.md:3: (template): '__" in out + err


@pytest.mark.parametrize(
    ("name", "added"),
    [
        ("templates/site/embed-parents.html", '<script>alert("embed")</script>'),
        ("templates/site/embed-parents.html", '<a href="javascript:alert(1)">x</a>'),
        ("templates/site/embed-parents.html", "<img src=x onerror=alert(2)>"),
        ("templates/site/esafety.css", '@import url("https://evil.example/track.css");'),
        ("templates/site/esafety.css", "body { background: url(https://evil.example/p.png) }"),
        ("content/pages/privacy.md", "![x](https://evil.example/pixel.png)"),
        ("content/pages/privacy.md", "[x](//evil.example/)"),
        ("content/pages/privacy.md", "![x][p]\n\n[p]: https://evil.example/pixel.png"),
    ],
)
def test_an_override_that_would_run_script_or_load_from_outside_is_refused(
    tmp_path: Path, name: str, added: str
) -> None:
    own = (TEMPLATES_DIR if name.startswith("templates/") else CONTENT_DIR) / name.split("/", 1)[1]
    source = own.read_text(encoding="utf-8") + "\n" + added + "\n"
    config = school_with(tmp_path, {name: source})
    found = problems(Composer(load_config(config), config.parent))
    assert [(p.line, p.path) for p in found] == [(len(source.splitlines()), "(markup)")], found


def test_a_misspelt_key_or_a_folder_the_tool_has_not_is_found_before_a_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ks2 = (CONTENT_DIR / "rules" / "ks2.yaml").read_text(encoding="utf-8")
    assert "\ntell:" in ks2
    config = school_with(
        tmp_path,
        {
            "content/rules/ks2.yaml": ks2.replace("\ntell:", "\ntel:"),
            "content/rule/ks3.yaml": "title: x\n",
            "rules/ks1.yaml": "title: x\n",
        },
    )
    code, out, err = run(capsys, "check", "--config", config)
    assert code == 2
    line = ks2.split("\ntell:")[0].count("\n") + 2
    assert err.splitlines()[:3] == [
        "overrides/content/rule/ks3.yaml:1: (file): the tool has no folder content/rule, so "
        "this file is never used; did you mean overrides/content/rules/ks3.yaml?",
        f"overrides/content/rules/ks2.yaml:{line}: tel: not a key the tool reads here (did "
        "you mean 'tell'?)",
        "overrides/rules:1: (folder): the tool reads only overrides/content/ and "
        "overrides/templates/; did you mean overrides/content/rules/?",
    ]


# ------------------------------------------------------------------ esafety override


def test_override_copies_a_section_for_the_school_to_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = school_with(tmp_path, {})
    assert run(capsys, "override", "complaints", "-f", config)[0] == 0
    copy = config.parent / "overrides" / "content" / "policy" / "sections" / "complaints.md"
    source = CONTENT_DIR / "policy" / "sections" / "complaints.md"
    assert copy.read_bytes() == source.read_bytes()
    sentence = "are dealt with under our complaints procedure."
    copy.write_text(source.read_text().replace(sentence, "go to the school office first."))
    policy = next(
        d for d in compose(load_config(config), config.parent).prints if d.filename == "policy.pdf"
    )
    assert "go to the school office first" in str(policy.context)
    # A copy is never replaced, and a slip gets a did-you-mean; both exit 2.
    code, _, err = run(capsys, "override", "complaints", "-f", config)
    assert code == 2 and "already there; edit that copy" in err
    code, _, err = run(capsys, "override", "complaint", "-f", config)
    assert code == 2 and "did you mean 'complaints'?" in err
    assert copy.read_text() != source.read_text()


@pytest.mark.parametrize(
    "name", ["../school_config.yaml", "content/../../generator/cli.py", "/etc/passwd"]
)
def test_override_copies_only_the_tools_own_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    config = school_with(tmp_path, {})
    code, _, err = run(capsys, "override", name, "-f", config)
    assert code == 2 and "the tool has no such file" in err
    assert not (config.parent / "overrides").exists()


def test_override_never_writes_through_a_link_leading_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = school_with(tmp_path, {})
    outside = tmp_path / "outside"
    outside.mkdir()
    (config.parent / "overrides").mkdir()
    (config.parent / "overrides" / "templates").symlink_to(outside)
    code, _, err = run(capsys, "override", "templates/print/poster.html", "-f", config)
    assert code == 2 and "leads outside" in err
    assert list(outside.iterdir()) == []
