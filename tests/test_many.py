"""Trusts and local authorities: many schools in one run, with shared defaults."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from generator.build import SchoolJob, build_many, find_jobs
from generator.cache import CACHE_DIR
from generator.cli import main
from generator.config import load_config
from generator.errors import ConfigError

TRUST_DEFAULTS = """\
# Values every school in the trust shares; each school may override any of them.
school:
  trust: "Ridgeway Learning Trust"
  local_authority: "Northam City Council"
technology:
  filtering: {provider: "Lightspeed Filter", last_reviewed: 2026-07-01}
  monitoring:
    provider: "Impero"
    method: both
    alerts_to: ["DSL"]
    out_of_hours: "urgent alerts are phoned to the school's DSL, in the holidays too"
  incident_log: "MyConcern"
people:
  technical_support: {name: "Ridgeway Trust IT Services", kind: in-house}
  lado: {name: "Northam LADO service", phone: "01632 960555"}
  dpo: {name: "Ridgeway Trust Data Protection Officer", email: "dpo@ridgeway.example.org"}
contacts:
  childrens_services: {name: "Northam Children's Front Door", phone: "01632 960444"}
review:
  approved_by: "Trust Board"
  cycle_months: 12
"""

OAK = """\
extends: ../trust.yaml
school: {name: "Oak Primary School", phase: primary, phone: "01632 960100"}
people:
  headteacher: {name: "Mrs Ada Oakes"}
  dsl: {name: "Mr Ben Acorn", role: "Deputy Head", email: "dsl@oak.example.org"}
  deputy_dsls: [{name: "Ms Cara Leaf"}]
  online_safety_governor: {name: "Dr Dev Bark"}
  chair_of_governors: {name: "Mrs Fay Root"}
phones: {pupils: {rule: not_allowed}}
review: {version: "1", approved_on: 2026-09-01}
"""

ELM = """\
extends: ../trust.yaml
school: {name: "Elm Academy", phase: secondary, phone: "01632 960200"}
people:
  headteacher: {name: "Mr Eli Elm"}
  dsl: {name: "Ms Fay Root", email: "dsl@elm.example.org"}
  deputy_dsls: [{name: "Mr Gil Twig"}]
  online_safety_governor: {name: "Dr Hal Sap"}
  chair_of_governors: {name: "Mr Ian Bough"}
technology:
  monitoring: {provider: "Smoothwall Monitor"}
phones: {pupils: {rule: locked_away}}
review: {version: "2", approved_on: 2026-09-02, approved_by: "Local Governing Body"}
"""


def write_trust(folder: Path) -> Path:
    (folder / "trust.yaml").write_text(TRUST_DEFAULTS, encoding="utf-8")
    for name, text in (("oak", OAK), ("elm", ELM)):
        (folder / name).mkdir()
        (folder / name / "school_config.yaml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def trust(tmp_path: Path) -> Path:
    return write_trust(tmp_path)


@pytest.fixture(scope="module")
def built_trust(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trust folder built once, as one run (read only)."""
    folder = write_trust(tmp_path_factory.mktemp("trust"))
    outcomes = build_many(find_jobs([folder]))
    assert all(o.error is None for o in outcomes)
    return folder


@pytest.fixture
def rebuilt_trust(built_trust: Path, tmp_path: Path) -> Path:
    """A copy of the built trust with each school's build cache, not its site: a run
    renders again only what the test changes."""
    return Path(shutil.copytree(built_trust, tmp_path / "trust", ignore=_SITES))


_SITES = shutil.ignore_patterns("site")


def test_a_school_overrides_the_trust_defaults(trust: Path) -> None:
    oak = load_config(trust / "oak" / "school_config.yaml")
    elm = load_config(trust / "elm" / "school_config.yaml")
    assert oak.school.trust == elm.school.trust == "Ridgeway Learning Trust"
    assert oak.technology.monitoring.provider == "Impero"
    assert elm.technology.monitoring.provider == "Smoothwall Monitor"
    assert elm.technology.monitoring.method == "both"  # mappings merge key by key
    assert oak.review.approved_by == "Trust Board"
    assert elm.review.approved_by == "Local Governing Body"


