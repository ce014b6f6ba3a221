"""`esafety gh-deploy`: build, commit the site to gh-pages and push it, as mkdocs does.

Every test pushes to a bare repository in tmp_path, never to a network remote.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from generator.cli import main
from generator.config import load_config
from generator.deploy import cname


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def repository(config: Path, remote: Path | None) -> Path:
    """The school's folder as a git repository with one commit (and a remote, if given)."""
    folder = config.parent
    git(folder, "init", "-q", "-b", "main")
    git(folder, "config", "user.name", "Trust IT")
    git(folder, "config", "user.email", "it@trust.example.org")
    git(folder, "add", ".")
    git(folder, "commit", "-q", "-m", "The school's config")
    if remote is not None:
        git(remote.parent, "init", "-q", "--bare", remote.name)
        git(folder, "remote", "add", "origin", str(remote))
    return folder


def files_on(remote: Path, branch: str = "gh-pages") -> set[str]:
    return set(git(remote, "ls-tree", "-r", "--name-only", branch).split())


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_gh_deploy_commits_the_site_and_pushes_it(
    make_school: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_school({"publish": {"url": "https://esafety.willowbank.example.org/"}})
    remote = tmp_path / "remote.git"
    folder = repository(config, remote)
    head = git(folder, "rev-parse", "--short", "HEAD").strip()

    code, out, err = run(capsys, "gh-deploy", "-f", config)
    assert (code, err) == (0, ""), err
    site = folder / "site"
    assert out.splitlines()[-1].startswith(f"Pushed {site} to origin gh-pages (commit ")
    built = {str(p.relative_to(site)) for p in site.rglob("*") if p.is_file()}
    assert files_on(remote) == built | {".nojekyll", "CNAME"}
    assert git(remote, "show", "gh-pages:CNAME") == "esafety.willowbank.example.org"
    assert git(remote, "show", "gh-pages:index.html") == (site / "index.html").read_text("utf-8")
    assert git(remote, "log", "-1", "--format=%s", "gh-pages").strip() == (
        f"Deployed {head} with esafety-pack 0.1.0"
    )
    assert git(folder, "status", "--porcelain", "--untracked-files=no") == ""  # main untouched

    # Again, with a message and another branch name: a commit on top of the last one.
    code, _, err = run(capsys, "gh-deploy", "-f", config, "-m", "Autumn update", "-b", "gh-pages")
    assert (code, err) == (0, "")
    assert git(remote, "log", "--format=%s", "gh-pages").splitlines() == [
        "Autumn update",
        f"Deployed {head} with esafety-pack 0.1.0",
    ]


def test_a_diverged_branch_is_refused_then_replaced_with_force(
    make_school: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_school()
    remote = tmp_path / "remote.git"
    folder = repository(config, remote)
    # Someone else published from another clone: the remote's gh-pages is not ours.
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), other.name)
    git(other, "checkout", "-q", "--orphan", "gh-pages")
    (other / "index.html").write_text("<p>theirs</p>\n", encoding="utf-8")
    git(other, "add", "index.html")
    git(other, "-c", "user.name=X", "-c", "user.email=x@x", "commit", "-q", "-m", "theirs")
    git(other, "push", "-q", "origin", "gh-pages")
    git(folder, "checkout", "-q", "-b", "gh-pages")  # an unrelated local gh-pages
    git(folder, "checkout", "-q", "main")

    code, _, err = run(capsys, "gh-deploy", "-f", config, "--message", "ours")
    assert code == 1
    assert len(err.splitlines()) == 1 and err.startswith("origin: could not push gh-pages: ")
    assert err.rstrip().endswith("(use --force to replace it)")
    assert files_on(remote) == {"index.html"}

    code, _, err = run(capsys, "gh-deploy", "-f", config, "--message", "ours", "--force")
    assert (code, err) == (0, "")
    assert git(remote, "log", "-1", "--format=%s", "gh-pages").strip() == "ours"
    assert "parents/index.html" in files_on(remote) and "CNAME" not in files_on(remote)


def test_not_a_repository_is_one_line_and_builds_nothing(
    make_school: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_school()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(config.parent.parent))
    code, out, err = run(capsys, "gh-deploy", "--config", config)
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"{config.parent}: not inside a git repository; run 'git init' there and add a "
        "remote first (see the README's publishing section)"
    ]
    assert not (config.parent / "site").exists()


def test_an_unknown_remote_is_one_line_and_builds_nothing(
    make_school: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_school()
    folder = repository(config, tmp_path / "remote.git")
    code, out, err = run(capsys, "gh-deploy", "-f", config, "--remote", "upstream")
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"{folder}: no git remote called 'upstream' (its remotes: origin)"]
    assert not (folder / "site").exists()


def test_an_invalid_config_is_reported_before_anything_else(
    make_school: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_school({"school": {"phase": "college"}})
    code, _, err = run(capsys, "gh-deploy", "-f", config)
    assert code == 2
    assert "school.phase" in err and err.splitlines()[-1].endswith(
        "nothing was built and the existing site is unchanged."
    )


@pytest.mark.parametrize(
    ("url", "host"),
    [
        (None, None),
        ("https://esafety.school.example.org/", "esafety.school.example.org"),
        ("https://ESAFETY.school.example.org", "esafety.school.example.org"),
        ("https://www.school.example.org/online-safety/", None),  # would take the whole host
        ("https://trust.github.io/hollybrook/", None),
    ],
)
def test_cname_only_for_a_host_of_its_own(make_school: Any, url: str | None, host: str) -> None:
    config = load_config(make_school({"publish": {"url": url}}))
    assert cname(config) == host
