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
import json
import os
import re
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    Template,
    TemplateError,
    TemplateNotFound,
)
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from . import markup
from .brand import Brand, make_brand
from .cache import user_cache_dir
from .checks import today
from .config import RULE_SETS, Config, StagePhones
from .errors import BuildError
from .resources import CONTENT_DIR, TEMPLATES_DIR


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
    audiences: list[Any] = field(default_factory=list)  # audiences.Audience, for the nav
    ungrouped: list[Page] = field(default_factory=list)  # pages no audience lists
    # Other files of the site, by their path in it (site/embed/parents.html).
    extras: dict[str, str] = field(default_factory=dict)
    draft: Names | None = None  # a policy still to be approved: its marks (content/site.yaml)


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
class PhoneGroup:
    """Neighbouring key stages that share one phone rule, and what to call them."""

    stages: tuple[str, ...]
    label: str  # "Years 7 to 11", "the sixth form"
    phone: StagePhones


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


def search_path(project_dir: Path, kind: str, shared: tuple[Path, ...] = ()) -> list[Path]:
    """A school's ``overrides/<kind>`` folder first, then the ``overrides/<kind>`` beside
    each shared defaults file it extends (``shared``: their folders, nearest first), then
    the tool's own folder. An overrides folder that is a link leading outside the folder
    it sits in is refused."""
    own = CONTENT_DIR if kind == "content" else TEMPLATES_DIR
    found = []
    for folder in dict.fromkeys((project_dir, *shared)):
        override = folder / "overrides" / kind
        if override.is_dir():
            shown = f"overrides/{kind}" if folder == project_dir else str(override)
            found.append(contained(override, folder, shown))
    return [*dict.fromkeys(found), own]


def contained(path: Path, root: Path, shown: str) -> Path:
    """``path`` with every link followed, if it is still inside ``root``; else a BuildError
    naming it (a school's input never reads a file outside the school's folder)."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError, ValueError):  # a link loop, a NUL byte
        raise BuildError(f"{shown}: not a usable path") from None
    if not resolved.is_relative_to(root.resolve()):
        raise BuildError(f"{shown}: leads outside the school's folder (a link?); refusing it")
    return resolved


def _ours(path: Path) -> bool:
    """A file of the tool's own content or templates (not a school's override)."""
    return path.is_relative_to(CONTENT_DIR.resolve()) or path.is_relative_to(
        TEMPLATES_DIR.resolve()
    )


class ContainedLoader(FileSystemLoader):
    """A FileSystemLoader that refuses a template whose real path (links followed) is not
    inside the search folder it was found in: a link in ``overrides/`` cannot publish
    a file from elsewhere."""

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Any]:
        source, filename, uptodate = super().get_source(environment, template)
        real = Path(filename).resolve()
        if not any(real.is_relative_to(Path(d).resolve()) for d in self.searchpath):
            raise TemplateError("leads outside its folder (a link?); refusing it")
        if real.suffix == ".md" and not _ours(real):  # a school's page
            problem = markup.school_markup_problem(source)
            if problem:
                raise TemplateError(problem)
        return source, filename, uptodate


RENDER_BUDGET = 30.0  # seconds for one template with all it includes; ours take milliseconds


class _BudgetedTemplate(Template):
    """A template whose render is stopped once it has run RENDER_BUDGET seconds. The
    sandbox bounds each range and each repeated string, not their product: a school's
    override with a loop inside a loop could otherwise run for hours and hold up every
    school of a trust built after it."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        with _render_budget():
            return super().render(*args, **kwargs)


