"""The annual review: snapshots of each published policy version, and what changed.

``esafety review`` keeps a text snapshot of the policy as it stands in
``reviews/<version>/`` beside the config, then records the new version and approval date
in the config. The "What changed" page compares the current policy with the latest
snapshot, section by section and word by word, the way a governor reads tracked changes.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from .compose import Composer
from .config import Config, load_config
from .errors import UsageError
from .markup import format_date, md_escape, to_plain_text
from .yamlfile import read_yaml

REVIEWS_DIR = "reviews"
SNAPSHOT = "snapshot.json"
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_HEADING = re.compile(r"^#{1,6}\s")
_ATTR_LIST = re.compile(r"\s*\{:[^}]*\}\s*$")


# ---------------------------------------------------------------- snapshots


def policy_snapshot(composer: Composer) -> dict[str, Any]:
    """The policy's words as they stand, section by section, paragraph by paragraph."""
    from .documents.policy import policy_composer

    policy = policy_composer(composer)
    config = composer.config
    sections = []
    for part in policy.composed_parts(for_print=True):
        for section, text in zip(part["sections"], part["markdown"], strict=True):
            sections.append(
                {
                    "id": section.id,
                    "number": section.number,
                    "title": to_plain_text(section.title),
                    "paragraphs": paragraphs(str(text))[1:],
                }
            )  # [0] is the heading
    return {
        "school": config.school.name,
        "version": config.review.version,
        "approved_on": config.review.approved_on.isoformat(),
        "approved_by": config.review.approved_by,
        "next_review": config.next_review.isoformat(),
        "draft": composer.is_draft,
        "sections": sections,
    }


