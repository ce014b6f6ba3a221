"""Benchmark: `make bench`. Not a test; it measures and reports, it never fails on speed.

Builds the default school in a scratch folder, each build a fresh ``esafety`` process as a
school would run it, and prints: the full build (median of a few); a rebuild with nothing
changed; a rebuild after editing one config value; a rebuild after editing one content
file; a batch of N schools in one run, against the same schools built one after another
just before it (this machine's speed drifts by 10% or more over minutes, so what is
compared is timed side by side); peak memory. Results are saved as JSON in bench/results/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ESAFETY = [sys.executable, "-m", "generator"]
RUNS = 5  # full builds timed; the median is reported (this VM drifts by 10% within minutes)


def timed_cli(args: list[str], cwd: Path, sample_every: float = 0.0) -> tuple[float, float]:
    """Run the CLI in a fresh process, as a school would: (seconds, peak memory in MB).

    With ``sample_every``, memory is sampled: the peak, over the run, of the proportional
    set size (PSS) summed over the command and every process under it (the PDF server and
    its workers), so pages shared between forked processes count once. Sampling costs CPU,
    so runs that are timed for the report sample rarely or not at all.
    """
    start = time.perf_counter()
    child = subprocess.Popen(
        ESAFETY + args,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    sampler = MemorySampler(child.pid, sample_every) if sample_every else None
    if sampler:
        sampler.start()
    status = child.wait()
    seconds = time.perf_counter() - start
    if sampler:
        sampler.stop()
    if status != 0:
        raise SystemExit(f"bench: esafety {' '.join(args)} failed")
    return seconds, sampler.peak_mb if sampler else 0.0


class MemorySampler(threading.Thread):
    """Polls /proc for the total PSS of a process and its descendants."""

    def __init__(self, pid: int, every: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak_mb, self._done = pid, every, 0.0, threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.every):
            total = sum(_pss_kb(pid) for pid in _tree(self.pid))
            self.peak_mb = max(self.peak_mb, total / 1024)

    def stop(self) -> None:
        self._done.set()
        self.join()


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for path in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):  # the process has just ended
                todo += [int(p) for p in path.read_text().split()]
    return found


def _pss_kb(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    return sum(int(line.split()[1]) for line in text.splitlines() if line.startswith("Pss:"))


def rendered_by(config: Path, args: list[str], cwd: Path) -> tuple[float, list[str]]:
    """Time a rebuild and list the PDFs it rendered (new entries in the PDF cache)."""
    folder = config.parent / ".esafety-cache" / "pdf"
    before = set(folder.glob("*.json"))
    seconds, _ = timed_cli(args, cwd)
    new = sorted(set(folder.glob("*.json")) - before)
    return seconds, sorted(json.loads(p.read_text())["file"] for p in new)


def fresh_build(config: Path, cwd: Path, sample_every: float = 0.0) -> tuple[float, float]:
    """A full build: no cached PDFs and no previous site."""
    shutil.rmtree(config.parent / ".esafety-cache", ignore_errors=True)
    shutil.rmtree(config.parent / "site", ignore_errors=True)
    return timed_cli(["build", "--config", str(config)], cwd, sample_every)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    if old not in text:
        raise SystemExit(f"bench: cannot find {old!r} in {path}")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=20, help="schools in the batch")
    parser.add_argument(
        "--large-batch",
        type=int,
        default=0,
        metavar="N",
        help="measure only one run of `esafety build FOLDER --site-dir` over N schools "
        "(e.g. 100, as a trust or local authority would): time, time per school, memory",
    )
    args = parser.parse_args()
    if args.large_batch:
        large_batch(args.large_batch)
        return

    work = Path(tempfile.mkdtemp(prefix="esafety-bench-"))
    try:
        school = work / "school"
        school.mkdir()
        shutil.copy(ROOT / "school_config.yaml", school)
        shutil.copytree(ROOT / "assets", school / "assets")
        config = school / "school_config.yaml"

        results: dict[str, object] = {
            "machine": platform.node(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": os.getloadavg()[0],
        }
        fresh_build(config, work)  # warm the OS file cache and compiled templates
        fulls = [fresh_build(config, work)[0] for _ in range(RUNS)]
        _, full_memory = fresh_build(config, work, sample_every=0.05)  # not timed
        command = ["build", "--config", str(config)]
        original = config.read_text(encoding="utf-8")
        unchanged, unchanged_pdfs = rendered_by(config, command, work)
        edit(config, 'approved_by: "Full Governing Board"', 'approved_by: "Governing Board"')
        config_edit, config_pdfs = rendered_by(config, command, work)

        # One content file edited: a school's override of the SMART tips.
        override = school / "overrides" / "content"
        override.mkdir(parents=True)
        shutil.copy(ROOT / "content" / "smart.yaml", override / "smart.yaml")
        edit(override / "smart.yaml", "It is never too late to tell.", "It is never too late.")
        content_edit, content_pdfs = rendered_by(config, command, work)
        config.write_text(original, encoding="utf-8")  # as it was for the full builds
        shutil.rmtree(override)

        batch = batch_build(work, args.schools)
        full = statistics.median(fulls)
        results.update(
            {
                "full_build_s": full,
                "full_build_runs_s": fulls,
                "rebuild_unchanged_s": unchanged,
                "rebuild_unchanged_over_full": unchanged / full,
                "rebuild_unchanged_rendered": unchanged_pdfs,
                "rebuild_config_edit_s": config_edit,
                "rebuild_config_edit_rendered": config_pdfs,
                "rebuild_content_edit_s": content_edit,
                "rebuild_content_edit_rendered": content_pdfs,
                "batch": batch,
                "batch_over_one_by_one": batch["seconds"] / batch["one_by_one_s"],
                "peak_memory_mb": {"full_build": full_memory, "batch": batch["peak_mb"]},
            }
        )
        report(results)
        save(results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def batch_build(work: Path, count: int) -> dict[str, float]:
    """``count`` schools built one by one (``esafety build --config``, a full build each,
    as a trust without batches would), then in one run of ``esafety build FOLDER`` (one
    pool of PDF workers), timed; then that run again with its memory sampled. The one-by-
    one builds run just before the batch and for as long, so both meet the machine in the
    same state (in its fast phases a lone 3-second build runs faster than sustained work)."""
    trust = work / "trust"
    folders = make_trust(work, count)
    one_by_one = [fresh_build(folder / "school_config.yaml", work)[0] for folder in folders]
    _clear(folders)
    seconds, _ = timed_cli(["build", str(trust)], work)
    _clear(folders)  # again from nothing, its memory sampled (not timed)
    _, memory = timed_cli(["build", str(trust)], work, sample_every=0.25)
    return {
        "schools": count,
        "seconds": seconds,
        "one_by_one_s": sum(one_by_one),
        "one_by_one_runs_s": one_by_one,
        "peak_mb": memory,
    }


def make_trust(work: Path, count: int) -> list[Path]:
    """``count`` copies of the default school in work/trust/, each with its own name."""
    base = (ROOT / "school_config.yaml").read_text(encoding="utf-8")
    folders = [work / "trust" / f"school-{i + 1:03d}" for i in range(count)]
    for i, folder in enumerate(folders):
        folder.mkdir(parents=True)
        shutil.copytree(ROOT / "assets", folder / "assets")
        (folder / "school_config.yaml").write_text(
            base.replace("Willowbank Primary School", f"Willowbank Primary School {i + 1}"),
            encoding="utf-8",
        )
    return folders


def large_batch(count: int) -> None:
    """One timed run of ``esafety build trust/ --site-dir out`` over ``count`` schools,
    its memory sampled every half second (a run of minutes; the sampling costs little)."""
    work = Path(tempfile.mkdtemp(prefix="esafety-bench-"))
    try:
        make_trust(work, count)
        out = work / "out"
        seconds, memory = timed_cli(
            ["build", str(work / "trust"), "--site-dir", str(out)], work, sample_every=0.5
        )
        built = sum(1 for folder in out.iterdir() if (folder / "index.html").is_file())
        result = {
            "machine": platform.node(),
            "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg()[0],
            "large_batch": {
                "schools": count,
                "built": built,
                "seconds": seconds,
                "seconds_per_school": seconds / count,
                "peak_mb": memory,
                "index_page": (out / "index.html").is_file(),
            },
        }
        print(  # noqa: T201
            f"batch of {count} schools in one run  {seconds:.1f} s = "
            f"{seconds / count:.2f} s per school; {built} built; peak memory {memory:.0f} MB"
        )
        folder = ROOT / "bench" / "results"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        (folder / f"large-batch-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _clear(folders: list[Path]) -> None:
    for folder in folders:
        shutil.rmtree(folder / ".esafety-cache", ignore_errors=True)
        shutil.rmtree(folder / "site", ignore_errors=True)


def report(r: dict) -> None:
    lines = [
        f"full build                 {r['full_build_s']:.2f} s  (target < 4)",
        f"rebuild, nothing changed   {r['rebuild_unchanged_s']:.2f} s = "
        f"{r['rebuild_unchanged_over_full']:.2f} x full  (target < 0.35)",
        f"rebuild, one config edit   {r['rebuild_config_edit_s']:.2f} s, rendered "
        f"{_names(r['rebuild_config_edit_rendered'])}",
        f"rebuild, one content edit  {r['rebuild_content_edit_s']:.2f} s, rendered "
        f"{_names(r['rebuild_content_edit_rendered'])}",
        f"batch of {r['batch']['schools']} schools        {r['batch']['seconds']:.2f} s = "
        f"{r['batch_over_one_by_one']:.2f} x the same schools built one by one "
        f"({r['batch']['one_by_one_s']:.2f} s)  (target <= 1)",
        f"peak memory, all processes {r['peak_memory_mb']['full_build']:.0f} MB full build, "
        f"{r['peak_memory_mb']['batch']:.0f} MB batch  (target < 400)",
    ]
    print("\n".join(lines))  # noqa: T201


def _names(files: list[str]) -> str:
    return ", ".join(files) if files else "nothing"


def save(r: dict) -> None:
    folder = ROOT / "bench" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (folder / f"bench-{stamp}.json").write_text(json.dumps(r, indent=2) + "\n")
    (folder / "latest.json").write_text(json.dumps(r, indent=2) + "\n")


if __name__ == "__main__":
    main()
