"""Stage 2, compose: config + content/ -> Documents in memory (web pages and print docs).

Words live in ``content/`` (Markdown pages and YAML data with Jinja placeholders). Config
values are escaped as they are printed (``markup.md_escape`` is Jinja's ``finalize``), and
an unknown placeholder is an error (StrictUndefined), never an empty gap.
The same composed rule text feeds the web page, the poster and the pupil agreement.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
)
from markupsafe import Markup

from . import markup
from .brand import Brand, make_brand
from .cache import user_cache_dir
from .config import RULE_SETS, Config
from .errors import BuildError

TOOL_ROOT = Path(__file__).resolve().parent.parent
CONTENT_DIR = TOOL_ROOT / "content"
TEMPLATES_DIR = TOOL_ROOT / "templates"


@dataclass(frozen=True)
class Page:
    """One web page: where it goes in the site, its nav title and its Markdown."""

    path: str
    title: str
    markdown: str
    section: str | None = None


@dataclass(frozen=True)
class PrintDoc:
    """One PDF: the print template and the composed data it lays out."""

    filename: str
    title: str
    audience: str
    template: str
    context: dict[str, Any] = field(hash=False, compare=False)
    one_page: bool = False  # a poster: fitted to fill exactly one page
    max_pages: int | None = None  # a form or leaflet: the build fails if it runs longer


@dataclass
class Pack:
    config: Config
    brand: Brand
    pages: list[Page]
    prints: list[PrintDoc]
    search_dirs: list[Path]
    files: list[DownloadFile] = field(default_factory=list)
    site: dict[str, str] = field(default_factory=dict)  # its name, description and footer


@dataclass(frozen=True)
class DownloadFile:
    """A download that is not a PDF (e.g. the calendar), made in memory by compose."""

    filename: str
    title: str
    audience: str
    kind: str  # what the download link says it is, e.g. "iCalendar"
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class Rule:
    text: Markup  # composed Markdown, config values already escaped
    icon: str
    icon_label: str
    headline: Markup = Markup("")  # the poster's two to four words, shown large
    line: Markup = Markup("")  # the poster's one short line beneath the headline


@dataclass(frozen=True)
class RuleSet:
    key: str  # ks1 | ks2 | ks3
    title: str
    audience: str
    intro: Markup
    rules: tuple[Rule, ...]
    tell: Markup
    help: Markup
    poster_title: str = ""
    poster_help: Markup = Markup("")  # who to tell and one number, on the poster


def search_path(project_dir: Path, kind: str) -> list[Path]:
    """A school's ``overrides/<kind>`` folder first, then the tool's own folder."""
    own = CONTENT_DIR if kind == "content" else TEMPLATES_DIR
    override = project_dir / "overrides" / kind
    return [override, own] if override.is_dir() else [own]


def content_environment(dirs: list[Path]) -> Environment:
    """The Jinja environment for content/, shared by every build that reads the same folders
    (compiled templates are kept; Jinja re-reads a file whose modification time changes)."""
    return _content_environment(tuple(dirs))


class _StringLoader(BaseLoader):
    """Content strings (rules, tips, phrases) as templates named by their hash, so their
    compiled code is kept in the bytecode cache like a file's."""

    def __init__(self) -> None:
        self.sources: dict[str, str] = {}

    def add(self, source: str) -> str:
        name = "string:" + hashlib.sha256(source.encode("utf-8")).hexdigest()
        self.sources[name] = source
        return name

    def get_source(self, environment: Environment, template: str) -> tuple[str, None, Any]:
        if template not in self.sources:
            raise TemplateNotFound(template)
        return self.sources[template], None, lambda: True


def bytecode_cache(kind: str) -> FileSystemBytecodeCache | None:
    """Compiled templates kept between runs (~1 s saved per build); None if not writable.

    One folder per kind of environment: compiled code depends on the environment's
    settings (autoescaping), which Jinja's cache keys do not include."""
    folder = user_cache_dir() / "jinja" / kind
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return FileSystemBytecodeCache(str(folder)) if os.access(folder, os.W_OK) else None


