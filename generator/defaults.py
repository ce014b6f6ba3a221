"""Shared defaults for trusts and local authorities: ``extends: ../trust.yaml``.

A school's config may name another YAML file whose values it starts from; anything the
school sets wins. Mappings merge key by key, lists and single values are replaced whole.
Every key keeps the file and line it came from, so problems point at the right file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import ConfigError, Problem
from .yamlfile import KeyPath, YamlDocument, read_yaml

MAX_DEPTH = 5


def read_with_defaults(path: Path, display_name: str, chain: tuple[Path, ...] = ()) -> YamlDocument:
    """Read ``path``; if it says ``extends:``, lay it over the file it names: a shared
    defaults file in the school's folder or the (trust's) folder that holds it."""
    doc = read_yaml(path, display_name=display_name)
    if not isinstance(doc.data, dict) or "extends" not in doc.data:
        return doc
    target = doc.data.pop("extends")
    where = (doc.file, doc.line_of(("extends",)), "extends")
    if not isinstance(target, str) or not target.strip():
        raise ConfigError(
            [
                *doc.problems,
                Problem(*where, 'expected the path of a YAML file, e.g. extends: "../trust.yaml"'),
            ]
        )
    try:
        base_path = (path.parent / target).resolve()
        usable = base_path.is_file()
    except (ValueError, OSError):  # a NUL byte, a name too long for the filesystem
        raise ConfigError(
            [*doc.problems, Problem(*where, f"{json.dumps(target)} is not a usable file name")]
        ) from None
    chain = (*chain, path.resolve())
    root = chain[0].parent.parent
    if not base_path.is_relative_to(root):
        raise ConfigError(
            [
                *doc.problems,
                Problem(
                    *where,
                    f"{json.dumps(target)} is outside {root}; a defaults file must be in "
                    "the school's folder or the folder that holds it",
                ),
            ]
        )
    if base_path in chain:
        raise ConfigError(
            [Problem(*where, f"{json.dumps(target)} extends this file again (a loop of extends)")]
        )
    if len(chain) > MAX_DEPTH:
        raise ConfigError([Problem(*where, f"more than {MAX_DEPTH} files deep; flatten them")])
    if not usable:
        raise ConfigError(
            [
                *doc.problems,
                Problem(
                    *where, f"{json.dumps(target)} not found (paths are relative to this file)"
                ),
            ]
        )
    base_name = _relative_name(base_path, Path(display_name))
    base = read_with_defaults(base_path, base_name, chain)
    if is_school_config(base_path, base.data):
        raise ConfigError(
            [
                Problem(
                    *where,
                    f"{json.dumps(target)} is a school's config (it gives school.name); "
                    "extends must name a shared defaults file, e.g. ../trust.yaml",
                )
            ]
        )
    if not isinstance(base.data, dict):
        raise ConfigError(
            [Problem(base.file, 1, "(top level)", "expected a mapping of keys to use as defaults")]
        )
    merged = overlay(base, doc)
    merged.bases = (base_path, *base.bases)
    return merged


CONFIG_NAMES = ("school_config.yaml", "school_config.yml")


def config_file(folder: Path = Path()) -> Path:
    """The school's config in ``folder``: school_config.yaml, or school_config.yml if only
    that is there (both are YAML's usual names)."""
    for name in CONFIG_NAMES:
        if (folder / name).is_file():
            return folder / name
    return folder / CONFIG_NAMES[0]


def is_school_config(path: Path, data: object) -> bool:
    """A school's own config (named school_config.yaml or .yml, or giving the school's
    name), as opposed to a trust's shared defaults."""
    school = data.get("school") if isinstance(data, dict) else None
    return path.name in CONFIG_NAMES or (isinstance(school, dict) and "name" in school)


def overlay(base: YamlDocument, school: YamlDocument) -> YamlDocument:
    """The school's document laid over the base: merged data, and where each key came from."""
    data = _merge(base.data, school.data)
    merged = YamlDocument(school.file, data, problems=[*base.problems, *school.problems])
    _trace(data, (), base, school, merged)
    return merged


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = _merge(base[key], value) if key in base else value
        return out
    return over


def _trace(
    value: Any, path: KeyPath, base: YamlDocument, school: YamlDocument, merged: YamlDocument
) -> None:
    """Record, for every key path of the merged data, the file and line that supplied it:
    the school's file wherever it wrote that key, else the defaults file."""
    for source in (school, base):
        if path in source.lines:
            merged.lines[path] = source.lines[path]
            merged.files[path] = source.files.get(path, source.file)
            break
    children: Any = (
        value.items()
        if isinstance(value, dict)
        else (enumerate(value) if isinstance(value, list) else ())
    )
    for key, child in children:
        _trace(child, (*path, key), base, school, merged)


def _relative_name(base_path: Path, display: Path) -> str:
    """Show the base file the way the school's file was shown (relative when it was)."""
    if display.is_absolute():
        return str(base_path)
    try:
        return str(base_path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(base_path)
