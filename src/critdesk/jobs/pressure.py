"""Whether the processors of this host are taken by others: the embedded job runner's signal to
let routine notifications and sweeps wait while the requests need the processors.

``critdesk serve --workers N`` runs its job runner as a process beside the API workers. Its
lower CPU priority alone (``nice``) does not keep it out of their way under a burst: on two
cores it still took about a third of a core sending the burst's e-mails as they came, and
creation at 16 clients ran at 363 req/s with p99 113 ms against 582 req/s and 60 ms without
it (bench/RESULTS.md, session 7). While the host's processors are busy with other processes'
work, routine notifications (e-mail, in-app, webhooks) and the non-SLA sweeps therefore wait,
for at most ``outbox_routine_hold_seconds``; SLA warnings and breaches never do
(notification.jobs.deliver_due, jobs.periodic.EmbeddedRunner).

The measure is the share of the host's processor time, over the last interval, that other
processes used of what this one left them (Linux ``/proc/stat``, less this process's own CPU
time on both sides): the 16-client burst on two cores keeps it at 0.85-1, an idle host near
0. Leaving the runner's own time out of both keeps its sending from lowering the measure (the
workers it slows would seem to need less) and from holding itself up. In a single-process
``critdesk serve`` the runner is a thread of the API's own process, whose requests then count
as the runner's: there the hold answers to other processes' load only. Where ``/proc/stat``
cannot be read (another OS) the host is never considered busy and the runner behaves as
before.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)

PROC_STAT = Path("/proc/stat")
# A shorter interval is too noisy to judge; after a longer one the reading describes an older
# past than the next batch will meet, so a fresh interval is measured first.
MIN_INTERVAL_SECONDS = 0.25
MAX_INTERVAL_SECONDS = 5.0


class Sample(NamedTuple):
    at: float  # monotonic seconds
    busy: float  # the host's busy processor-seconds, all processors, since boot
    total: float  # the host's processor-seconds, busy or idle, since boot
    own: float  # this process's CPU seconds


def read_stat(text: str, ticks_per_second: float) -> tuple[float, float] | None:
    """(busy, total) processor-seconds of all processors from ``/proc/stat``'s ``cpu`` line:
    idle and waiting for I/O are not busy; steal is not the host's to use, so not counted."""
    for line in text.splitlines():
        name, *values = line.split()
        if name != "cpu":
            continue
        try:
            ticks = [int(v) for v in values[:8]]
        except ValueError:
            return None
        if len(ticks) < 4:
            return None
        ticks += [0] * (8 - len(ticks))
        user, nice, system, idle, iowait, irq, softirq, _steal = ticks
        busy = user + nice + system + irq + softirq
        return busy / ticks_per_second, (busy + idle + iowait) / ticks_per_second
    return None


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


class HostLoad:
    """``busy()``: whether, over the last interval, other processes kept at least
    ``threshold`` of the host's processor time busy (of the time this process left them)."""

    def __init__(
        self,
        threshold: float,
        *,
        path: Path = PROC_STAT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        own_cpu: Callable[[], float] = _own_cpu,
        ticks_per_second: float | None = None,
    ) -> None:
        self.threshold = threshold
        self.path = path
        self.clock, self.sleep, self.own_cpu = clock, sleep, own_cpu
        self.ticks = ticks_per_second or float(os.sysconf("SC_CLK_TCK"))
        self._last: Sample | None = None
        self._share: float | None = None
        self._was = False

    def _sample(self) -> Sample | None:
        try:
            read = read_stat(self.path.read_text(), self.ticks)
        except OSError:
            return None
        if read is None:
            return None
        return Sample(self.clock(), read[0], read[1], self.own_cpu())

    def others_share(self) -> float | None:
        """Other processes' share of the processor time this one left them over the last
        interval; None where the host does not say."""
        last = self._last
        if last is None or self.clock() - last.at > MAX_INTERVAL_SECONDS:
            # Nothing recent to measure from: a fresh interval (the runner can wait that long).
            last = self._sample()
            if last is None:
                return None
            self.sleep(MIN_INTERVAL_SECONDS)
        elif self.clock() - last.at < MIN_INTERVAL_SECONDS and self._share is not None:
            return self._share  # too soon to tell anew: the last interval's share stands
        now = self._sample()
        if now is None:
            return None
        self._last = now
        own = now.own - last.own
        # Of the processor time this process left to the others, how much they used: while
        # the runner sends, the workers get less, and their share of the whole would fall
        # under the threshold because of the runner itself.
        left = (now.total - last.total) - own
        if left <= 0:
            return self._share
        others = (now.busy - last.busy) - own
        self._share = min(1.0, max(0.0, others / left))
        return self._share

    def busy(self) -> bool:
        share = self.others_share()
        busy = share is not None and share >= self.threshold
        if busy != self._was:
            self._was = busy
            if busy:
                log.info(
                    "the processors are %.0f%% busy with other work: routine notifications "
                    "and sweeps wait",
                    100 * (share or 0.0),
                )
            else:
                log.info("the processors are free again: routine notifications go out")
        return busy
