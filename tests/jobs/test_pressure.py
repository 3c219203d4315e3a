"""The host-load measure the embedded runner holds routine work by (jobs/pressure.py), and the
schedule that lets the other sweeps wait while the host is busy."""

from __future__ import annotations

from pathlib import Path

import pytest

from critdesk.jobs.periodic import _Schedule
from critdesk.jobs.pressure import MIN_INTERVAL_SECONDS, HostLoad, read_stat

# /proc/stat's first line: user nice system idle iowait irq softirq steal (ticks of 1/100 s).
STAT = "cpu  {user} 0 {system} {idle} {iowait} 0 0 7\ncpu0 1 2 3 4 5 6 7 8\nintr 1 2 3\n"


def test_the_cpu_line_gives_busy_and_total_processor_seconds() -> None:
    text = STAT.format(user=300, system=100, idle=500, iowait=100)
    assert read_stat(text, 100) == (4.0, 10.0)  # steal counted neither busy nor available
    assert read_stat("intr 1 2\n", 100) is None
    assert read_stat("cpu  a b c d\n", 100) is None


class FakeHost:
    """A /proc/stat whose figures the test moves, a clock and this process's CPU time."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "stat"
        self.now = 1000.0
        self.busy = 0  # ticks, all processors
        self.idle = 0
        self.own = 0.0  # seconds
        self.slept: list[float] = []
        self.write()

    def write(self) -> None:
        self.path.write_text(STAT.format(user=self.busy, system=0, idle=self.idle, iowait=0))

    def run(self, seconds: float, *, others: float, own: float, processors: int = 2) -> None:
        """``seconds`` pass: other processes keep ``others`` processors busy, this one ``own``."""
        self.now += seconds
        self.busy += round((others + own) * seconds * 100)
        self.idle += round((processors - others - own) * seconds * 100)
        self.own += own * seconds
        self.write()

    def load(self, threshold: float = 0.75) -> HostLoad:
        def sleep(seconds: float) -> None:
            self.slept.append(seconds)
            self.run(seconds, others=self.others_while_asleep, own=0.0)

        self.others_while_asleep = 0.0
        return HostLoad(
            threshold,
            path=self.path,
            clock=lambda: self.now,
            sleep=sleep,
            own_cpu=lambda: self.own,
            ticks_per_second=100,
        )


@pytest.fixture
def measured(tmp_path: Path) -> tuple[FakeHost, HostLoad]:
    """A host and its load with a first reading taken (and the fresh interval it slept)."""
    host = FakeHost(tmp_path)
    load = host.load()
    load.others_share()
    return host, load


def test_a_busy_host_is_told_from_an_idle_one(tmp_path: Path) -> None:
    host = FakeHost(tmp_path)
    load = host.load()
    # Nothing measured yet: a fresh interval first (the runner can wait that long).
    host.others_while_asleep = 1.9
    assert load.busy() is True
    assert host.slept == [MIN_INTERVAL_SECONDS]
    host.run(1.0, others=0.2, own=0.0)
    assert load.others_share() == pytest.approx(0.1)
    assert load.busy() is False


def test_the_runners_own_work_neither_hides_the_others_nor_holds_itself(
    measured: tuple[FakeHost, HostLoad],
) -> None:
    host, load = measured
    # The runner sends on one of two processors; the workers have only the other, and use it
    # all: of what the runner left them, they used everything.
    host.run(1.0, others=1.0, own=1.0)
    assert load.busy() is True
    # The runner alone on a quiet host does not count as a busy host.
    host.run(1.0, others=0.05, own=1.0)
    assert load.busy() is False


def test_asked_again_too_soon_the_last_share_stands(measured: tuple[FakeHost, HostLoad]) -> None:
    host, load = measured
    host.run(1.0, others=1.8, own=0.0)
    assert load.others_share() == pytest.approx(0.9)
    host.run(0.05, others=0.0, own=0.0)
    assert load.others_share() == pytest.approx(0.9)  # 50 ms say too little to judge
    assert host.slept == [MIN_INTERVAL_SECONDS]
    # After a long pause the old reading is stale: a fresh interval is measured.
    host.run(60.0, others=0.0, own=0.0)
    host.others_while_asleep = 2.0
    assert load.others_share() == pytest.approx(1.0)
    assert len(host.slept) == 2


def test_without_proc_stat_the_host_is_never_busy(tmp_path: Path) -> None:
    load = HostLoad(0.75, path=tmp_path / "missing", sleep=lambda _s: None)
    assert load.others_share() is None
    assert load.busy() is False


def test_the_real_host_gives_a_share_between_0_and_1() -> None:
    if not Path("/proc/stat").exists():
        pytest.skip("no /proc/stat here")
    share = HostLoad(0.75).others_share()
    assert share is not None and 0.0 <= share <= 1.0


def test_a_holdable_schedule_waits_while_the_host_is_busy_but_not_for_ever() -> None:
    busy = [True]
    runs: list[float] = []
    schedule = _Schedule(30.0, lambda: runs.append(1), hold=lambda: busy[0], held_at_most=30.0)
    assert schedule.due(0.0) is False  # due, but the host is busy: held
    assert schedule.due(10.0) is False
    busy[0] = False
    assert schedule.due(12.0) is True  # the host is free again: runs
    schedule.last = 12.0
    busy[0] = True
    assert schedule.due(20.0) is False  # not due yet at all
    assert schedule.due(42.0) is False  # due, held
    assert schedule.due(71.0) is False
    assert schedule.due(72.0) is True  # held its 30 s: runs whatever the load
    plain = _Schedule(10.0, lambda: None)
    assert plain.due(0.0) is True
