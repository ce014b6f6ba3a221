"""generator/workers.py: the PDF server and its workers, forked once WeasyPrint is loaded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from generator.errors import BuildError
from generator.pdf import BASE_URL
from generator.render import PdfTask
from generator.workers import can_fork, start_workers

pytestmark = pytest.mark.skipif(not can_fork(), reason="needs fork (Linux, macOS)")

ROOT = Path(__file__).resolve().parent.parent
TINY = '<html lang="en-GB"><head><title>t</title></head><body><h1>{}</h1></body></html>'
FONT_FACE = TINY.format("Words").replace(
    "</head>",
    '<style>@font-face { font-family: A; src: url("../fonts/Andika-Regular.ttf") } '
    "h1 { font-family: A }</style></head>",
)


def task(name: str, html: str) -> PdfTask:
    return PdfTask(
        filename=name,
        html=html,
        base_url=BASE_URL,
        readable=(str(ROOT / "templates"),),
        source_date_epoch="1788220800",
    )


def children(pid: int) -> list[int]:
    found = []
    for path in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(p) for p in path.read_text().split()]
    return found


def gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "\nState:\tZ" in status  # a zombie has finished: only its parent's wait is left


def test_pdfs_render_in_the_workers_and_come_back_in_one_piece() -> None:
    server = start_workers(2)
    assert server is not None and server.alive()
    futures = [server.submit(task(f"doc-{i}.pdf", TINY.format(i))) for i in range(4)]
    for i, future in enumerate(futures):
        pdf = future.result(timeout=60)
        assert pdf.filename == f"doc-{i}.pdf" and pdf.data.startswith(b"%PDF") and pdf.pages == 1
    assert start_workers(2) is server  # one server per process, reused by every build


def test_an_error_in_a_worker_comes_back_as_a_build_error() -> None:
    server = start_workers(2)
    assert server is not None
    tall = TINY.format("<br>" * 400)
    limited = PdfTask(
        filename="form.pdf",
        html=tall,
        base_url=BASE_URL,
        readable=(),
        source_date_epoch="0",
        max_pages=1,
    )
    with pytest.raises(BuildError, match=r"form\.pdf: runs to \d+ pages; it must fit on 1"):
        server.submit(limited).result(timeout=60)
    assert server.alive()


@pytest.mark.skipif(
    not Path(f"/proc/self/task/{os.getpid()}/children").exists(),
    reason="reads /proc/PID/task/TID/children (Linux)",
)
def test_a_killed_server_fails_its_pdfs_clearly_leaves_no_workers_and_is_replaced(
    built_sites: Any,
) -> None:
    server = start_workers(2)
    assert server is not None
    policy = next(p for p in built_sites("primary").pdfs if p.filename == "policy.pdf")
    slow = server.submit(task("policy.pdf", policy.html))
    deadline = time.monotonic() + 30
    while len(children(server._process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = children(server._process.pid)
    assert len(workers) == 2
    server._process.kill()
    with pytest.raises(BuildError, match="stopped unexpectedly"):
        slow.result(timeout=60)
    deadline = time.monotonic() + 10
    while not all(gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(gone(pid) for pid in workers), "workers outlived their server"
    fresh = start_workers(2)
    assert fresh is not None and fresh is not server and fresh.alive()
    assert fresh.submit(task("after.pdf", TINY.format("after"))).result(timeout=60).pages == 1


def test_a_server_whose_pdfs_were_all_abandoned_is_ended_at_once(built_sites: Any) -> None:
    """A school that failed after its policy started: at exit nobody waits for the PDF."""
    server = start_workers(2)
    assert server is not None
    policy = next(p for p in built_sites("primary").pdfs if p.filename == "policy.pdf")
    slow = server.submit(task("policy.pdf", policy.html))
    assert slow.cancel()
    server.stop()
    assert server._process.exitcode == -signal.SIGKILL  # killed, not waited for
    fresh = start_workers(2)
    assert fresh is not None and fresh is not server and fresh.alive()


def test_a_script_without_a_main_guard_can_build_and_leaves_no_temporary_files(
    tmp_path: Path,
) -> None:
    """Workers are forked, not spawned: a trust's own script calling build() at the top
    level is not imported again in each worker. And nothing is left in the temporary
    folder (WeasyPrint copies fonts there; workers end without running finalisers)."""
    folder = tmp_path / "school"
    folder.mkdir()
    (folder / "school_config.yaml").write_bytes((ROOT / "school_config.yaml").read_bytes())
    (folder / "assets").mkdir()
    (folder / "assets" / "logo.svg").write_bytes((ROOT / "assets" / "logo.svg").read_bytes())
    script = tmp_path / "build_all.py"
    script.write_text(
        "from pathlib import Path\n"
        "from generator.build import build\n"
        f"result = build(Path({str(folder / 'school_config.yaml')!r}), workers=2)\n"
        "print(len(result.pdfs), 'PDFs')\n",
        encoding="utf-8",
    )
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(temporary)}
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "15 PDFs"
    assert list(temporary.iterdir()) == []


def test_a_build_that_stops_with_pdfs_still_queued_leaves_no_traceback(tmp_path: Path) -> None:
    """A build that ends early (an error in the main process, say) stops the server with
    PDFs still queued; the server cancels them quietly, and the user sees only the
    build's own one-line error."""
    script = tmp_path / "stop_early.py"
    script.write_text(
        "from generator.pdf import BASE_URL\n"
        "from generator.render import PdfTask\n"
        "from generator.workers import start_workers\n"
        "server = start_workers(2)\n"
        f"html = {TINY.format('<br>' * 300)!r}\n"
        "for i in range(8):\n"
        "    server.submit(PdfTask(f'{i}.pdf', html, BASE_URL, (), '0'))\n"
        "raise SystemExit('stopped early')\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "stopped early"


def test_a_worker_collects_each_documents_garbage_when_the_next_begins() -> None:
    """Workers keep the collector off and collect a document's cycles as the next one
    starts: the objects Python tracks do not grow from one document to the next."""
    script = (
        "import gc\n"
        "from generator.pdf import BASE_URL\n"
        "from generator.render import PdfTask, collect_when_the_next_document_starts, "
        "render_task\n"
        "collect_when_the_next_document_starts()\n"
        f"html = {TINY.format('<p>words</p>' * 200)!r}\n"
        "counts = []\n"
        "for i in range(12):\n"
        "    render_task(PdfTask('a.pdf', html, BASE_URL, (), '0'))\n"
        "    counts.append(len(gc.get_objects()))\n"
        "assert not gc.isenabled()\n"
        "garbage = counts[-1] - (gc.collect(0), len(gc.get_objects()))[1]\n"
        "print(counts[1], counts[-1], garbage)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
        check=True,
    )
    second, last, garbage = map(int, done.stdout.split())
    assert garbage > 2_000, "a document's garbage waits for the next to start"
    assert last - second < 1_000, "garbage from earlier documents was never collected"


def test_workers_inherit_the_font_configuration_made_before_they_are_forked(
    tmp_path: Path,
) -> None:
    """The server makes the font configuration once, before forking; each worker renders
    with it, adds the @font-face files to a folder of its own and removes that folder."""
    script = (
        "import multiprocessing, os, sys\n"
        "from generator import render\n"
        "from generator.pdf import BASE_URL\n"
        "render.prepare_for_workers()\n"
        "made = id(render._fonts)\n"
        "def work(_):\n"
        "    ready = id(render._fonts) == made and 'email.policy' in sys.modules\n"
        f"    pdf = render.render_task(render.PdfTask('a.pdf', {FONT_FACE!r}, BASE_URL, "
        f"({str(ROOT / 'templates')!r},), '0'))\n"
        "    folders = os.listdir(os.environ['TMPDIR'])\n"
        "    return ready and id(render._fonts) == made and pdf.pages == 1, folders\n"
        "pool = multiprocessing.get_context('fork').Pool(2)\n"
        "done = pool.map(work, range(4))\n"
        "pool.close()\n"
        "pool.join()\n"
        "print(all(ok for ok, _ in done), max(len(folders) for _, folders in done) > 0)\n"
    )
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(temporary)},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True", "True"]  # fonts were copied while rendering
    assert list(temporary.iterdir()) == []  # and each worker removed its own
