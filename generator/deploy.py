"""``esafety gh-deploy``: the built site committed to the gh-pages branch and pushed,
as ``mkdocs gh-deploy`` does it, through the same helper (ghp-import).

The branch gets the site's files only, a ``.nojekyll`` (GitHub Pages would otherwise hide
folders that start with an underscore), and a ``CNAME`` when ``publish.url`` is the root
of a host of the school's own, so GitHub Pages answers on that name.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

import ghp_import

from .config import Config
from .errors import BuildError, UsageError

log = logging.getLogger(__name__)


def cname(config: Config) -> str | None:
    """The host GitHub Pages should answer on, if the school publishes at its own host's
    root. A pack under a path of the school's main website (www.school.org/online-safety/)
    gets none: a CNAME would point that whole host at GitHub Pages."""
    if not config.publish.url:
        return None
    url = urlsplit(config.publish.url)
    host = (url.hostname or "").lower()
    if not host or host.endswith(".github.io"):
        return None
    if url.path.strip("/"):
        log.warning(
            "publish.url %s is not the root of its host: no CNAME written (GitHub Pages "
            "serves a custom domain from its root)",
            config.publish.url,
        )
        return None
    return host


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )


def default_message(repo: Path) -> str:
    """'Deployed 1a2b3c4 with esafety-pack 0.1.0' (the commit of the school's folder)."""
    head = _git(repo, "rev-parse", "--short", "HEAD")
    commit = head.stdout.strip() if head.returncode == 0 else "a working copy"
    return f"Deployed {commit} with esafety-pack {version('esafety-pack')}"


def check_repository(folder: Path, remote: str) -> Path:
    """The root of the git repository holding ``folder``, checked ready to deploy from:
    a repository, with the named remote and a committer identity."""
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise UsageError(
            f"{folder}: not inside a git repository; run 'git init' there and add a "
            "remote first (see the README's publishing section)"
        )
    repo = Path(top.stdout.strip())
    if _git(repo, "remote", "get-url", remote).returncode != 0:
        names = _git(repo, "remote").stdout.split()
        have = f"its remotes: {', '.join(names)}" if names else "it has no remotes"
        raise UsageError(f"{repo}: no git remote called {remote!r} ({have})")
    if _git(repo, "var", "GIT_COMMITTER_IDENT").returncode != 0:
        raise UsageError(
            f"{repo}: git does not know who is committing; set it with "
            'git config user.name "..." and git config user.email "..."'
        )
    return repo


def push_site(
    site_dir: Path,
    repo: Path,
    *,
    remote: str = "origin",
    branch: str = "gh-pages",
    message: str | None = None,
    force: bool = False,
    host: str | None = None,
) -> str:
    """Commit ``site_dir`` as the whole of ``branch`` in ``repo`` and push it to ``remote``.
    Returns the new commit's id."""
    before = _git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}").stdout
    options = {
        "mesg": message or default_message(repo),
        "remote": remote,
        "branch": branch,
        "push": False,  # pushed below, so a failed commit is never pushed
        "force": force,
        "nojekyll": True,
        "cname": host,
    }
    try:
        with contextlib.chdir(repo):  # ghp-import runs git in the current folder
            ghp_import.ghp_import(str(site_dir), **options)
    except ghp_import.GhpError as exc:
        raise BuildError(f"{repo}: could not commit the site to {branch}: {exc.message}") from None
    after = _git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}").stdout
    if not after.strip() or after == before:
        raise BuildError(f"{repo}: could not commit the site to the {branch} branch")
    push = ["push", remote, branch, *(["--force"] if force else [])]
    pushed = _git(repo, *push)
    if pushed.returncode != 0:
        lines = [line for line in pushed.stderr.splitlines() if line.strip()]
        why = lines[-1].strip() if lines else f"git exited with {pushed.returncode}"
        hint = " (use --force to replace it)" if "rejected" in pushed.stderr else ""
        raise BuildError(f"{remote}: could not push {branch}: {why}{hint}")
    return after.strip()
