"""Read a YAML file into plain Python data plus the line of every key, refusing traps.

PyYAML's composed nodes carry their position; we keep a map from key path to line so
every validation problem can be reported as ``file:line: key.path: message``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from .errors import ConfigError, Problem

KeyPath = tuple[str | int, ...]

MAX_BYTES = 1_000_000
# A real config has a few hundred nodes; an alias bomb expands to billions.
MAX_NODES = 50_000
# A real config nests four or five levels deep; PyYAML reads nesting by recursion, so a
# file of thousands of "[" would otherwise end in a RecursionError.
MAX_DEPTH = 64


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps impossible dates (2026-13-01) as text, for a clear message later,
    and reads every key as the text written (``1:`` or ``on:`` is the key "1" or "on", never
    a number or true/false), so an unknown key is reported by name."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    "a key must be plain text, not a list or a mapping",
                    key_node.start_mark,
                )
            mapping[key_node.value] = self.construct_object(value_node, deep=deep)
        return mapping


def _or_text(construct: Any) -> Any:
    """A scalar constructor that keeps the text as written when the value cannot be made
    (2026-13-01, a number of thousands of digits, ``!!bool maybe``, ``!!float abc``), so
    validation reports it at its line instead of the reader failing."""

    def constructor(loader: _Loader, node: yaml.ScalarNode) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, KeyError, AttributeError, TypeError, OverflowError):
            return loader.construct_scalar(node)

    return constructor


for _tag, _construct in (
    ("timestamp", SafeConstructor.construct_yaml_timestamp),
    ("int", SafeConstructor.construct_yaml_int),
    ("float", SafeConstructor.construct_yaml_float),
    ("bool", SafeConstructor.construct_yaml_bool),
):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _or_text(_construct))


@dataclass
class YamlDocument:
    """A parsed YAML file: its data and the line of each key path (1-based)."""

    file: str
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    # Problems found while reading that do not stop validation (duplicate keys).
    problems: list[Problem] = field(default_factory=list)

    # With `extends:`, the file each key path came from (default: ``file``).
    files: dict[KeyPath, str] = field(default_factory=dict)
    # The shared defaults files this one extends, nearest first.
    bases: tuple[Path, ...] = ()

    def line_of(self, path: KeyPath) -> int:
        """The line of the longest prefix of ``path`` that exists in the file."""
        return self.locate(path)[1]

    def locate(self, path: KeyPath) -> tuple[str, int]:
        """The file and line of the longest prefix of ``path`` that was written somewhere."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return self.files.get(path[:end], self.file), self.lines[path[:end]]
        return self.file, 1


