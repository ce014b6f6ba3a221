"""generator/workers.py: the PDF server and its workers, forked once WeasyPrint is loaded."""

from __future__ import annotations

import os
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
    assert done.stdout.strip() == "11 PDFs"
    assert list(temporary.iterdir()) == []