@cache
def _content_environment(dirs: tuple[Path, ...]) -> Environment:
    strings = _StringLoader()
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader([str(d) for d in dirs]), strings]),
        bytecode_cache=bytecode_cache("content"),
        undefined=StrictUndefined,
        autoescape=False,
        finalize=markup.md_escape,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        # Every compiled template stays in memory: a school uses more than Jinja's
        # default 400, so a cache that size dropped each before its next use and a
        # trust's every school loaded them all again.
        cache_size=-1,
    )
    env.filters.update(
        date=markup.format_date,
        mailto=markup.mailto,
        link=markup.link,
        icon=markup.inline_icon,
        the=with_article,
        inner=mid_sentence,
        capfirst=capitalise_first,
        isodate=lambda text: markup.format_date(dt.date.fromisoformat(str(text))),
        names=join_names,
        nobreak=no_break,
    )
    env.globals["_strings"] = strings  # content strings (see Composer.text)
    return env


def no_break(value: Any) -> Markup:
    """A name or postcode kept on one line: its spaces made non-breaking."""
    return Markup(markup.md_escape(value).replace(" ", "\u00a0"))


def with_article(value: str) -> str:
    """'class teacher' -> 'the class teacher'; names and 'my teacher' are left alone."""
    first = value.split(" ", 1)[0].lower()
    if value[:1].isupper() or first in {"the", "a", "an", "my", "our", "their", "your"}:
        return value
    return f"the {value}"


# First words a school may capitalise in a value that our sentences use mid-sentence.
_ORDINARY_FIRST_WORDS = {
    "pupils",
    "students",
    "children",
    "learners",
    "all",
    "those",
    "any",
    "only",
    "some",
    "most",
    "every",
    "each",
}


def mid_sentence(value: str) -> str:
    """'Pupils in Year 6' -> 'pupils in Year 6' (names and 'Year 6 pupils' unchanged)."""
    first = value.split(" ", 1)[0]
    return value[:1].lower() + value[1:] if first.lower() in _ORDINARY_FIRST_WORDS else value


def capitalise_first(value: str) -> str:
    """'no deputy DSL' -> 'No deputy DSL' (only the first letter changes)."""
    text = str(value)
    out = text[:1].upper() + text[1:]
    return Markup(out) if isinstance(value, Markup) else out


def join_names(items: list[Any], attribute: str | None = None) -> str:
    """['A', 'B', 'C'] -> 'A, B and C'."""
    words = [str(getattr(i, attribute) if attribute else i) for i in items]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