@contextmanager
def _render_budget() -> Iterator[None]:
    """SIGALRM after the budget, then every second until the render ends (so a library
    that swallows one exception cannot keep it going). Only the outermost render in the
    main thread is timed: Python runs signal handlers only there."""
    global _rendering
    if _rendering or threading.current_thread() is not threading.main_thread():
        yield
        return

    def too_long(signum: int, frame: Any) -> None:
        raise SecurityError(
            f"still rendering after {RENDER_BUDGET:.0f} s, so it was stopped "
            "(a loop inside a loop, or a long range, in an override?)"
        )

    previous = signal.signal(signal.SIGALRM, too_long)
    signal.setitimer(signal.ITIMER_REAL, RENDER_BUDGET, 1.0)
    _rendering = True
    try:
        yield
    finally:
        _rendering = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_rendering = False


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, no arithmetic that makes a huge value ('a' * 10**10), and a
    time budget for each render."""

    intercepted_binops = frozenset(["*", "**"])
    template_class = _BudgetedTemplate

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        sizes = [len(v) for v in (left, right) if isinstance(v, str | list | tuple)]
        numbers = [abs(v) for v in (left, right) if isinstance(v, int | float)]
        if operator == "**" and numbers and max(numbers) > 1000:
            raise SecurityError("a power too large for a template")
        if operator == "*" and sizes and numbers and max(sizes) * max(numbers) > 100_000:
            raise SecurityError("a repeated value too large for a template")
        return super().call_binop(context, operator, left, right)


def sandboxed_environment(
    dirs: list[Path] | tuple[Path, ...], kind: str, **options: Any
) -> Environment:
    """A Jinja environment for our templates and a school's overrides: Jinja's immutable
    sandbox (a template reads the values it is given and calls the filters it is given,
    and can reach nothing else: no attributes starting with _, no Python objects' methods
    that change anything), templates only from ``dirs``, an unknown name an error."""
    options.setdefault("loader", ContainedLoader([str(d) for d in dirs]))
    return _Sandbox(
        bytecode_cache=bytecode_cache(f"{kind}-sandboxed"),
        undefined=StrictUndefined,
        **options,
    )


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
    env = sandboxed_environment(
        dirs,
        "content",
        loader=ChoiceLoader([ContainedLoader([str(d) for d in dirs]), strings]),
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
        tel=markup.tel,
        link=markup.link,
        bare_url=markup.bare_url,
        icon=markup.inline_icon,
        the=with_article,
        inner=mid_sentence,
        capfirst=capitalise_first,
        lowerfirst=lower_first,
        sentence=as_sentence,
        clause=as_clause,
        aside=as_aside,
        unbracketed=lambda value: as_aside(value)[1:-1],
        definite=with_definite_article,
        isodate=lambda text: markup.format_date(dt.date.fromisoformat(str(text))),
        names=join_names,
        nobreak=no_break,
    )
    env.globals["_strings"] = strings  # content strings (see Composer.text)
    return env


def _compact_span(label: str) -> str:
    """'Years 7 to 11' -> 'Years 7–11', 'the sixth form' -> 'sixth form' (on a poster)."""
    return label.replace(" to ", "\u2013").removeprefix("the ")


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


def lower_first(value: str) -> str:
    """'If I bring...' -> 'if I bring...' (a sentence of ours continued after a lead-in)."""
    text = str(value)
    out = text if text[:2] in ("I ", "I'") else text[:1].lower() + text[1:]
    return Markup(out) if isinstance(value, Markup) else out


def as_clause(value: str) -> str:
    """A school's phrase ready to go on inside a sentence: no full stop (or stray comma,
    semicolon or colon) at its end, so "Medical needs." + "." is never ".."."""
    return str(value).strip().rstrip(".,;: ").strip()


def as_sentence(value: str) -> str:
    """A school's phrase set as a sentence of its own: first letter capital, one full stop."""
    text = as_clause(value)
    if not text:
        return ""
    end = "" if text[-1] in "?!" else "."
    return text[:1].upper() + text[1:] + end


def as_aside(value: str) -> str:
    """A school's phrase in brackets, never brackets inside brackets:
    'Assistant Principal (Safeguarding)' -> '(Assistant Principal, Safeguarding)'."""
    text = as_clause(value)
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    text = re.sub(r"\s*[(\[]\s*", ", ", text)
    text = re.sub(r"\s*[)\]]", "", text)
    text = re.sub(r"(,\s*)+", ", ", text).strip(", ")
    return f"({text})"


