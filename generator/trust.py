"""Many schools at once: one check table for a trust, and the index page of its packs.

A problem in a shared defaults file belongs to every school that extends it; it is
reported once, under that file, not once per school.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from .checks import Finding, findings, today
from .compose import TEMPLATES_DIR, Composer
from .config import Config, display_name, validate
from .defaults import read_with_defaults
from .errors import ConfigError, EsafetyError, Problem, UsageError
from .markup import format_date
from .overrides import check as check_overrides
from .yamlfile import YamlDocument

COLUMNS = ("school", "config", "errors", "warnings", "version", "next_review")


@dataclass
class SchoolCheck:
    """One school's line in the table."""

    config_path: Path
    config: Config | None = None
    errors: list[str] = field(default_factory=list)  # problems in the school's own file
    shared: list[Problem] = field(default_factory=list)  # problems in files it extends
    warnings: list[Finding] = field(default_factory=list)
    # Where each warning's value is given, when that is a shared file ("file:line"), so
    # the table says it once for all the schools that share it; None: the school's own.
    warning_places: list[str | None] = field(default_factory=list)
    name: str = ""  # the school's name as written, when its config is invalid

    @property
    def row(self) -> dict[str, str | int]:
        config = self.config
        return {
            "school": config.school.name if config else self.name,
            "config": str(self.config_path),
            "errors": len(self.errors) + len(self.shared),
            "warnings": len(self.warnings),
            "version": config.review.version if config else "",
            "next_review": config.next_review.isoformat() if config else "",
        }


def check_school(config_path: Path) -> SchoolCheck:
    """Validate one school and list its findings (as ``esafety check`` does)."""
    result = SchoolCheck(config_path)
    folder = Path(config_path).resolve().parent
    try:
        document = read_with_defaults(config_path, display_name(config_path))
        config = validate(document, folder)
        composer = Composer(config, folder)
        check_overrides(composer)
    except ConfigError as exc:
        result.name = _name_as_written(config_path)
        own = Path(config_path).resolve()
        for problem in exc.problems:
            override = (folder / problem.file).resolve()  # named from the school's folder
            if Path(problem.file).resolve() == own or override.is_relative_to(folder / "overrides"):
                result.errors.append(str(problem))
            else:
                result.shared.append(problem)
        return result
    except EsafetyError as exc:
        result.errors.append(str(exc))
        return result
    result.config = config
    result.warnings = findings(config, today(), composer.data)
    result.warning_places = _places(config_path, document, result.warnings)
    return result


def _places(config_path: Path, document: YamlDocument, warnings: list[Finding]) -> list[str | None]:
    """For each warning about a config value, the shared file and line that gives it
    (None when the school's own file does, or it is about something else)."""
    own = Path(config_path).resolve()
    places: list[str | None] = []
    for finding in warnings:
        key = tuple(
            int(part) if part.isdigit() else part
            for part in re.split(r"\.|\[(\d+)\]\.?", finding.path)
            if part
        )
        file, line = document.locate(key)
        places.append(None if Path(file).resolve() == own else f"{file}:{line}")
    return places


def _name_as_written(config_path: Path) -> str:
    """school.name from a config that did not validate, to name it in the table."""
    try:
        data = yaml.safe_load(config_path.read_text(encoding="utf-8"))
        name = data["school"]["name"]
    except (OSError, ValueError, yaml.YAMLError, KeyError, TypeError):
        return ""
    return name.strip() if isinstance(name, str) else ""


def shared_problems(checks: list[SchoolCheck]) -> dict[Problem, int]:
    """Each problem found in a shared file, once, with how many schools it stops."""
    counts: dict[Problem, int] = {}
    for check in checks:
        for problem in dict.fromkeys(check.shared):
            counts[problem] = counts.get(problem, 0) + 1
    return counts


