"""Stage 1, load: school_config.yaml -> a typed, validated ``Config``.

The key names and meanings are a public contract (see the README and
``school_config.schema.json``): schools' files depend on them. Add keys; never rename.
Every problem is collected and reported at once as ``file:line: key.path: message``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import json
import os
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

# No Pydantic plugins: a build reads nothing and sends nothing it does not need to, and
# looking plugins up read every installed package's metadata (20-30 ms of every build).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from pydantic import (  # noqa: E402 (after the plugin setting it must see)
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from .brand import LOGO_SUFFIXES, LogoError, read_logo
from .defaults import read_with_defaults
from .errors import ConfigError, Problem, date_hint, did_you_mean
from .markup import format_date
from .resources import TEMPLATES_DIR
from .yamlfile import KeyPath, YamlDocument, format_path

Phase = Literal[
    "nursery", "infant", "junior", "primary", "middle", "secondary", "all-through", "special"
]
KeyStage = Literal["eyfs", "ks1", "ks2", "ks3", "ks4", "ks5"]
Nation = Literal["england", "wales", "scotland", "northern-ireland"]
PhoneRule = Literal["not_allowed", "handed_in", "locked_away", "off_and_away", "allowed"]
PhotoRule = Literal["school_devices_only", "with_permission", "never"]
SchoolType = Literal["maintained", "academy", "independent"]
SupportKind = Literal["in-house", "contractor", "local-authority"]
MonitoringMethod = Literal["software", "physical", "both"]
Audience = Literal["parents", "pupils", "staff", "all"]
PosterPaper = Literal["A3", "A4"]
Orientation = Literal["landscape", "portrait"]

ALL_KEY_STAGES: tuple[str, ...] = ("eyfs", "ks1", "ks2", "ks3", "ks4", "ks5")
KEY_STAGES_BY_PHASE: dict[str, tuple[str, ...]] = {
    "nursery": ("eyfs",),
    "infant": ("eyfs", "ks1"),
    "junior": ("ks2",),
    "primary": ("eyfs", "ks1", "ks2"),
    "middle": ("ks2", "ks3"),
    "secondary": ("ks3", "ks4", "ks5"),
    "all-through": ALL_KEY_STAGES,
    "special": ALL_KEY_STAGES,
}
PHASES = tuple(KEY_STAGES_BY_PHASE)
# Pupil rule sets: EYFS and KS1 read one set, KS2 another, KS3 to sixth form a third.
RULE_SETS: dict[str, tuple[str, ...]] = {
    "ks1": ("eyfs", "ks1"),
    "ks2": ("ks2",),
    "ks3": ("ks3", "ks4", "ks5"),
}
DEFAULT_LINKED_POLICIES = (
    "Child Protection and Safeguarding Policy",
    "Behaviour Policy",
    "Anti-Bullying Policy",
    "Staff Code of Conduct",
    "Data Protection Policy",
    "Complaints Procedure",
)


# ---------------------------------------------------------------- value types


def _empty_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "must not be empty")
    return value


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[^@\s<>()\[\],;:\"]+@{_LABEL}(?:\.{_LABEL})+$")
_URL = re.compile(
    r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?"
    r"(?:[/?#][^\s<>\"]*)?$"
)
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise PydanticCustomError(
            "email",
            "{value} is not a valid email address",
            {"value": json.dumps(value, ensure_ascii=False)},
        )
    return value


def _url(value: str) -> str:
    if not _URL.match(value):
        raise PydanticCustomError(
            "url",
            "{value} is not a web address (it must start with http:// or https://)",
            {"value": json.dumps(value, ensure_ascii=False)},
        )
    return value


def _colour(value: str) -> str:
    if not _COLOUR.match(value):
        raise PydanticCustomError(
            "colour",
            "{value} is not a colour; write #rrggbb, e.g. #1f5f8b",
            {"value": json.dumps(value, ensure_ascii=False)},
        )
    return value.lower()


# Dates a policy can use, and every one of them builds: the site's files carry dates as
# zip (from 1980) and gzip (to 2106) timestamps, a review is at most 36 months on.
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)


def _plausible_day(value: dt.date) -> dt.date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise PydanticCustomError(
            "implausible_date",
            "{value} is not a plausible date; use a year from {first} to {last}",
            {"value": value.isoformat(), "first": FIRST_DAY.year, "last": LAST_DAY.year},
        )
    return value


Day = Annotated[dt.date, AfterValidator(_plausible_day)]
# Every text value has a maximum length (a school's longest real value is a few hundred
# characters; a huge one would take minutes and gigabytes to lay out before failing).
MAX_TEXT = 1000
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(_not_blank)]
OptText = Annotated[Text | None, BeforeValidator(_empty_to_none)]
Email = Annotated[
    str | None,
    StringConstraints(max_length=254),
    BeforeValidator(_empty_to_none),
    AfterValidator(lambda v: None if v is None else _email(v)),
]
# A web address also fits in a QR code (level M holds 2,331 bytes) with room to spare.
MAX_URL = 500
Url = Annotated[str, StringConstraints(max_length=MAX_URL), AfterValidator(_url)]
OptUrl = Annotated[
    str | None,
    StringConstraints(max_length=MAX_URL),
    BeforeValidator(_empty_to_none),
    AfterValidator(lambda v: None if v is None else _url(v)),
]
Colour = Annotated[
    str | None,
    BeforeValidator(_empty_to_none),
    AfterValidator(lambda v: None if v is None else _colour(v)),
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# ---------------------------------------------------------------- the contract


class SchoolInfo(_Section):
    """The school itself."""

    name: Text = Field(description="Full name as it should be printed.")
    short_name: OptText = Field(None, description="Shorter name for posters and running text.")
    phase: Phase = Field(
        description="nursery, infant, junior, primary, middle, secondary, all-through or special."
    )
    key_stages: list[KeyStage] | None = Field(
        None, min_length=1, description="Key stages taught; default follows the phase."
    )
    nation: Nation = Field("england", description="Which UK nation's guidance applies.")
    address: OptText = None
    phone: OptText = None
    email: Email = Field(None, description="The school's general contact address.")
    website: OptUrl = None
    local_authority: OptText = None
    trust: OptText = Field(None, description="Multi-academy trust name, if any.")
    type: SchoolType | None = Field(
        None,
        description="Added key: maintained, academy (including free schools) or independent; "
        "decides the law the policy cites and who approves it. Default: academy if a trust "
        "is given in England, else maintained (academies are England's only).",
    )
    logo: OptText = Field(
        None,
        description="SVG, PNG or JPEG file inside the project folder (scripts and links "
        "are removed from an SVG; a bitmap may have 25 million pixels and 5 MB at most).",
    )
    colour: Colour = Field(
        None, description="Brand colour #rrggbb; darkened where needed so text on it stays WCAG AA."
    )


class Person(_Section):
    name: Text
    role: OptText = None
    email: Email = None
    phone: OptText = None


class TechnicalSupport(_Section):
    name: Text
    kind: SupportKind = "contractor"
    email: Email = None
    phone: OptText = None


class People(_Section):
    headteacher: Person
    dsl: Person = Field(description="Designated safeguarding lead.")
    deputy_dsls: list[Person] = Field(default_factory=list)
    online_safety_lead: Person | None = Field(None, description="Defaults to the DSL.")
    online_safety_governor: Person | None = Field(
        None,
        description="Governor who oversees online safety. Required, except in a Scottish "
        "council school, which has no governing body.",
    )
    chair_of_governors: Person | None = None
    computing_lead: Person | None = None
    technical_support: TechnicalSupport | None = None
    lado: Person | None = Field(None, description="Local authority designated officer.")
    dpo: Person | None = Field(
        None, description="Added key: the data protection officer (name, and email or phone)."
    )


class Filtering(_Section):
    provider: OptText = None
    last_reviewed: Day | None = Field(
        None, description="Date of the last annual filtering and monitoring review."
    )
    senior_leader: Person | None = Field(
        None,
        description="Added key: the member of the senior leadership team responsible for "
        "meeting the filtering and monitoring standards, {name, role} (default: the "
        "headteacher).",
    )
    checks: OptText = Field(
        None,
        description="Added key: how filtering is checked between reviews, as the school "
        'does it (e.g. "the DSL and IT team test it each half term with the SWGfL tool").',
    )


class Monitoring(_Section):
    provider: OptText = None
    method: MonitoringMethod | None = None
    alerts_to: list[Text] = Field(default_factory=list)
    out_of_hours: OptText = Field(
        None,
        description="Added key: who sees urgent monitoring alerts outside school hours and "
        "in the holidays, and what they do.",
    )


class Technology(_Section):
    filtering: Filtering = Field(default_factory=Filtering)
    monitoring: Monitoring = Field(default_factory=Monitoring)
    incident_log: OptText = Field(None, description="Where online-safety incidents are recorded.")
    staff_email: OptText = None
    pupil_platforms: list[Text] = Field(default_factory=list)
    parent_communication: list[Text] = Field(default_factory=list)
    generative_ai: OptText = None
    guest_wifi: bool | None = Field(
        None, description="Added key: true if visitors get a (filtered) guest Wi-Fi network."
    )
    byod: OptText = Field(
        None,
        description="Added key: which personal devices may join the school network, and how "
        '(e.g. "sixth-form students\' laptops, on the filtered student network").',
    )


class StagePhones(_Section):
    """The phone rule for one key stage (an entry of phones.pupils.by_stage)."""

    rule: PhoneRule = Field(
        description="not_allowed, handed_in, locked_away, off_and_away or allowed."
    )
    who_may_bring: OptText = Field(None, description="Which pupils may bring a phone.")
    handed_to: OptText = Field(
        None, description="Who looks after handed-in phones, or where they are kept."
    )
    details: OptText = Field(None, description="Where and when; added to the phone rule.")
    exceptions: OptText = Field(None, description="Agreed exceptions (medical needs...).")


class PupilPhones(StagePhones):
    by_stage: dict[KeyStage, StagePhones] = Field(
        default_factory=dict,
        description="Added key: a different rule for some key stages (eyfs, ks1 ... ks5), "
        "each with the same keys as phones.pupils and standing alone (nothing is taken "
        "from phones.pupils). Stages not named follow phones.pupils.",
    )


class StaffPhones(_Section):
    personal_use: OptText = None
    photos_of_pupils: PhotoRule = "school_devices_only"


PhoneGroup = tuple[tuple[str, ...], StagePhones]


class Phones(_Section):
    pupils: PupilPhones
    staff: StaffPhones = Field(default_factory=StaffPhones)


class Contacts(_Section):
    """Added key: local contacts printed in the policy's key contacts."""

    childrens_services: Person | None = Field(
        None,
        description="The local children's social care front door (name, phone, email), "
        "for referrals and advice.",
    )
    prevent: Person | None = Field(
        None, description="The local Prevent referral route (name, phone, email)."
    )