def paragraphs(markdown_text: str) -> list[str]:
    """Plain-text paragraphs: one per paragraph, list item, heading or table row."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", markdown_text):
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines or lines[0].lstrip().startswith("<"):
            continue  # raw HTML (drawings); their words are also given as text
        items: list[str] = []
        for line in lines:
            if re.match(r"^\s*\|?\s*:?-{3,}", line):
                continue  # a table's divider row
            starts_item = _LIST_ITEM.match(line) or _HEADING.match(line) or "|" in line[:2]
            if starts_item or not items:
                items.append(line)
            else:
                items[-1] += " " + line.strip()
        for item in items:
            if _HEADING.match(item):  # keep "3." in "## 3. Title" from reading as a list
                item = re.sub(r"^(\d+)\.", r"\1\\.", _HEADING.sub("", item, count=1))
            else:
                item = _LIST_ITEM.sub("", item, count=1)
            item = _ATTR_LIST.sub("", item)
            text = to_plain_text(item.replace("|", " | ").strip(" |"))
            if text:
                out.append(text)
    return out


def snapshots(project_dir: Path) -> list[dict[str, Any]]:
    """Every saved snapshot, oldest approval first."""
    folder = project_dir / REVIEWS_DIR
    found = []
    for path in sorted(folder.glob(f"*/{SNAPSHOT}")) if folder.is_dir() else []:
        try:
            found.append(json.loads(path.read_text(encoding="utf-8")))
        except ValueError:
            raise UsageError(f"{path}: not a valid snapshot (JSON)") from None
    return sorted(found, key=lambda s: (s["approved_on"], s["version"]))


def previous_snapshot(project_dir: Path, config: Config) -> dict[str, Any] | None:
    current = config.review.approved_on.isoformat()
    older = [
        s
        for s in snapshots(project_dir)
        if s["version"] != config.review.version and s["approved_on"] <= current
    ]
    return older[-1] if older else None


def save_snapshot(project_dir: Path, snapshot: dict[str, Any]) -> Path:
    folder = project_dir / REVIEWS_DIR / _safe_folder_name(snapshot["version"])
    if (folder / SNAPSHOT).exists():
        raise UsageError(
            f"{folder / SNAPSHOT}: a snapshot of version {snapshot['version']} already exists"
        )
    folder.mkdir(parents=True)
    (folder / SNAPSHOT).write_text(
        json.dumps(snapshot, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (folder / "policy.md").write_text(_as_text(snapshot), encoding="utf-8")
    return folder


def _safe_folder_name(version: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", version).strip("-.")
    return name or "version"


def _as_text(snapshot: dict[str, Any]) -> str:
    """A readable copy of the snapshot, for people and for version control."""
    lines = [
        f"# Online Safety Policy, {snapshot['school']}",
        "",
        f"Version {snapshot['version']}, approved {snapshot['approved_on']}"
        + (f" by {snapshot['approved_by']}" if snapshot.get("approved_by") else ""),
        "",
    ]
    for section in snapshot["sections"]:
        lines += [f"## {section['number']}. {section['title']}", ""]
        lines += [p + "\n" for p in section["paragraphs"]]
    return "\n".join(lines)


# ---------------------------------------------------------------- starting a review


def start_review(
    config_path: Path, version: str, approved_on: dt.date, approved_by: str | None = None
) -> Path:
    """Snapshot the current policy, then record the new version in the config file."""
    project_dir = config_path.resolve().parent
    config = load_config(config_path, project_dir)
    if version == config.review.version:
        raise UsageError(f"--version {version}: that is the current version; give the new one")
    if approved_on <= config.review.approved_on:
        raise UsageError(
            f"--approved-on {approved_on.isoformat()}: must be after the current "
            f"approval date, {config.review.approved_on.isoformat()}"
        )
    folder = save_snapshot(project_dir, policy_snapshot(Composer(config, project_dir)))
    updated = _edit_review(config_path, config, version, approved_on, approved_by)
    config_path.write_text(updated, encoding="utf-8")
    load_config(config_path, project_dir)  # the edited file must still be valid
    return folder


def _edit_review(
    config_path: Path, config: Config, version: str, approved_on: dt.date, approved_by: str | None
) -> str:
    """The config text with review.* changed on their own lines; comments are kept."""
    doc = read_yaml(config_path)
    lines = config_path.read_text(encoding="utf-8").splitlines(keepends=True)
    changes = {
        ("review", "version"): json.dumps(version, ensure_ascii=False),
        ("review", "approved_on"): approved_on.isoformat(),
    }
    if approved_by:
        changes[("review", "approved_by")] = json.dumps(approved_by, ensure_ascii=False)
    for path, value in changes.items():
        if path not in doc.lines:
            raise UsageError(
                f"{config_path}: review.{path[1]} must be on a line of its own "
                "to be updated; edit it by hand"
            )
        index = doc.lines[path] - 1
        lines[index] = re.sub(
            rf"^(\s*{path[1]}\s*:\s*)([^#\n]*?)(\s*(#.*)?)$",
            lambda m, v=value: m.group(1) + v + m.group(3),
            lines[index],
            count=1,
        )
    explicit = config.review.next_review
    if explicit and explicit <= approved_on:
        index = doc.lines[("review", "next_review")] - 1
        lines[index] = re.sub(r"^(\s*)", r"\1# ", lines[index], count=1)
    return "".join(lines)


# ---------------------------------------------------------------- comparing


@dataclass
class SectionChange:
    number: int
    title: str
    status: str  # changed | added | removed
    paragraphs: list[Markup] = field(default_factory=list)
    words_added: int = 0
    words_removed: int = 0


@dataclass
class Comparison:
    previous: dict[str, Any]
    current: dict[str, Any]
    sections: list[SectionChange]

    @property
    def words_added(self) -> int:
        return sum(s.words_added for s in self.sections)

    @property
    def words_removed(self) -> int:
        return sum(s.words_removed for s in self.sections)

    def count(self, status: str) -> int:
        return sum(1 for s in self.sections if s.status == status)


def compare(previous: dict[str, Any], current: dict[str, Any]) -> Comparison:
    """Section by section, the words added and removed between two snapshots.

    The version and review dates differ between any two versions by definition; they are
    reported once in the summary, not as a change in every section that quotes them.
    """
    old_sections = {s["id"]: s for s in previous["sections"]}
    new_sections = {s["id"]: s for s in current["sections"]}
    masks = _review_masks(previous, current)
    changes = []
    for section in current["sections"]:
        old = old_sections.get(section["id"])
        if old is None:
            words = sum(len(p.split()) for p in section["paragraphs"])
            changes.append(
                SectionChange(
                    section["number"],
                    section["title"],
                    "added",
                    [Markup(f"<ins>{md_escape(p)}</ins>") for p in section["paragraphs"]],
                    words,
                    0,
                )
            )
            continue
        change = _compare_section(old, section, masks)
        if change:
            changes.append(change)
    for section in previous["sections"]:
        if section["id"] not in new_sections:
            words = sum(len(p.split()) for p in section["paragraphs"])
            changes.append(
                SectionChange(
                    section["number"],
                    section["title"],
                    "removed",
                    [Markup(f"<del>{md_escape(p)}</del>") for p in section["paragraphs"]],
                    0,
                    words,
                )
            )
    return Comparison(previous, current, changes)


def _review_masks(previous: dict[str, Any], current: dict[str, Any]) -> list[tuple[str, str]]:
    """Pairs of (old text, new text) that are the same fact: the version and its dates."""
    pairs = []
    if current.get("draft") and not previous.get(
        "draft"
    ):  # the wording of content/policy/sections/review.md
        pairs.append(("approved on", "for approval on"))
    for key in ("version", "approved_on", "next_review"):
        old, new = previous.get(key), current.get(key)
        if old and new and old != new:
            if key == "version":
                pairs.append((old, new))
            else:
                pairs.append(
                    (
                        format_date(dt.date.fromisoformat(old)),
                        format_date(dt.date.fromisoformat(new)),
                    )
                )
    return pairs


def _mask(text: str, masks: list[tuple[str, str]], side: int) -> str:
    for i, pair in enumerate(masks):
        text = text.replace(pair[side], f"\x00{i}\x00")
    return text


def _unmask(text: str, masks: list[tuple[str, str]]) -> str:
    for i, (_old, new) in enumerate(masks):
        text = text.replace(f"\x00{i}\x00", new)
    return text


def _compare_section(
    old: dict[str, Any], new: dict[str, Any], masks: list[tuple[str, str]]
) -> SectionChange | None:
    before = [_mask(p, masks, 0) for p in old["paragraphs"]]
    after = [_mask(p, masks, 1) for p in new["paragraphs"]]
    if before == after and old["title"] == new["title"]:
        return None
    change = SectionChange(new["number"], new["title"], "changed")
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            continue
        old_text, new_text = " ".join(before[a1:a2]), " ".join(after[b1:b2])
        html, added, removed = word_diff(old_text, new_text, masks)
        change.paragraphs.append(html)
        change.words_added += added
        change.words_removed += removed
    if old["title"] != new["title"]:
        html, added, removed = word_diff(old["title"], new["title"], masks)
        change.paragraphs.insert(0, Markup("Title: ") + html)
    return change


def word_diff(
    old: str, new: str, masks: list[tuple[str, str]] | None = None
) -> tuple[Markup, int, int]:
    """One paragraph's tracked changes as HTML, with counts of words added and removed."""
    masks = masks or []
    a, b = old.split(), new.split()
    out: list[str] = []
    added = removed = 0

    def text(words: list[str]) -> str:
        return md_escape(_unmask(" ".join(words), masks))

    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(text(a[a1:a2]))
            continue
        if a2 > a1:
            out.append(f"<del>{text(a[a1:a2])}</del>")
            removed += a2 - a1
        if b2 > b1:
            out.append(f"<ins>{text(b[b1:b2])}</ins>")
            added += b2 - b1
    return Markup(" ".join(out)), added, removed
