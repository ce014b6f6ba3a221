"""generator/pool.py: the PDF workers are a standard process pool that cleans up after
itself and recovers when a worker dies."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from conftest import ROOT

from generator import pool
from generator.render import PdfTask

PAGE = "<html lang='en'><head><title>t</title></head><body><p>A page</p></body></html>"


def test_a_dead_worker_breaks_one_pool_and_the_next_pdf_gets_a_new_one() -> None:
    broken = pool.start_workers(2)
    broken.submit(os._exit, 1).exception()  # a worker dies, as one killed would
    pdf = pool.submit(2, PdfTask("a.pdf", PAGE, "file:///", (), "0")).result(timeout=120)
    assert pdf.pages == 1 and pdf.data.startswith(b"%PDF")
    assert pool.start_workers(2) is not broken


def test_a_build_leaves_no_temporary_files(make_school: Any) -> None:
    """WeasyPrint copies the @font-face fonts into temporary folders; the workers put them
    in the pool's own scratch folder, removed when the command ends."""
    config = make_school(cached=False)
    # A short path: the fork server's socket lives in the temporary folder, and a Unix
    # socket's path must be under 108 bytes (pytest's own folders can be longer).
    scratch = Path(tempfile.mkdtemp(prefix="esafety-tmp-"))
    script = (
        "from pathlib import Path\n"
        "from generator.build import build\n"
        f"build(Path({str(config)!r}), use_cache=False)\n"
    )
    env = {**os.environ, "TMPDIR": str(scratch), "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=600)
    assert (config.parent / "site" / "downloads" / "policy.pdf").is_file()
    left = list(scratch.iterdir())
    shutil.rmtree(scratch)
    assert left == []