class OnlineSafetyGroup(_Section):
    """Added key: the group that steers online safety, if the school has one."""

    members: list[Text] = Field(
        default_factory=list, min_length=1, description="Who sits on it (roles or names)."
    )
    meets: OptText = Field(None, description='How often it meets, e.g. "each term".')
    pupil_voice: OptText = Field(
        None,
        description='How pupils are heard, e.g. "two digital leaders from each year group".',
    )


ReviewStatus = Literal["approved", "draft"]


class Review(_Section):
    version: Text = Field(description='Policy version, in quotes (e.g. "2026.1").')
    approved_on: Day = Field(
        description="When governors approved (or will approve) this version; a date after "
        "the build date makes the pack a draft until that day."
    )
    status: ReviewStatus = Field(
        "approved",
        description="Added key: draft marks every page and PDF 'Draft for approval' "
        "whatever the date; approved (default) follows approved_on.",
    )
    approved_by: OptText = None
    cycle_months: int = Field(12, ge=1, le=36)
    next_review: Day | None = Field(None, description="Overrides approved_on + cycle_months.")


class Resource(_Section):
    title: Text
    url: Url
    audience: Audience = "parents"
    last_checked: Day | None = Field(
        None,
        description="Added key: when someone last opened the link and checked it; "
        "`esafety check` warns when this is over a year ago.",
    )