def test_problems_name_the_file_that_holds_them(trust: Path) -> None:
    (trust / "trust.yaml").write_text(TRUST_DEFAULTS.replace("method: both", "method: bath"))
    (trust / "elm" / "school_config.yaml").write_text(
        ELM.replace('name: "Ms Fay Root"', 'name: "Ms Fay Root", emial: x')
    )
    with pytest.raises(ConfigError) as caught:
        load_config(trust / "elm" / "school_config.yaml")
    lines = [str(p) for p in caught.value.problems]
    assert any(
        line.endswith(
            'trust.yaml:9: technology.monitoring.method: "bath" is not '
            "allowed; use one of: software, physical, both (did you mean "
            "'both'?)"
        )
        for line in lines
    ), lines
    assert any("school_config.yaml:5: people.dsl.emial: unknown key" in line for line in lines), (
        lines
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("extends: ../missing.yaml\n", r'"\.\./missing\.yaml" not found'),
        ("extends: [1]\n", "expected the path of a YAML file"),
        ("extends: school_config.yaml\n", r"extends this file again \(a loop of extends\)"),
    ],
)
def test_bad_extends(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "school_config.yaml"
    config.write_text(text + OAK.split("\n", 1)[1], encoding="utf-8")
    with pytest.raises(ConfigError, match=":1: extends: .*" + message):
        load_config(config)


def test_a_folder_builds_every_school_and_skips_the_defaults_file(built_trust: Path) -> None:
    trust = built_trust
    assert [j.config_path.parent.name for j in find_jobs([trust])] == ["elm", "oak"]
    for name, school in (("oak", "Oak Primary School"), ("elm", "Elm Academy")):
        manifest = json.loads(
            (trust / name / "site" / "downloads" / "manifest.json").read_text(encoding="utf-8")
        )
        assert manifest["school"] == school
        assert any(d["file"] == "policy.pdf" for d in manifest["documents"])
    assert (trust / "oak" / "site" / "rules" / "ks2" / "index.html").is_file()
    assert (trust / "elm" / "site" / "rules" / "ks3" / "index.html").is_file()


def test_one_broken_school_does_not_stop_the_others(
    rebuilt_trust: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trust = rebuilt_trust
    (trust / "elm" / "school_config.yaml").write_text(
        ELM.replace("phase: secondary", "phase: secondery")
    )
    code = main(["build", str(trust), "--site-dir", str(trust / "out")])
    captured = capsys.readouterr()
    assert code == 2
    assert (trust / "out" / "oak" / "index.html").is_file()
    assert not (trust / "out" / "elm").exists()
    assert "school_config.yaml:2: school.phase" in captured.err
    assert "elm" in captured.err
    assert "1 of 2 schools built." in captured.out


def test_several_config_options_share_one_run(rebuilt_trust: Path) -> None:
    trust = rebuilt_trust
    oak, elm = trust / "oak" / "school_config.yaml", trust / "elm" / "school_config.yaml"
    jobs = find_jobs([oak, elm], trust / "sites")
    assert jobs == [
        SchoolJob(oak, trust / "sites" / "oak"),
        SchoolJob(elm, trust / "sites" / "elm"),
    ]
    assert (
        main(
            [
                "build",
                "--config",
                str(oak),
                "--config",
                str(elm),
                "--site-dir",
                str(trust / "sites"),
            ]
        )
        == 0
    )
    assert (trust / "sites" / "elm" / "policy" / "index.html").is_file()


def test_a_school_that_fails_while_composed_abandons_the_pdfs_it_had_started(
    rebuilt_trust: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The policy starts rendering as soon as it is composed; if the school then fails,
    nobody waits for its PDFs, and the other schools build as before."""
    trust = rebuilt_trust
    shutil.rmtree(trust / "elm" / CACHE_DIR)  # so that its PDFs must be rendered
    from generator.documents import forms
    from generator.errors import BuildError
    from generator.pool import SchoolPdfs

    compose_forms = forms.compose

    def failing_for_elm(composer: object) -> object:
        if composer.config.school.name == "Elm Academy":  # type: ignore[attr-defined]
            raise BuildError("content/forms: broken for this test")
        return compose_forms(composer)

    abandoned: list[list[str]] = []
    abandon = SchoolPdfs.abandon

    def recording(self: SchoolPdfs) -> None:
        abandoned.append(sorted(self.pending))
        abandon(self)
        assert not self.pending  # nobody waits for them (one already rendering finishes)

    monkeypatch.setattr(forms, "compose", failing_for_elm)
    monkeypatch.setattr(SchoolPdfs, "abandon", recording)
    elm, oak = build_many(find_jobs([trust]))
    assert elm.error is not None and "broken for this test" in str(elm.error)
    assert oak.error is None
    assert (trust / "oak" / "site" / "downloads" / "policy.pdf").is_file()
    assert not (trust / "elm" / "site").exists()
    assert len(abandoned) == 1 and "policy.pdf" in abandoned[0]


def test_a_batch_publishes_each_school_before_composing_many_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trust of any size holds at most SCHOOLS_AHEAD composed schools at once, and a
    school that fails to compose takes no place in the queue."""
    from generator import build

    steps: list[str] = []

    def prepare(job: SchoolJob, use_cache: bool, renderer: object) -> tuple[Path, object]:
        if job.config_path.stem == "s2":
            raise ConfigError([])
        steps.append(f"compose {job.config_path.stem}")
        return tmp_path, SimpleNamespace(pack=job.config_path.stem, cache=None)

    def publish(pack: str, *args: object) -> None:
        steps.append(f"publish {pack}")

    monkeypatch.setattr(build, "prepare", prepare)
    monkeypatch.setattr(build, "render_and_publish", publish)
    jobs = [SchoolJob(tmp_path / f"s{i}.yaml") for i in range(7)]
    outcomes = build._build_all(jobs, use_cache=False, workers=1, engine="mkdocs")
    assert build.SCHOOLS_AHEAD == 3
    assert steps == [
        "compose s0", "compose s1", "compose s3", "compose s4", "publish s0",
        "compose s5", "publish s1", "compose s6", "publish s3",
        "publish s4", "publish s5", "publish s6",
    ]  # fmt: skip
    assert [o.job for o in outcomes] == jobs
    assert [o.error is not None for o in outcomes] == [i == 2 for i in range(7)]
