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

    The parent writes version 1 then 0 first (timing them, so the kills spread over a few
    writes however loaded the machine is); after each kill ``read()`` must equal
    ``versions[0]`` or ``versions[1]``. Returns how often each was found (the first count of
    version 0 is the parent's), so a test can check the kills landed at different moments.
    """
    rng = random.Random(seed)
    context = multiprocessing.get_context("fork")
    seen: Counter = Counter()
    # Kills spread over about three writes of this machine now: under load a write slows
    # down, and fixed delays would all land before the first one ends, proving nothing.
    began = time.perf_counter()
    write(1)
    write(0)
    max_delay = max(max_delay, 1.5 * (time.perf_counter() - began))
    seen[0] += 1  # the state every child starts from
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
        assert match, f"after a kill the target is neither version: {str(found)[:200]!r}"
        seen[match[0]] += 1
    return seen