class Posters(_Section):
    """Added key: paper for the classroom posters (not in the original contract)."""

    paper: PosterPaper = Field("A3", description="A3 (default) or A4.")
    orientation: Orientation = Field("landscape", description="landscape (default) or portrait.")


class Images(_Section):
    """Added key: what the photo and video consent form offers and says."""

    social_media: list[Url] = Field(
        default_factory=list,
        description="The school's own social media pages (web addresses). The consent "
        "form asks about posting images there only if the school has one.",
    )
    retention: OptText = Field(
        None,
        description="How long each kind of image is kept, as the school's records "
        "retention schedule says (e.g. 'class messages until the end of the school year; "
        "the website and social media for two years'). Without it, the form says the "
        "school's data protection policy sets this out.",
    )


class Publish(_Section):
    """Added key: where the pack's website is published (not in the original contract)."""

    url: OptUrl = Field(
        None,
        description="Address of the pack's home page once published, e.g. "
        "https://www.school.org/online-safety/. Default: <school.website>/online-safety/. "
        "The QR code on the parents' leaflet points to its parents/ page.",
    )
    staff_pages: bool = Field(
        False,
        description="Build and link the staff page 'Review status' (the compliance "
        "check's findings, e.g. an overdue review). Off by default: when true, the page "
        "is public like every other page of the site.",
    )