def with_definite_article(value: str) -> str:
    """'Full Governing Board' -> 'the Full Governing Board'; 'The governors' -> 'the
    governors' (its own 'the' kept, in lower case, never doubled)."""
    text = as_clause(value)
    first, _, rest = text.partition(" ")
    if first.lower() in {"the", "our", "its", "their", "a", "an"} and rest:
        return f"{first.lower()} {rest}"
    return f"the {text}"


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
        self.content_dirs = search_path(project_dir, "content", config.shared_folders)
        self.env = content_environment(self.content_dirs)
        self.brand = make_brand(config.school.colour, config.school.logo, project_dir)
        self.nation = self._nation()
        self.terms: dict[str, str] = dict(self.nation["terms"])
        self.is_draft = config.is_draft(today())
        self.context = self._base_context()
        self.memo: dict[str, Any] = {}  # work shared between document modules
        self.draft = self.names("draft") if self.is_draft else None
        self.context["version"] = self.draft["version"] if self.draft else config.review.version

    def _base_context(self) -> dict[str, Any]:
        c = self.config
        head = c.people.headteacher.role or self.terms["head"]  # "Principal", or the nation's
        return {
            "config": c,
            "school": c.school,
            "people": c.people,
            "technology": self._technology(),
            "phones": c.phones,
            "review": c.review,
            "next_review": c.next_review,
            "key_stages": c.key_stages,
            "rule_sets": c.rule_sets,
            "online_safety_lead": c.online_safety_lead,
            "short_name": c.short_name,
            "school_type": c.school_type,
            "has_governors": c.has_governors,
            "contacts": c.contacts,
            "online_safety_group": c.online_safety_group,
            "linked_policies": c.linked_policies,
            "images": c.images,
            # Monitoring by software (alerts, records), not only staff watching screens.
            "software_monitoring": c.technology.monitoring.method in ("software", "both")
            or (c.technology.monitoring.method is None and bool(c.technology.monitoring.provider)),
            **self.terms,
            "head": as_clause(head),
            "the_head": with_definite_article(head),
            "dsl_role": self._dsl_role(),
            "stage_names": self.nation["stage_names"],
            "rule_set_names": self._rule_set_names(),
            "phone_groups": self.phone_groups(),
            "draft": self.is_draft,
            "today": today(),
        }

    def _technology(self) -> Any:
        """The config's technology, with "DSL" among who sees monitoring alerts said in the
        nation's words (a Scottish pack says "child protection coordinator")."""
        tech = self.config.technology
        t = self.terms
        words = {"dsl": t["DSL"], "deputy dsl": t["deputy_dsl"], "deputy dsls": t["deputy_dsls"]}
        said = [
            ours if (ours := words.get(who.strip().lower(), who)).lower() != who.lower() else who
            for who in tech.monitoring.alerts_to
        ]  # the school's own capitals where the words are the same
        if said == tech.monitoring.alerts_to:
            return tech
        monitoring = tech.monitoring.model_copy(update={"alerts_to": said})
        return tech.model_copy(update={"monitoring": monitoring})

    def _dsl_role(self) -> str:
        """The DSL's job, when it says more than their safeguarding title: "Deputy
        Headteacher" is printed beside "Designated safeguarding lead", but not "DSL" or a
        Welsh school's "Designated Senior Person" beside "designated safeguarding person"."""
        role = (self.config.people.dsl.role or "").strip()
        said = role.lower() in self.terms["dsl_full"] or role.lower().startswith("designated")
        return "" if said else role

    def _nation(self) -> dict[str, Any]:
        """How the school's nation names things (content/nations.yaml): its ``terms``
        (``{{ pupils }}`` is "learners" in Wales), ``stage_names`` and ``rule_set_names``."""
        nations = self.data("nations.yaml")
        nation = self.config.school.nation
        where = f"content/nations.yaml: {nation}"
        if nation not in nations:
            raise BuildError(f"{where}: no entry for this nation")
        for key in ("terms", "stage_names", "rule_set_names", "stage_years", "stage_groups"):
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

    def phone_groups(self, stages: tuple[str, ...] | None = None) -> list[PhoneGroup]:
        """The pupils' phone rules for the school's stages (or those of ``stages``), each
        with the name of the years it covers."""
        return [
            PhoneGroup(group, self.stage_span(group), phone)
            for group, phone in self.config.phone_groups(stages)
        ]

    def stage_span(self, stages: tuple[str, ...]) -> str:
        """ks3..ks4 -> "Years 7 to 11"; ks5 alone -> "the sixth form" (content/nations.yaml)."""
        if len(stages) == 1:
            return str(self.nation["stage_groups"][stages[0]])
        first = str(self.nation["stage_years"][stages[0]][0])
        last = str(self.nation["stage_years"][stages[-1]][1])
        if first.startswith("Year ") and last.startswith("Year "):
            return f"Years {first[5:]} to {last[5:]}"
        return f"{first} to {last}"

    # ------------------------------------------------------------ helpers
    def data(self, name: str) -> Any:
        """A YAML data file from content/ (the first found on the search path)."""
        for folder in self.content_dirs:
            path = folder / name
            if path.is_file():
                path = contained(path, folder, f"content/{name}")
                stat = path.stat()
                data = copy.deepcopy(_read_data(path, stat.st_mtime_ns, stat.st_size))
                if folder != CONTENT_DIR:  # a school's override: its words are checked
                    _check_school_data(data, f"overrides/content/{name}")
                return data
        raise BuildError(f"content/{name}: file not found")

    def text(self, source: str, where: str, **extra: Any) -> Markup:
        """Render one content string (a rule, a tip) with the school's values."""
        name = self.env.globals["_strings"].add(source)
        try:
            rendered = self.env.get_template(name).render({**self.context, **extra})
        except (TemplateError, *TEMPLATE_FAILURES) as exc:
            raise BuildError(f"{where}: {_one_line(exc)}") from None
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
            loaded = self.env.get_template(template)
            rendered = loaded.render({**self.context, **extra})
        except (TemplateError, *TEMPLATE_FAILURES) as exc:
            lineno = getattr(exc, "lineno", None)
            at = f":{lineno}" if lineno else ""
            raise BuildError(f"content/{template}{at}: {_one_line(exc)}") from None
        if loaded.filename and not _ours(Path(loaded.filename).resolve()):
            _check_markup(rendered, f"overrides/content/{template}")  # a school's page
        return rendered

    # ------------------------------------------------------------ documents
    def rule_set(self, key: str) -> RuleSet:
        raw = self.data(f"rules/{key}.yaml")
        phone_rules = self.data("rules/phones.yaml")
        where = f"content/rules/{key}.yaml"
        rules = []
        for i, item in enumerate(raw["rules"]):
            if item.get("phone"):
                rules.append(self._phone_rule(key, phone_rules))
                continue
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

    def _phone_rule(self, key: str, wordings: dict[str, Any]) -> Rule:
        """The phone rule of one rule set: the rule of each of its stages the school has,
        "In Years 7 to 11, ... In the sixth form, ..." where they differ."""
        stages = RULE_SETS[key]
        groups = self.phone_groups(stages) or [  # a set the school lacks (a test's)
            PhoneGroup(stages, "", self.config.phone_rule(stages[0]))
        ]
        where = "content/rules/phones.yaml"
        texts = []
        for group in groups:
            item = wordings[key][group.phone.rule]
            text = self.text(item["text"], f"{where}: {key}.{group.phone.rule}", phone=group.phone)
            if len(groups) > 1:
                text = self.text(
                    wordings["by_stage"], f"{where}: by_stage", stages=group.label, rule=text
                )
            texts.append(text)
        first = wordings[key][groups[0].phone.rule] if len(groups) == 1 else wordings["mixed"]
        at = f"{where}: {key}.{groups[0].phone.rule}" if len(groups) == 1 else f"{where}: mixed"
        shorts = [  # each stage's rule in a few words, for a poster of several stages
            {
                "label": _compact_span(group.label),
                "short": wordings[key][group.phone.rule].get("short", ""),
            }
            for group in groups
        ]
        return Rule(
            text=Markup(" ").join(texts),
            icon=first["icon"],
            icon_label=first.get("icon_label", first["icon"].replace("-", " ")),
            headline=self.text(first["headline"], f"{at}.headline", phone=groups[0].phone),
            line=self.text(first["line"], f"{at}.line", phone=groups[0].phone, groups=shorts),
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


# What a template (a school's override) can make fail besides Jinja's own errors: a range
# too long for the sandbox, a filter given the wrong kind of value, a recursive macro.
TEMPLATE_FAILURES = (ArithmeticError, ValueError, TypeError, LookupError, RecursionError)


def _check_school_data(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _check_school_data(item, f"{where}: {key}" if ": " not in where else f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_school_data(item, f"{where}[{i}]")
    elif isinstance(value, str) and (problem := markup.school_markup_problem(value)):
        raise BuildError(f"{where}: {problem}")


def _check_markup(rendered: str, where: str) -> None:
    """A school's rendered page links only to web pages, email addresses and the pack's
    pages: a placeholder's value cannot make a javascript: link (its source is checked
    as it is read: see ContainedLoader)."""
    problem = markup.link_problem(rendered)
    if problem:
        raise BuildError(f"{where}: {problem}")


def _one_line(exc: Exception) -> str:
    text = str(getattr(exc, "message", None) or exc or type(exc).__name__)
    return " ".join(text.split())[:300]


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
    from .audiences import group_pages
    from .documents import COMPOSE_ORDER, DOCUMENT_MODULES, parents
    from .overrides import check as check_overrides

    composer = Composer(config, project_dir)
    check_overrides(composer)  # every broken override at once, before the first fails
    templates = search_path(project_dir, "templates", config.shared_folders)
    pack = Pack(config, composer.brand, [], [], templates)
    pack.draft = composer.draft
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
        "helplines": parents.helplines(composer),
    }
    home, listing = composer.names("home")["page"], composer.names("downloads")
    pages = [page for s in sections for page in s.pages]
    downloads_page = composer.page("pages/downloads.md", **shared)
    pages.append(Page("downloads.md", listing["page"], downloads_page))
    shared["home_links"].append(  # .get: a site.yaml override from before December 2026
        {
            "title": listing.get("home", listing["page"]),
            "path": "downloads.md",
            "about": listing.get("about", ""),
        }
    )
    # The home page's ways in are the navigation's audiences, so it is written last.
    audiences, ungrouped = group_pages(composer, pages, shared["home_links"])
    index = Page("index.md", home, composer.page("pages/index.md", audiences=audiences, **shared))
    pages.insert(0, index)
    if composer.is_draft:
        banner = composer.text(composer.data("site.yaml")["draft"]["banner"], "content/site.yaml")
        pages = [with_banner(page, composer.draft["mark"], banner) for page in pages]
    pack.pages, pack.prints, pack.files, pack.site = pages, prints, files, composer.names("site")
    pack.audiences, pack.ungrouped = audiences, [index, *ungrouped]
    pack.extras = {"embed/parents.html": parents.embed_block(composer, prints, templates)}
    return pack


def with_banner(page: Page, title: str, banner: str) -> Page:
    """The page with the draft banner (an admonition) under its title."""
    box = (
        f"!!! warning {json.dumps(title)}\n\n"
        + "".join(f"    {line}\n" for line in banner.splitlines())
        + "\n"
    )
    head, sep, rest = page.markdown.partition("\n")
    if head.startswith("# "):
        return Page(page.path, page.title, f"{head}\n\n{box}{rest}", page.section)
    return Page(page.path, page.title, box + page.markdown, page.section)
