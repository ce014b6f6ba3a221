"""Shared fixtures: sample schools, configs written into tmp folders, built sites."""

from __future__ import annotations

import copy
import datetime as dt
import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import settings

from generator.build import BuildResult, build
from generator.cache import CACHE_DIR

# The suite's property tests draw the same examples every run (CI must not turn red on a
# new random draw); explore with fresh ones by hand: pytest --hypothesis-seed=random.
settings.register_profile("suite", derandomize=True)
settings.load_profile("suite")

ROOT = Path(__file__).resolve().parent.parent
SCHOOLS_DIR = Path(__file__).resolve().parent / "schools"
DEFAULT_CONFIG = ROOT / "school_config.yaml"
# The varied schools every document is tested against (the default is a primary).
SCHOOL_NAMES = [
    "primary",
    "secondary",
    "all_through",
    "infant_minimal",
    "welsh_middle",
    "academy_sixth_form",
]
# The schools whose every page is toured in Chromium (about 40 s each): the sample primary
# and the academy with a sixth form and phone rules by stage, between them every kind of
# page. The others are read as HTML; the red Welsh school's pages of each kind see axe.
TOURED_SCHOOLS = ["primary", "academy_sixth_form"]

os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
# The staff page "Review status" is written as of today. One date for the whole session,
# so a run that crosses midnight compares builds made on the same "day" (CI once failed
# "two builds give identical bytes" that way). Tests about dates set their own.
os.environ.setdefault("ESAFETY_TODAY", dt.date.today().isoformat())


# Modules that tour every page of a sample site in Chromium (helpers.tour keeps each tour
# for the session): under pytest-xdist, a school's tests from all of them run in the same
# worker, so each site is built and toured once, and different schools in parallel.
TOUR_MODULES = {"test_accessibility", "test_browser", "test_privacy"}


# Module fixtures that build something of their own (a fresh uncached build, a trust, a
# Zensical site): the tests that use one run in one worker, so it is built once.
SHARED_FIXTURES = ("offline_rebuild", "built_trust", "both_engines")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        params = getattr(item, "callspec", None)
        school = params.params.get("school") if params else None
        if item.module.__name__ in TOUR_MODULES and (school or "tours" in item.fixturenames):
            item.add_marker(pytest.mark.xdist_group(f"tours-{school or 'primary'}"))
        for name in SHARED_FIXTURES:
            if name in item.fixturenames:
                item.add_marker(pytest.mark.xdist_group(name))


def school_path(name: str) -> Path:
    return DEFAULT_CONFIG if name == "primary" else SCHOOLS_DIR / f"{name}.yaml"


def school_data(name: str = "primary") -> dict[str, Any]:
    return yaml.safe_load(school_path(name).read_text(encoding="utf-8"))


def deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def write_school(folder: Path, data: dict[str, Any] | str, with_logo: bool = True) -> Path:
    """Write a config (a dict, or raw YAML text) into ``folder``; copy the sample logo."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "school_config.yaml"
    text = (
        data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    )
    path.write_text(text, encoding="utf-8")
    if with_logo:
        (folder / "assets").mkdir(exist_ok=True)
        (folder / "assets" / "logo.svg").write_bytes((ROOT / "assets" / "logo.svg").read_bytes())
    return path


@pytest.fixture
def make_school(tmp_path: Path, built_sites: Any):
    """make_school(changes=None, base='primary') -> path of a config in a fresh folder.

    The folder starts with a copy of the base school's build cache, as if the school had
    edited its config since its last build: a build renders for real only the PDFs whose
    print HTML the changes reach. ``cached=False`` starts with no cache."""
    counter = [0]

    def make(
        changes: dict[str, Any] | None = None, base: str = "primary", cached: bool = True
    ) -> Path:
        counter[0] += 1
        data = deep_merge(school_data(base), changes or {})
        path = write_school(tmp_path / f"school{counter[0]}", data)
        if cached:
            built = built_sites(base).site_dir.parent
            with built_site_lock(built):
                shutil.copytree(built / CACHE_DIR, path.parent / CACHE_DIR, ignore=_SITE_STATE)
        return path

    return make


# What a cache knows about the site it last published (not the copy's site).
_SITE_STATE = shutil.ignore_patterns("sites.json")


@pytest.fixture(scope="session")
def built_sites(tmp_path_factory: pytest.TempPathFactory):
    """build once per school per test session: built_sites('secondary') -> BuildResult.

    Under pytest-xdist the workers share one folder per school: the first builds it, the
    others wait, then rebuild it from its cache (nothing changed: the site is left as it
    is, and each worker gets its own BuildResult). Tests must not change these sites."""
    cache: dict[str, BuildResult] = {}
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # .../pytest-N/, above each worker's popen-gwN/

    def get(name: str = "primary") -> BuildResult:
        if name not in cache:
            folder = shared / f"site-{name}"
            with built_site_lock(folder):
                if not folder.is_dir():
                    write_school(folder, _sample_config(name))
                cache[name] = build(folder / "school_config.yaml", folder / "site")
        return cache[name]

    return get


@contextmanager
def built_site_lock(folder: Path) -> Iterator[None]:
    """Held while a shared sample site is built, or its cache copied."""
    with open(folder.with_name(folder.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


# A config whose values look like markup and templates: they must print as plain text.
HOSTILE_CHANGES: dict[str, Any] = {
    "school": {"name": "<script>alert(1)</script>", "short_name": "{{ 7*7 }}"},
    "people": {"dsl": {"name": "[x](javascript:alert(1))"}},
    "phones": {"pupils": {"handed_to": "<img src=x onerror=alert(2)>"}},
}


@pytest.fixture(scope="session")
def hostile_site(built_sites: Any) -> BuildResult:
    """The default school with HOSTILE_CHANGES, built once per test session."""
    return built_sites("hostile")


def _sample_config(name: str) -> dict[str, Any] | str:
    if name == "hostile":
        return deep_merge(school_data("primary"), HOSTILE_CHANGES)
    return school_path(name).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright, one for the whole session (browser tests only)."""
    from helpers import chromium

    with chromium() as launched:
        yield launched