class Config(_Section):
    """A whole school_config.yaml."""

    extends: str | None = Field(
        None,
        description="Added key: a YAML file of shared defaults (e.g. a trust's or local "
        "authority's) that this config starts from; path relative to this file.",
    )
    school: SchoolInfo
    people: People
    technology: Technology = Field(default_factory=Technology)
    phones: Phones
    review: Review
    contacts: Contacts = Field(default_factory=Contacts)
    online_safety_group: OnlineSafetyGroup | None = None
    linked_policies: list[Text] = Field(default_factory=lambda: list(DEFAULT_LINKED_POLICIES))
    extra_resources: list[Resource] = Field(default_factory=list)
    posters: Posters = Field(default_factory=Posters)
    images: Images = Field(default_factory=Images)
    publish: Publish = Field(default_factory=Publish)
    # The folders of the shared defaults files it extends, nearest first: their
    # overrides/ folders apply to this school after its own (set by load_config).
    _shared_folders: tuple[Path, ...] = PrivateAttr(default=())

    @property
    def shared_folders(self) -> tuple[Path, ...]:
        return self._shared_folders

    # -------------------------------------------------------- derived facts
    @property
    def key_stages(self) -> tuple[str, ...]:
        chosen = self.school.key_stages or KEY_STAGES_BY_PHASE[self.school.phase]
        return tuple(ks for ks in ALL_KEY_STAGES if ks in chosen)

    @property
    def rule_sets(self) -> tuple[str, ...]:
        """Which pupil rule sets (ks1, ks2, ks3) this school needs."""
        return tuple(s for s, stages in RULE_SETS.items() if set(stages) & set(self.key_stages))

    def phone_rule(self, stage: str) -> StagePhones:
        """The pupils' phone rule for one key stage: its by_stage entry or the default."""
        pupils = self.phones.pupils
        if stage in pupils.by_stage:
            return pupils.by_stage[stage]  # type: ignore[index]
        return StagePhones(**pupils.model_dump(exclude={"by_stage"}))

    def phone_groups(self, stages: tuple[str, ...] | None = None) -> list[PhoneGroup]:
        """The school's stages (or those of ``stages`` it has), neighbours with the same
        phone rule together: [(("eyfs", ..., "ks4"), rule), (("ks5",), sixth-form rule)]."""
        groups: list[PhoneGroup] = []
        for stage in self.key_stages:
            if stages is not None and stage not in stages:
                continue
            rule = self.phone_rule(stage)
            if groups and groups[-1][1] == rule:
                groups[-1] = ((*groups[-1][0], stage), rule)
            else:
                groups.append(((stage,), rule))
        return groups

    def is_draft(self, today: dt.date) -> bool:
        """A draft until governors approve it: review.status says so, or approved_on is
        still to come (the marks go by themselves once that day arrives)."""
        return self.review.status == "draft" or self.review.approved_on > today

    @property
    def next_review(self) -> dt.date:
        return self.review.next_review or add_months(
            self.review.approved_on, self.review.cycle_months
        )

    @property
    def online_safety_lead(self) -> Person:
        return self.people.online_safety_lead or self.people.dsl

    @property
    def site_url(self) -> str | None:
        """Where the pack's home page is published, if known (ends with a slash)."""
        if self.publish.url:
            return self.publish.url.rstrip("/") + "/"
        if self.school.website:
            return self.school.website.rstrip("/") + "/online-safety/"
        return None

    @property
    def school_type(self) -> str:
        """maintained, academy or independent: given, or academy when a trust is named (in
        England: academies and their trusts exist nowhere else in the UK)."""
        if self.school.type:
            return self.school.type
        return "academy" if self.school.trust and self.school.nation == "england" else "maintained"

    @property
    def has_governors(self) -> bool:
        """A council school in Scotland has no governing body: the education authority is
        responsible for it (Education (Scotland) Act 1980, s1) and the head teacher runs it;
        Scotland's independent schools, and schools elsewhere in the UK, have governors."""
        return not (self.school.nation == "scotland" and self.school_type == "maintained")

    @property
    def nation_name(self) -> str:
        """ "Northern Ireland", as a person writes it (the key is northern-ireland)."""
        return self.school.nation.replace("-", " ").title()

    @property
    def short_name(self) -> str:
        return self.school.short_name or self.school.name


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day ``months`` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


