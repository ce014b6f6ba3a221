"""The README stays true: every config key and every command is documented."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from pydantic import BaseModel

from generator.cli import cli
from generator.config import Config

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def config_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        inner = _model_in(field.annotation)
        path = f"{prefix}{name}"
        if inner is not None and name not in _LEAF_MODELS:
            keys += config_keys(inner, f"{path}.")
        else:
            keys.append(path)
    return keys


# Lists of small records, and people, are documented by their key with their fields inline.
_LEAF_MODELS = {
    "headteacher",
    "dsl",
    "deputy_dsls",
    "online_safety_lead",
    "online_safety_governor",
    "chair_of_governors",
    "computing_lead",
    "technical_support",
    "lado",
    "dpo",
    "senior_leader",
    "childrens_services",
    "prevent",
    "extra_resources",
    "by_stage",  # a mapping of key stages to phone rules: its fields are phones.pupils.*
}


def _model_in(annotation: typing.Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``list[Person] | None``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        if found := _model_in(arg):
            return found
    return None


def test_every_config_key_is_in_the_readme():
    keys = config_keys(Config)
    assert "phones.pupils.rule" in keys and "people.dsl" in keys  # the walk itself works
    missing = [k for k in keys if f"`{k}`" not in README]
    assert not missing, f"document these keys in README.md: {missing}"


def test_every_command_is_in_the_readme():
    for name in cli.commands:
        assert re.search(rf"`esafety {name}\b", README), f"document `esafety {name}` in README"


def test_readme_opens_with_the_two_commands():
    first_block = README.split("```", 2)[1]
    assert "make build" in first_block and "make test" in first_block
