"""A trust as a trust: shared overrides, one check table, an index of its schools' packs."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from helpers import parse_html
from test_many import ELM, OAK, TRUST_DEFAULTS

from generator.cli import main
from generator.compose import CONTENT_DIR, Composer
from generator.config import load_config
from generator.trust import write_index

ASH = OAK.replace("Oak Primary School", "Ash Infant School").replace("primary", "infant")
TOOL_SITE_NAME = 'name: "{{ short_name }} online safety"'


def site_yaml(name: str) -> str:
    """The tool's content/site.yaml with the site's name changed."""
    text = (CONTENT_DIR / "site.yaml").read_text(encoding="utf-8")
    assert TOOL_SITE_NAME in text
    return text.replace(TOOL_SITE_NAME, f'name: "{name} {{{{ short_name }}}}"')


@pytest.fixture
def trust(tmp_path: Path) -> Path:
    """Three schools extending ../trust.yaml; the trust renames the site in its
    overrides/, and Elm renames it again in its own."""
    (tmp_path / "trust.yaml").write_text(TRUST_DEFAULTS, encoding="utf-8")
    for name, text in (("oak", OAK), ("elm", ELM), ("ash", ASH)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "school_config.yaml").write_text(text, encoding="utf-8")
    shared = tmp_path / "overrides" / "content"
    shared.mkdir(parents=True)
    (shared / "site.yaml").write_text(site_yaml("Ridgeway online safety:"), encoding="utf-8")
    own = tmp_path / "elm" / "overrides" / "content"
    own.mkdir(parents=True)
    (own / "site.yaml").write_text(site_yaml("Elm's own site:"), encoding="utf-8")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def site_name(config: Path) -> str:
    composer = Composer(load_config(config), config.parent)
    return str(composer.data("site.yaml")["site"]["name"])


def test_the_trusts_overrides_apply_to_every_school_and_a_schools_own_win(trust: Path) -> None:
    assert site_name(trust / "oak" / "school_config.yaml") == (
        "Ridgeway online safety: {{ short_name }}"
    )
    assert site_name(trust / "ash" / "school_config.yaml").startswith("Ridgeway")
    assert site_name(trust / "elm" / "school_config.yaml") == "Elm's own site: {{ short_name }}"


def test_a_school_that_extends_nothing_ignores_a_trusts_overrides(trust: Path, make_school) -> None:
    lone = make_school()
    assert site_name(lone) == "{{ short_name }} online safety"


def test_overrides_follow_a_chain_of_defaults_nearest_first(trust: Path) -> None:
    """school -> trust.yaml -> la/la.yaml: the trust's overrides before the LA's."""
    la = trust / "la"
    (la / "overrides" / "content").mkdir(parents=True)
    (la / "la.yaml").write_text("school: {local_authority: Northam}\n", encoding="utf-8")
    (la / "overrides" / "content" / "site.yaml").write_text(site_yaml("LA:"), encoding="utf-8")
    (la / "overrides" / "content" / "smart.yaml").write_text(
        (CONTENT_DIR / "smart.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    text = (trust / "trust.yaml").read_text(encoding="utf-8")
    (trust / "trust.yaml").write_text("extends: la/la.yaml\n" + text, encoding="utf-8")
    config = load_config(trust / "oak" / "school_config.yaml")
    assert config.shared_folders == (trust.resolve(), la.resolve())
    composer = Composer(config, trust / "oak")
    assert composer.content_dirs == [
        trust.resolve() / "overrides" / "content",
        la.resolve() / "overrides" / "content",
        CONTENT_DIR,
    ]
    assert site_name(trust / "oak" / "school_config.yaml").startswith("Ridgeway")


def test_a_trust_builds_with_its_override_and_an_index_of_its_packs(
    trust: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.rmtree(trust / "ash")  # Oak takes the trust's override as Ash would
    out_dir = trust / "out"
    code, out, err = run(capsys, "build", trust, "-d", out_dir)
    assert (code, err) == (0, ""), err
    assert out.splitlines()[-1] == f"Listed the schools' packs in {out_dir / 'index.html'}"
    titles = {
        name: parse_html((out_dir / name / "index.html").read_text("utf-8")).find("title")[0].text
        for name in ("oak", "elm")
    }
    assert "Ridgeway online safety: Oak Primary School" in titles["oak"]
    assert "Elm's own site: Elm Academy" in titles["elm"]
    index = parse_html((out_dir / "index.html").read_text("utf-8"))
    cells = [cell.text.strip() for cell in index.find("td")]
    assert [cells[i : i + 3] for i in range(0, len(cells), 3)] == [
        ["Elm Academy", "2", "2 September 2027"],
        ["Oak Primary School", "1", "1 September 2027"],
    ]
    assert [a.attrs["href"] for a in index.find("a")] == ["./elm/", "./oak/"]
    assert index.find("h1")[0].text == "Ridgeway Learning Trust: online-safety packs"
    assert index.find("html")[0].attrs["lang"] == "en-GB"
    assert not index.find("script") and not index.find("link")


def test_a_folder_named_like_a_link_is_only_a_folder_in_the_index(tmp_path: Path) -> None:
    name = "javascript:alert(document.domain)%2F%2F"
    folder = tmp_path / name / "downloads"
    folder.mkdir(parents=True)
    manifest = {"school": "Oak", "version": "1", "next_review": "2027-09-01"}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    index = write_index(tmp_path, [tmp_path / name])
    [link] = parse_html(index.read_text("utf-8")).find("a")
    assert link.attrs["href"] == "./javascript%3Aalert%28document.domain%29%252F%252F/"


def test_the_index_marks_an_overdue_review(tmp_path: Path) -> None:
    for name, due in (("a", "2026-09-01"), ("b", "2027-09-01")):
        folder = tmp_path / name / "downloads"
        folder.mkdir(parents=True)
        manifest = {"school": name.upper(), "version": "1", "next_review": due}
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    index = write_index(tmp_path, [tmp_path / "a", tmp_path / "b"])
    cells = [cell.text.strip() for cell in parse_html(index.read_text("utf-8")).find("td")]
    assert cells[2] == "1 September 2026 (overdue)" and cells[5] == "1 September 2027"
    assert "<h1>Online-safety packs</h1>" in index.read_text("utf-8")  # no trust given


def test_the_index_escapes_names_and_skips_folders_never_built(tmp_path: Path) -> None:
    for name, school in (("a", "<script>alert(1)</script> & Co"), ("b", None)):
        folder = tmp_path / name / "downloads"
        folder.mkdir(parents=True)
        if school:
            manifest = {"school": school, "version": '"><b>', "next_review": "2027-09-01"}
            (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    html = write_index(tmp_path, [tmp_path / "a", tmp_path / "b"]).read_text("utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    assert "&#34;&gt;&lt;b&gt;" in html and "<b>" not in html
    assert 'href="./b/"' not in html
    assert write_index(tmp_path / "b", [tmp_path / "b"]) is None
    assert not (tmp_path / "b" / "index.html").exists()


# ------------------------------------------------------------------ check, for many


def test_check_a_folder_prints_one_table(trust: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", trust)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == [
        "School",
        "Config",
        "Errors",
        "Warnings",
        "Version",
        "Next",
        "review",
    ]
    table = [line.split("  ") for line in lines[2:5]]
    assert [[c.strip() for c in row if c.strip()] for row in table] == [
        ["Ash Infant School", f"{trust}/ash/school_config.yaml", "0", "0", "1", "2027-09-01"],
        ["Elm Academy", f"{trust}/elm/school_config.yaml", "0", "0", "2", "2027-09-02"],
        ["Oak Primary School", f"{trust}/oak/school_config.yaml", "0", "0", "1", "2027-09-01"],
    ]
    assert lines[-1] == "3 schools: 0 with errors, 0 with warnings."


def test_check_several_configs_as_csv_and_json(
    trust: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    oak, elm = trust / "oak" / "school_config.yaml", trust / "elm" / "school_config.yaml"
    code, out, _ = run(capsys, "check", "-f", oak, "-f", elm, "--format", "csv")
    assert code == 0
    assert list(csv.DictReader(io.StringIO(out))) == [
        {"school": "Oak Primary School", "config": str(oak), "errors": "0", "warnings": "0",
         "version": "1", "next_review": "2027-09-01"},
        {"school": "Elm Academy", "config": str(elm), "errors": "0", "warnings": "0",
         "version": "2", "next_review": "2027-09-02"},
    ]  # fmt: skip
    code, out, _ = run(capsys, "check", oak, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert [s["school"] for s in data["schools"]] == ["Oak Primary School"]
    assert data["shared_problems"] == []


def test_a_problem_in_the_shared_defaults_is_reported_once(
    trust: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    defaults = trust / "trust.yaml"
    text = defaults.read_text(encoding="utf-8").replace("method: both", "method: bothe")
    defaults.write_text(text, encoding="utf-8")
    oak = trust / "oak" / "school_config.yaml"
    oak.write_text(oak.read_text("utf-8").replace("rule: not_allowed", "rule: banned"), "utf-8")
    code, out, err = run(capsys, "check", trust)
    assert (code, err) == (2, "")
    shared = [line for line in out.splitlines() if "method" in line]
    assert len(shared) == 1 and shared[0].startswith(f"{defaults}:")
    assert shared[0].endswith("(shared by 3 schools)")
    assert sum("phones.pupils.rule" in line for line in out.splitlines()) == 1
    rows = {line.split("  ")[0]: line.split() for line in out.splitlines()[2:5]}
    assert rows["Oak Primary School"][-2:] == ["2", "0"]  # named even when invalid
    data = json.loads(run(capsys, "check", trust, "--format", "json")[1])
    assert [p["schools"] for p in data["shared_problems"]] == [3]

    code, out, err = run(capsys, "build", trust, "-d", trust / "out")
    assert code == 2
    assert sum("method" in line for line in err.splitlines()) == 1
    assert not (trust / "out").exists()


def test_check_strict_over_many_fails_on_a_warning(
    trust: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elm = trust / "elm" / "school_config.yaml"
    elm.write_text(
        elm.read_text("utf-8").replace('deputy_dsls: [{name: "Mr Gil Twig"}]', ""), "utf-8"
    )
    code, out, _ = run(capsys, "check", trust, "--strict")
    assert code == 1
    assert f"{elm}: warning: people.deputy_dsls: no deputy DSL is named" in out


def test_a_spreadsheet_formula_in_a_name_stays_text(
    trust: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    oak = trust / "oak" / "school_config.yaml"
    oak.write_text(
        oak.read_text("utf-8").replace('"Oak Primary School"', '"=HYPERLINK(1)"'), "utf-8"
    )
    out = run(capsys, "check", oak, "--format", "csv")[1]
    assert next(csv.DictReader(io.StringIO(out)))["school"] == "'=HYPERLINK(1)"


def test_index_lists_sites_put_together_from_several_machines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site"
    for folder, school in (("oak", "Oak Primary School"), ("elm", "Elm Academy")):
        (site / folder / "downloads").mkdir(parents=True)
        manifest = {"school": school, "version": "1", "next_review": "2027-09-01"}
        (site / folder / "downloads" / "manifest.json").write_text(json.dumps(manifest))
    (site / "assets").mkdir()  # not a school's pack: not listed
    code, out, err = run(capsys, "index", site)
    assert (code, err) == (0, "")
    assert out == f"Listed the schools' packs in {site / 'index.html'}\n"
    links = parse_html(site / "index.html").find("a")
    assert [(a.attrs["href"], a.text) for a in links] == [
        ("./elm/", "Elm Academy"),
        ("./oak/", "Oak Primary School"),
    ]
    code, out, err = run(capsys, "index", tmp_path / "empty")
    assert (code, out) == (2, "")
    assert err == f"{tmp_path / 'empty'}: no school's pack in its folders (nothing to list)\n"
    assert run(capsys, "index", site)[0] == 0  # its own index is replaced


@pytest.mark.parametrize("command", ["index", "build"])
def test_a_page_of_the_trusts_own_is_never_replaced_by_the_index(
    trust: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    site = trust / "out"
    (site / "oak" / "downloads").mkdir(parents=True)
    manifest = {"school": "Oak Primary School", "version": "1", "next_review": "2027-09-01"}
    (site / "oak" / "downloads" / "manifest.json").write_text(json.dumps(manifest))
    own = "<h1>Our trust's own page</h1>"
    (site / "index.html").write_text(own, encoding="utf-8")
    args = ["index", site] if command == "index" else ["build", trust, "--site-dir", site]
    code, out, err = run(capsys, *args)
    assert (code, out) == (2, "")
    assert err == (
        f"{site / 'index.html'}: not a list of packs esafety wrote, so it is left as it is; "
        "move it, or choose another --site-dir\n"
    )
    assert (site / "index.html").read_text(encoding="utf-8") == own
    assert sorted(p.name for p in site.iterdir()) == ["index.html", "oak"]  # nothing built


def test_a_trust_down_to_one_school_still_builds_into_its_folder(
    trust: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("ash", "elm"):
        shutil.rmtree(trust / name)
    out_dir = trust / "out"
    code, out, err = run(capsys, "build", trust, "-d", out_dir)
    assert (code, err) == (0, ""), err
    assert (out_dir / "oak" / "index.html").is_file()
    assert out.splitlines()[-1] == f"Listed the schools' packs in {out_dir / 'index.html'}"
    code, out, _ = run(capsys, "check", trust)
    assert out.splitlines()[-1].startswith("1 school: 0 with errors")


def test_a_pack_left_from_a_school_no_longer_built_is_named_and_kept(
    trust: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    out_dir = trust / "out"
    assert run(capsys, "build", trust, "-d", out_dir)[0] == 0
    shutil.rmtree(trust / "ash")
    caplog.clear()
    assert run(capsys, "build", trust, "-d", out_dir)[0] == 0
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert said == [
        f"{out_dir / 'ash'}: the pack of a school not in this build is still here and is "
        "published with the folder (not listed in its index.html); delete it if the school "
        "has left"
    ]
    assert (out_dir / "ash" / "index.html").is_file()


def test_a_warning_about_a_shared_value_is_given_once_at_its_line(
    trust: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    defaults = trust / "trust.yaml"
    text = defaults.read_text(encoding="utf-8")
    assert "last_reviewed: 2026-07-01" in text
    defaults.write_text(text.replace("last_reviewed: 2026-07-01", "last_reviewed: 2025-07-01"))
    code, out, _ = run(capsys, "check", trust)
    about = [line for line in out.splitlines() if "last_reviewed" in line]
    line = text.split("last_reviewed")[0].count("\n") + 1
    assert len(about) == 1 and about[0].startswith(f"{defaults}:{line}: warning: "), about
    assert about[0].endswith("(shared by 3 schools)")


def test_a_logo_in_the_shared_defaults_is_found_beside_that_file(trust: Path) -> None:
    shutil.copyfile(CONTENT_DIR.parent / "assets" / "logo.svg", trust / "crest.svg")
    defaults = trust / "trust.yaml"
    text = defaults.read_text(encoding="utf-8")
    defaults.write_text(text.replace("school:\n", "school:\n  logo: crest.svg\n", 1))
    assert "logo: crest.svg" in defaults.read_text(encoding="utf-8")
    config = load_config(trust / "oak" / "school_config.yaml")
    assert config.school.logo == "../crest.svg"
    logo = Composer(config, trust / "oak").brand.logo_file
    assert logo is not None and logo.resolve() == (trust / "crest.svg").resolve()