def as_text(checks: list[SchoolCheck]) -> str:
    """The table, then every problem and warning (shared problems once)."""
    rows = [{k: str(v) for k, v in check.row.items()} for check in checks]
    heads = {"school": "School", "config": "Config", "errors": "Errors", "warnings": "Warnings",
             "version": "Version", "next_review": "Next review"}  # fmt: skip
    widths = {k: max(len(heads[k]), *(len(r[k]) for r in rows)) for k in COLUMNS}
    numeric = {"errors", "warnings"}

    def line(values: dict[str, str]) -> str:
        cells = [
            values[k].rjust(widths[k]) if k in numeric else values[k].ljust(widths[k])
            for k in COLUMNS
        ]
        return "  ".join(cells).rstrip()

    out = [line(heads), line({k: "-" * widths[k] for k in COLUMNS}), *map(line, rows)]
    details = [
        f"{problem}  (shared by {n} school{'s' if n != 1 else ''})"
        for problem, n in shared_problems(checks).items()
    ]
    shared_warnings: dict[str, int] = {}
    for check in checks:
        details += check.errors
        places = check.warning_places or [None] * len(check.warnings)
        for finding, place in zip(check.warnings, places, strict=True):
            if place is None:
                details.append(f"{check.config_path}: warning: {finding}")
            else:
                said = f"{place}: warning: {finding}"
                shared_warnings[said] = shared_warnings.get(said, 0) + 1
    details += [
        f"{said}  (shared by {n} school{'s' if n != 1 else ''})"
        for said, n in shared_warnings.items()
    ]
    if details:
        out += ["", *details]
    broken = sum(1 for c in checks if c.errors or c.shared)
    warned = sum(1 for c in checks if c.warnings)
    schools = f"{len(checks)} school{'s' if len(checks) != 1 else ''}"
    out += ["", f"{schools}: {broken} with errors, {warned} with warnings."]
    return "\n".join(out) + "\n"


def as_json(checks: list[SchoolCheck]) -> str:
    shared = shared_problems(checks)
    data = {
        "schools": [
            {
                **check.row,
                "error_messages": check.errors,
                "shared_errors": [str(p) for p in dict.fromkeys(check.shared)],
                "warning_messages": [str(f) for f in check.warnings],
            }
            for check in checks
        ],
        "shared_problems": [{"problem": str(p), "schools": n} for p, n in shared.items()],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def as_csv(checks: list[SchoolCheck]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in check.row.items()} for check in checks)
    return buffer.getvalue()


def _cell(value: str | int) -> str | int:
    """A school's text as text in a spreadsheet: a cell starting with = + - @ would
    otherwise be run as a formula when the file is opened."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


# ------------------------------------------------------------------ index page


INDEX_MARK = b'<meta name="generator" content="esafety-pack packs index">'
INDEX_MARK_BEFORE = b"<title>Online-safety packs</title>"  # an index written before the mark


def check_index_replaceable(site_dir: Path) -> None:
    """``site_dir/index.html`` is new or one this tool wrote (it never replaces a page of
    the school's or the trust's own)."""
    target = site_dir / "index.html"
    if not target.exists() and not target.is_symlink():
        return
    head = b""
    if target.is_file() and not target.is_symlink():
        with suppress(OSError), target.open("rb") as page:
            head = page.read(4096)
    if INDEX_MARK not in head and INDEX_MARK_BEFORE not in head:
        raise UsageError(
            f"{target}: not a list of packs esafety wrote, so it is left as it is; move it, "
            "or choose another --site-dir"
        )


def write_index(site_dir: Path, school_sites: list[Path]) -> Path | None:
    """``site_dir/index.html``: each school's pack, its version and next review (overdue
    ones marked), read from the manifest of the site published in each folder (a school
    whose build failed keeps its last good site, and is listed as that), under the name
    of the trust when every school listed gives the same. Written in one move; not
    written (None) when no school has a site yet."""
    check_index_replaceable(site_dir)
    packs = []
    for folder in school_sites:
        try:
            manifest = json.loads((folder / "downloads" / "manifest.json").read_text("utf-8"))
            entry = {k: str(manifest[k]) for k in ("school", "version")}
            next_review = dt.date.fromisoformat(manifest["next_review"])
            entry["next_review"] = format_date(next_review)
            entry["overdue"] = next_review < today()
            entry["trust"] = str(manifest.get("trust") or "")
        except (OSError, ValueError, KeyError, TypeError):
            continue  # never built: nothing to list
        # "./" and percent-encoding: a folder named "javascript:alert(1)" is a path, not a URL.
        entry["href"] = "./" + quote(folder.relative_to(site_dir).as_posix()) + "/"
        packs.append(entry)
    if not packs:
        return None
    packs.sort(key=lambda p: (p["school"].casefold(), p["href"]))
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR / "site")),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    trusts = {pack["trust"] for pack in packs}
    trust = trusts.pop() if len(trusts) == 1 else ""
    html = env.get_template("packs-index.html").render(packs=packs, trust=trust)
    target = site_dir / "index.html"
    partial = site_dir / f".index.html.{os.getpid()}"
    partial.write_text(html, encoding="utf-8")
    partial.replace(target)
    return target
