"""The Online Safety Policy: web pages under policy/ and a print-ready policy.pdf.

The words are in ``content/policy/`` (one Markdown file per section, listed in
``content/policy/policy.yaml``), guidance editions in ``content/guidance.yaml`` and the
terms each UK nation uses in ``content/nations.yaml``. This module only decides what is
composed where: it numbers the sections, renders each one twice (links between web pages,
or anchors inside the PDF) and draws the incident flowcharts from the school's people.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateRuntimeError
from markupsafe import Markup

from .. import flowcharts, markup
from ..compose import Composer, DownloadFile, Page, PrintDoc, Section
from ..errors import BuildError

CONTENT = "policy"
WEB_DIR = "policy"
PRIMARY_STAGES = {"eyfs", "ks1", "ks2"}
SECONDARY_STAGES = {"ks3", "ks4", "ks5"}
PDF_FILE = "policy.pdf"
WORD_FILE = "policy.docx"  # its bytes are made by the build from the PDF's print document


@dataclass(frozen=True)
class PolicySection:
    id: str
    number: int
    title: Markup
    part: str  # slug of the part (and of its web page)


def policy_composer(composer: Composer) -> PolicyComposer:
    """The school's PolicyComposer, made once per build and shared (e.g. with changes)."""
    if "policy" not in composer.memo:
        composer.memo["policy"] = PolicyComposer(composer)
    return composer.memo["policy"]


def compose(composer: Composer) -> Section:
    policy = policy_composer(composer)
    return Section(
        pages=policy.pages(),
        prints=[policy.print_doc()],
        files=[policy.word_download()],
        home_links=[
            {
                "title": policy.title,
                "path": f"{WEB_DIR}/index.md",
                "about": policy.about,
            }
        ],
    )


