"""Kill a writer at random moments, many times, and check what it leaves (a test helper).

The writer runs in a forked child (no interpreter start or imports per kill, so a
hundred kills take seconds): it writes version A, then B, then A ... over the same
target until it is SIGKILLed at a random moment. After each kill the target must be
exactly one whole version (or absent, before the first write ever finished).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Callable


def _loop(write: Callable[[int], None], ready) -> None:
    k = 0
    ready.set()
    while True:
        write(k % 2)
        k += 1


def kill_at_random(write: Callable[[int], None], read: Callable[[], object], versions: dict[int, object], *, kills: int = 100,
                   max_delay: float = 0.03, seed: int = 0) -> Counter:
    """SIGKILL a child looping ``write(0)``, ``write(1)`` ... ``kills`` times at random moments.

    After each kill ``read()`` must equal ``versions[0]`` or ``versions[1]``, or, only before
    any write has finished, ``versions[None]`` (the state before: default ``None``, absent).
    Returns how often each was found, so a test can check the kills landed at different moments.
    """
    rng = random.Random(seed)
    context = multiprocessing.get_context("fork")
    seen: Counter = Counter()
    for _ in range(kills):
        ready = context.Event()
        child = context.Process(target=_loop, args=(write, ready), daemon=True)
        child.start()
        ready.wait(10)
        time.sleep(rng.uniform(0, max_delay))
        os.kill(child.pid, signal.SIGKILL)
        child.join(10)
        found = read()
        match = [k for k, v in versions.items() if k is not None and v == found]
        written = any(k is not None for k in seen)
        before = found == versions.get(None) and not written  # killed before the first write ended
        assert match or before, f"after a kill the target is neither version: {str(found)[:200]!r}"
        seen[match[0] if match else None] += 1
    return seen
