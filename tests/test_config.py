"""Loading school_config.yaml: every kind of mistake, reported as FILE:LINE: key.path: message.

Each case edits the sample config (school_config.yaml at the repository root) and checks the
exact message and line. Lines are found in the edited text, so the sample can grow without
breaking these tests; ``edit`` fails loudly if a line the case relies on has changed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import DEFAULT_CONFIG, SCHOOL_NAMES, school_path, write_school
from helpers import edit, line_of

from generator.cli import main
from generator.config import Config, load_config
from generator.errors import ConfigError

SAMPLE = DEFAULT_CONFIG.read_text(encoding="utf-8")
NAME = "school_config.yaml"
PHASES = "nursery, infant, junior, primary, middle, secondary, all-through, special"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A school folder that is also the working directory (messages name the file as
    the user typed it: a path relative to where they are)."""
    school = tmp_path / "school"
    school.mkdir()
    monkeypatch.chdir(school)
    return school


def problems(folder: Path, text: str | bytes) -> list[str]:
    """The problems load_config reports for a config file with this content."""
    write_school(folder, "")
    if isinstance(text, bytes):
        (folder / NAME).write_bytes(text)
    else:
        (folder / NAME).write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(Path(NAME))
    return [str(p) for p in info.value.problems]


@dataclass(frozen=True)
class Case:
    """Replace ``old`` by ``new`` in the sample; expect one problem per (marker, path, msg),
    located on the line that contains ``marker`` (or starts with it when it begins with ^)."""

    old: str
    new: str
    expected: tuple[tuple[str, str, str], ...]

    def edited(self) -> str:
        return edit(SAMPLE, self.old, self.new)

    def lines(self) -> list[str]:
        text = self.edited()
        out = []
        for marker, path, message in self.expected:
            start = marker.startswith("^")
            line = line_of(text, marker.removeprefix("^"), start=start)
            out.append(f"{NAME}:{line}: {path}: {message}")
        return out


def one(old: str, new: str, marker: str, path: str, message: str) -> Case:
    return Case(old, new, ((marker, path, message),))


NOT_A_DATE = "is not a valid date; write YYYY-MM-DD, e.g. 2026-09-10"
NOT_A_URL = "is not a web address (it must start with http:// or https://)"
BOOL_HINT = "(yes/no/on/off/true/false mean true or false in YAML: put text in quotes)"

