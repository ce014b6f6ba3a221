"""Loading a config never crashes, whatever the file holds (property-based, Hypothesis).

`esafety check` on any file ends in success (exit 0) or in a clean list of problems
(exit 2): one `file:line: key.path: message` line each, then the count. Never a traceback,
never "internal error". Hypothesis writes YAML-ish text, edits the bytes of the sample
config, deletes and adds keys, gives values of the wrong type, nests deeply and uses
aliases. Each @example is a crash found this way, kept so it stays fixed.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DEFAULT_CONFIG, ROOT
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from generator.cli import main

SAMPLE_TEXT = DEFAULT_CONFIG.read_text(encoding="utf-8")
SAMPLE = yaml.safe_load(SAMPLE_TEXT)
SUMMARY = re.compile(r"\d+ problems? found\.")
PROBLEM = re.compile(r"(?P<line>\d+): (?P<path>[^\n]+?): (?P<message>\S[^\n]*)")

# Bounded: 300 random examples in all (75 a test), a few seconds together.
FEW = settings(
    max_examples=75,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for every example (the file is rewritten each time), with the logo the
    sample config names."""
    folder = tmp_path_factory.mktemp("properties")
    (folder / "assets").mkdir()
    (folder / "assets" / "logo.svg").write_bytes((ROOT / "assets" / "logo.svg").read_bytes())
    return folder / "school_config.yaml"


def check(path: Path, content: str | bytes) -> tuple[int, str, str]:
    """Run `esafety check` on ``content``; assert it ended cleanly; return what it said."""
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    else:
        path.write_bytes(content)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", "--config", str(path)])
    stdout, stderr = out.getvalue(), err.getvalue()
    assert "internal error" not in stderr, stderr
    assert "Traceback" not in stderr + stdout, stderr
    assert code in (0, 2), (code, stderr)
    if code == 0:
        assert stderr == ""
        assert stdout.strip(), "check printed nothing"
    else:
        *problems, summary = stderr.rstrip("\n").split("\n")
        assert SUMMARY.fullmatch(summary), summary
        assert problems, "exit 2 without a problem"
        assert int(summary.split()[0]) == len(problems)
        for line in problems:
            assert line.startswith(f"{path}:"), line
            assert PROBLEM.fullmatch(line.removeprefix(f"{path}:")), line
    return code, stdout, stderr


# ---------------------------------------------------------------- random YAML-ish text

YAML_CHARS = list("abz019 :-,[]{}&*!|>'\"#?%@`\\.~\n\t=_<") + [
    "é",
    "ŷ",
    "\u00a0",
    "\ufeff",
    "\x00",
    "\x07",
    "\U0001f600",
]


@FEW
@given(text=st.text(alphabet=st.sampled_from(YAML_CHARS), max_size=300))
@example(text="[" * 3000 + "]" * 3000)  # RecursionError
@example(text="a: " + "{b: " * 3000 + "1" + "}" * 3000)
@example(text="x0: &x0 []\n" + "".join(f"x{i}: &x{i} [*x{i - 1}]\n" for i in range(1, 300)))
@example(text="review:\n  cycle_months: " + "9" * 5000 + "\n")  # int digit limit
@example(text="school:\n  name: 0x" + "f" * 5000 + "\n")  # str(int) limit
@example(text="school: !!float abc\nreview: !!bool maybe\nphones: !!int x\n")
@example(text="school: !!timestamp nonsense\n")
@example(text="a: &a [*a]\n")
@example(text="\ufeff\ufeff")
def test_random_text_is_a_config_or_a_clean_error(config_path: Path, text: str) -> None:
    check(config_path, text)


# ---------------------------------------------------------------- the sample, byte by byte

SAMPLE_BYTES = SAMPLE_TEXT.encode("utf-8")
edits = st.lists(
    st.tuples(
        st.sampled_from(["replace", "insert", "delete", "duplicate"]),
        st.integers(0, len(SAMPLE_BYTES) - 1),
        st.binary(min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=6,
)


def apply_edits(data: bytes, changes: list[tuple[str, int, bytes]]) -> bytes:
    for kind, at, chunk in changes:
        at %= max(len(data), 1)
        if kind == "replace":
            data = data[:at] + chunk + data[at + len(chunk) :]
        elif kind == "insert":
            data = data[:at] + chunk + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + len(chunk) * 8 :]
        else:  # repeat the line the position falls in
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at) + 1 or len(data)
            data = data[:end] + data[start:end] + data[end:]
    return data


