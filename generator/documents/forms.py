"""The acceptable use agreements and consent forms: a web page and an A4 PDF for each.

Each form is a YAML file in content/forms/ (listed in forms.yaml): an introduction, parts
(rules, lists of statements, tick boxes, yes/no choices) and signing blocks of lines to
fill in. A pupil agreement takes its rules from ``composer.rule_set(key)``, the same
composed rules as the rules page and the poster, and exists only for the key stages the
school has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from ..compose import Composer, Page, PrintDoc, RuleSet, Section
from ..errors import BuildError

INDEX_PATH = "forms/index.md"
STYLES = ("rules", "list", "ticks", "options", "choices", "text", "log")


@dataclass(frozen=True)
class Part:
    """One part of a form: a heading and its statements, laid out by ``style``."""

    heading: Markup
    style: str  # one of STYLES
    intro: Markup | None
    items: tuple[Any, ...]  # Markup; Rule for "rules"; a row of Markup for "choices";
    # for "log", one number per blank row to write in
    columns: tuple[Markup, ...] = ()
    row_mm: float | None = None  # for "log": the height of a row to write in
    widths: tuple[float, ...] = ()  # for "log": each column's share of the width, in %


@dataclass(frozen=True)
class Field:
    """A line to fill in, with its label underneath."""

    label: Markup
    width: int  # share of the row (rows are 3 units wide)
    tall: bool  # a signature needs more room than a name


@dataclass(frozen=True)
class SignBlock:
    heading: Markup
    intro: Markup | None
    rows: tuple[tuple[Field, ...], ...]


@dataclass(frozen=True)
class Form:
    name: str
    title: Markup  # the heading on the form, in its reader's words
    list_title: Markup  # how adults find it in lists, navigation and downloads
    audience: Markup
    about: Markup
    intro: Markup
    parts: tuple[Part, ...]
    signing: tuple[SignBlock, ...]
    ask: Markup
    version: Markup
    keeping: Markup
    rule_set: RuleSet | None = None
    print_words: dict[str, Markup] = field(default_factory=dict)  # words only the PDF uses
    landscape: bool = False  # a record with many columns to write in: A4 on its side

    @property
    def template(self) -> str:
        """The youngest children's agreement has a print layout of its own."""
        key = self.rule_set.key if self.rule_set else ""
        return "print/form-ks1.html" if key == "ks1" else "print/form.html"

    @property
    def filename(self) -> str:
        return f"{self.name}.pdf"

    @property
    def page_path(self) -> str:
        return f"forms/{self.name}.md"

    @property
    def field_labels(self) -> list[Markup]:
        """Every line to fill in, in order, each label once."""
        labels: list[Markup] = []
        for block in self.signing:
            for row in block.rows:
                labels += [f.label for f in row if f.label not in labels]
        return labels


def compose(composer: Composer) -> Section:
    forms = all_forms(composer)
    names = composer.names("forms")
    section = Section()
    section.pages.append(
        Page(
            INDEX_PATH,
            names["page"],
            composer.page("pages/forms.md", forms=forms),
            section=names["section"],
        )
    )
    for form in forms:
        section.pages.append(
            Page(
                form.page_path,
                str(form.list_title),
                composer.page("pages/form.md", form=form),
                section=names["section"],
            )
        )
        section.prints.append(
            PrintDoc(
                filename=form.filename,
                title=str(form.list_title),
                audience=str(form.audience),
                template=form.template,
                context={"form": form},
                max_pages=2,
            )
        )
    section.home_links.append({"title": names["home"], "path": INDEX_PATH, "about": names["about"]})
    return section


def all_forms(composer: Composer) -> list[Form]:
    """The forms this school needs, in the order of content/forms/forms.yaml."""
    listing = composer.data("forms/forms.yaml")
    common = {
        key: composer.text(listing[key], f"content/forms/forms.yaml: {key}")
        for key in ("ask", "version", "keeping", "keeping_pupil")
    }
    forms = []
    for entry in listing["forms"]:
        key = entry.get("rule_set")
        if key and key not in composer.config.rule_sets:
            continue
        rule_set = composer.rule_set(key) if key else None
        keeping = common["keeping_pupil" if key else "keeping"]
        shared = {"ask": common["ask"], "version": common["version"], "keeping": keeping}
        forms.append(load_form(composer, entry["name"], rule_set, shared))
    return forms


