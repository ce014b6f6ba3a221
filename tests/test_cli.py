"""The ``esafety`` command: exit codes, one-line messages, new, check, schema.

Exit codes: 0 success, 1 build failure (or warnings with --strict), 2 invalid input or usage.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import (
    DEFAULT_CONFIG,
    ROOT,
    SCHOOL_NAMES,
    deep_merge,
    school_data,
    school_path,
    write_school,
)
from helpers import tree_digest

from generator.cli import cli, main
from generator.compose import compose
from generator.config import load_config

TODAY = "2026-11-21"
SCHEMA_FILE = ROOT / "school_config.schema.json"
MODELINE = "# yaml-language-server: $schema=./school_config.schema.json"


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESAFETY_TODAY", TODAY)


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, list[str], list[str]]:
    """(exit code, stdout lines, stderr lines) of ``esafety argv``."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


# ------------------------------------------------------------------ usage


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--version")
    assert (code, out, err) == (0, ["esafety, version 0.1.0"], [])


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help_with_an_example(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    code, out, err = run(capsys, command, "--help")
    assert code == 0 and not err
    lines = [line.strip() for line in out]
    assert "Example:" in lines
    assert lines[lines.index("Example:") + 1].startswith(f"esafety {command}")


@pytest.mark.parametrize(
    ("argv", "prefix", "needle"),
    [
        (["--nope"], "esafety: ", "--nope"),
        (["build", "--nope"], "esafety build: ", "--nope"),
        (["schema", "surplus"], "esafety schema: ", "surplus"),
        (["check", "--strict", "--config"], "esafety check: ", "--config"),
        (["publish"], "esafety: ", "publish"),
    ],
    ids=[
        "unknown group option",
        "unknown option",
        "extra argument",
        "missing value",
        "unknown command",
    ],
)
def test_usage_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], prefix: str, needle: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == []
    assert len(err) == 1, err
    assert err[0].startswith(prefix) and needle in err[0]
    assert err[0].endswith("--help)")


def test_missing_config_file_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "build", "--config", "nowhere.yaml") == (
        2,
        [],
        ["nowhere.yaml: no such config file"],
    )
    assert run(capsys, "check", "--config", "nowhere.yaml") == (
        2,
        [],
        ["nowhere.yaml:1: (file): file not found", "1 problem found."],
    )
    assert list(tmp_path.iterdir()) == []