# ---------------------------------------------------------------- loading


def load_config(path: Path, project_dir: Path | None = None) -> Config:
    """Read and validate a config file; raise ConfigError listing every problem."""
    doc = read_with_defaults(path, display_name(path))
    return validate(doc, project_dir or path.parent)


def validate(doc: YamlDocument, project_dir: Path) -> Config:
    if not isinstance(doc.data, dict):
        got = _describe(doc.data)
        raise ConfigError(
            [
                *doc.problems,
                Problem(
                    doc.file,
                    1,
                    "(top level)",
                    f"expected a mapping of keys (school:, people:, ...), got {got}",
                ),
            ]
        )
    problems: list[Problem] = list(doc.problems)
    problems += _check_logo(doc, project_dir)  # first: it gives the logo's path from here
    config: Config | None = None
    try:
        config = Config.model_validate(doc.data)
    except ValidationError as exc:
        problems += [_problem(doc, err) for err in exc.errors()]
    problems += _check_printable(doc, doc.data, ())
    if config is not None:
        problems += _check_consistency(doc, config) + _check_review_order(doc, config, project_dir)
    if problems:
        raise ConfigError(problems)
    assert config is not None
    config._shared_folders = tuple(dict.fromkeys(base.parent for base in doc.bases))
    return config


def display_name(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _check_logo(doc: YamlDocument, project_dir: Path) -> list[Problem]:
    school = doc.data.get("school")
    logo = school.get("logo") if isinstance(school, dict) else None
    if not isinstance(logo, str) or not logo.strip():
        return []
    path = ("school", "logo")
    where = (*doc.locate(path), format_path(path))
    # A logo given in a shared defaults file is looked for beside that file first (as
    # its extends: is), then, as before December 2026, in the school's folder.
    given_in = Path(where[0]).resolve().parent
    try:
        resolved = (given_in / logo).resolve()
        if not resolved.is_file():
            resolved = (project_dir / logo).resolve()
        is_file = resolved.is_file()
    except (OSError, ValueError):  # a NUL byte, a name too long for the file system
        return [Problem(*where, f"{json.dumps(logo)} is not a usable file name")]
    # The school's folder, or the folder of a defaults file it extends (a trust's logo).
    roots = [project_dir.resolve(), *(Path(f).resolve().parent for f in doc.files.values())]
    if not any(resolved.is_relative_to(root) for root in roots):
        return [
            Problem(
                *where,
                f"{json.dumps(logo)} is outside the project folder; "
                "put the logo beside school_config.yaml",
            )
        ]
    if resolved.suffix.lower() not in LOGO_SUFFIXES:
        return [Problem(*where, f"{json.dumps(logo)} must be an .svg, .png or .jpg file")]
    if not is_file:
        return [
            Problem(
                *where,
                f"{json.dumps(logo)} not found (the path is relative to the "
                "folder of school_config.yaml)",
            )
        ]
    try:
        read_logo(resolved)
    except LogoError as exc:
        return [Problem(*where, f"{json.dumps(logo)} {exc}")]
    except OSError as exc:
        return [Problem(*where, f"{json.dumps(logo)} cannot be read ({exc.strerror})")]
    school["logo"] = os.path.relpath(resolved, project_dir.resolve())  # the build's path
    return []


# The font every PDF is set in (its italic and bold cover the same characters).
PRINT_FONT = TEMPLATES_DIR / "fonts" / "Andika-Regular.ttf"


@functools.cache
def _printable() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(PRINT_FONT, lazy=True).getBestCmap())


