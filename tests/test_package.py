"""The package as a school gets it: a wheel installed in a fresh virtual environment, used
from a folder with no checkout in sight."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pypdf
from conftest import ROOT


def run(*args: str | Path, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_wheel_installs_and_builds_a_new_school_anywhere(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, ROOT, cwd=tmp_path)
    (wheel,) = wheels.glob("esafety_pack-*.whl")
    env_dir = tmp_path / "env"
    venv.create(env_dir)
    bin_dir = env_dir / "bin"
    # The dependencies are this environment's (a .pth file adds its site-packages after
    # the new environment's own, whose .pth files, our editable install's among them, are
    # not read): the wheel's own files are what is tested, without a minute of downloads.
    (own,) = env_dir.glob("lib/python*/site-packages")
    (own / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    pip = (sys.executable, "-m", "pip", "--python", bin_dir / "python")
    run(*pip, "install", "-q", "--no-deps", wheel, cwd=tmp_path)

    elsewhere = tmp_path / "schools"
    elsewhere.mkdir()
    run(bin_dir / "esafety", "new", "myschool", cwd=elsewhere)
    school = elsewhere / "myschool"
    run(bin_dir / "esafety", "build", cwd=school)

    site = school / "site"
    assert (site / "index.html").is_file()
    assert (site / "parents" / "index.html").is_file()
    policy = pypdf.PdfReader(site / "downloads" / "policy.pdf")
    assert len(policy.pages) > 10
    where = run(bin_dir / "python", "-c", "import generator; print(generator.__file__)", cwd=school)
    assert Path(where.strip()).is_relative_to(env_dir)  # the installed copy, not the checkout