def test_invalid_config_exits_2_with_one_line_per_problem(
    make_school: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_school({"school": {"phase": "primery", "colour": "green"}})
    code, out, err = run(capsys, "build", "--config", config)
    assert code == 2 and out == []
    assert len(err) == 3
    assert 'school.phase: "primery" is not allowed' in err[0]
    assert 'school.colour: "green" is not a colour' in err[1]
    assert err[2] == "2 problems found; nothing was built and the existing site is unchanged."
    assert not (config.parent / "site").exists()


def test_bad_esafety_today_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ESAFETY_TODAY", "21/11/2026")
    assert run(capsys, "check", "--config", DEFAULT_CONFIG) == (
        2,
        [],
        ["ESAFETY_TODAY='21/11/2026' is not a date; write YYYY-MM-DD"],
    )


# ------------------------------------------------------------------ build failures


def broken_content(config: Path, placeholder: str = "{{ 'ha' * 1000000 }}") -> None:
    """A school override of the KS1 rules with a placeholder that fails as it is rendered
    (by default: one the check before a build cannot know will fail)."""
    override = config.parent / "overrides" / "content" / "rules"
    override.mkdir(parents=True)
    text = (ROOT / "content" / "rules" / "ks1.yaml").read_text(encoding="utf-8")
    text = text.replace(
        '"I ask a grown-up before I go online."', f'"I ask {placeholder} before I go online."'
    )
    assert placeholder in text
    (override / "ks1.yaml").write_text(text, encoding="utf-8")


def test_a_placeholder_naming_nothing_is_found_by_check_and_build(
    make_school: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_school()
    broken_content(config, "{{ people.nanny.name }}")
    for command in ("check", "build"):
        code, out, err = run(capsys, command, "--config", config)
        assert code == 2, (out, err)
        assert re.match(
            r"overrides/content/rules/ks1.yaml:\d+: rules\[\d+\]\.text: "
            r"\{\{ people.nanny \}\}: people has no 'nanny'",
            err[0],
        ), err
    assert not (config.parent / "site").exists()


def test_build_failure_exits_1_with_one_line(
    make_school: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_school()
    broken_content(config)
    code, out, err = run(capsys, "build", "--config", config)
    assert code == 1 and out == []
    assert len(err) == 1, err
    assert "content/rules/ks1.yaml" in err[0] and "too large" in err[0]
    assert not (config.parent / "site").exists()


def test_build_failure_traceback_only_with_v(
    make_school: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_school()
    broken_content(config)
    code, _, quiet = run(capsys, "build", "--config", config)
    assert code == 1 and not any("Traceback" in line for line in quiet)
    code, _, verbose = run(capsys, "-v", "build", "--config", config)
    assert code == 1
    assert verbose[0] == "Traceback (most recent call last):"
    assert verbose[-1] == quiet[-1]


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_works_before_or_after_the_command(
    make_school: Any, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    """`esafety build -v` as with mkdocs, and the short forms -f (config) and -d (site)."""
    config = make_school()
    broken_content(config)
    site = config.parent / "out"
    argv = ["build", "-f", config, "-d", site]
    code, _, err = run(capsys, *(["-v", *argv] if where == "before" else [*argv, "-v"]))
    assert code == 1
    assert err[0] == "Traceback (most recent call last):"
    assert not site.exists()


def test_short_forms_build_where_they_say(
    make_school: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_school()
    site = config.parent / "elsewhere"
    code, out, err = run(capsys, "build", "-f", config, "-d", site, "--workers", "1")
    assert (code, err) == (0, [])
    assert out[-1].endswith(f"into {site}")
    assert (site / "index.html").is_file()
    assert run(capsys, "check", "-f", config, "-v")[0] == 0


def test_unexpected_error_is_one_line_without_v(
    make_school: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the printer is on fire")

    monkeypatch.setattr("generator.build.compose", explode)
    config = make_school()
    assert run(capsys, "build", "--config", config) == (
        1,
        [],
        [
            f"{config.parent}: internal error: RuntimeError: the printer is on fire "
            "(run with -v for details)"
        ],
    )
    code, _, err = run(capsys, "--verbose", "build", "--config", config)
    assert code == 1
    assert err[0] == "Traceback (most recent call last):"
    assert "RuntimeError: the printer is on fire" in err


def test_config_error_traceback_only_with_v(
    make_school: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_school({"school": {"phase": "primery"}})
    _, _, quiet = run(capsys, "check", "--config", config)
    assert len(quiet) == 2 and "Traceback" not in "\n".join(quiet)
    code, _, verbose = run(capsys, "-v", "check", "--config", config)
    assert code == 2
    assert "Traceback (most recent call last):" in verbose
    assert verbose[-2:] == quiet


# ------------------------------------------------------------------ python -m generator


@pytest.mark.parametrize(
    ("text", "code"), [(None, 0), ("school: {name: x}\n", 2)], ids=["valid", "invalid"]
)
def test_python_dash_m(tmp_path: Path, text: str | None, code: int) -> None:
    config = DEFAULT_CONFIG if text is None else write_school(tmp_path, text)
    env = {**os.environ, "ESAFETY_TODAY": TODAY}
    result = subprocess.run(
        [sys.executable, "-m", "generator", "check", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    if code == 0:
        assert result.stdout == f"{config}: OK, no warnings\n"
    else:
        assert result.stderr.splitlines()[-1] == "4 problems found."


# ------------------------------------------------------------------ new


def test_new_scaffolds_a_folder_that_builds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    target = tmp_path / "st-marys"
    code, out, err = run(capsys, "new", target)
    config = target / "school_config.yaml"
    assert (code, err) == (0, [])
    assert len(out) == 1 and out[0].startswith(f"Created {config}")
    text = config.read_text(encoding="utf-8")
    assert text.splitlines()[0] == MODELINE
    assert (target / "school_config.schema.json").read_bytes() == SCHEMA_FILE.read_bytes()
    assert run(capsys, "check", "--strict", "--config", config)[0] == 1  # made-up people
    code, out, err = run(capsys, "build", "--config", config)
    assert (code, err) == (0, [])
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(said) == 1 and said[0].startswith(
        f"{config}: 26 values are still the made-up examples esafety new wrote (school.name, "
    ), said
    site = target / "site"
    assert len(out) == 1
    built = re.fullmatch(rf"Built (\d+) pages and (\d+) PDFs into {re.escape(str(site))}", out[0])
    assert built, out
    assert int(built[1]) >= 5
    assert int(built[2]) == len(list((site / "downloads").glob("*.pdf"))) >= 3
    assert (site / "index.html").is_file()
    assert (site / "downloads" / "poster-ks2.pdf").is_file()


def test_new_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "school"
    assert run(capsys, "new", target)[0] == 0
    config = target / "school_config.yaml"
    config.write_text("# our own edits\n", encoding="utf-8")
    (target / ".gitignore").unlink()
    assert run(capsys, "new", target) == (
        2,
        [],
        [
            f"{target}: already has school_config.yaml, school_config.schema.json, "
            ".github/workflows/publish.yml; not overwriting anything"
        ],
    )
    assert not (target / ".gitignore").exists()
    assert config.read_text(encoding="utf-8") == "# our own edits\n"


PHASE_STAGES = {
    "nursery": ["eyfs"],
    "infant": ["eyfs", "ks1"],
    "junior": ["ks2"],
    "primary": ["eyfs", "ks1", "ks2"],
    "middle": ["ks2", "ks3"],
    "secondary": ["ks3", "ks4", "ks5"],
    "all-through": ["eyfs", "ks1", "ks2", "ks3", "ks4"],
    "special": ["eyfs", "ks1", "ks2", "ks3", "ks4", "ks5"],
}


def ours(value: str) -> str:
    """Another value of the same kind: the school's own, in a test."""
    if re.fullmatch(r"[\d ]+", value):
        return value.replace("01632 960", "01632 961")
    if "@" in value or "://" in value:
        return value.replace(".example.", ".ours.example.")
    return f"{value} Ours"


@pytest.mark.parametrize("phase", sorted(PHASE_STAGES))
def test_new_writes_a_config_for_each_phase_that_checks_clean_but_for_its_made_up_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], phase: str
) -> None:
    target = tmp_path / phase
    assert run(capsys, "new", target, "--phase", phase)[0] == 0
    config = target / "school_config.yaml"
    text = config.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert data["school"]["phase"] == phase
    assert data["school"]["key_stages"] == PHASE_STAGES[phase]
    code, out, err = run(capsys, "check", "--strict", "--config", config)
    assert (code, err) == (1, [f"{config}: not ready: {len(out)} warnings (--strict fails on any)"])
    assert all("is a made-up example from esafety new" in line for line in out), out
    warned = warned_keys(out, config)
    assert {"school.name", "school.phone", "people.headteacher.name", "people.dsl.name",
            "people.lado.phone", "contacts.childrens_services.phone",
            "publish.url"} <= warned  # fmt: skip
    # Each value replaced by the school's own, nothing is left to warn about.
    for line in out:
        made_up = re.search(r'"(.+)" is a made-up example', line)
        assert made_up, line
        text = text.replace(f'"{made_up[1]}"', f'"{ours(made_up[1])}"')
    config.write_text(text, encoding="utf-8")
    assert run(capsys, "check", "--strict", "--config", config) == (
        0,
        [f"{config}: OK, no warnings"],
        [],
    )
    ignored = (target / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert {"site/", ".esafety-cache/"} <= set(ignored)
    assert not any(line.startswith("reviews") for line in ignored)
    workflow = yaml.safe_load((target / ".github" / "workflows" / "publish.yml").read_text())
    assert set(workflow[True]) == {"push", "workflow_dispatch"}  # YAML 1.1: on -> True
    steps = [step.get("run", "") for step in workflow["jobs"]["build"]["steps"]]
    assert "esafety build --config school_config.yaml --site-dir site" in steps
    assert 'pip install "esafety-pack==0.1.0"' in "\n".join(steps)
    assert workflow["jobs"]["deploy"]["steps"][0]["uses"].startswith("actions/deploy-pages@")


def test_phones_fit_the_phase(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Young children bring no phone; older pupils' phones are handed in or put away."""
    rules = {}
    for phase in PHASE_STAGES:
        run(capsys, "new", tmp_path / phase, "--phase", phase)
        data = yaml.safe_load((tmp_path / phase / "school_config.yaml").read_text("utf-8"))
        rules[phase] = data["phones"]["pupils"]["rule"]
    assert rules["nursery"] == rules["infant"] == "not_allowed"
    assert rules["secondary"] == "off_and_away"
    assert {rules[p] for p in ("junior", "primary", "middle", "all-through", "special")} == {
        "handed_in"
    }


@pytest.mark.parametrize(
    ("phase", "posters"),
    [
        ("secondary", {"poster-ks3.pdf"}),
        ("special", {"poster-ks1.pdf", "poster-ks2.pdf", "poster-ks3.pdf"}),
    ],
)
def test_new_secondary_and_special_build_only_their_posters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], phase: str, posters: set[str]
) -> None:
    """(A new folder's whole build is test_new_scaffolds_a_folder_that_builds.)"""
    target = tmp_path / phase
    run(capsys, "new", target, "--phase", phase)
    pack = compose(load_config(target / "school_config.yaml"), target)
    assert {d.filename for d in pack.prints if d.filename.startswith("poster-ks")} == posters


def test_new_with_an_unknown_phase_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "new", tmp_path / "x", "--phase", "college")
    assert (code, out) == (2, [])
    assert err == [
        "--phase college: not a phase; choose one of nursery, infant, junior, primary, "
        "middle, secondary, all-through, special"
    ]
    assert not (tmp_path / "x").exists()


def test_a_secondary_listing_primary_key_stages_is_warned(make_school: Any, capsys: Any) -> None:
    config = make_school({"school": {"phase": "secondary", "key_stages": ["ks1", "ks2", "ks3"]}})
    code, out, _ = run(capsys, "check", "--config", config)
    assert code == 0
    assert f"{config}: warning: school.key_stages: lists KS1 and KS2, which a secondary " in (
        "\n".join(out)
    )


def test_new_trust_starts_a_trust_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "trust"
    code, out, err = run(capsys, "new", target, "--trust", "--phase", "special")
    assert (code, err) == (0, [])
    configs = sorted(target.glob("*/school_config.yaml"))
    assert [c.parent.name for c in configs] == ["kingsmead", "oakfield"]
    assert (target / "defaults.yaml").is_file() and (target / "overrides" / "README.txt").is_file()
    for config in configs:
        assert yaml.safe_load(config.read_text("utf-8"))["extends"] == "../defaults.yaml"
        code, out, _ = run(capsys, "check", "--strict", "-f", config)
        assert code == 1 and all("is a made-up example from esafety new" in line for line in out)
        assert {"school.trust", "people.lado.phone"} <= warned_keys(out, config)  # the trust's
    workflow = (target / ".github" / "workflows" / "publish.yml").read_text("utf-8")
    assert "run: esafety build . --site-dir site" in workflow
    assert run(capsys, "new", target, "--trust")[0] == 2  # nothing overwritten


def test_new_extends_adds_a_school_to_a_trust(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trust = tmp_path / "trust"
    run(capsys, "new", trust, "--trust")
    ash = trust / "ash"
    code, _, err = run(capsys, "new", ash, "--phase", "infant", "--extends", "../defaults.yaml")
    assert (code, err) == (0, [])
    data = yaml.safe_load((ash / "school_config.yaml").read_text("utf-8"))
    assert data["extends"] == "../defaults.yaml"
    assert "technology" in data and "filtering" not in data["technology"]  # the trust's
    assert not (ash / ".gitignore").exists() and not (ash / ".github").exists()
    code, out, _ = run(capsys, "check", trust, "--strict")
    assert code == 1 and out[-1] == "3 schools: 0 with errors, 3 with warnings."  # made up
    missing = run(capsys, "new", trust / "elm", "--extends", "../trust.yaml")
    assert missing == (
        2,
        [],
        [f"--extends ../trust.yaml: no such file (the path is relative to {trust / 'elm'})"],
    )
    assert not (trust / "elm").exists()


def test_new_refuses_a_file_in_the_way(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "school"
    target.write_text("not a folder", encoding="utf-8")
    assert run(capsys, "new", target) == (2, [], [f"{target}: exists and is not a folder"])
    assert target.read_text(encoding="utf-8") == "not a folder"


# ------------------------------------------------------------------ check


def test_check_without_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "check", "--config", DEFAULT_CONFIG) == (
        0,
        [f"{DEFAULT_CONFIG}: OK, no warnings"],
        [],
    )
    assert run(capsys, "check", "--strict", "--config", DEFAULT_CONFIG)[0] == 0


def warned_keys(lines: list[str], config: Path) -> set[str]:
    prefix = f"{config}: warning: "
    assert all(line.startswith(prefix) for line in lines), lines
    return {line.removeprefix(prefix).split(":", 1)[0] for line in lines}


def test_check_lists_warnings_and_strict_fails(capsys: pytest.CaptureFixture[str]) -> None:
    config = school_path("infant_minimal")
    code, out, err = run(capsys, "check", "--config", config)
    assert (code, err) == (0, [])
    assert warned_keys(out, config) == {
        "technology.filtering.provider",
        "technology.monitoring.method",
        "technology.filtering.last_reviewed",
        "people.dsl",
        "school.phone",
        "people.deputy_dsls",
        "people.lado",
        "people.dpo",
        "people.chair_of_governors",
        "contacts.childrens_services",
    }
    code, strict_out, err = run(capsys, "check", "--strict", "--config", config)
    assert (code, strict_out) == (1, out)
    assert err == [f"{config}: not ready: {len(out)} warnings (--strict fails on any)"]


@pytest.mark.parametrize(
    ("monitoring", "warned"),
    [
        ({"method": None, "provider": None}, "staff supervising pupils and watching screens"),
        ({"method": None}, "software from Senso Cloud with staff supervision"),
        ({"method": "both", "provider": None}, "'both' but no monitoring software is named"),
        ({"method": "physical", "provider": None}, None),
    ],
)
def test_check_says_what_the_policy_assumes_about_monitoring(
    make_school: Any, capsys: pytest.CaptureFixture[str], monitoring: dict, warned: str | None
) -> None:
    """A policy never states a monitoring method the school did not give without saying so;
    physical monitoring needs no software named."""
    config = make_school({"technology": {"monitoring": monitoring}})
    _, out, _ = run(capsys, "check", "--config", config)
    about = [line for line in out if "technology.monitoring" in line]
    assert [warned in line for line in about] == ([True] if warned else [])


def test_check_warns_about_an_overdue_review(
    make_school: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_school({"review": {"approved_on": dt.date(2025, 10, 1)}})
    code, out, _ = run(capsys, "check", "--strict", "--config", config)
    assert code == 1
    assert warned_keys(out, config) == {"review.next_review"}
    assert "due on 1 October 2026" in out[0]


@pytest.mark.parametrize(
    ("reviewed", "warned"),
    [
        (dt.date(2025, 11, 21), False),  # exactly 12 months ago: still in date
        (dt.date(2025, 11, 20), True),  # 12 months and a day
    ],
)
def test_check_filtering_review_age(
    make_school: Any, capsys: pytest.CaptureFixture[str], reviewed: dt.date, warned: bool
) -> None:
    config = make_school({"technology": {"filtering": {"last_reviewed": reviewed}}})
    code, out, _ = run(capsys, "check", "--strict", "--config", config)
    assert code == (1 if warned else 0)
    if warned:
        assert warned_keys(out, config) == {"technology.filtering.last_reviewed"}
    else:
        assert out == [f"{config}: OK, no warnings"]


@pytest.mark.parametrize("name", SCHOOL_NAMES)
def test_check_is_repeatable(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    first = run(capsys, "check", "--config", school_path(name))
    assert run(capsys, "check", "--config", school_path(name)) == first
    assert first[0] == 0


# ------------------------------------------------------------------ JSON Schema


def test_schema_file_is_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["schema"])
    out = capsys.readouterr().out
    assert code == 0
    assert out == SCHEMA_FILE.read_text(encoding="utf-8"), (
        "school_config.schema.json is stale: run `make schema`"
    )


def test_schema_output_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "schema.json"
    assert run(capsys, "schema", "--output", target) == (0, [], [])
    assert target.read_bytes() == SCHEMA_FILE.read_bytes()


def test_default_config_names_the_schema() -> None:
    first = DEFAULT_CONFIG.read_text(encoding="utf-8").splitlines()[0]
    assert first == MODELINE
    assert (DEFAULT_CONFIG.parent / "school_config.schema.json").is_file()


def as_json(value: Any) -> Any:
    """YAML data as JSON would see it (dates as YYYY-MM-DD text)."""
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.mark.parametrize("name", SCHOOL_NAMES)
def test_schema_accepts_every_sample_school(validator: Any, name: str) -> None:
    data = as_json(yaml.safe_load(school_path(name).read_text(encoding="utf-8")))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == []


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"school": {"shortname": "W"}}, ["school"]),
        ({"school": {"phase": "primery"}}, ["school", "phase"]),
        ({"phones": {"pupils": {"rule": "sometimes"}}}, ["phones", "pupils", "rule"]),
        ({"review": {"version": None}}, ["review", "version"]),
        ({"posters": {"paper": "A5"}}, ["posters", "paper"]),
        ({"review": {"approved_on": "next week"}}, ["review", "approved_on"]),
    ],
    ids=["unknown key", "phase", "phone rule", "missing version", "paper", "date"],
)
def test_schema_rejects_what_the_loader_rejects(
    validator: Any, changes: dict[str, Any], where: list[str]
) -> None:
    data = as_json(deep_merge(school_data("primary"), changes))
    if changes == {"review": {"version": None}}:
        del data["review"]["version"]
    paths = [list(e.absolute_path) for e in validator.iter_errors(data)]
    assert paths, "the schema accepted an invalid config"
    assert all(p[: len(where)] == where or where[: len(p)] == p for p in paths), paths


def test_build_with_one_worker_renders_here_and_makes_the_same_bytes(
    make_school: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--workers 1`` renders every PDF in this process; the pack is byte for byte the one
    the parallel workers make."""
    config = make_school()
    here, parallel = config.parent / "site-one", config.parent / "site-many"
    assert run(capsys, "build", "--config", config, "--site-dir", parallel)[0] == 0
    shutil.rmtree(config.parent / ".esafety-cache")  # no cached PDFs to reuse
    code, out, err = run(capsys, "build", "--workers", "1", "--config", config, "--site-dir", here)
    assert (code, err) == (0, [])
    assert tree_digest(here) == tree_digest(parallel)
    assert run(capsys, "build", "--workers", "0", "--config", config)[0] == 2


def test_a_config_named_yml_is_found_as_school_config_yaml_is(
    make_school: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """school_config.yml, YAML's other usual name: `esafety check` in its folder, and a
    trust's folder holding it in a school's subfolder."""
    config = make_school()
    school = config.parent
    config.rename(school / "school_config.yml")
    monkeypatch.chdir(school)
    code, out, err = run(capsys, "check")
    assert code == 0 and out[0].startswith("school_config.yml: "), (out, err)
    from generator.build import find_jobs

    (job,) = [j for j in find_jobs([school.parent], Path("out")) if j.config_path.parent == school]
    assert job.config_path.name == "school_config.yml"
    assert job.site_dir in (Path("out"), Path("out") / school.name)


def test_a_second_build_of_the_same_site_at_once_is_refused(
    make_school: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two builds of one site at once (serve and build, two terminals): the second is
    refused, or whichever finished last would publish the config it had read."""
    from generator.build import _site_lock

    config = make_school()
    site = config.parent / "site"
    with _site_lock(site):
        code, out, err = run(capsys, "build", "--config", config, "--site-dir", site)
    assert (code, out) == (2, [])
    assert err == [
        f"{site}: another esafety build (or serve) is building this site now; run this "
        "again when it has finished"
    ]
    assert not site.exists()
    assert run(capsys, "build", "--config", config, "--site-dir", site)[0] == 0  # freed