class PolicyComposer:
    """Composes the policy once for the web and once for print, from the same content."""

    def __init__(self, composer: Composer):
        self.composer = composer
        config = composer.config
        self.structure = composer.data(f"{CONTENT}/policy.yaml")
        guidance = composer.data("guidance.yaml")
        nation = composer.nation  # its terms ({{ pupils }}...) are in every composer's context
        stages = set(config.key_stages)
        self.context: dict[str, Any] = {
            "nation": nation,
            "guidance": guidance,
            "guide": self._guide_link(guidance),
            "has_primary": bool(stages & PRIMARY_STAGES),
            "has_secondary": bool(stages & SECONDARY_STAGES),
            "stages": [(ks, nation["stage_names"][ks]) for ks in config.key_stages],
        }
        self.context["cap"] = capitalise
        self.context["say"] = self._phrases()
        self.title = self._plain(self.structure["title"], "title")
        self.about = self._plain(self.structure["about"], "about")
        self.labels = {
            key: self._text(value, f"labels.{key}")
            for key, value in self.structure["labels"].items()
        }
        self.parts = self._parts()
        self.sections = {s.id: s for part in self.parts for s in part["sections"]}
        self.context["flowcharts"] = self._flowcharts()
        self._parts_cache: dict[str, list[dict[str, Any]]] = {}

    # ------------------------------------------------------------ shared pieces
    def _text(self, source: str, where: str, **extra: Any) -> Markup:
        return self.composer.text(
            source, f"content/{CONTENT}/policy.yaml: {where}", **self.context, **extra
        )

    def _plain(self, source: str, where: str) -> str:
        """Plain text (for navigation, metadata and the downloads list, which escape it)."""
        return markup.to_plain_text(self._text(source, where))

    def _page(self, template: str, **extra: Any) -> str:
        return self.composer.page(template, **{**self.context, **extra})

    def _guide_link(self, guidance: dict[str, Any]) -> Callable[..., Markup]:
        documents = guidance["documents"]

        def guide(key: str, text: str | None = None) -> Markup:
            if key not in documents:
                raise TemplateRuntimeError(
                    f"guide({key!r}): no such document in content/guidance.yaml"
                )
            doc = documents[key]
            return markup.link(doc["url"], text if text is not None else doc["title"])

        return guide

    def _phrases(self) -> dict[str, Markup]:
        raw = self.composer.data(f"{CONTENT}/phrases.yaml")
        return {
            key: self.composer.text(
                source, f"content/{CONTENT}/phrases.yaml: {key}", **self.context
            )
            for key, source in raw.items()
        }

    def _parts(self) -> list[dict[str, Any]]:
        parts, number = [], 0
        for part in self.structure["parts"]:
            sections = []
            for item in part["sections"]:
                number += 1
                sections.append(
                    PolicySection(
                        id=item["id"],
                        number=number,
                        part=part["slug"],
                        title=self._text(item["title"], f"{part['slug']}.{item['id']}"),
                    )
                )
            parts.append(
                {
                    "slug": part["slug"],
                    "sections": sections,
                    "title": self._text(part["title"], part["slug"]),
                    "nav": self._plain(part.get("nav", part["title"]), part["slug"]),
                }
            )
        return parts

    def _flowcharts(self) -> list[dict[str, Any]]:
        raw = self.composer.data(f"{CONTENT}/flowcharts.yaml")
        brand = self.composer.brand
        colours = flowcharts.Colours(stroke=brand.strong, fill=brand.pale)
        names = markup.unbreakable_names(self.composer.config)
        charts = []
        for item in raw["charts"]:
            where = f"content/{CONTENT}/flowcharts.yaml: {item['key']}"

            def text(source: str, field: str, where: str = where) -> Markup:
                composed = self.composer.text(source, f"{where}: {field}", **self.context)
                return Markup(markup.keep_together(composed, names))  # never split in a box

            steps = []
            for i, step in enumerate(item["steps"], start=1):
                branch = step.get("branch")
                steps.append(
                    {
                        "kind": step.get("kind", "step"),
                        "text": text(step["text"], f"step {i}"),
                        "down_label": step.get("down_label", ""),
                        "branch": None
                        if not branch
                        else {
                            "label": branch["label"],
                            "kind": branch.get("kind", "step"),
                            "rejoin": bool(branch.get("rejoin")),
                            "text": text(branch["text"], f"step {i} branch"),
                        },
                    }
                )
            chart = {
                "key": item["key"],
                "steps": steps,
                "title": text(item["title"], "title"),
                "description": text(item["description"], "description"),
            }
            try:
                drawable = _drawable(chart)
                chart["svg"] = Markup(flowcharts.draw_vertical(drawable, colours))
                chart["print"] = Markup(flowcharts.draw_for_print(drawable, colours))
            except flowcharts.ChartError as exc:
                raise BuildError(f"content/{CONTENT}/flowcharts.yaml: {exc}") from None
            charts.append(chart)
        return charts

    # ------------------------------------------------------------ sections
    def _ref(self, for_print: bool) -> Callable[..., Markup]:
        def ref(section_id: str, text: str | None = None) -> Markup:
            if section_id not in self.sections:
                raise TemplateRuntimeError(
                    f"ref({section_id!r}): no such section in content/{CONTENT}/policy.yaml"
                )
            section = self.sections[section_id]
            label = markup.md_escape(text or f"section {section.number}")
            target = f"#{section_id}" if for_print else f"{section.part}.md#{section_id}"
            return Markup(f"[{label}]({target})")

        return ref

    def _section_markdown(self, section: PolicySection, for_print: bool) -> Markup:
        body = self._page(
            f"{CONTENT}/sections/{section.id}.md",
            ref=self._ref(for_print),
            section=section,
            for_print=for_print,
        )
        heading = f"## {section.number}. {section.title} {{: #{section.id} }}"
        return Markup(f"{heading}\n\n{body.strip()}\n")

    def _key_people(self, for_print: bool) -> Markup:
        return Markup(self._page(f"{CONTENT}/key_people.md", ref=self._ref(for_print)))

    def composed_parts(self, for_print: bool) -> list[dict[str, Any]]:
        key = "print" if for_print else "web"
        if key not in self._parts_cache:
            self._parts_cache[key] = self._compose_parts(for_print)
        return self._parts_cache[key]

    def _compose_parts(self, for_print: bool) -> list[dict[str, Any]]:
        return [
            {**part, "markdown": [self._section_markdown(s, for_print) for s in part["sections"]]}
            for part in self.parts
        ]

    # ------------------------------------------------------------ outputs
    def pages(self) -> list[Page]:
        parts = self.composed_parts(for_print=False)
        section_title = self.title
        pages = [
            Page(
                f"{WEB_DIR}/index.md",
                self._plain(self.structure["overview_nav"], "overview_nav"),
                self._page(
                    "pages/policy.md",
                    parts=parts,
                    policy_title=self.title,
                    labels=self.labels,
                    key_people=self._key_people(False),
                ),
                section=section_title,
            )
        ]
        for i, part in enumerate(parts):
            neighbours = {
                "previous": parts[i - 1] if i else None,
                "next": parts[i + 1] if i + 1 < len(parts) else None,
            }
            pages.append(
                Page(
                    f"{WEB_DIR}/{part['slug']}.md",
                    part["nav"],
                    self._page(
                        "pages/policy-part.md", part=part, policy_title=self.title, **neighbours
                    ),
                    section=section_title,
                )
            )
        return pages

    def print_doc(self) -> PrintDoc:
        # The template converts each part's heading and each section on its own: a
        # fragment is converted once (markup.to_html), and the schools of a trust share
        # most sections word for word, and a rebuild most of them.
        parts = [
            {**part, "heading": Markup(f"# {part['title']} {{: #part-{part['slug']} .part }}")}
            for part in self.composed_parts(for_print=True)
        ]
        return PrintDoc(
            filename=PDF_FILE,
            title=self.title,
            audience=self._plain(self.structure["audience"], "audience"),
            template="print/policy.html",
            context={
                "policy": {
                    "title": self.title,
                    "parts": parts,
                    "key_people": self._key_people(True),
                    "labels": self.labels,
                    # The charts as drawn for the web (their words in SVG), for the Word copy.
                    "figures": tuple(chart["svg"] for chart in self.context["flowcharts"]),
                },
            },
        )

    def word_download(self) -> DownloadFile:
        """The Word copy in the downloads list; its bytes are made by the build from the
        composed pack (``word.word_copy``), once every document is composed."""
        return DownloadFile(
            WORD_FILE,
            self._plain(self.structure["word_title"], "word_title"),
            self._plain(self.structure["word_audience"], "word_audience"),
            "Word",
            b"",
        )


def capitalise(value: str) -> str:
    """Upper-case the first letter only ('deputy DSL' -> 'Deputy DSL'), keeping Markup."""
    text = value[:1].upper() + value[1:]
    return Markup(text) if isinstance(value, Markup) else text


def _drawable(chart: dict[str, Any]) -> flowcharts.Chart:
    """The composed chart (Markdown-escaped text) as plain text for the SVG."""

    def plain(value: Markup) -> str:
        return markup.to_plain_text(str(value))

    steps = []
    for step in chart["steps"]:
        branch = step["branch"]
        steps.append(
            flowcharts.Step(
                text=plain(step["text"]),
                kind=step["kind"],
                down_label=step["down_label"],
                branch=None
                if branch is None
                else flowcharts.Branch(
                    label=branch["label"],
                    text=plain(branch["text"]),
                    kind=branch["kind"],
                    rejoin=branch["rejoin"],
                ),
            )
        )
    return flowcharts.Chart(
        key=chart["key"],
        title=plain(chart["title"]),
        description=plain(chart["description"]),
        steps=tuple(steps),
    )
