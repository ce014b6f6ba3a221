"""content/site.yaml: what the pack calls its parts (navigation, home page, downloads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.compose import CONTENT_DIR, Pack, compose
from generator.config import load_config
from generator.errors import BuildError, ConfigError


def composed(path: Path) -> Pack:
    return compose(load_config(path), path.parent)


def override_names(path: Path, change: dict[str, dict[str, Any]]) -> None:
    """Write the school's own site.yaml: the tool's, with ``change`` merged in."""
    names = yaml.safe_load((CONTENT_DIR / "site.yaml").read_text(encoding="utf-8"))
    for part, values in change.items():
        names[part] = {**names[part], **values}
    target = path.parent / "overrides" / "content" / "site.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(names), encoding="utf-8")


def test_every_part_takes_its_names_from_site_yaml(make_school: Any) -> None:
    """Every page title, navigation section, home-page line and download title in the
    pack comes from site.yaml (or, for the policy and the forms, their own files)."""
    pack = composed(make_school({"publish": {"staff_pages": True}}))
    names = yaml.safe_load((CONTENT_DIR / "site.yaml").read_text(encoding="utf-8"))
    said = {page.title for page in pack.pages} | {p.section for p in pack.pages if p.section}
    for part in ("home", "smart", "parents", "calendar", "status", "downloads"):
        assert names[part]["page"] in said, part
    assert "Agreements and forms" in said and "About this site" in said
    downloads = {doc.title: doc.audience for doc in [*pack.prints, *pack.files]}
    assert downloads["SMART tips poster"] == "Pupils: all ages"
    assert downloads["Online safety calendar"] == "Staff and governors"
    assert downloads["Online safety rules poster: Key Stage 2"] == "Pupils: Key Stage 2"
    index = next(page for page in pack.pages if page.path == "index.md").markdown
    assert "11 rules for pupils, with a poster to print" in index


def test_a_school_renames_a_part_everywhere_it_is_named(make_school: Any) -> None:
    path = make_school()
    override_names(
        path,
        {
            "forms": {"section": "Forms to sign", "home": "Forms to sign"},
            "smart": {"pdf": "Be SMART poster", "about": "five tips, for every age"},
            "site": {"name": "E-safety at {{ short_name }}"},
        },
    )
    pack = composed(path)
    assert pack.site["name"] == "E-safety at Willowbank"
    for about in ("accessibility.md", "privacy.md"):  # they name the site they are about
        page = next(page for page in pack.pages if page.path == about)
        assert "*E-safety at Willowbank*" in page.markdown
    forms = [page for page in pack.pages if page.path.startswith("forms/")]
    assert forms and {page.section for page in forms} == {"Forms to sign"}
    assert "Be SMART poster" in {doc.title for doc in pack.prints}
    index = next(page for page in pack.pages if page.path == "index.md").markdown
    assert "Forms to sign" in index and "five tips, for every age" in index
    listing = next(page for page in pack.pages if page.path == "downloads.md").markdown
    assert "Be SMART poster" in listing


def test_names_use_the_nations_words(make_school: Any) -> None:
    pack = composed(make_school({"school": {"nation": "wales"}}))
    sections = {page.section for page in pack.pages if page.path.startswith("rules/")}
    assert sections == {"Learners' rules"}
    audiences = {doc.audience for doc in pack.prints if doc.filename.startswith("poster-")}
    assert audiences and all(a.startswith("Learners: ") for a in audiences)


def test_what_changed_sits_with_the_policy_whatever_the_policy_is_called(
    make_school: Any,
) -> None:
    path = make_school()
    policy_file = CONTENT_DIR / "policy" / "policy.yaml"
    policy = yaml.safe_load(policy_file.read_text(encoding="utf-8"))
    policy["title"] = "E-Safety Policy"
    target = path.parent / "overrides" / "content" / "policy" / "policy.yaml"
    target.parent.mkdir(parents=True)
    target.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    pack = composed(path)
    changes = next(page for page in pack.pages if page.path == "changes.md")
    policy_pages = {page.section for page in pack.pages if page.path.startswith("policy/")}
    assert policy_pages == {"E-Safety Policy"} and changes.section == "E-Safety Policy"
    titles = {doc.filename: doc.title for doc in pack.prints}
    assert titles["changes.pdf"] == "What changed in the E-Safety Policy"


def test_a_name_left_out_is_a_one_line_error(make_school: Any) -> None:
    path = make_school()
    override_names(path, {})
    target = path.parent / "overrides" / "content" / "site.yaml"
    names = yaml.safe_load(target.read_text(encoding="utf-8"))
    del names["smart"]["page"]
    target.write_text(yaml.safe_dump(names), encoding="utf-8")
    with pytest.raises(BuildError, match=r"^content/site.yaml: smart.page: missing$"):
        composed(path)


def test_a_mistake_in_a_name_is_a_one_line_error(make_school: Any) -> None:
    path = make_school()
    override_names(path, {"calendar": {"about": "dates for {{ nobody.name }}"}})
    with pytest.raises(ConfigError, match=r"^overrides/content/site.yaml:\d+: calendar.about: "):
        composed(path)