CASES = {
    # unknown keys, with a did-you-mean
    "unknown key": one(
        '  short_name: "Willowbank"',
        '  shortname: "Willowbank"',
        "shortname:",
        "school.shortname",
        "unknown key (did you mean 'short_name'?)",
    ),
    "unknown top-level key": one(
        "\ntechnology:\n",
        "\ntechnolgy:\n",
        "^technolgy:",
        "technolgy",
        "unknown key (did you mean 'technology'?)",
    ),
    "unknown key, nothing close": one(
        '  short_name: "Willowbank"',
        '  motto: "Willowbank"',
        "motto:",
        "school.motto",
        "unknown key",
    ),
    "unknown key in a list item": one(
        '{name: "Ms Zoë Adebayo", role: "Family Support Worker"}',
        '{name: "Ms Zoë Adebayo", rol: "Family Support Worker"}',
        "Zoë",
        "people.deputy_dsls[1].rol",
        "unknown key (did you mean 'role'?)",
    ),
    "a number as a key": one(
        "\ntechnology:\n", "\n2026: x\ntechnology:\n", "^2026:", "2026", "unknown key"
    ),
    # dates
    "impossible month": one(
        "approved_on: 2026-10-06",
        "approved_on: 2026-13-01",
        "approved_on:",
        "review.approved_on",
        f'"2026-13-01" {NOT_A_DATE}',
    ),
    "impossible day": one(
        "last_reviewed: 2026-09-22",
        "last_reviewed: 2026-02-30",
        "last_reviewed:",
        "technology.filtering.last_reviewed",
        f'"2026-02-30" {NOT_A_DATE}',
    ),
    "words for a date": one(
        "approved_on: 2026-10-06",
        "approved_on: next week",
        "approved_on:",
        "review.approved_on",
        f'"next week" {NOT_A_DATE}',
    ),
    "UK-style date": one(
        "approved_on: 2026-10-06",
        "approved_on: 06/10/2026",
        "approved_on:",
        "review.approved_on",
        '"06/10/2026" is not a valid date; write YYYY-MM-DD (did you mean 2026-10-06?)',
    ),
    "a date and time": one(
        "approved_on: 2026-10-06",
        "approved_on: 2026-10-06 09:30:00",
        "approved_on:",
        "review.approved_on",
        f"2026-10-06T09:30:00 {NOT_A_DATE}",
    ),
    # emails
    "email without @": one(
        '"dsl@willowbank.example.org"',
        '"dsl at willowbank.example.org"',
        "dsl at",
        "people.dsl.email",
        '"dsl at willowbank.example.org" is not a valid email address',
    ),
    "email without a domain": one(
        '"office@willowbank.example.org"',
        '"office@willowbank"',
        "office@",
        "school.email",
        '"office@willowbank" is not a valid email address',
    ),
    "email in a flow mapping": one(
        '{name: "Ms Zoë Adebayo", role: "Family Support Worker"}',
        '{name: "Ms Zoë Adebayo", email: "zoe@"}',
        "Zoë",
        "people.deputy_dsls[1].email",
        '"zoe@" is not a valid email address',
    ),
    # web addresses: http and https only
    "ftp address": one(
        '"https://www.willowbank.example.org"',
        '"ftp://www.willowbank.example.org"',
        "website:",
        "school.website",
        f'"ftp://www.willowbank.example.org" {NOT_A_URL}',
    ),
    "javascript: address": one(
        '"https://www.willowbank.example.org"',
        '"javascript:alert(1)"',
        "website:",
        "school.website",
        f'"javascript:alert(1)" {NOT_A_URL}',
    ),
    "javascript: resource link": one(
        'url: "https://www.kingsbridge.example.gov.uk/safeguarding"',
        'url: "javascript:alert(document.cookie)"',
        "Kingsbridge Safeguarding",
        "extra_resources[0].url",
        f'"javascript:alert(document.cookie)" {NOT_A_URL}',
    ),
    "address without a scheme": one(
        '"https://www.willowbank.example.org"',
        '"www.willowbank.example.org"',
        "website:",
        "school.website",
        f'"www.willowbank.example.org" {NOT_A_URL}',
    ),
    # colours
    "colour name": one(
        '"#245c3a"',
        '"green"',
        "colour:",
        "school.colour",
        '"green" is not a colour; write #rrggbb, e.g. #1f5f8b',
    ),
    "short colour": one(
        '"#245c3a"',
        '"#245c3"',
        "colour:",
        "school.colour",
        '"#245c3" is not a colour; write #rrggbb, e.g. #1f5f8b',
    ),
    "colour with a bad digit": one(
        '"#245c3a"',
        '"#245c3g"',
        "colour:",
        "school.colour",
        '"#245c3g" is not a colour; write #rrggbb, e.g. #1f5f8b',
    ),
    # enums, with a did-you-mean
    "misspelt phase": one(
        "phase: primary ",
        "phase: primery ",
        "phase:",
        "school.phase",
        f"\"primery\" is not allowed; use one of: {PHASES} (did you mean 'primary'?)",
    ),
    "unknown phase": one(
        "phase: primary ",
        "phase: college ",
        "phase:",
        "school.phase",
        f'"college" is not allowed; use one of: {PHASES}',
    ),
    "phone rule with a hyphen": one(
        "rule: handed_in ",
        "rule: handed-in ",
        "^    rule:",
        "phones.pupils.rule",
        '"handed-in" is not allowed; use one of: not_allowed, handed_in, locked_away, '
        "off_and_away, allowed (did you mean 'handed_in'?)",
    ),
    "phone rule for something that is not a key stage": one(
        "   # agreed exceptions\n",
        "   # agreed exceptions\n    by_stage:\n      sixth_form: {rule: allowed}\n",
        "sixth_form:",
        "phones.pupils.by_stage.sixth_form",
        '"sixth_form" is not a key stage; use one of: eyfs, ks1, ks2, ks3, ks4, ks5 '
        "(did you mean 'ks5'?)",
    ),
    "phone rule for a key stage misspelt": one(
        "   # agreed exceptions\n",
        "   # agreed exceptions\n    by_stage:\n      ks 2: {rule: allowed}\n",
        "ks 2:",
        "phones.pupils.by_stage.ks 2",
        '"ks 2" is not a key stage; use one of: eyfs, ks1, ks2, ks3, ks4, ks5 '
        "(did you mean 'ks2'?)",
    ),
    "phone rule for a key stage the school does not have": one(
        "   # agreed exceptions\n",
        "   # agreed exceptions\n    by_stage:\n      ks5: {rule: allowed}\n",
        "ks5: {rule: allowed}",
        "phones.pupils.by_stage.ks5",
        "this school has no ks5 (its key stages: eyfs, ks1, ks2) (did you mean 'ks2'?)",
    ),
    "phone rule for a stage without its rule": one(
        "   # agreed exceptions\n",
        '   # agreed exceptions\n    by_stage:\n      ks2: {who_may_bring: "Year 6"}\n',
        "ks2: {",
        "phones.pupils.by_stage.ks2.rule",
        "required, but missing",
    ),
    "key stage in a list": one(
        "[eyfs, ks1, ks2]",
        "[eyfs, ks1, k2]",
        "key_stages:",
        "school.key_stages[2]",
        "\"k2\" is not allowed; use one of: eyfs, ks1, ks2, ks3, ks4, ks5 (did you mean 'ks2'?)",
    ),
    "paper size": one(
        "paper: A3 ",
        "paper: A5 ",
        "paper:",
        "posters.paper",
        '"A5" is not allowed; use one of: A3, A4',
    ),
    # wrong types
    "a list for text": one(
        'name: "Willowbank Primary School"',
        "name: [Willowbank, Primary]",
        "name: [Willowbank",
        "school.name",
        "expected text, got a list",
    ),
    "unquoted yes": one(
        'short_name: "Willowbank"',
        "short_name: yes",
        "short_name:",
        "school.short_name",
        f"expected text, got true/false (true) {BOOL_HINT}",
    ),
    "unquoted no in a list": one(
        'pupil_platforms: ["Purple Mash", "Google Classroom"]',
        'pupil_platforms: ["Purple Mash", no]',
        "pupil_platforms:",
        "technology.pupil_platforms[1]",
        f"expected text, got true/false (false) {BOOL_HINT}",
    ),
    "a version as a number": one(
        'version: "2026.1"',
        "version: 2026.10",
        "version:",
        "review.version",
        "expected text, got a number (2026.1) (put it in quotes, e.g. "
        '"2026.1", so YAML keeps it as written)',
    ),
    "text for a list": one(
        'pupil_platforms: ["Purple Mash", "Google Classroom"]',
        'pupil_platforms: "Purple Mash"',
        "pupil_platforms:",
        "technology.pupil_platforms",
        'expected a list, got text ("Purple Mash")',
    ),
    "text for a mapping": one(
        'headteacher: {name: "Mrs Joanna Whitfield"}',
        'headteacher: "Mrs Joanna Whitfield"',
        "headteacher:",
        "people.headteacher",
        'expected a mapping of keys, got text ("Mrs Joanna Whitfield")',
    ),
    "words for a number": one(
        "cycle_months: 12 ",
        "cycle_months: twelve ",
        "cycle_months:",
        "review.cycle_months",
        'expected a whole number, got text ("twelve")',
    ),
    "empty text": one(
        'name: "Willowbank Primary School"',
        'name: "  "',
        'name: "  "',
        "school.name",
        "must not be empty",
    ),
    # numbers out of range and facts that disagree
    "review cycle of 0": one(
        "cycle_months: 12 ",
        "cycle_months: 0 ",
        "cycle_months:",
        "review.cycle_months",
        "must be 1 or more, got 0",
    ),
    "review cycle of 48": one(
        "cycle_months: 12 ",
        "cycle_months: 48 ",
        "cycle_months:",
        "review.cycle_months",
        "must be 36 or less, got 48",
    ),
    "next review before approval": one(
        "  # next_review: 2027-09-30",
        "  next_review: 2026-01-01",
        "next_review:",
        "review.next_review",
        "must be after review.approved_on",
    ),
    "key stage twice": one(
        "[eyfs, ks1, ks2]",
        "[ks1, ks2, ks1]",
        "key_stages:",
        "school.key_stages",
        "lists a key stage twice",
    ),
    "no key stages": one(
        "[eyfs, ks1, ks2]", "[]", "key_stages:", "school.key_stages", "must not be empty"
    ),
    # missing required keys
    "missing school name": one(
        '  name: "Willowbank Primary School"',
        '  # name: "Willowbank Primary School"',
        "^school:",
        "school.name",
        "required, but missing",
    ),
    "missing phone rule": one(
        "    rule: handed_in ",
        "    # rule: handed_in ",
        "^  pupils:",
        "phones.pupils.rule",
        "required, but missing",
    ),
    "missing DSL name": one(
        '    name: "Mr Daniel O\'Connor"',
        '    # name: "Mr D. O\'Connor"',
        "^  dsl:",
        "people.dsl.name",
        "required, but missing",
    ),
    # the logo
    "logo outside the folder": one(
        '"assets/logo.svg"',
        '"../x.svg"',
        "logo:",
        "school.logo",
        '"../x.svg" is outside the project folder; put the logo beside school_config.yaml',
    ),
    "logo at an absolute path": one(
        '"assets/logo.svg"',
        '"/etc/logo.svg"',
        "logo:",
        "school.logo",
        '"/etc/logo.svg" is outside the project folder; put the logo beside school_config.yaml',
    ),
    "missing logo": one(
        '"assets/logo.svg"',
        '"assets/crest.svg"',
        "logo:",
        "school.logo",
        '"assets/crest.svg" not found (the path is relative to the folder of school_config.yaml)',
    ),
    "logo of the wrong kind": one(
        '"assets/logo.svg"',
        '"assets/logo.gif"',
        "logo:",
        "school.logo",
        '"assets/logo.gif" must be an .svg, .png or .jpg file',
    ),
    "logo with a NUL byte": one(
        '"assets/logo.svg"',
        '"assets/lo\\0go.svg"',
        "logo:",
        "school.logo",
        '"assets/lo\\u0000go.svg" is not a usable file name',
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_mistake_is_reported_with_its_line_and_key_path(folder: Path, case: Case) -> None:
    # ../x.svg exists: a logo outside the folder is refused even when the file is there.
    (folder.parent / "x.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert problems(folder, case.edited()) == case.lines()


def test_duplicate_key_names_both_lines(folder: Path) -> None:
    text = edit(
        SAMPLE, '  short_name: "Willowbank"', '  short_name: "Willowbank"\n  short_name: "Willow"'
    )
    first = line_of(text, 'short_name: "Willowbank"')
    second = line_of(text, 'short_name: "Willow"')
    assert problems(folder, text) == [
        f"{NAME}:{second}: school.short_name: duplicate key (first given on line {first})"
    ]


def test_duplicate_key_does_not_hide_other_problems(folder: Path) -> None:
    text = edit(
        SAMPLE, '  short_name: "Willowbank"', '  short_name: "Willowbank"\n  short_name: "Willow"'
    )
    text = edit(text, "phase: primary ", "phase: primery ")
    found = problems(folder, text)
    assert len(found) == 2
    first = line_of(text, 'short_name: "Willowbank"')
    assert found[0].endswith(f"school.short_name: duplicate key (first given on line {first})")
    assert found[1].startswith(f'{NAME}:{line_of(text, "phase:")}: school.phase: "primery"')


@pytest.mark.parametrize(
    "text", ["", "\n\n", "# only a comment\n"], ids=["empty", "blank lines", "only a comment"]
)
def test_empty_file(folder: Path, text: str) -> None:
    assert problems(folder, text) == [f"{NAME}:1: (file): the file is empty"]


@pytest.mark.parametrize(
    ("text", "got"),
    [
        ("- school\n- people\n", "a list"),
        ("Willowbank Primary School\n", 'text ("Willowbank Primary School")'),
        ("42\n", "a number (42)"),
        ("~\n", "nothing (an empty value)"),
    ],
    ids=["list", "text", "number", "null"],
)
def test_document_that_is_not_a_mapping(folder: Path, text: str, got: str) -> None:
    assert problems(folder, text) == [
        f"{NAME}:1: (top level): expected a mapping of keys (school:, people:, ...), got {got}"
    ]


SYNTAX_CASES = {
    "a second colon": (
        "phase: primary ",
        "phase: primary: infant ",
        "phase:",
        "school.phase",
        "a second ': ' on one line (put a value that contains ': ' in quotes)",
    ),
    "a tab": (
        "  phase: primary",
        "\tphase: primary",
        "phase:",
        "school.phase",
        "a tab character (indent with spaces, not tabs)",
    ),
    "a control character": (
        '"Willowbank Primary School"',
        '"Willowbank\x07 Primary School"',
        "Willowbank\x07",
        "(syntax)",
        "the character #x0007 is not allowed in YAML (a control character or binary data?)",
    ),
    # Named where the bracket opened, not where PyYAML noticed (the next line).
    "an unclosed bracket": (
        'alerts_to: ["DSL", "Headteacher"]',
        'alerts_to: ["DSL", "Headteacher"\n    extra: 1',
        "alerts_to:",
        "technology.monitoring.alerts_to",
        "a list opened with [ is not closed with ]",
    ),
    "an unclosed quote": (
        'name: "Willowbank Primary School"',
        'name: "Willowbank Primary School',
        "short_name:",
        "school.short_name",
        "text where a key should start (a quote left open on this line or above, or text "
        "after a closing quote?)",
    ),
    "a key indented too far": (
        "  phase: primary",
        "   phase: primary",
        "phase:",
        "school.phase",
        "the indentation goes wrong on this line or the one above (keys at one level start "
        "in the same column, and each key ends with a colon)",
    ),
}


@pytest.mark.parametrize("case", SYNTAX_CASES.values(), ids=SYNTAX_CASES.keys())
def test_yaml_syntax_error_in_plain_words_at_its_line_and_key(
    folder: Path, case: tuple[str, str, str, str, str]
) -> None:
    """Slips people make, told in words a school can act on (not PyYAML's "expected
    <block end>, but found '<block mapping start>'"), at the line and key they are on."""
    old, new, marker, path, message = case
    text = edit(SAMPLE, old, new)
    assert problems(folder, text) == [
        f"{NAME}:{line_of(text, marker)}: {path}: YAML syntax error: {message}"
    ]


def test_two_documents_in_one_file(folder: Path) -> None:
    text = SAMPLE + "---\nschool: {name: Another}\n"
    assert problems(folder, text) == [
        f"{NAME}:{line_of(text, '---', start=True)}: (syntax): YAML syntax error: expected a "
        "single document in the stream, but found another document"
    ]


def test_key_that_is_a_list(folder: Path) -> None:
    text = SAMPLE + "? [a, b]\n: c\n"
    assert problems(folder, text) == [
        f"{NAME}:{line_of(text, '? [a, b]')}: (syntax): YAML syntax error: a key must be plain "
        "text, not a list or a mapping"
    ]


def test_not_utf8(folder: Path) -> None:
    data = SAMPLE.encode("utf-8").replace("Zoë".encode(), b"Zo\xeb")  # Latin-1 ë
    line = line_of(SAMPLE, "Zoë")
    assert problems(folder, data) == [f"{NAME}:{line}: (file): not UTF-8 text"]


def test_missing_file(folder: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(Path("nowhere.yaml"))
    assert [str(p) for p in info.value.problems] == ["nowhere.yaml:1: (file): file not found"]


def billion_laughs() -> str:
    """Nine levels of nine aliases: a few hundred bytes that expand to 9**9 strings."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = billion_laughs()
    write_school(folder, text)
    assert main(["check", "--config", NAME]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{NAME}:")
    assert err[0].endswith(
        "expands to more than 50,000 values through YAML aliases (*name); "
        "refusing to read it (a YAML alias bomb?)"
    )
    assert err[1:] == ["1 problem found."]
    assert "Traceback" not in "\n".join(err)


def test_alias_bomb_inside_a_real_config(folder: Path) -> None:
    bomb = billion_laughs().replace("\n", "\n  ").rstrip()
    text = edit(SAMPLE, "\nlinked_policies:  ", "\nlolz:\n  " + bomb + "\nlinked_policies:  ")
    assert problems(folder, text) == [
        f"{NAME}:{line_of(text, 'lolz:')}: lolz: expands to more than 50,000 values through "
        "YAML aliases (*name); refusing to read it (a YAML alias bomb?)"
    ]


def test_alias_that_contains_itself(folder: Path) -> None:
    text = edit(SAMPLE, "\nlinked_policies:  ", "\nloop: &loop [1, *loop]\nlinked_policies:  ")
    assert problems(folder, text) == [
        f"{NAME}:{line_of(text, 'loop:')}: loop: a YAML alias (*name) refers to a value that "
        "contains it; refusing to read it"
    ]


def test_ordinary_aliases_and_merge_keys_still_work(folder: Path) -> None:
    text = edit(SAMPLE, "  dsl:  ", "  dsl: &dsl")
    text = edit(
        text,
        '  online_safety_lead: {name: "Miss Hannah Lewis", role: "Computing Lead"}',
        '  online_safety_lead: {<<: *dsl, role: "Online Safety Lead"}',
    )
    write_school(folder, text)
    config = load_config(Path(NAME))
    assert config.online_safety_lead.name == "Mr Daniel O'Connor"
    assert config.online_safety_lead.role == "Online Safety Lead"
    assert config.online_safety_lead.email == "dsl@willowbank.example.org"


def test_every_problem_is_reported_at_once(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(SAMPLE, '  short_name: "Willowbank"', '  shortname: "Willowbank"')
    text = edit(text, '"dsl@willowbank.example.org"', '"dsl at willowbank"')
    text = edit(text, "approved_on: 2026-10-06", "approved_on: 2026-13-01")
    expected = [
        f"{NAME}:{line_of(text, 'shortname:')}: school.shortname: unknown key "
        "(did you mean 'short_name'?)",
        f'{NAME}:{line_of(text, "dsl at")}: people.dsl.email: "dsl at willowbank" is not a '
        "valid email address",
        f'{NAME}:{line_of(text, "approved_on:")}: review.approved_on: "2026-13-01" {NOT_A_DATE}',
    ]
    assert problems(folder, text) == expected
    # The command line prints the same lines, one per problem, and a count.
    assert main(["build", "--config", NAME]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == expected + [
        "3 problems found; nothing was built and the existing site is unchanged."
    ]
    assert not (folder / "site").exists()


def test_message_names_the_file_as_given(tmp_path: Path) -> None:
    """Outside the working directory the path is shown as given, so the user can find it."""
    config = write_school(
        tmp_path / "elsewhere", edit(SAMPLE, "phase: primary ", "phase: primery ")
    )
    with pytest.raises(ConfigError) as info:
        load_config(config)
    assert str(info.value.problems[0]).startswith(f"{config}:{line_of(SAMPLE, 'phase:')}: ")


@pytest.mark.parametrize("name", SCHOOL_NAMES)
def test_every_sample_school_is_valid(name: str) -> None:
    config = load_config(school_path(name))
    assert isinstance(config, Config)
    assert isinstance(config.review.approved_on, dt.date)
    assert config.next_review > config.review.approved_on


def test_sample_values_are_kept_exactly() -> None:
    """Apostrophes, accents and quoted versions survive loading unchanged."""
    config = load_config(DEFAULT_CONFIG)
    assert config.people.dsl.name == "Mr Daniel O'Connor"
    assert config.people.deputy_dsls[1].name == "Ms Zoë Adebayo"
    assert config.review.version == "2026.1"
    assert config.phones.pupils.details is None  # "" means not given
    welsh = load_config(school_path("welsh_middle"))
    assert welsh.school.name == "Ysgol Gymraeg Llŷn"


def test_merge_key_with_a_list_of_sources(folder: Path) -> None:
    text = edit(SAMPLE, "  dsl:  ", "  dsl: &dsl")
    text = edit(
        text,
        '  headteacher: {name: "Mrs Joanna Whitfield"}',
        '  headteacher: &head {name: "Mrs Joanna Whitfield"}',
    )
    text = edit(
        text,
        '  online_safety_lead: {name: "Miss Hannah Lewis", role: "Computing Lead"}',
        "  online_safety_lead: {<<: [*head, *dsl], phone: 12}",
    )
    assert problems(folder, text) == [
        f"{NAME}:{line_of(text, 'online_safety_lead:')}: people.online_safety_lead.phone: "
        'expected text, got a number (12) (put it in quotes, e.g. "2026.1", so YAML keeps '
        "it as written)"
    ]


def test_config_error_survives_pickling() -> None:
    import pickle

    from generator.errors import Problem

    error = ConfigError([Problem("a.yaml", 3, "school.name", "required, but missing")])
    copy = pickle.loads(pickle.dumps(error))
    assert copy.problems == error.problems and str(copy) == str(error)
