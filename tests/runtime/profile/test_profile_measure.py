from __future__ import annotations

import itertools
import threading
import time

import pytest

from archc.errors import ProfileError
from archc.runtime.profile import measure
from archc.runtime.profile.measure import Protocol, quartiles, time_runs

from helpers import fresh_python


class FakeClock:
    """perf_counter that only moves when the workload runs, by the durations given."""

    def __init__(self, durations: list[float]) -> None:
        self.now = 0.0
        self.durations = itertools.cycle(durations)

    def perf_counter(self) -> float:
        return self.now

    def run(self) -> None:
        self.now += next(self.durations)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    c = FakeClock([0.010])
    monkeypatch.setattr(measure.time, "perf_counter", c.perf_counter)
    return c


def test_a_steady_workload_stops_once_the_median_settles(clock: FakeClock) -> None:
    p = Protocol(warmup=2, min_repeats=5, max_repeats=100, check_every=5)
    samples, stable = time_runs(clock.run, p)
    assert stable
    assert len(samples) == 10  # min repeats, then one more check window confirms the median
    assert all(s == pytest.approx(0.010) for s in samples)


def test_a_noisy_workload_runs_until_the_time_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    c = FakeClock([0.001, 0.010, 0.002, 0.020])
    monkeypatch.setattr(measure.time, "perf_counter", c.perf_counter)
    p = Protocol(warmup=0, min_repeats=4, max_repeats=10_000, time_cap_s=0.5)
    samples, stable = time_runs(c.run, p)
    assert not stable
    assert 0.5 <= sum(samples) <= 0.55


def test_min_repeats_are_always_taken(clock: FakeClock) -> None:
    samples, _ = time_runs(clock.run, Protocol(warmup=0, min_repeats=7, time_cap_s=1e-9))
    assert len(samples) == 7


def test_measure_reports_median_iqr_and_protocol(clock: FakeClock) -> None:
    m = measure.measure(clock.run, Protocol(warmup=0, min_repeats=3), {"threads": 1, "warmup": 0, "x": "y"})
    assert m.kind == "measured"
    assert m.median_ms == pytest.approx(10.0)
    assert m.iqr_ms == pytest.approx(0.0)
    figure = m.to_json()
    assert figure["label"] == "measured" and figure["threads"] == 1 and figure["repeats"] == m.repeats


def test_a_failing_workload_is_a_profile_error() -> None:
    def boom() -> None:
        raise RuntimeError("no kernel for op X")

    with pytest.raises(ProfileError, match="no kernel for op X"):
        measure.measure(boom, Protocol(warmup=0, min_repeats=1), {})


def test_quartiles_and_protocol_checks() -> None:
    assert quartiles([1.0, 2.0, 3.0, 4.0, 5.0]) == (2.0, 3.0, 4.0)
    assert quartiles([2.0]) == (2.0, 2.0, 2.0)
    with pytest.raises(ValueError, match="threads"):
        Protocol(threads=0)


def test_machine_record_names_the_cpu() -> None:
    info = measure.machine()
    assert info["logical_cpus"] and info["python"] and info["cpu"]


def test_the_cpu_clock_times_by_process_time(monkeypatch: pytest.MonkeyPatch) -> None:
    c = FakeClock([0.004])
    monkeypatch.setattr(measure.time, "process_time", c.perf_counter)
    samples, _ = time_runs(c.run, Protocol(warmup=0, min_repeats=3, max_repeats=3, clock="cpu"))
    assert samples == pytest.approx([0.004] * 3)
    with pytest.raises(ValueError, match="only with 1 thread"):
        Protocol(threads=2, clock="cpu")


THREAD_SHARES = """
import threading, time
from archc.runtime.profile.measure import Protocol, measure

def busy(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass

def elsewhere():
    worker = threading.Thread(target=busy, args=(0.004,))
    worker.start()
    worker.join()

p = Protocol(warmup=0, min_repeats=10, max_repeats=10)
shares = [measure(run, p, {}).extra["other_threads_pct"] for run in (elsewhere, lambda: busy(0.004))]
print(*shares)
"""


def test_work_on_another_thread_shows_in_the_measurement() -> None:
    """A runtime that hands its work to a pool the protocol did not pin (ExecuTorch on PyTorch's
    intra-op pool) is not a 1-thread timing, and the CPU clock would count the pool's ticks. In a
    fresh process: the suite's own processes keep threads of earlier tests."""
    elsewhere, here = map(float, fresh_python(THREAD_SHARES, timeout=120)[-2:])
    assert elsewhere > 50 and here < 20


def _busy(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_a_one_thread_timing_on_other_threads_warns() -> None:
    def elsewhere() -> None:
        worker = threading.Thread(target=_busy, args=(0.004,))
        worker.start()
        worker.join()

    with pytest.warns(RuntimeWarning, match="other threads"):
        measure.measure(elsewhere, Protocol(warmup=0, min_repeats=5, max_repeats=5), {})
