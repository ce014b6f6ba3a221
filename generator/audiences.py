"""Who each page is for: the site's ways in by audience (``audiences`` in content/site.yaml).

The same groups make the home page's three entry points (parents and carers, pupils,
staff and governors) and the site's navigation, so the two never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from .errors import BuildError
from .markup import to_plain_text

if TYPE_CHECKING:
    from .compose import Composer, Page

WHERE = "content/site.yaml: audiences"


@dataclass(frozen=True)
class Entry:
    """One link of a group: a page, or a sub-menu (its part's pages) under ``title``."""

    title: str  # in the navigation
    path: str  # the page (the sub-menu's first page)
    home: str  # its title on the home page
    about: str = ""  # its line on the home page, if it has one
    menu: tuple[Page, ...] = ()


@dataclass(frozen=True)
class Audience:
    key: str
    name: str
    about: str  # its line on the home page ("" = not an entry point there)
    entries: tuple[Entry, ...]


def group_pages(
    composer: Composer, pages: list[Page], home_links: list[dict[str, str]]
) -> tuple[list[Audience], list[Page]]:
    """The audiences with their pages, and the pages no audience lists (in pack order)."""
    raw = composer.data("site.yaml").get("audiences")
    if not isinstance(raw, dict):
        raise BuildError(f"{WHERE}: missing")
    abouts = {link["path"]: link for link in home_links}
    placed: set[str] = set()
    audiences = []
    for key, spec in raw.items():
        where = f"{WHERE}.{key}"
        if not isinstance(spec, dict) or not isinstance(spec.get("pages"), list):
            raise BuildError(f"{where}: needs a group name and a list of pages")
        entries = []
        for pattern in spec["pages"]:
            menu = isinstance(pattern, dict)
            found = [
                p
                for p in pages
                if p.path not in placed
                and fnmatchcase(p.path, pattern["menu"] if menu else pattern)
            ]
            placed.update(p.path for p in found)
            if menu and found:
                title = found[0].section or found[0].title
                entries.append(_entry(abouts, title, found[0].path, tuple(found)))
            else:
                entries += [_entry(abouts, p.title, p.path) for p in found]
        if entries:
            name, about = (_text(composer, spec, k, where) for k in ("group", "about"))
            audiences.append(Audience(key, name, about, tuple(entries)))
    return audiences, [p for p in pages if p.path not in placed]


def _entry(
    abouts: dict[str, dict[str, str]], title: str, path: str, menu: tuple[Page, ...] = ()
) -> Entry:
    link = abouts.get(path, {})
    return Entry(title, path, link.get("title", title), link.get("about", ""), menu)


def _text(composer: Composer, spec: dict[str, Any], key: str, where: str) -> str:
    """A group's name (required) or its line on the home page (optional)."""
    if key in spec:
        return to_plain_text(composer.text(str(spec[key]), f"{where}.{key}"))
    if key == "about":
        return ""
    raise BuildError(f"{where}.{key}: missing")
