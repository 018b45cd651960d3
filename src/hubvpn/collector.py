"""The process's garbage collector, set for commands that build many short-lived objects.

A command on a large lab builds hundreds of thousands of short-lived objects (SDK models
of every answer, routing paths) and almost no reference cycles. CPython's defaults start
a young collection every 700 allocations and, every hundred of those, a full one that
scans everything alive — including the ~120,000 objects the Azure SDK's modules leave
after import: a 20-hub ``status`` spent 10–20 % of its CPU there (benchmarks/bench.py,
interleaved runs). Once the SDK is loaded, ``settle()`` freezes what exists (kept out of
every later collection; modules and classes live as long as the process anyway) and
collects the young generation every ``YOUNG_EVERY`` allocations. Cycles are still
collected, only less often::

    settle()   # once the SDK clients exist (azure.connect); later calls do nothing
"""

from __future__ import annotations

import gc
import threading

YOUNG_EVERY = 50_000  # allocations between young collections (CPython's default: 700)
OLDER_EVERY = (20, 100)  # young collections per middle one, middle per full (10, 10)

_lock = threading.Lock()
_settled = False


def settle() -> None:
    """Freeze what exists and collect less often; once per process."""
    global _settled
    with _lock:
        if _settled:
            return
        _settled = True
        gc.freeze()
        gc.set_threshold(YOUNG_EVERY, *OLDER_EVERY)
