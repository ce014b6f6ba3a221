"""`esafety serve`: the preview rebuilds when the config changes and survives bad edits."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from helpers import NEEDS_CHROMIUM

from generator import cli
from generator.build import build
from generator.cli import main
from generator.errors import interrupted
from generator.serve import RELOAD_PATH, Preview


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (localhost)
        return response.read().decode("utf-8")


def wait_for(condition, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


# The edit a previewing school makes: who approves the policy, shown on the policy's page
# and in two PDFs (the policy and its changes), so a rebuild renders little.
OLD, NEW = "Full Governing Board", "Brookside Governors"


def edit(config: Path) -> None:
    text = config.read_text(encoding="utf-8")
    assert text.count(OLD) == 1
    config.write_text(text.replace(OLD, NEW), encoding="utf-8")


def test_preview_rebuilds_on_config_change_and_keeps_last_good_site(make_school):
    config = make_school()
    preview = Preview(config, port=0)
    thread = threading.Thread(target=preview.watch, daemon=True)
    thread.start()
    try:
        assert OLD in fetch(preview.url + "policy/")

        edit(config)
        assert wait_for(lambda: NEW in fetch(preview.url + "policy/"))

        # A broken edit: the last good site keeps being served.
        builds = preview.builds
        config.write_text("school: [unclosed\n", encoding="utf-8")
        assert wait_for(lambda: preview.builds > builds)
        assert NEW in fetch(preview.url + "policy/")
    finally:
        preview.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()


def next_build(preview: Preview, since: str) -> str:
    """What a served page's script does: ask again until the answer is not ``since``."""
    url = f"{preview.url}{RELOAD_PATH[1:]}?since={since}"
    answer = since
    while answer == since:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (localhost)
            answer = response.read().decode("utf-8")
    return answer


def test_served_pages_reload_when_a_rebuild_lands_and_the_site_has_no_script(make_school):
    """Each served page waits on the server for the next good build (as mkdocs serve's
    pages do); the files in site/ stay as built, with no reload script."""
    config = make_school()
    preview = Preview(config, port=0)
    thread = threading.Thread(target=preview.watch, daemon=True)
    thread.start()
    try:
        page = fetch(preview.url)
        assert page.count(RELOAD_PATH) == 1
        assert page.index(RELOAD_PATH) < page.index("</body>")
        first = f"{preview.instance}-1"
        assert f"seen='{first}';" in page
        assert RELOAD_PATH not in fetch(preview.url + "downloads/manifest.json")
        for built in preview.site.rglob("*.html"):
            assert RELOAD_PATH not in built.read_text(encoding="utf-8")

        answer: list[str] = []
        waiting = threading.Thread(
            target=lambda: answer.append(next_build(preview, first)), daemon=True
        )
        waiting.start()
        edit(config)
        waiting.join(timeout=600)
        assert answer == [f"{preview.instance}-2"]  # answered when the rebuild landed
        assert f"seen='{preview.instance}-2';" in fetch(preview.url)
        # A page from an earlier run of serve is answered at once: it reloads.
        assert fetch(f"{preview.url}{RELOAD_PATH[1:]}?since=0123abcd-5") == (
            f"{preview.instance}-2"
        )
    finally:
        preview.stop()
        thread.join(timeout=10)


def test_a_busy_port_is_a_one_line_usage_error(make_school, capsys):
    config = make_school()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["serve", "-f", str(config), "--port", str(port)])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.splitlines() == [
        f"127.0.0.1:{port}: port already in use; choose another with --port"
    ]
    assert not (config.parent / "site").exists()  # said before building anything


def test_an_edit_made_before_watching_starts_is_still_rebuilt(make_school):
    """The files are first looked at before the first build, not when watching starts: an
    edit in between (the first build can take seconds) is not taken as the starting point."""
    config = make_school()
    preview = Preview(config, port=0)
    edit(config)
    thread = threading.Thread(target=preview.watch, daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: NEW in fetch(preview.url + "policy/"))
    finally:
        preview.stop()
        thread.join(timeout=10)


def edited_school(make_school):
    """A built school, then its name changed and composed again: (first build, new pack)."""
    from generator.build import build
    from generator.compose import compose
    from generator.config import load_config

    config = make_school()
    first = build(config, config.parent / "site")
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("Willowbank Primary", "Brookside Primary"), encoding="utf-8")
    return first, compose(load_config(config), config.parent)


def publish_while_the_policy_renders(first, pack):
    """render_and_publish in a thread, with every PDF ready but the policy, whose future
    the test settles: (thread, policy future, errors raised)."""
    from concurrent.futures import Future

    from generator.build import render_and_publish
    from generator.pool import SchoolPdfs

    pdfs = SchoolPdfs(pack, None, workers=2)
    pdfs.done = {pdf.filename: pdf for pdf in first.pdfs if pdf.filename != "policy.pdf"}
    policy: Future = Future()
    pdfs.pending = {"policy.pdf": policy}
    errors: list[Exception] = []

    def run() -> None:
        try:
            render_and_publish(pack, first.site_dir, pdfs)
        except Exception as exc:  # noqa: BLE001 (the test looks at it)
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, policy, errors