class Composer:
    """Renders content for one school. One instance per build."""

    def __init__(self, config: Config, project_dir: Path):
        self.config = config
        self.project_dir = project_dir
        self.content_dirs = search_path(project_dir, "content")
        self.env = content_environment(self.content_dirs)
        self.brand = make_brand(config.school.colour, config.school.logo, project_dir)
        self.nation = self._nation()
        self.terms: dict[str, str] = dict(self.nation["terms"])
        self.context = self._base_context()
        self.memo: dict[str, Any] = {}  # work shared between document modules

    def _base_context(self) -> dict[str, Any]:
        c = self.config
        return {
            "config": c,
            "school": c.school,
            "people": c.people,
            "technology": c.technology,
            "phones": c.phones,
            "review": c.review,
            "next_review": c.next_review,
            "key_stages": c.key_stages,
            "rule_sets": c.rule_sets,
            "online_safety_lead": c.online_safety_lead,
            "short_name": c.short_name,
            "linked_policies": c.linked_policies,
            **self.terms,
            "stage_names": self.nation["stage_names"],
            "rule_set_names": self._rule_set_names(),
        }

    def _nation(self) -> dict[str, Any]:
        """How the school's nation names things (content/nations.yaml): its ``terms``
        (``{{ pupils }}`` is "learners" in Wales), ``stage_names`` and ``rule_set_names``."""
        nations = self.data("nations.yaml")
        nation = self.config.school.nation
        where = f"content/nations.yaml: {nation}"
        if nation not in nations:
            raise BuildError(f"{where}: no entry for this nation")
        for key in ("terms", "stage_names", "rule_set_names"):
            if key not in nations[nation]:
                raise BuildError(f"{where}: no {key}")
        return dict(nations[nation])

    def _rule_set_names(self) -> dict[str, str]:
        """Who each rule set is for, named for the stages this school has: "Key Stage 3 and
        Key Stage 4" for a school without a sixth form, "Years 7 to 9" for a Welsh middle
        school. A set the school lacks is named for all its stages."""
        names = {}
        for key, stages in RULE_SETS.items():
            name = self.nation["rule_set_names"][key]
            if isinstance(name, dict):
                have = [ks for ks in stages if ks in self.config.key_stages] or list(stages)
                span = have[0] if len(have) == 1 else f"{have[0]}-{have[-1]}"
                if span not in name:
                    raise BuildError(
                        f"content/nations.yaml: {self.config.school.nation}.rule_set_names."
                        f"{key}: no name for {span}"
                    )
                name = name[span]
            names[key] = str(name)
        return names

    # ------------------------------------------------------------ helpers
    def data(self, name: str) -> Any:
        """A YAML data file from content/ (the first found on the search path)."""
        for folder in self.content_dirs:
            path = folder / name
            if path.is_file():
                stat = path.stat()
                return copy.deepcopy(_read_data(path, stat.st_mtime_ns, stat.st_size))
        raise BuildError(f"content/{name}: file not found")

    def text(self, source: str, where: str, **extra: Any) -> Markup:
        """Render one content string (a rule, a tip) with the school's values."""
        name = self.env.globals["_strings"].add(source)
        try:
            rendered = self.env.get_template(name).render({**self.context, **extra})
        except TemplateError as exc:
            raise BuildError(f"{where}: {exc}") from None
        return Markup(rendered.strip())

    def names(self, part: str, **extra: Any) -> Names:
        """What the pack calls one of its parts (content/site.yaml), each as plain text:
        its page's title, its navigation section, its line on the home page, its PDF."""
        if "site.yaml" not in self.memo:
            self.memo["site.yaml"] = self.data("site.yaml")
        site = self.memo["site.yaml"]
        if not isinstance(site.get(part), dict):
            raise BuildError(f"content/site.yaml: {part}: missing")
        where = f"content/site.yaml: {part}"
        names = Names(where)
        for key, source in site[part].items():
            text = self.text(str(source), f"{where}.{key}", **extra)
            names[key] = markup.to_plain_text(text)
        return names

    def page(self, template: str, **extra: Any) -> str:
        try:
            return self.env.get_template(template).render({**self.context, **extra})
        except TemplateError as exc:
            lineno = getattr(exc, "lineno", None)
            at = f":{lineno}" if lineno else ""
            raise BuildError(f"content/{template}{at}: {exc}") from None

    # ------------------------------------------------------------ documents
    def rule_set(self, key: str) -> RuleSet:
        raw = self.data(f"rules/{key}.yaml")
        phone_rules = self.data("rules/phones.yaml")
        where = f"content/rules/{key}.yaml"
        rules = []
        for i, item in enumerate(raw["rules"]):
            if item.get("phone"):
                item = phone_rules[key][self.config.phones.pupils.rule]
            at = f"{where}: rules[{i}]"
            for needed in ("text", "icon", "headline", "line"):
                if not item.get(needed):
                    raise BuildError(f"{at}: no {needed}")
            rules.append(
                Rule(
                    text=self.text(item["text"], at),
                    icon=item["icon"],
                    icon_label=item.get("icon_label", item["icon"].replace("-", " ")),
                    headline=self.text(item["headline"], f"{at}.headline"),
                    line=self.text(item["line"], f"{at}.line"),
                )
            )
        return RuleSet(
            key=key,
            title=raw["title"],
            audience=markup.to_plain_text(self.text(raw["audience"], f"{where}: audience")),
            intro=self.text(raw["intro"], f"{where}: intro"),
            rules=tuple(rules),
            tell=self.text(raw["tell"], f"{where}: tell"),
            help=self.text(raw["help"], f"{where}: help"),
            poster_title=str(raw.get("poster_title") or raw["title"]),
            poster_help=self.text(raw.get("poster_help", ""), f"{where}: poster_help"),
        )

    def smart_tips(self) -> dict[str, Any]:
        raw = self.data("smart.yaml")
        where = "content/smart.yaml"
        tips = [
            {
                **tip,
                "text": self.text(tip["text"], f"{where}: {tip['word']}"),
                "line": self.text(tip.get("line", ""), f"{where}: {tip['word']}.line"),
            }
            for tip in raw["tips"]
        ]
        return {**raw, "tips": tips, "credit": self.text(raw["credit"], "content/smart.yaml")}


