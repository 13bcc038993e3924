"""Failed logins slow down: per client and overall, each failure past a few doubling the wait."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

FREE_FAILURES = 5  # a client's failures before it has to wait: typos pass unhindered
MAX_WAIT = 300.0  # seconds: the longest one client is made to wait
FORGET_AFTER = 900.0  # seconds without a failure after which a client starts afresh
OVERALL_PER_MINUTE = 60  # failures from every client together before all of them wait
MAX_CLIENTS = 10_000  # clients remembered; past it, the forgotten ones are dropped


class Throttle:
    """How long each client must wait before its next login attempt. Guessing from one address
    slows to one try per MAX_WAIT; guessing from many hits the overall limit."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._clients: dict[str, tuple[int, float]] = {}  # client -> (failures, the last one)
        self._recent: deque[float] = deque()  # when each failure of the last minute happened
        self._lock = threading.Lock()

    def wait(self, client: str) -> float:
        """Seconds before `client` may try again; 0 when it may now."""
        now = self._clock()
        with self._lock:
            failures, last = self._clients.get(client, (0, now))
            own = last + backoff(failures) - now if now - last < FORGET_AFTER else 0.0
            self._forget_before(now - 60)
            overall = self._recent[0] + 60 - now if len(self._recent) >= OVERALL_PER_MINUTE else 0
            return max(own, overall, 0.0)

    def failed(self, client: str) -> int:
        """Count a failed attempt of `client`; its failures in a row."""
        now = self._clock()
        with self._lock:
            failures, last = self._clients.get(client, (0, now))
            failures = failures + 1 if now - last < FORGET_AFTER else 1
            self._clients[client] = (failures, now)
            self._recent.append(now)
            if len(self._clients) > MAX_CLIENTS:
                self._clients = {
                    key: value
                    for key, value in self._clients.items()
                    if now - value[1] < FORGET_AFTER
                }
            return failures

    def _forget_before(self, moment: float) -> None:
        while self._recent and self._recent[0] <= moment:
            self._recent.popleft()


def backoff(failures: int) -> float:
    """The wait after `failures` in a row: none for the first few, then 1 s, 2 s, 4 s…"""
    return 0.0 if failures < FREE_FAILURES else min(MAX_WAIT, 2.0 ** (failures - FREE_FAILURES))
