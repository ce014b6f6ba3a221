"""Deep, call-heavy work without CPython's stack-chunk churn (python/cpython#142183).

CPython keeps Python frames in 16 KiB chunks of memory and unmaps a chunk as soon as the
frame that opened it returns (fixed in March 2026, in 3.13 and later only). WeasyPrint's
layout calls small functions in loops many levels deep, so whenever such a loop sits on
a chunk boundary every call maps and unmaps a fresh chunk: about 16,000 ``mmap`` and
``munmap`` pairs per school, each with a page fault: 4% of the time spent on its PDFs.

``call_in_big_chunk(fn, arg)`` calls ``fn(arg)`` from a frame that declares a large
evaluation stack. CPython gives such a frame a chunk of its own, rounded up to a power
of two (4 MiB here), and puts the frames it calls in the room left over (about 1.9 MB,
some 20,000 frames), so they never need another chunk. Only the pages the frames touch
are ever backed by memory; the chunk is returned when ``fn`` returns.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
A = TypeVar("A")

_STACK_SLOTS = 270_000  # 2.2 MB of declared stack: CPython rounds the chunk up to 4 MiB


def _call(function: Callable[[A], T], argument: A) -> T:
    return function(argument)


if sys.implementation.name == "cpython" and hasattr(_call.__code__, "replace"):
    _big_frame_call = types.FunctionType(
        _call.__code__.replace(co_stacksize=_STACK_SLOTS), _call.__globals__, "_call"
    )
else:  # other Pythons keep frames their own way
    _big_frame_call = _call


def call_in_big_chunk(function: Callable[[A], T], argument: A) -> T:
    """``function(argument)``, with its frames in one stack chunk that has room for them."""
    return _big_frame_call(function, argument)
