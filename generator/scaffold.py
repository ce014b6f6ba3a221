"""``esafety new DIR``: a school folder with a commented config that builds at once."""

from __future__ import annotations

import shutil
from pathlib import Path

from .errors import UsageError
from .resources import TOOL_ROOT

SAMPLE_CONFIG = TOOL_ROOT / "school_config.yaml"
SCHEMA = TOOL_ROOT / "school_config.schema.json"

HEADER = """\
# yaml-language-server: $schema=./school_config.schema.json
#
# Your school's facts: every value below comes from a fictional example school.
# Replace each one with your own (keep the key names), then run:
#     esafety check --config {name}/school_config.yaml
#     esafety build --config {name}/school_config.yaml
# Every key is explained in the comment beside it and in the README.
"""


def scaffold(directory: Path) -> Path:
    """Create ``directory`` with school_config.yaml and its schema; return the config path."""
    target = directory / "school_config.yaml"
    if target.exists():
        raise UsageError(f"{target}: already exists; not overwriting it")
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory}: exists and is not a folder")
    directory.mkdir(parents=True, exist_ok=True)
    body = SAMPLE_CONFIG.read_text(encoding="utf-8").split("\n\n", 1)[1]
    # The example's logo file stays with the example; a school adds its own.
    body = body.replace('  logo: "assets/logo.svg"', '  # logo: "assets/logo.svg"')
    target.write_text(HEADER.format(name=directory.name) + "\n" + body, encoding="utf-8")
    shutil.copyfile(SCHEMA, directory / SCHEMA.name)
    return target