def load_form(
    composer: Composer, name: str, rule_set: RuleSet | None, common: dict[str, Markup]
) -> Form:
    where = f"content/forms/{name}.yaml"
    raw = composer.data(f"forms/{name}.yaml")

    def text(value: str, at: str) -> Markup:
        return composer.text(value, f"{where}: {at}")

    parts = tuple(
        part
        for i, p in enumerate(raw["parts"])
        if (part := load_part(composer, p, rule_set, f"{where}: parts[{i}]"))
    )
    signing = tuple(
        SignBlock(
            heading=text(block["heading"], f"signing[{i}].heading"),
            intro=text(block["intro"], f"signing[{i}].intro") if block.get("intro") else None,
            rows=load_rows(composer, block["rows"], f"{where}: signing[{i}]"),
        )
        for i, block in enumerate(raw["signing"])
    )
    orientation = raw.get("orientation", "portrait")
    if orientation not in ("portrait", "landscape"):
        raise BuildError(f"{where}: orientation is portrait or landscape, not {orientation!r}")
    return Form(
        name=name,
        title=text(raw["title"], "title"),
        list_title=text(raw["list_title"], "list_title"),
        audience=text(raw["audience"], "audience"),
        about=text(raw["about"], "about"),
        intro=text(raw["intro"], "intro"),
        parts=parts,
        signing=signing,
        rule_set=rule_set,
        print_words={
            key: text(value, f"print_words.{key}")
            for key, value in raw.get("print_words", {}).items()
        },
        landscape=orientation == "landscape",
        **common,
    )


def load_part(
    composer: Composer, raw: dict[str, Any], rule_set: RuleSet | None, where: str
) -> Part | None:
    """One part; statements that compose to nothing (an ``{% if %}`` not met) are dropped."""
    heading = composer.text(raw["heading"], f"{where}.heading")
    intro = composer.text(raw["intro"], f"{where}.intro") if raw.get("intro") else None
    source = raw.get("source")
    if source:
        if rule_set is None:
            raise BuildError(f"{where}: 'source: {source}' needs a pupil form with a rule_set")
        if source == "rules":
            return Part(heading, "rules", intro, rule_set.rules)
        if source == "tell":
            return Part(heading, "text", intro, (rule_set.tell, rule_set.help))
        raise BuildError(f"{where}: unknown source {source!r} (use rules or tell)")
    style = raw.get("style", "list")
    if style not in STYLES:
        raise BuildError(f"{where}: unknown style {style!r} (use one of {', '.join(STYLES)})")
    if style == "choices":
        columns = tuple(composer.text(c, f"{where}.columns") for c in raw["columns"])
        rows = tuple(
            tuple(composer.text(cell, f"{where}.items[{i}]") for cell in row)
            for i, row in enumerate(raw["items"])
        )
        rows = tuple(row for row in rows if row[0])  # a use this school does not have
        return Part(heading, style, intro, rows, columns)
    if style == "log":  # a record kept by hand: column headings over blank rows
        columns = tuple(composer.text(c, f"{where}.columns") for c in raw["columns"])
        count = raw.get("rows")
        if not isinstance(count, int) or not 1 <= count <= 40:
            raise BuildError(f"{where}: a log needs 'rows', a whole number from 1 to 40")
        row_mm = raw.get("row_mm")
        if row_mm is not None and (not isinstance(row_mm, int | float) or not 5 <= row_mm <= 60):
            raise BuildError(f"{where}: 'row_mm' is a row's height in mm, from 5 to 60")
        return Part(
            heading, style, intro, tuple(range(1, count + 1)), columns, row_mm,
            _widths(raw.get("widths"), len(columns), where),
        )  # fmt: skip
    items = tuple(
        item
        for i, value in enumerate(raw["items"])
        if (item := composer.text(value, f"{where}.items[{i}]"))
    )
    return Part(heading, style, intro, items) if items else None


def load_rows(
    composer: Composer, rows: list[list[dict[str, Any]]], where: str
) -> tuple[tuple[Field, ...], ...]:
    """Rows of fields; a field whose label composes to nothing is left out."""
    out = []
    for r, row in enumerate(rows):
        fields = []
        for f, raw in enumerate(row):
            label = composer.text(raw["label"], f"{where}.rows[{r}][{f}]")
            if label:
                fields.append(Field(label, int(raw.get("width", 1)), bool(raw.get("tall"))))
        if fields:
            out.append(tuple(fields))
    return tuple(out)


def _widths(given: Any, columns: int, where: str) -> tuple[float, ...]:
    """A log's column widths (one number each, any scale) as percentages of the table."""
    if given is None:
        return ()
    numbers = given if isinstance(given, list) else []
    if len(numbers) != columns or not all(
        isinstance(n, int | float) and not isinstance(n, bool) and n > 0 for n in numbers
    ):
        raise BuildError(
            f"{where}: 'widths' gives one positive number for each of its {columns} columns"
        )
    return tuple(round(100 * n / sum(numbers), 2) for n in numbers)