@FEW
@given(changes=edits)
def test_byte_edits_of_the_sample_end_cleanly(
    config_path: Path, changes: list[tuple[str, int, bytes]]
) -> None:
    check(config_path, apply_edits(SAMPLE_BYTES, changes))


# ---------------------------------------------------------------- keys and wrong types

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(10**60), 10**60),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
    st.sampled_from(
        [
            "",
            " ",
            "yes",
            "no",
            "on",
            "1.10",
            "2026-13-01",
            "#12345",
            "ks9",
            "javascript:alert(1)",
            "<script>",
            "{{ 7*7 }}",
            "../../etc/passwd",
            "primary",
            "handed_in",
            "https://example.org",
            "a@b.example",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def key_paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in the sample, mappings and lists alike."""
    paths = [prefix] if prefix else []
    children = (
        data.items()
        if isinstance(data, dict)
        else (enumerate(data) if isinstance(data, list) else [])
    )
    for key, child in children:
        paths += key_paths(child, (*prefix, key))
    return paths


SAMPLE_PATHS = key_paths(SAMPLE)
mutations = st.lists(
    st.tuples(
        st.sampled_from(["delete", "set", "add"]),
        st.sampled_from(SAMPLE_PATHS),
        st.text(max_size=12),
        values,
    ),
    min_size=1,
    max_size=5,
)


def mutate(
    data: dict[str, Any], changes: list[tuple[str, tuple[Any, ...], str, Any]]
) -> dict[str, Any]:
    data = copy.deepcopy(data)
    for kind, path, new_key, value in changes:
        parent: Any = data
        for part in path[:-1]:
            if not isinstance(parent, dict | list):
                break
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                break
        else:
            last = path[-1]
            if kind == "delete" and isinstance(parent, dict):
                parent.pop(last, None)
            elif (
                kind == "delete"
                and isinstance(parent, list)
                and isinstance(last, int)
                and last < len(parent)
            ):
                del parent[last]
            elif kind == "set" and isinstance(parent, dict | list):
                with contextlib.suppress(IndexError, TypeError):
                    parent[last] = value
            elif kind == "add" and isinstance(parent, dict):
                parent[new_key or "extra"] = value
    return data


@FEW
@given(changes=mutations, flow=st.booleans())
@example(
    changes=[("set", ("review", "approved_on"), "", dt.date(9999, 12, 1))], flow=False
)  # year 10000 in add_months
def test_wrong_keys_and_types_end_cleanly(config_path: Path, changes: Any, flow: bool) -> None:
    text = yaml.safe_dump(
        mutate(SAMPLE, changes), allow_unicode=True, sort_keys=False, default_flow_style=flow
    )
    check(config_path, text)


# ---------------------------------------------------------------- nesting and aliases


@FEW
@given(
    depth=st.integers(1, 400),
    opener=st.sampled_from(["[", "{a: ", "- "]),
    where=st.sampled_from(SAMPLE_PATHS[:20]),
    alias_count=st.integers(0, 12),
)
def test_deep_nesting_and_aliases_end_cleanly(
    config_path: Path, depth: int, opener: str, where: tuple[Any, ...], alias_count: int
) -> None:
    if opener == "- ":
        nested = "".join("  " * i + "- \n" for i in range(depth)) + "  " * depth + "x\n"
    else:
        nested = opener * depth + "1" + ("]" if opener == "[" else "}") * depth + "\n"
    aliases = "".join(f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n" for i in range(1, alias_count))
    head = "a0: &a0 [x]\n" + aliases if alias_count else ""
    key = str(where[-1]) if isinstance(where[-1], str) else "extra"
    text = f"{head}{key}: *a{alias_count - 1}\n" if alias_count else ""
    text += SAMPLE_TEXT + f"\nnested: {nested if opener != '- ' else chr(10) + nested}"
    check(config_path, text)


def test_the_sample_itself_is_fine(config_path: Path) -> None:
    code, stdout, _ = check(config_path, SAMPLE_TEXT)
    assert code == 0 and str(config_path) in stdout


@pytest.mark.parametrize("target", ["a\\0b.yaml", "a" * 5000 + ".yaml"], ids=["nul", "long"])
def test_extends_with_an_unusable_file_name_is_a_clean_error(
    config_path: Path, target: str
) -> None:
    check(config_path, f'extends: "{target}"\n' + SAMPLE_TEXT)
