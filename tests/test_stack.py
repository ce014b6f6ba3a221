"""generator.stack: deep work runs in one big stack chunk, without mapping a chunk per call."""

from __future__ import annotations

import resource
import sys

import pytest

from generator.stack import call_in_big_chunk

CALLS = 1000


def _leaf() -> None:
    pass


def _loop_at_depth(depth: int) -> None:
    if depth:
        return _loop_at_depth(depth - 1)
    for _ in range(CALLS):
        _leaf()


def _loops_at_every_depth(_: object = None) -> None:
    """Some depth lies on a chunk boundary: every call of ``_leaf`` there needs a new chunk."""
    for depth in range(400):
        _loop_at_depth(depth)


def _page_faults(work: object) -> int:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    work()  # type: ignore[operator]
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_returns_the_result_and_raises_the_error() -> None:
    assert call_in_big_chunk(len, "four") == 4
    with pytest.raises(ZeroDivisionError):
        call_in_big_chunk(lambda n: 1 / n, 0)


@pytest.mark.skipif(sys.implementation.name != "cpython", reason="CPython's frame stack")
def test_calls_on_a_chunk_boundary_do_not_map_memory_each_time() -> None:
    _loops_at_every_depth()  # warm: imports, caches
    plain = _page_faults(_loops_at_every_depth)
    big = _page_faults(lambda: call_in_big_chunk(_loops_at_every_depth, None))
    if sys.version_info < (3, 13):  # the interpreters that unmap a chunk on every return
        assert plain > CALLS // 2, "the churn this module works around did not happen"
    assert big < 100, f"{big} page faults in one big chunk ({plain} without it)"