def new_pages_staged(site: Path) -> bool:
    """The edited school's pages are built, in a staging folder beside the site."""
    return any(
        "Brookside Primary" in page.read_text(encoding="utf-8")
        for page in site.parent.glob(".esafety-build-*/project/*/index.html")
    )


def test_pages_and_pdfs_of_one_version_are_published_together(make_school):
    """While the policy PDF still renders, the new pages wait beside the site: nobody sees
    new pages linking to the last version's policy."""
    from dataclasses import replace

    from helpers import tree_digest

    first, pack = edited_school(make_school)
    site = first.site_dir
    before = tree_digest(site)
    thread, policy, errors = publish_while_the_policy_renders(first, pack)
    try:
        assert wait_for(lambda: new_pages_staged(site))
        assert tree_digest(site) == before
    finally:
        new_policy = next(p for p in first.pdfs if p.filename == "policy.pdf")
        policy.set_result(replace(new_policy, data=new_policy.data + b"\n%new\n"))
        thread.join(timeout=60)
    assert not errors
    assert (site / "downloads" / "policy.pdf").read_bytes().endswith(b"%new\n")
    assert "Brookside Primary" in (site / "index.html").read_text()
    assert not any(p.name.startswith(".esafety-build") for p in site.parent.iterdir())


def test_a_pdf_that_fails_leaves_the_last_good_site(make_school):
    from helpers import tree_digest

    from generator.errors import BuildError

    first, pack = edited_school(make_school)
    site = first.site_dir
    before = tree_digest(site)
    thread, policy, errors = publish_while_the_policy_renders(first, pack)
    try:
        assert wait_for(lambda: new_pages_staged(site))
    finally:
        policy.set_exception(BuildError("policy.pdf: runs to 3 pages"))
        thread.join(timeout=60)
    assert [str(e) for e in errors] == ["policy.pdf: runs to 3 pages"]
    assert tree_digest(site) == before
    assert not any(p.name.startswith(".esafety-build") for p in site.parent.iterdir())


@NEEDS_CHROMIUM
def test_an_open_page_reloads_itself_in_a_browser(make_school, browser):
    """The page open in the browser shows the edit without anyone pressing refresh."""
    config = make_school()
    preview = Preview(config, port=0)
    thread = threading.Thread(target=preview.watch, daemon=True)
    thread.start()
    page = browser.new_page()
    try:
        page.goto(preview.url + "policy/", wait_until="load")
        assert OLD in page.inner_text("body")
        edit(config)
        page.wait_for_function(f"document.body.innerText.includes('{NEW}')", timeout=180_000)
        assert page.url == preview.url + "policy/"  # the same page, reloaded
    finally:
        page.close()
        preview.stop()
        thread.join(timeout=10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("stop", ["Ctrl+C", "kill"])
def test_serve_stops_cleanly_with_its_workers(make_school, stop):
    """Ctrl+C (to the terminal's whole process group) or `kill` (to serve alone): serve
    exits at once with no traceback, and no PDF worker or fork server is left behind."""
    config = make_school()
    port = free_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", "-f", str(config), "-p", str(port)],
        cwd=config.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as in a terminal
    )
    try:
        assert wait_for(lambda: _answers(f"http://127.0.0.1:{port}/"), 120)
        if stop == "Ctrl+C":
            os.killpg(serve.pid, signal.SIGINT)
        else:
            serve.send_signal(signal.SIGTERM)
        # stderr ends only when every process holding it (the workers too) has exited.
        _, err = serve.communicate(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(serve.pid, signal.SIGKILL)
    assert serve.returncode == 0
    assert "Traceback" not in err.decode()


def _answers(url: str) -> bool:
    try:
        fetch(url)
    except OSError:
        return False
    return True


@pytest.mark.parametrize("after", [0.5, 1.5])
def test_ctrl_c_stops_a_build_at_once_with_no_traceback(make_school, after):
    """Ctrl+C reaches every process of the terminal's group: only the main process acts
    on it (a PDF worker still starting printed tracebacks, and once hung the build)."""
    config = make_school(cached=False)
    build = subprocess.Popen(
        [sys.executable, "-m", "generator", "build", "-f", str(config)],
        cwd=config.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal
    )
    try:
        time.sleep(after)
        os.killpg(build.pid, signal.SIGINT)
        out, _ = build.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(build.pid, signal.SIGKILL)
    # 130, or ended by the signal itself when it lands as Python shuts down: a shell
    # reports both as exit status 130.
    assert build.returncode in (130, -signal.SIGINT)
    assert out.decode().split() == ["Aborted."]
    assert not (config.parent / "site").exists()


class _DroppedInterrupt:
    """A Ctrl+C landing in a __del__: Python cannot raise it there."""

    def __del__(self) -> None:
        raise KeyboardInterrupt


def test_a_ctrl_c_python_drops_still_stops_the_build_before_it_publishes(make_school, monkeypatch):
    monkeypatch.setattr(sys, "unraisablehook", cli._unraisable)
    config = make_school()
    try:
        _DroppedInterrupt()
        assert interrupted.is_set()
        with pytest.raises(KeyboardInterrupt):
            build(config, config.parent / "site")
    finally:
        interrupted.clear()
    assert not (config.parent / "site").exists()
