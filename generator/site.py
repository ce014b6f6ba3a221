"""Stage 3, write the site: composed pages -> a generated MkDocs project -> static HTML.

The generated project (``docs/`` + ``mkdocs.yml``) is plain Markdown and settings that
MkDocs + Material and Zensical both understand, so a school is not tied to one engine.
"""

from __future__ import annotations

import functools
import html
import logging
import os
import re
import shutil
import subprocess
import sysconfig
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from jinja2 import FileSystemLoader, TemplateError
from markupsafe import Markup, escape

from . import markup
from .brand import poster_colours
from .compose import Pack, bytecode_cache, sandboxed_environment
from .errors import BuildError, UsageError
from .resources import TEMPLATES_DIR, TOOL_ROOT

BASE_MKDOCS_YML = TOOL_ROOT / "mkdocs.yml"
# Messages MkDocs or Material print on every build that say nothing about our site.
_NOISE = ("Material for MkDocs", "MkDocs 2.0", "reaches end of life", "Zensical")


def write_project(pack: Pack, project: Path) -> Path:
    """Write docs/ and mkdocs.yml for ``pack`` into ``project``; return the config path."""
    docs = project / "docs"
    names = markup.unbreakable_names(pack.config)
    for page in pack.pages:
        target = docs / page.path
        target.parent.mkdir(parents=True, exist_ok=True)
        # A phone number or postcode never split at the end of a line, nor a name at its
        # hyphen.
        target.write_text(markup.keep_together(page.markdown, names, web=True), encoding="utf-8")
    for path, text in pack.extras.items():  # copied into the site as they are
        target = docs / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    (project / NOT_FOUND).write_text(not_found_html(pack), encoding="utf-8")
    assets = docs / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    (assets / "esafety.css").write_text(_site_css(pack), encoding="utf-8")
    _copy_fonts(assets / "fonts")
    if pack.brand.logo:  # the cleaned logo, never the school's file as it is
        (assets / f"logo{pack.brand.logo.suffix}").write_bytes(pack.brand.logo.data)
    config_path = project / "mkdocs.yml"
    config_path.write_text(
        yaml.safe_dump(mkdocs_settings(pack), sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    return config_path


# The print typeface, for the pupils' pages: served as the unmodified files with their
# licence (the OFL reserves the name "Andika", so a trimmed web font could not keep it).
SITE_FONTS = ("Andika-Regular.ttf", "Andika-Bold.ttf", "OFL.txt")


def _copy_fonts(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in SITE_FONTS:
        shutil.copyfile(TEMPLATES_DIR / "fonts" / name, folder / name)


def _site_css(pack: Pack) -> str:
    env = sandboxed_environment(pack.search_dirs, "site-css", autoescape=False)
    try:
        return env.get_template("site/esafety.css").render(
            brand=pack.brand, colours=poster_colours()
        )
    except TemplateError as exc:
        raise BuildError(f"templates/site/esafety.css: {exc}") from None


def mkdocs_settings(pack: Pack) -> dict[str, Any]:
    """The shared mkdocs.yml with this school's name, navigation and footer filled in."""
    settings = yaml.safe_load(BASE_MKDOCS_YML.read_text(encoding="utf-8"))
    config = pack.config
    settings["site_name"] = pack.site["name"]
    settings["site_description"] = pack.site["description"]
    settings["docs_dir"] = "docs"
    settings["site_dir"] = "site"
    # Material prints the copyright as HTML, so the school's values are escaped here.
    settings["copyright"] = html.escape(pack.site["footer"])
    if pack.brand.logo:
        logo = f"assets/logo{pack.brand.logo.suffix}"
        settings["theme"]["logo"] = logo
        settings["theme"]["favicon"] = logo
    # Page links stay relative, so site/ works wherever it is copied. Only the 404 page,
    # which is served at any depth, needs to know where the pack lives: from publish.url
    # when the school gives it (it also fills the sitemap and canonical links).
    if config.publish.url:
        settings["site_url"] = config.site_url
    settings["nav"] = navigation(pack)
    return settings


def navigation(pack: Pack) -> list[Any]:
    """Home, then one section per audience (content/site.yaml), then any page no audience
    lists, under its own section."""
    nav: list[Any] = []
    sections: dict[str, list[Any]] = {}
    for page in pack.ungrouped or pack.pages:
        if page.path == "index.md":
            nav.append({page.title: page.path})
            nav += [{a.name: [_nav_entry(e) for e in a.entries]} for a in pack.audiences]
            continue
        entry = {page.title: page.path}
        if page.section is None:
            nav.append(entry)
        elif page.section in sections:
            sections[page.section].append(entry)
        else:
            sections[page.section] = [entry]
            nav.append({page.section: sections[page.section]})
    return nav


def _nav_entry(entry: Any) -> dict[str, Any]:
    if entry.menu:
        return {entry.title: [{page.title: page.path} for page in entry.menu]}
    return {entry.title: entry.path}


ENGINES = ("mkdocs", "zensical")


def engine_versions(engine: str = "mkdocs") -> str:
    from importlib.metadata import version

    if engine == "zensical":
        return f"zensical at {zensical_command()}"
    return f"mkdocs {version('mkdocs')}, mkdocs-material {version('mkdocs-material')}"


def run_engine(engine: str, config_path: Path) -> Path:
    """Build the generated project with the chosen engine; return the site folder."""
    site = run_zensical(config_path) if engine == "zensical" else run_mkdocs(config_path)
    _fill_not_found(site / "404.html", config_path.parent / NOT_FOUND)
    return site


NOT_FOUND = "not-found.html"  # in the generated project, beside mkdocs.yml
_THEMES_404 = "<h1>404 - Not found</h1>"  # what Material's (and Zensical's) 404 page says
_HOME = re.compile(r'<a href="([^"]*)"[^>]*class="md-header__button md-logo"')
_NUMBER = re.compile(rf"\b999\b|{markup.PHONE_NUMBER.pattern}")  # what a parent can call


def not_found_html(pack: Pack) -> str:
    """What a visitor who followed a broken link reads: a way home, and who to tell if
    they are worried about a child (the theme's page says only "404 - Not found")."""
    words = {key: html.escape(pack.site[f"not_found_{key}"]) for key in
             ("title", "text", "home", "worried")}  # fmt: skip
    worried = _NUMBER.sub(lambda m: markup.tel(m.group()), words["worried"])  # tap to call
    return (
        f"<h1>{words['title']}</h1>\n<p>{words['text']}</p>\n"
        f'<p><a href="{{home}}">{words["home"]}</a></p>\n'
        f'<aside class="esafety-worried"><p>{worried}</p></aside>'
    )


def _fill_not_found(page: Path, words: Path) -> None:
    """The theme's 404 page with our words in place of its heading; its home link is the
    one the theme's header uses (absolute when the school gives publish.url)."""
    if not page.is_file() or not words.is_file():
        return
    text = page.read_text(encoding="utf-8")
    home = _HOME.search(text)
    if _THEMES_404 in text and home:
        filled = words.read_text(encoding="utf-8").replace("{home}", home.group(1))
        page.write_text(text.replace(_THEMES_404, filled, 1), encoding="utf-8")


def zensical_command() -> str | None:
    """Zensical's command: on PATH, or in the .venv-zensical that `make test` sets up."""
    found = shutil.which("zensical")
    local = TOOL_ROOT / ".venv-zensical" / "bin" / "zensical"
    return found or (str(local) if local.is_file() else None)


def run_zensical(config_path: Path) -> Path:
    """Build the same generated project with Zensical, Material's successor."""
    command = zensical_command()
    if command is None:
        raise UsageError(
            "--engine zensical: Zensical is not installed "
            "(pip install zensical, or run make test once to set it up)"
        )
    result = subprocess.run(
        [command, "build", "-f", str(config_path), "--clean"],
        cwd=config_path.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        last = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise BuildError("Zensical: " + " / ".join(last))
    return config_path.parent / "site"


def run_mkdocs(config_path: Path) -> Path:
    """Build the generated project with MkDocs; return the site folder."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    with _mkdocs_warnings() as warnings:
        try:
            config = load_config(config_file=str(config_path))
            config.plugins["esafety-theme-once"] = _theme_plugin()
            build(config)
        except MkDocsException as exc:
            raise BuildError(f"MkDocs: {exc}") from None
    if warnings:
        raise BuildError("MkDocs: " + "; ".join(warnings))
    return config_path.parent / "site"


def _theme_plugin() -> Any:
    """An MkDocs plugin that makes the theme cheaper to use build after build: its compiled
    templates are kept (Material has dozens; compiling them was a third of every MkDocs
    build), and its installed files are listed once per process, without the 14,500 icons
    under ``.icons/`` that MkDocs lists and then filters out again on every build, and
    without the search's word splitters for other languages when it searches English only
    (1 MB of every site that no browser would ever load)."""
    from mkdocs.plugins import BasePlugin

    class ThemeOnce(BasePlugin):  # type: ignore[type-arg]
        def on_config(self, config: Any) -> Any:
            # Material prints these into HTML as they are: they are text, so escape them.
            config.site_name = as_text(config.site_name)
            config.site_description = as_text(config.site_description)
            make_env = config.theme.get_env
            english_only = _searches_english_only(config)

            def get_env() -> Any:
                env = make_env()
                env.bytecode_cache = bytecode_cache("mkdocs")
                loader = env.loader
                if isinstance(loader, FileSystemLoader) and all(
                    _installed(folder) for folder in loader.searchpath
                ):
                    loader.list_templates = functools.partial(  # type: ignore[method-assign]
                        _theme_files, tuple(loader.searchpath), english_only
                    )
                return env

            config.theme.get_env = get_env
            return config

        def on_nav(self, nav: Any, config: Any, files: Any) -> Any:
            for item in _walk(nav.items):
                item.title = as_text(item.title)
            return nav

    return ThemeOnce()


def as_text(value: Any) -> Any:
    """Text for a template that prints it as HTML unescaped: escaped, and marked as HTML
    so a template that escapes it (``| e``) does not escape it twice."""
    return value if value is None or isinstance(value, Markup) else Markup(escape(value))


def _walk(items: list[Any]) -> Iterator[Any]:
    for item in items:
        yield item
        yield from _walk(getattr(item, "children", None) or [])


def _installed(folder: str) -> bool:
    """True for a folder inside an installed package (it does not change while we run)."""
    packages = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    return any(Path(folder).resolve().is_relative_to(Path(p).resolve()) for p in packages)


@functools.cache
def _theme_files(searchpath: tuple[str, ...], english_only: bool = False) -> list[str]:
    """What the theme's loader lists, less hidden files and folders (MkDocs copies neither)
    and, for a search in English only, less the other languages' word splitters."""
    names = FileSystemLoader(list(searchpath)).list_templates()
    return [
        name
        for name in names
        if not any(part.startswith(".") for part in name.split("/"))
        and not (english_only and name.startswith(OTHER_LANGUAGES_SEARCH))
    ]


# Material's search worker loads these only for languages other than English.
OTHER_LANGUAGES_SEARCH = "assets/javascripts/lunr/"


def _searches_english_only(config: Any) -> bool:
    search = config.plugins.get("search") or config.plugins.get("material/search")
    languages = getattr(search, "config", {}).get("lang") if search else None
    return languages in ("en", ["en"])


@contextmanager
def _mkdocs_warnings() -> Iterator[list[str]]:
    """Collect MkDocs warnings (broken links, missing files); drop end-of-life notices."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            text = record.getMessage()
            if record.levelno >= logging.WARNING and not any(n in text for n in _NOISE):
                messages.append(text)

    logger = logging.getLogger("mkdocs")
    handler = Collect()
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate
