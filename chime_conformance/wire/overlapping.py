"""Several requests at once: how the suite makes requests overlap on the target.

API fuzzers send one request at a time, so a rule that breaks only when two
requests overlap (two creates of one id, two writers of one tag set) is never
seen. :func:`send_together` releases up to :data:`MAX_TOGETHER` requests from
as many threads through one barrier, so they reach the target within a few
milliseconds of each other, and returns their exchanges in the order given.
The threads are kept between calls (the client keeps one connection per
thread), so overlapping costs no new connections. Nothing here knows the
contract: judging the combined outcome is ``chime_conformance.checks.overlap``'.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chime_conformance.wire.exchange import Exchange

__all__ = ["MAX_TOGETHER", "Call", "send_together"]

MAX_TOGETHER = 8
# a thread that never reaches the barrier (the pool is busy elsewhere) must not
# hang the run: past this, the others go anyway, overlapping less
BARRIER_TIMEOUT = 10.0

Call = Callable[[str, Mapping[str, Any]], Exchange]

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _threads() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(MAX_TOGETHER, thread_name_prefix="chime-overlap")
        return _pool


def send_together(
    call: Call, requests: Sequence[tuple[str, Mapping[str, Any]]], *, stagger: float = 0.0
) -> list[Exchange]:
    """Send every ``(operation, members)`` of ``requests`` with ``call`` at
    once, from threads of their own; their exchanges, in the order given.
    ``stagger``: the n-th request leaves n × that many seconds after the first
    (still overlapping it), for a race that needs the first to be under way."""
    if not 2 <= len(requests) <= MAX_TOGETHER:
        raise ValueError(f"send_together takes 2 to {MAX_TOGETHER} requests, got {len(requests)}")
    barrier = threading.Barrier(len(requests))

    def send(operation: str, members: Mapping[str, Any], delay: float) -> Exchange:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(BARRIER_TIMEOUT)
        if delay:
            time.sleep(delay)
        return call(operation, dict(members))

    pool = _threads()
    futures = [
        pool.submit(send, operation, members, number * stagger)
        for number, (operation, members) in enumerate(requests)
    ]
    return [future.result() for future in futures]
