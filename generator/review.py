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
import os
import re
import shutil
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from markupsafe import Markup

from .compose import Composer
from .config import Config, load_config
from .errors import BuildError, UsageError
from .markup import format_date, md_escape, to_plain_text
from .yamlfile import read_yaml

REVIEWS_DIR = "reviews"
SNAPSHOT = "snapshot.json"
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_HEADING = re.compile(r"^#{1,6}\s")
_ATTR_LIST = re.compile(r"\s*\{:[^}]*\}\s*$")


# ---------------------------------------------------------------- snapshots


def policy_snapshot(composer: Composer, words: bool = True) -> dict[str, Any]:
    """The policy's words as they stand, section by section, paragraph by paragraph. With
    ``words=False``, only the version's dates and approver (the version history needs no
    more, and with no earlier version there is nothing to compare the words with)."""
    from .documents.policy import policy_composer

    policy = policy_composer(composer)
    config = composer.config
    sections = []
    for part in policy.composed_parts(for_print=True) if words else ():
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
        "decisions": decisions(composer) if words else [],
        "sections": sections,
    }


def decisions(composer: Composer) -> list[list[str]]:
    """The school's decisions the policy records (content/policy/decisions.md), as
    [what, decision] pairs of plain text; those with no decision are left out."""
    pairs = []
    for line in composer.page("policy/decisions.md").splitlines():
        what, bar, decision = line.partition(" | ")
        what, decision = to_plain_text(what).strip(), to_plain_text(decision).strip()
        if bar and what and decision:
            pairs.append([what, decision])
    return pairs


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
    """Every saved snapshot, oldest approval first; one that is not what ``esafety review``
    wrote is a one-line error naming it."""
    folder = project_dir / REVIEWS_DIR
    found = []
    for path in sorted(folder.glob(f"*/{SNAPSHOT}")) if folder.is_dir() else []:
        try:
            snapshot = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise UsageError(f"{path}: not a valid snapshot (JSON)") from None
        if not _is_snapshot(snapshot):
            raise UsageError(f"{path}: not a snapshot esafety review wrote; move it away")
        found.append(snapshot)
    return sorted(found, key=lambda s: (s["approved_on"], s["version"]))


def _is_snapshot(data: Any) -> bool:
    if not isinstance(data, dict) or not isinstance(data.get("sections"), list):
        return False
    texts = ("school", "version", "approved_on")
    return all(isinstance(data.get(key), str) for key in texts) and all(
        isinstance(s, dict)
        and isinstance(s.get("title"), str)
        and isinstance(s.get("paragraphs"), list)
        and all(isinstance(p, str) for p in s["paragraphs"])
        for s in data["sections"]
    )


def previous_snapshot(project_dir: Path, config: Config) -> dict[str, Any] | None:
    current = config.review.approved_on.isoformat()
    older = [
        s
        for s in snapshots(project_dir)
        if s["version"] != config.review.version and s["approved_on"] <= current
    ]
    return older[-1] if older else None


def snapshot_folder(project_dir: Path, version: str) -> Path:
    return project_dir / REVIEWS_DIR / _safe_folder_name(version)