class Names(dict[str, str]):
    """One part's names from content/site.yaml; a name that is not there is a clear error."""

    def __init__(self, where: str):
        super().__init__()
        self.where = where

    def __missing__(self, key: str) -> str:
        raise BuildError(f"{self.where}.{key}: missing")


@lru_cache(maxsize=256)
def _read_data(path: Path, mtime_ns: int, size: int) -> Any:
    """Parse a content data file once per version of it (libyaml's parser when present)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 (safe)


@dataclass
class Section:
    """What one document module adds to the pack: pages, PDFs and links for the home page."""

    pages: list[Page] = field(default_factory=list)
    prints: list[PrintDoc] = field(default_factory=list)
    home_links: list[dict[str, str]] = field(default_factory=list)
    files: list[DownloadFile] = field(default_factory=list)


def compose(
    config: Config,
    project_dir: Path,
    on_prints: Callable[[Pack, list[PrintDoc]], None] | None = None,
) -> Pack:
    """Every page and print document for one school, in memory.

    ``on_prints`` is handed each document module's print documents as soon as they are
    composed, the policy's first (``COMPOSE_ORDER``), with the pack they belong to: its
    config, brand and templates are set already, its lists are filled in at the end. So
    the longest PDF starts rendering while the rest of the school is composed."""
    from .documents import COMPOSE_ORDER, DOCUMENT_MODULES

    composer = Composer(config, project_dir)
    pack = Pack(config, composer.brand, [], [], search_path(project_dir, "templates"))
    composed: dict[Any, Section] = {}
    for module in COMPOSE_ORDER:
        section = composed[module] = module.compose(composer)
        if on_prints and section.prints:
            on_prints(pack, section.prints)
    sections = [composed[module] for module in DOCUMENT_MODULES]
    prints = [doc for s in sections for doc in s.prints]
    files = [f for s in sections for f in s.files]
    downloads = [
        {
            "file": d.filename,
            "title": d.title,
            "audience": d.audience,
            "kind": getattr(d, "kind", "PDF"),
        }
        for d in [*prints, *files]
    ]
    shared = {
        "downloads": downloads,
        "home_links": [link for s in sections for link in s.home_links],
    }
    home, listing = composer.names("home")["page"], composer.names("downloads")["page"]
    pages = [Page("index.md", home, composer.page("pages/index.md", **shared))]
    pages += [page for s in sections for page in s.pages]
    pages.append(Page("downloads.md", listing, composer.page("pages/downloads.md", **shared)))
    pack.pages, pack.prints, pack.files, pack.site = pages, prints, files, composer.names("site")
    return pack
