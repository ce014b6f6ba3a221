"""Check a school's overrides before they are built: every problem at once, each as
``file:line: where: what is wrong``, with a did-you-mean.

An override is a school's (or a trust's) own copy of one of the tool's files, in
``overrides/content/`` or ``overrides/templates/``. Rendering stops at the first broken
one; this reads every override the build would use and reports them all: YAML and Jinja
syntax, HTML the pack does not allow, unknown filters, placeholders that name nothing
(``{{ school.nmae }}``) and files the tool never reads (``rules/ks2.yml``).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, TemplateSyntaxError, nodes

from . import markup
from .compose import Composer, search_path
from .errors import ConfigError, EsafetyError, Problem, UsageError, did_you_mean
from .resources import CONTENT_DIR, TEMPLATES_DIR
from .yamlfile import MAX_BYTES, format_path, read_yaml

# What the tool renders with Jinja, of each kind of folder.
TEMPLATE_SUFFIXES = {"content": (".md", ".yaml"), "templates": (".html", ".css")}


def check(composer: Composer) -> None:
    """Raise ConfigError listing every problem in the overrides this school uses."""
    found = problems(composer)
    if found:
        raise ConfigError(found)


def problems(composer: Composer) -> list[Problem]:
    """Every problem in the overrides this school uses (none: no overrides, or all good)."""
    project = composer.project_dir
    found = _stray_folders(project, composer.config.shared_folders)
    shape = _shape(composer.context)
    for kind, own in (("content", CONTENT_DIR), ("templates", TEMPLATES_DIR)):
        try:
            folders = search_path(project, kind, composer.config.shared_folders)[:-1]
        except EsafetyError as exc:  # an overrides folder that leads outside (a link)
            found.append(Problem(f"overrides/{kind}", 1, "(folder)", str(exc)))
            continue
        for name, path, shown in _used_files(folders, project):
            try:
                stat = path.stat()
            except OSError:  # a link to nowhere: _check_file says so
                stat = None
            key = (kind, name, str(path), shown, stat and (stat.st_mtime_ns, stat.st_size), shape)
            if key not in _checked or stat is None:
                _checked[key] = _check_file(composer, kind, own, name, path, shown)
            found += _checked[key]
    if len(_checked) > 10_000:
        _checked.clear()
    return found


# Each file's problems, kept for the process (a trust's schools share its overrides, and
# serve checks them at every rebuild): reading a copy of all of content/ takes 0.5 s.
_checked: dict[tuple[Any, ...], list[Problem]] = {}


def _shape(context: dict[str, Any]) -> tuple[Any, ...]:
    """What a check of a file depends on in the school's values: their names, and the
    parts each has (a model's fields, a mapping's keys), not the values themselves."""
    return tuple(
        (name, type(value).__name__, tuple(map(str, value)) if isinstance(value, dict) else ())
        for name, value in sorted(context.items())
    )


def _stray_folders(project: Path, shared: tuple[Path, ...]) -> list[Problem]:
    """A folder in overrides/ other than content/ and templates/ is never read
    (``overrides/rules/`` for ``overrides/content/rules/``)."""
    found = []
    for folder in dict.fromkeys((project, *shared)):
        overrides = folder / "overrides"
        if not overrides.is_dir() or not overrides.resolve().is_relative_to(folder.resolve()):
            continue  # none, or a link out: search_path refuses it, and nothing is listed
        for entry in sorted(overrides.iterdir()):
            if entry.name.startswith("."):  # .git, an editor's folder
                continue
            if entry.is_dir() and entry.name not in ("content", "templates"):
                meant = next(
                    (
                        f"; did you mean overrides/{kind}/{entry.name}/?"
                        for kind, own in (("content", CONTENT_DIR), ("templates", TEMPLATES_DIR))
                        if (own / entry.name).is_dir()
                    ),
                    "",
                )
                message = "the tool reads only overrides/content/ and overrides/templates/"
                shown = _shown(entry, project)
                found.append(Problem(shown, 1, "(folder)", f"{message}{meant}"))
    return found


def _used_files(folders: list[Path], project: Path) -> Iterator[tuple[str, Path, str]]:
    """(name in the tool's folder, path, name to show) of each override file the build
    would read: the nearest folder's copy of a name wins, as on the search path."""
    seen: set[str] = set()
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            for file in sorted(files):
                path = Path(root) / file
                name = path.relative_to(folder).as_posix()
                if name in seen or file.startswith("."):
                    continue
                seen.add(name)
                yield name, path, _shown(path, project)


def _shown(path: Path, project: Path) -> str:
    """A school's own file by its path in the school's folder; a shared one in full."""
    root = project.resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def _check_file(
    composer: Composer, kind: str, own: Path, name: str, path: Path, shown: str
) -> list[Problem]:
    if not (own / name).is_file() and (unused := _never_used(kind, own, name)):
        return [Problem(shown, 1, "(file)", unused)]
    folder = path.parents[len(Path(name).parts) - 1]
    if not path.resolve().is_relative_to(folder.resolve()):
        return [Problem(shown, 1, "(file)", "leads outside its folder (a link?); refusing it")]
    if not path.is_file():  # a pipe or a device would be read for ever
        return [Problem(shown, 1, "(file)", "not a plain file; refusing it")]
    if path.suffix not in TEMPLATE_SUFFIXES[kind]:  # an icon, a font, Word's reference.docx
        return []
    if path.stat().st_size > MAX_BYTES:
        return [Problem(shown, 1, "(file)", "larger than 1 MB; is it one of the tool's files?")]
    # Print templates are given other values than content; only content's are checked
    # part by part (school.nmae).
    values = composer.context if kind == "content" else {}
    env = composer.env if kind == "content" else _templates_environment(composer)
    known = {*values, *env.globals, *_names_used_by_tool(kind)}
    if path.suffix == ".yaml":
        return _check_yaml(env, known, values, path, shown, own / name)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return [Problem(shown, 1, "(file)", "not readable UTF-8 text")]
    found = _check_template(env, known, values, source, shown, 1, "(template)")
    if path.suffix == ".md" and (problem := markup.school_markup_problem(source)):
        found.append(Problem(shown, _line_of_problem(source), "(markup)", problem))
    site = kind == "templates" and name.startswith("site/")  # published as they are
    if site and (problem := markup.site_template_problem(source)):
        line = _line_of_problem(source, markup.site_template_problem)
        found.append(Problem(shown, line, "(markup)", problem))
    return found


def _never_used(kind: str, own: Path, name: str) -> str | None:
    """Why a file the tool has no copy of is never read, if it surely is not: a misspelt
    name, or a folder the tool does not have."""
    if meant := _misnamed(own, name):
        return f"the tool reads {kind}/{meant}, so this file is never used; rename it " + (
            f"overrides/{kind}/{meant}"
        )
    parent = Path(name).parent
    if (own / parent).is_dir():
        return None
    same = sorted(p.relative_to(own).as_posix() for p in own.rglob(Path(name).name))
    hint = f"; did you mean overrides/{kind}/{same[0]}?" if same else ""
    return f"the tool has no folder {kind}/{parent.as_posix()}, so this file is never used{hint}"


def _misnamed(own: Path, name: str) -> str | None:
    """The tool's file that ``name`` was surely meant to replace: the same name but for
    its case or its suffix's spelling (ks2.yml, Index.md). Other new files are a school's
    own (a policy section its policy.yaml lists) and are checked like ours."""
    path = Path(name)
    spellings = {".yml": ".yaml", ".markdown": ".md", ".htm": ".html"}
    if path.suffix.lower() in spellings:
        meant = path.with_suffix(spellings[path.suffix.lower()]).as_posix()
        if (own / meant).is_file():
            return meant
    folder = own / path.parent
    if folder.is_dir():
        for other in folder.iterdir():
            if other.name.lower() == path.name.lower() and other.name != path.name:
                return (path.parent / other.name).as_posix()
    return None


def _check_yaml(
    env: Environment, known: set[str], values: dict[str, Any], path: Path, shown: str, ours: Path
) -> list[Problem]:
    try:
        document = read_yaml(path, shown)
    except ConfigError as exc:
        return list(exc.problems)
    found = list(document.problems)
    if ours.is_file():
        found += _key_typos(_tool_data(ours), document.data, (), document, shown)
    for key_path, text in _strings(document.data, ()):
        line, where = document.line_of(key_path), format_path(key_path)
        if problem := markup.school_markup_problem(text):
            found.append(Problem(shown, line, where, problem))
        found += _check_template(env, known, values, text, shown, line, where)
    return found


def _key_typos(
    ours: Any, theirs: Any, path: tuple[str | int, ...], document: Any, shown: str
) -> list[Problem]:
    """Keys of an override the tool never reads that are surely a misspelling of one it
    does and that is missing (``tel:`` for ``tell:``). A list's items are compared with
    every key the tool's own items use."""
    if isinstance(ours, list):
        keys: dict[str, Any] = {}
        for item in ours:
            if isinstance(item, dict):
                keys |= item
        ours = keys
        theirs = dict(enumerate(theirs)) if isinstance(theirs, list) and keys else None
        if theirs is None:
            return []
        return [
            problem
            for i, item in theirs.items()
            for problem in _key_typos(ours, item, (*path, i), document, shown)
        ]
    if not (isinstance(ours, dict) and isinstance(theirs, dict)):
        return []
    found = []
    missing = [str(key) for key in ours if key not in theirs]
    for key, value in theirs.items():
        if key in ours:
            found += _key_typos(ours[key], value, (*path, key), document, shown)
        elif close := difflib.get_close_matches(str(key), missing, n=1, cutoff=0.6):
            where = (*path, key)
            message = f"not a key the tool reads here (did you mean {close[0]!r}?)"
            found.append(Problem(shown, document.line_of(where), format_path(where), message))
    return found


@cache
def _tool_data(path: Path) -> Any:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _strings(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, (*path, i))
    elif isinstance(value, str):
        yield path, value


def _check_template(
    env: Environment,
    known: set[str],
    context: dict[str, Any],
    source: str,
    shown: str,
    first_line: int,
    where: str,
) -> list[Problem]:
    """Jinja syntax, filters and tests that exist, names the template is given, and
    attributes of the school's values that exist (``school.nmae`` is a typo)."""
    offset = first_line - 1
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        return [Problem(shown, offset + (exc.lineno or 1), where, f"Jinja syntax: {exc.message}")]
    found = []
    for node in tree.find_all((nodes.Filter, nodes.Test)):
        is_filter = isinstance(node, nodes.Filter)
        table, what = (env.filters, "filter") if is_filter else (env.tests, "test")
        if node.name not in table:
            message = f"no {what} named {node.name!r}" + did_you_mean(node.name, table)
            found.append(Problem(shown, offset + node.lineno, where, message))
    undeclared = _free_names(tree)
    for name in sorted(undeclared - known):
        line = next((n.lineno for n in tree.find_all(nodes.Name) if n.name == name), 1)
        message = f"{{{{ {name} }}}} names nothing the pack knows"
        found.append(Problem(shown, offset + line, where, message + did_you_mean(name, known)))
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        private = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", "")
        if isinstance(private, str) and private.startswith("_"):
            message = f"{private!r}: a template may not reach Python's internals"
            found.append(Problem(shown, offset + node.lineno, where, message))
    for node in tree.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name in undeclared & set(context):
            problem = _attribute_problem(context[node.node.name], node.node.name, node.attr)
            if problem:
                found.append(Problem(shown, offset + node.lineno, where, problem))
    return found


def _attribute_problem(value: Any, name: str, attribute: str) -> str | None:
    """``school.nmae``: the school's values have no such part (did you mean ...?)."""
    if isinstance(value, dict):
        choices = [str(k) for k in value]
        if attribute in value or hasattr(value, attribute):
            return None
    elif hasattr(type(value), "model_fields"):  # one of the config's pydantic models
        choices = list(type(value).model_fields)
        if hasattr(value, attribute):
            return None
    else:
        return None
    return f"{{{{ {name}.{attribute} }}}}: {name} has no {attribute!r}" + did_you_mean(
        attribute, choices
    )


# Names Jinja itself gives a template: in a loop, a macro, a child template.
JINJA_NAMES = frozenset({"loop", "caller", "varargs", "kwargs", "self", "super"})


def _free_names(tree: nodes.Template) -> set[str]:
    """Names a template reads but never sets (as Jinja's meta module finds them, without
    compiling it, so an unknown filter does not stop the search)."""
    names = list(tree.find_all(nodes.Name))
    bound = {n.name for n in names if n.ctx in ("store", "param")}
    return {n.name for n in names if n.ctx == "load"} - bound - JINJA_NAMES


def _line_of_problem(
    source: str, problem: Callable[[str], str | None] = markup.school_markup_problem
) -> int:
    """The first line whose text alone has the markup problem; else the first that holds
    what the problem quotes (a picture's reference, defined lines below it); else 1."""
    lines = source.splitlines()
    for number, line in enumerate(lines, 1):
        if problem(line):
            return number
    quoted = re.search(r"'([^']+)'", problem(source) or "")
    found = (n for n, line in enumerate(lines, 1) if quoted and quoted.group(1) in line)
    return next(found, 1)


def _templates_environment(composer: Composer) -> Environment:
    from .pdf import print_environment  # its filters are a superset of the site CSS's

    folders = search_path(composer.project_dir, "templates", composer.config.shared_folders)
    return print_environment(tuple(folders))


@cache
def _names_used_by_tool(kind: str) -> frozenset[str]:
    """Every name the tool's own files of this kind use, including the extra values
    particular pages are given (``downloads``, ``phone``): an override may use them too."""
    env = Environment()
    own = CONTENT_DIR if kind == "content" else TEMPLATES_DIR
    names: set[str] = set()
    for path in own.rglob("*"):
        if path.suffix not in TEMPLATE_SUFFIXES[kind]:
            continue
        sources = (
            [text for _, text in _strings(_tool_data(path), ())]
            if path.suffix == ".yaml"
            else [path.read_text(encoding="utf-8")]
        )
        for source in sources:
            names |= _free_names(env.parse(source))
    return frozenset(names)


# ------------------------------------------------------------------ making one


def copy_to_overrides(project: Path, name: str) -> Path:
    """Copy one of the tool's files into ``project``'s overrides/, to be edited there, and
    return the copy's path. ``name`` is a policy section's id (``phones``) or a path
    under content/ or templates/ (``content/rules/ks1.yaml``). A copy already there is
    never replaced."""
    relative = Path(name) if "/" in name else Path("content/policy/sections", f"{name}.md")
    kind, roots = relative.parts[0], {"content": CONTENT_DIR, "templates": TEMPLATES_DIR}
    root = roots.get(kind)
    source = (root / Path(*relative.parts[1:])).resolve() if root else None
    if source is None or not source.is_relative_to(root.resolve()) or not source.is_file():
        raise UsageError(f"{name}: the tool has no such file{_file_hint(name)}")
    target = project / "overrides" / kind / source.relative_to(root.resolve())
    if target.exists() or target.is_symlink():
        raise UsageError(f"{_shown(target, project)}: already there; edit that copy")
    found = next(p for p in (target.parent, *target.parent.parents) if p.exists())
    if not found.resolve().is_relative_to(project.resolve()):  # a link leading out
        raise UsageError(f"{_shown(found, project)}: leads outside {project}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())
    return target


def _file_hint(name: str) -> str:
    """A did-you-mean among the policy's section ids, or among the tool's file paths."""
    if "/" not in name:
        ids = [p.stem for p in (CONTENT_DIR / "policy" / "sections").glob("*.md")]
        return did_you_mean(name, ids) or " (a section id, such as phones)"
    paths = [
        f"{kind}/{path.relative_to(root).as_posix()}"
        for kind, root in (("content", CONTENT_DIR), ("templates", TEMPLATES_DIR))
        for path in root.rglob("*")
        if path.is_file()
    ]
    return did_you_mean(name, paths)