def write_snapshot(folder: Path, snapshot: dict[str, Any]) -> None:
    folder.mkdir(parents=True)
    (folder / SNAPSHOT).write_text(
        json.dumps(snapshot, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (folder / "policy.md").write_text(_as_text(snapshot), encoding="utf-8")


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
    """Snapshot the current policy, then record the new version in the config file.

    Everything is checked and made first (the snapshot in memory, the edited config in a
    file beside it, read back and validated); then the config is replaced in one move,
    its previous text kept as ``<config>.<old version>.bak``, and the snapshot put in
    place last. A failure at any step leaves the config and ``reviews/`` as they were."""
    project_dir = config_path.resolve().parent
    config = load_config(config_path, project_dir)
    if version == config.review.version:
        raise UsageError(f"--version {version}: that is the current version; give the new one")
    if approved_on <= config.review.approved_on:
        raise UsageError(
            f"--approved-on {approved_on.isoformat()}: must be after the current "
            f"approval date, {config.review.approved_on.isoformat()}"
        )
    snapshots(project_dir)  # a broken snapshot is reported now, not after the edit
    folder = snapshot_folder(project_dir, config.review.version)
    if folder.exists():
        raise UsageError(
            f"{folder / SNAPSHOT}: a snapshot of version {config.review.version} already exists"
        )
    snapshot = policy_snapshot(Composer(config, project_dir))
    original = config_path.read_bytes()
    edited = config_path.with_name(f".{config_path.name}.review-{os.getpid()}")
    staged = folder.with_name(f".{folder.name}.review-{os.getpid()}")
    made_reviews = not folder.parent.exists()
    try:
        text = _edit_review(original.decode("utf-8-sig"), config, version, approved_on, approved_by)
        edited.write_text(text, encoding="utf-8")
        _check_edit(config_path, edited, version, approved_on, approved_by)
        write_snapshot(staged, snapshot)
        backup = config_path.with_name(
            f"{config_path.name}.{_safe_folder_name(config.review.version)}.bak"
        )
        backup.write_bytes(original)
        edited.replace(config_path)
        try:
            staged.rename(folder)
        except OSError:
            config_path.write_bytes(original)
            raise
    except OSError as exc:
        if made_reviews:
            shutil.rmtree(staged, ignore_errors=True)
            with suppress(OSError):
                folder.parent.rmdir()
        raise BuildError(
            f"{config_path}: review not recorded ({exc.strerror or exc}); "
            "the config and reviews/ are as they were"
        ) from None
    finally:
        edited.unlink(missing_ok=True)
        shutil.rmtree(staged, ignore_errors=True)
    return folder


def _edit_review(
    text: str, config: Config, version: str, approved_on: dt.date, approved_by: str | None
) -> str:
    """The config text with review.* replaced where they are written, every other
    character as it was (comments, quotes, flow style, wrapped lines)."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    review = _value_node(root, "review")
    if not isinstance(review, yaml.MappingNode):
        raise UsageError(
            "review: not written in this file (it comes from extends:); edit it by hand"
        )
    edits: list[tuple[int, int, str]] = []
    values = {
        "version": json.dumps(version, ensure_ascii=False),
        "approved_on": approved_on.isoformat(),
    }
    if approved_by:
        values["approved_by"] = json.dumps(approved_by, ensure_ascii=False)
    for key, value in values.items():
        node = _value_node(review, key)
        if node is None and key == "approved_by":
            edits.append(_insertion(text, review, f"approved_by: {value}"))
        elif not isinstance(node, yaml.ScalarNode):
            raise UsageError(f"review.{key}: not a single value in this file; edit it by hand")
        else:
            written = text[node.start_mark.index : node.end_mark.index]
            tail = written[len(written.rstrip()) :]  # a block scalar's line breaks
            space = " " if not written else ""  # "key:" with no value written
            edits.append((node.start_mark.index, node.end_mark.index, space + value + tail))
    explicit = config.review.next_review
    if explicit and explicit <= approved_on:
        node = _value_node(review, "next_review")
        if node is None or review.flow_style or node.start_mark.line != node.end_mark.line:
            raise UsageError(
                f"review.next_review: {explicit.isoformat()} is not after the new approval "
                "date; change or remove it first"
            )
        line_start = text.rfind("\n", 0, node.start_mark.index) + 1
        indent = len(text[line_start:]) - len(text[line_start:].lstrip(" "))
        edits.append((line_start + indent, line_start + indent, "# "))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _value_node(mapping: Any, key: str) -> Any:
    """The node of ``key``'s value in a mapping node (the last given wins, as in loading)."""
    found = None
    for key_node, value_node in (
        getattr(mapping, "value", []) if isinstance(mapping, yaml.MappingNode) else []
    ):
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            found = value_node
    return found


def _insertion(text: str, review: yaml.MappingNode, entry: str) -> tuple[int, int, str]:
    """Where to add a key to review: after its last value (flow style), or on a line of its
    own after its last key's line, indented like it (block style)."""
    last_key, last_value = review.value[-1]
    if review.flow_style:
        at = last_value.end_mark.index
        return at, at, f", {entry}"
    line_end = text.find("\n", last_value.end_mark.index - 1)
    line_end = len(text) if line_end < 0 else line_end
    indent = " " * last_key.start_mark.column
    return line_end, line_end, f"\n{indent}{entry}"


def _check_edit(
    config_path: Path, edited: Path, version: str, approved_on: dt.date, approved_by: str | None
) -> None:
    """The edited file holds exactly the old data with the new review values, and is valid."""
    before, after = read_yaml(config_path).data, read_yaml(edited).data
    expected = {**before["review"], "version": version, "approved_on": approved_on}
    if approved_by:
        expected["approved_by"] = approved_by
    expected.pop("next_review", None)
    got = dict(after.get("review") or {}) if isinstance(after, dict) else {}
    got.pop("next_review", None)
    others_same = isinstance(after, dict) and {k: v for k, v in after.items() if k != "review"} == {
        k: v for k, v in before.items() if k != "review"
    }
    if got != expected or not others_same:
        raise UsageError(f"{config_path}: review could not be updated safely; edit it by hand")
    load_config(edited, config_path.resolve().parent)


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
    def decisions(self) -> list[tuple[str, str, str]]:
        """(what, was, now) for each decision that differs from the last version's; none
        when that version's snapshot predates decisions being kept."""
        if "decisions" not in self.previous:
            return []
        was, now = dict(self.previous["decisions"]), dict(self.current.get("decisions", []))
        order = list(now) + [what for what in was if what not in now]
        return [(w, was.get(w, ""), now.get(w, "")) for w in order if was.get(w) != now.get(w)]

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
    """Pairs of (old text, new text) that are the same fact: the version and its dates. A
    version is matched only after the word "version": "2026" alone may be a year in the
    text ("the Children's Wellbeing and Schools Act 2026"), "3" a key stage."""
    pairs = []
    if current.get("draft") and not previous.get(
        "draft"
    ):  # the wording of content/policy/sections/review.md
        pairs.append(("approved on", "for approval on"))
    for key in ("version", "approved_on", "next_review"):
        old, new = previous.get(key), current.get(key)
        if old and new and old != new:
            if key == "version":
                pairs += [(f"{word} {old}", f"{word} {new}") for word in ("version", "Version")]
            else:
                pairs.append(
                    (
                        format_date(dt.date.fromisoformat(old)),
                        format_date(dt.date.fromisoformat(new)),
                    )
                )
    return pairs


def _mask(text: str, masks: list[tuple[str, str]], side: int) -> str:
    """Each mask's text, where it stands as whole words ("6 October 2026", not the end of
    "16 October 2026"), replaced by a marker the other side shares."""
    for i, pair in enumerate(masks):
        whole = rf"(?<![\w.]){re.escape(pair[side])}(?![\w]|\.\w)"
        text = re.sub(whole, f"\x00{i}\x00", text)
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
        for old_text, new_text in _paired(before[a1:a2], after[b1:b2]):
            html, added, removed = word_diff(old_text, new_text, masks)
            change.paragraphs.append(html)
            change.words_added += added
            change.words_removed += removed
    if old["title"] != new["title"]:
        html, added, removed = word_diff(old["title"], new["title"], masks)
        change.paragraphs.insert(0, Markup("Title: ") + html)
    return change


def _paired(old: list[str], new: list[str]) -> list[tuple[str, str]]:
    """The paragraphs of one changed stretch, in order, each old one with the new one most
    like it (so a heading and the paragraph under it are shown apart, never run together);
    a paragraph with no counterpart stands alone, as added or removed."""
    pairs: list[tuple[str, str]] = []
    j = 0
    for old_text in old:
        ratios = [
            difflib.SequenceMatcher(None, old_text.split(), text.split()).ratio()
            for text in new[j:]
        ]
        best = max(range(len(ratios)), key=ratios.__getitem__, default=None)
        if best is None or ratios[best] < PAIRED_AT_LEAST:
            pairs.append((old_text, ""))
            continue
        pairs += [("", text) for text in new[j : j + best]]
        pairs.append((old_text, new[j + best]))
        j += best + 1
    return pairs + [("", text) for text in new[j:]]


# How alike two paragraphs' words must be to show one as the other reworded.
PAIRED_AT_LEAST = 0.5


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