def _check_printable(doc: YamlDocument, value: Any, path: KeyPath) -> list[Problem]:
    """Every character of every text value can be drawn by the bundled font (a PDF never
    falls back to whatever fonts the machine has, nor shows an empty box)."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _check_printable(doc, v, (*path, str(k)))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _check_printable(doc, v, (*path, i))]
    if not isinstance(value, str) or value.isascii():
        return []
    missing = sorted({c for c in value if ord(c) not in _printable() and not c.isspace()})
    if not missing:
        return []
    shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in missing[:5])
    return [
        Problem(
            *doc.locate(path),
            format_path(path),
            f"the bundled print font cannot show {shown}; write it without "
            f"{'them' if len(missing) > 1 else 'it'}",
        )
    ]


def _check_consistency(doc: YamlDocument, config: Config) -> list[Problem]:
    problems = []
    review = config.review
    if review.next_review and review.next_review <= review.approved_on:
        path = ("review", "next_review")
        problems.append(
            Problem(*doc.locate(path), format_path(path), "must be after review.approved_on")
        )
    if config.people.online_safety_governor is None and config.has_governors:
        path = ("people", "online_safety_governor")
        problems.append(Problem(*doc.locate(path), format_path(path), "required, but missing"))
    if config.school.type == "academy" and config.school.nation != "england":
        path = ("school", "type")
        problems.append(
            Problem(
                *doc.locate(path),
                format_path(path),
                "academies are schools in England; this school's nation is "
                f"{config.nation_name} (use maintained or independent)",
            )
        )
    stages = config.school.key_stages or []
    if len(set(stages)) != len(stages):
        path = ("school", "key_stages")
        problems.append(Problem(*doc.locate(path), format_path(path), "lists a key stage twice"))
    for stage in config.phones.pupils.by_stage:
        if stage not in config.key_stages:
            path = ("phones", "pupils", "by_stage", stage)
            have = ", ".join(config.key_stages)
            hint = did_you_mean(stage, list(config.key_stages))
            problems.append(
                Problem(
                    *doc.locate(path),
                    format_path(path),
                    f"this school has no {stage} (its key stages: {have}){hint}",
                )
            )
    return problems


def _check_review_order(doc: YamlDocument, config: Config, project_dir: Path) -> list[Problem]:
    """A version approved no later than one the school keeps in reviews/ is a slip (a year
    typed wrong after ``esafety review``): built, it would be published as approved, with
    the versions out of order and nothing to compare it with."""
    from .review import snapshots

    current = config.review
    approved = current.approved_on.isoformat()
    later = [
        kept
        for kept in snapshots(project_dir)
        if kept["version"] != current.version and kept["approved_on"] >= approved
    ]
    if not later:
        return []
    kept = later[-1]
    when = format_date(dt.date.fromisoformat(kept["approved_on"]))
    path = ("review", "approved_on")
    return [
        Problem(
            *doc.locate(path),
            format_path(path),
            f"{format_date(current.approved_on)} is not after the approval of version "
            f"{kept['version']} on {when} (kept in reviews/); a new version is approved after "
            "the last one: is the year right?",
        )
    ]


# ---------------------------------------------------------------- messages


def _problem(doc: YamlDocument, err: Any) -> Problem:
    loc: KeyPath = tuple(p for p in err["loc"] if isinstance(p, int | str))
    loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))
    if loc and loc[-1] == "[key]":  # a mapping key that is not allowed (a key stage)
        loc = loc[:-1]
        if loc[-2:-1] == ("by_stage",):
            return Problem(*doc.locate(loc), format_path(loc), _unknown_stage(str(loc[-1])))
    return Problem(*doc.locate(loc), format_path(loc), _message(err, loc))


# What schools call a stage, for the did-you-mean of a by_stage key.
_STAGE_WORDS = {
    "nursery": "eyfs",
    "reception": "eyfs",
    "early_years": "eyfs",
    "infants": "ks1",
    "juniors": "ks2",
    "sixth": "ks5",
    "sixth_form": "ks5",
    "post16": "ks5",
    "post_16": "ks5",
}


def _unknown_stage(word: str) -> str:
    hint = did_you_mean(word, list(ALL_KEY_STAGES))
    alias = _STAGE_WORDS.get(word.lower().replace("-", "_").replace(" ", "_"))
    if alias and not hint:
        hint = f" (did you mean {alias!r}?)"
    return f"{_show(word)} is not a key stage; use one of: {', '.join(ALL_KEY_STAGES)}{hint}"


def _message(err: Any, loc: KeyPath) -> str:
    kind, value = err["type"], err.get("input")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "required, but missing"
    if kind == "extra_forbidden":
        return "unknown key" + did_you_mean(str(loc[-1]), _allowed_keys(loc[:-1]))
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", ctx.get("expected", ""))
        hint = did_you_mean(str(value), allowed) if isinstance(value, str) else ""
        return f"{_show(value)} is not allowed; use one of: {', '.join(allowed)}{hint}"
    if kind in ("string_type",):
        hint = (
            " (yes/no/on/off/true/false mean true or false in YAML: put text in quotes)"
            if isinstance(value, bool)
            else ""
        )
        if isinstance(value, int | float) and not isinstance(value, bool):
            hint = ' (put it in quotes, e.g. "2026.1", so YAML keeps it as written)'
        return f"expected text, got {_describe(value)}{hint}"
    if kind.startswith("date") or kind == "date_type":
        example = date_hint(value) or ", e.g. 2026-09-10"
        return f"{_show(value)} is not a valid date; write YYYY-MM-DD{example}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number, got {_describe(value)}"
    if kind in ("list_type", "tuple_type"):
        return f"expected a list, got {_describe(value)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a mapping of keys, got {_describe(value)}"
    if kind == "greater_than_equal":
        return f"must be {ctx.get('ge')} or more, got {_number(value)}"
    if kind == "less_than_equal":
        return f"must be {ctx.get('le')} or less, got {_number(value)}"
    if kind == "too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return (
            f"is {len(value):,} characters long; the most is {ctx.get('max_length'):,}"
            if isinstance(value, str)
            else f"too long; the most is {ctx.get('max_length'):,} characters"
        )
    return str(err["msg"])


def _show(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.date):
        return value.isoformat()
    return _describe(value)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({_number(value)})"
    if isinstance(value, str):
        return f"text ({json.dumps(value, ensure_ascii=False)})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, dt.date):
        return f"a date ({value.isoformat()})"
    return type(value).__name__


def _number(value: Any) -> str:
    """A number as written, shortened; Python refuses to print an integer of thousands of
    digits (a YAML hex number can make one), so that is described instead."""
    try:
        text = str(value)
    except ValueError:
        return "thousands of digits"
    return text if len(text) <= 40 else f"{text[:20]}... ({len(text)} digits)"


def _allowed_keys(path: KeyPath) -> list[str]:
    """The field names of the model found at ``path`` inside Config."""
    model: Any = Config
    for part in path:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if _is_model(model) else None
        if field is None:
            return []
        model = _unwrap(field.annotation)
    return list(model.model_fields) if _is_model(model) else []


def _is_model(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, BaseModel)


def _unwrap(annotation: Any) -> Any:
    """list[X] -> X, X | None -> X."""
    origin = typing.get_origin(annotation)
    if origin in (list, tuple):
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else annotation
    return annotation


def json_schema() -> dict[str, Any]:
    """The JSON Schema editors use to complete and check school_config.yaml."""
    schema = Config.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "school_config.yaml"
    return schema


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
