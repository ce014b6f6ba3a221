"""``esafety new DIR``: a school (or trust) folder that checks and builds at once.

The files come from ``templates/new/`` (found through the package, like every template):
a commented config written for the school's phase (``phases.yaml`` holds what differs:
key stages, phone rules, roles), a ``.gitignore`` and a GitHub Actions workflow that
builds the pack and publishes it on GitHub Pages.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from .config import DEFAULT_LINKED_POLICIES, PHASES, json_schema_text
from .errors import UsageError
from .resources import TEMPLATES_DIR

NEW_DIR = TEMPLATES_DIR / "new"
SCHEMA_NAME = "school_config.schema.json"
# A brand colour per phase, each dark enough for white text (WCAG AA).
COLOURS = dict(
    zip(
        PHASES,
        ("#6b3f8f", "#1f5f8b", "#2d6a4f", "#245c3a", "#8a3b12", "#7b1e3a", "#134e6f", "#5a4a00"),
        strict=True,
    )
)
PHONE_KEYS = (
    ("who_may_bring", "which pupils may bring a phone"),
    ("handed_to", "who looks after handed-in phones, or where they are kept"),
    ("details", "anything else about the rule (free text)"),
    ("exceptions", "agreed exceptions"),
)


def scaffold(directory: Path, phase: str = "primary", extends: str | None = None) -> Path:
    """A school folder: its config for ``phase``, the schema, .gitignore and the
    publishing workflow. With ``extends`` (a trust's defaults file, relative to the new
    folder), a trust's school: the config leaves the shared values to that file, and the
    trust's folder already has the .gitignore and workflow. Returns the config's path."""
    config = directory / "school_config.yaml"
    # Lexically: the folder (and so its "..") need not exist yet.
    if extends is not None and not Path(os.path.normpath(directory / extends)).is_file():
        raise UsageError(f"--extends {extends}: no such file (the path is relative to {directory})")
    files = {
        config: render_config(
            phase, config_path=str(config), schema=f"./{SCHEMA_NAME}", trust=extends
        ),
        directory / SCHEMA_NAME: json_schema_text(),
    }
    if extends is None:
        files.update(_repository_files(directory, "--config school_config.yaml"))
    _write_new(directory, files)
    return config


def scaffold_trust(directory: Path, phase: str | None = None) -> list[Path]:
    """A trust folder: shared defaults, an overrides/ folder and two example schools
    (``phase`` and one other). Returns the schools' config paths."""
    phases = [phase or "primary", "secondary" if phase != "secondary" else "primary"]
    configs = [directory / _folder_name(_phase_data(p)) / "school_config.yaml" for p in phases]
    files = {
        directory / "defaults.yaml": (NEW_DIR / "defaults.yaml").read_text(encoding="utf-8"),
        directory / "overrides" / "README.txt": (NEW_DIR / "overrides-README.txt").read_text(
            encoding="utf-8"
        ),
        directory / SCHEMA_NAME: json_schema_text(),
        **_repository_files(directory, "."),
    }
    for p, config in zip(phases, configs, strict=True):
        files[config] = render_config(
            p, config_path=str(config), schema=f"../{SCHEMA_NAME}", trust="../defaults.yaml"
        )
    _write_new(directory, files)
    return configs


def render_config(phase: str, *, config_path: str, schema: str, trust: str | None = None) -> str:
    """The commented school_config.yaml of ``phase``'s example school; with ``trust`` (the
    path of the trust's defaults file) one that extends it, without the shared values."""
    data = _phase_data(phase)
    template = _environment().get_template("school_config.yaml")
    return template.render(
        p=data,
        phase=phase,
        trust=trust,
        schema=schema,
        config_path=config_path,
        colour=COLOURS[phase],
        phone=f"{410 + PHASES.index(phase) * 7}",
        phone_keys=PHONE_KEYS,
        linked_policies=[*DEFAULT_LINKED_POLICIES, *data["linked_extra"]],
    )


# Where the example's made-up names, places and numbers are: keys ending in one of these,
# under one of those sections.
MADE_UP_KEYS = ("name", "short_name", "address", "phone", "email", "website", "trust",
                "local_authority")  # fmt: skip
MADE_UP_SECTIONS = ("school", "people", "contacts")
# And these, printed as links and in the leaflet's QR code.
MADE_UP_PATHS = ("publish.url", "extra_resources[].url", "extra_resources[].title")


@cache
def made_up_values() -> dict[str, frozenset[str]]:
    """Every made-up name, address, number and email address ``esafety new`` writes (for
    any phase, for a trust or not), by key path, list items as ``[]``: a config that still
    has one would print a person or a number the school never gave."""
    texts = [
        render_config(phase, config_path="", schema="", trust=trust)
        for phase in PHASES
        for trust in (None, "../defaults.yaml")
    ]
    texts.append((NEW_DIR / "defaults.yaml").read_text(encoding="utf-8"))
    found: dict[str, set[str]] = {}
    for text in texts:
        for path, value in leaves(_yaml(text)):
            path = re.sub(r"\[\d+\]", "[]", path)
            if isinstance(value, str) and (_made_up_key(path) or path in MADE_UP_PATHS):
                found.setdefault(path, set()).add(value)
    return {path: frozenset(values) for path, values in found.items()}


def _made_up_key(path: str) -> bool:
    return path.split(".")[0] in MADE_UP_SECTIONS and path.split(".")[-1] in MADE_UP_KEYS


def leaves(data: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(key path, value) for every value in nested mappings and lists ("a.b[0].c")."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from leaves(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from leaves(value, f"{prefix}[{index}]")
    else:
        yield prefix, data


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(NEW_DIR)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["q"] = lambda value: json.dumps(value, ensure_ascii=False)  # YAML-safe
    return env


def _phase_data(phase: str) -> dict[str, Any]:
    if phase not in PHASES:
        raise UsageError(f"--phase {phase}: not a phase; choose one of {', '.join(PHASES)}")
    return dict(_yaml((NEW_DIR / "phases.yaml").read_text(encoding="utf-8"))[phase])


def _yaml(text: str) -> Any:
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


def _folder_name(data: dict[str, Any]) -> str:
    return re.sub(r"[^a-z0-9]+", "-", data["short_name"].lower()).strip("-")


def _repository_files(directory: Path, sources: str) -> dict[Path, str]:
    """.gitignore and the GitHub Pages workflow (its ${{ }} are GitHub's, so the two
    values go in by plain replacement, not Jinja)."""
    workflow = (NEW_DIR / "publish.yml").read_text(encoding="utf-8")
    workflow = workflow.replace("[[ version ]]", version("esafety-pack"))
    workflow = workflow.replace("[[ sources ]]", sources)
    return {
        directory / ".gitignore": (NEW_DIR / "gitignore").read_text(encoding="utf-8"),
        directory / ".github" / "workflows" / "publish.yml": workflow,
    }


def _write_new(directory: Path, files: dict[Path, str]) -> None:
    """Write every file, or none if any of them is already there (nothing is overwritten)."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory}: exists and is not a folder")
    there = [path for path in files if path.exists()]
    if there:
        names = ", ".join(path.relative_to(directory).as_posix() for path in there)
        raise UsageError(f"{directory}: already has {names}; not overwriting anything")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