def format_path(path: KeyPath) -> str:
    """('people', 'deputy_dsls', 0, 'name') -> 'people.deputy_dsls[0].name'. A key that is
    empty or holds a line break or other control character is shown in quotes, escaped, so
    a problem stays on one line."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        key = (
            str(part)
            if str(part).isprintable() and str(part).strip()
            else json.dumps(str(part), ensure_ascii=False)
        )
        out += f".{key}" if out else key
    return out or "(top level)"


def read_yaml(path: Path, display_name: str | None = None) -> YamlDocument:
    """Parse ``path`` or raise ConfigError describing what is wrong and where."""
    name = display_name or str(path)
    try:
        raw = _read_small(path)
    except FileNotFoundError:
        raise ConfigError([Problem(name, 1, "(file)", "file not found")]) from None
    except OSError as exc:
        raise ConfigError([Problem(name, 1, "(file)", f"cannot read: {exc.strerror}")]) from None
    except ValueError as exc:
        raise ConfigError([Problem(name, 1, "(file)", str(exc))]) from None
    if raw is None:
        raise ConfigError([Problem(name, 1, "(file)", "file is larger than 1 MB; is it a config?")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError([Problem(name, line, "(file)", "not UTF-8 text")]) from None

    loader: _Loader | None = None
    try:
        _check_depth(text, name)
        loader = _Loader(text)
        node = loader.get_single_node()
        if node is None:
            raise ConfigError([Problem(name, 1, "(file)", "the file is empty")])
        lines: dict[KeyPath, int] = {}
        problems: list[Problem] = []
        _index(node, (), lines, problems, name, [0], ())
        data = loader.construct_document(node)
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise ConfigError(
            [
                Problem(
                    name,
                    line,
                    "(syntax)",
                    f"YAML syntax error: the character #x{exc.character:04x} is "
                    "not allowed in YAML (a control character or binary data?)",
                )
            ]
        ) from None
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([Problem(name, *_syntax_error(exc, text))]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(name, 1, "(syntax)", f"YAML syntax error: {exc}")]) from None
    finally:
        if loader is not None:
            loader.dispose()
    return YamlDocument(name, data, lines, problems)


def _read_small(path: Path) -> bytes | None:
    """The bytes of a regular file of at most MAX_BYTES (None if larger), its size checked
    before reading (and a device or pipe that never ends refused)."""
    if not stat.S_ISREG(path.stat().st_mode):  # before opening: a pipe would block
        raise ValueError("not a regular file")
    with path.open("rb") as file:
        if os.fstat(file.fileno()).st_size > MAX_BYTES:
            return None
        raw = file.read(MAX_BYTES + 1)
    return None if len(raw) > MAX_BYTES else raw


def _check_depth(text: str, name: str) -> None:
    """Refuse lists and mappings nested more than MAX_DEPTH deep, before PyYAML's recursive
    composer sees them (its parser, used here, reads nesting without recursion)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise ConfigError(
                    [Problem(name, event.start_mark.line + 1, "(syntax)", _too_deep())]
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _too_deep() -> str:
    return (
        f"lists or mappings nested more than {MAX_DEPTH} levels deep; refusing to read "
        "them (a config nests only a few levels)"
    )


def _syntax_error(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, str, str]:
    """(line, key path, message) for a YAML syntax error, in words a school can act on. The
    line is where PyYAML stopped (an unclosed [ or { is named where it opened); the key
    path is read from the indentation around it, as the file cannot be parsed."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    what = exc.problem or exc.context or "invalid YAML"
    if exc.context and what.startswith("but "):  # "expected X" + "but found Y"
        what = f"{exc.context}, {what}"
    opened = exc.context_mark
    for pyyaml_words, plain, at_opening in _PLAIN_SYNTAX:
        if pyyaml_words in what:
            if at_opening and opened is not None:
                line = opened.line + 1
            return line, _key_path_at(text, line), f"YAML syntax error: {plain}"
    if (
        exc.context
        and opened is not None
        and opened.line + 1 != line
        and not exc.context.startswith("expected")
    ):
        what += f" ({exc.context} that starts on line {opened.line + 1})"
    return line, _key_path_at(text, line), f"YAML syntax error: {what}"


# PyYAML's words for the slips people make in a config; what they mean; whether the line to
# name is where the unclosed bracket opened.
_PLAIN_SYNTAX = (
    ("found character '\\t'", "a tab character (indent with spaces, not tabs)", False),
    (
        "mapping values are not allowed here",
        "a second ': ' on one line (put a value that contains ': ' in quotes)",
        False,
    ),
    (
        "expected <block end>, but found '<block",  # a mapping or a list ("- ") starts here
        "the indentation goes wrong on this line or the one above (keys at one level start "
        "in the same column, and each key ends with a colon)",
        False,
    ),
    (
        "expected <block end>, but found '<scalar>'",
        "text where a key should start (a quote left open on this line or above, or text "
        "after a closing quote?)",
        False,
    ),
    ("expected ',' or ']'", "a list opened with [ is not closed with ]", True),
    ("expected ',' or '}'", "a mapping opened with { is not closed with }", True),
    ("found unexpected end of stream", "a quote is opened and never closed", True),
    (
        "could not find expected ':'",
        "a key with no colon after it, or a quote left open, on this line or the one above",
        False,
    ),
)

# A line that starts a key: its indentation, the key, and whether a value follows on the line.
_KEY_LINE = re.compile(r"([ \t]*)(?:- +)?([A-Za-z_][\w-]*) *:(?: +(?!#)(\S))?")


def _key_path_at(text: str, line: int) -> str:
    """'people.dsl.email' for the key on ``line``, with the keys above it that open a
    mapping at a lesser indentation; '(syntax)' if the line has no key."""
    path: list[str] = []
    indent: int | None = None
    for raw in reversed(text.splitlines()[:line]):
        found = _KEY_LINE.match(raw)
        if not found:
            if indent is None:
                return "(syntax)"
            continue
        depth, key, has_value = len(found[1]), found[2], found[3] is not None
        if indent is None or (depth < indent and not has_value):
            path.insert(0, key)
            indent = depth
            if depth == 0:
                break
    return ".".join(path) or "(syntax)"


def _index(
    node: yaml.Node,
    path: KeyPath,
    lines: dict[KeyPath, int],
    problems: list[Problem],
    name: str,
    count: list[int],
    ancestors: tuple[yaml.Node, ...],
) -> None:
    """Record the line of every key and list item; find duplicate keys; stop alias bombs
    (billions of values from a few lines) and alias loops (a value that contains itself)."""
    count[0] += 1
    where = path[:1]
    line = lines.get(where, node.start_mark.line + 1)
    if count[0] > MAX_NODES:
        raise ConfigError(
            [
                Problem(
                    name,
                    line,
                    format_path(where),
                    f"expands to more than {MAX_NODES:,} values through YAML aliases (*name); "
                    "refusing to read it (a YAML alias bomb?)",
                )
            ]
        )
    if any(node is seen for seen in ancestors):
        raise ConfigError(
            [
                Problem(
                    name,
                    line,
                    format_path(where),
                    "a YAML alias (*name) refers to a value that contains it; refusing to read it",
                )
            ]
        )
    if len(ancestors) > MAX_DEPTH:  # nesting built from aliases (*a inside *b inside ...)
        raise ConfigError([Problem(name, line, format_path(where), _too_deep())])
    ancestors += (node,)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key == "<<":  # merge keys: <<: *base or <<: [*a, *b]
                merged = (
                    value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                )
                for source in merged:
                    _index(source, path, lines, problems, name, count, ancestors)
                continue
            if key in seen:
                problems.append(
                    Problem(
                        name,
                        line,
                        format_path(path + (key,)),
                        f"duplicate key (first given on line {seen[key]})",
                    )
                )
            seen.setdefault(key, line)
            # The last value given wins (as in YAML loaders), so its lines are the ones kept.
            lines[path + (key,)] = line
            _index(value_node, path + (key,), lines, problems, name, count, ancestors)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[path + (i,)] = item.start_mark.line + 1
            _index(item, path + (i,), lines, problems, name, count, ancestors)


def is_date(value: Any) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
