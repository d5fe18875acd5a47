"""The Ray backend on a real local cluster (started once per session, 127.0.0.1 only)."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from archc.errors import DataError, ProgressLostWarning
from archc.runtime.cluster import ClusterError, Executor, Resources, WorkerSetup, open_executor

import cluster_work
from cluster_work import die_once, fail_on_three, garbled_progress, square_plus, threads, user_error
from ray_helpers import STANDIN_PHONE


def _executor(ray_cluster: str, mp: pytest.MonkeyPatch) -> Iterator[Executor]:
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(cluster_work)  # tests/ is not importable on the workers
    mp.setenv("RAY_ADDRESS", ray_cluster)
    with open_executor("ray", setup=WorkerSetup(threads=1)) as ex:
        yield ex


@pytest.fixture(scope="module")
def ray_ex(ray_cluster: str) -> Iterator[Executor]:
    """One driver for the tests that leave its progress channel whole (its workers serve them all)."""
    with pytest.MonkeyPatch.context() as mp:
        yield from _executor(ray_cluster, mp)


@pytest.fixture
def fresh_ray_ex(ray_cluster: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Executor]:
    """An executor of its own (its own progress actor; the connection is shared while the module's
    executor is open), for a test whose progress channel may be lost."""
    yield from _executor(ray_cluster, monkeypatch)


def test_items_run_as_tasks_with_results_and_progress(ray_ex: Executor) -> None:
    events: list[object] = []
    results = dict(ray_ex.map_unordered(square_plus, [1, 2, 3, 4], shared=10, on_progress=events.append))
    assert results == {0: 11, 1: 14, 2: 19, 3: 26}
    assert sorted(events) == [("item", 1), ("item", 2), ("item", 3), ("item", 4)]  # type: ignore[type-var]
    assert ray_ex.describe()["cluster"] == "ray" and ray_ex.workers == 2


def test_progress_events_that_cannot_travel_cost_those_lines_only(fresh_ray_ex: Executor) -> None:
    # An event that cannot be unpickled fails in the queue actor (Ray loads an actor call's
    # arguments there) and a lambda fails in the worker: both are dropped where they fail, and the
    # good events and every result still arrive.
    events: list[object] = []
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        results = dict(fresh_ray_ex.map_unordered(garbled_progress, [1, 2, 3], on_progress=events.append))
    assert results == {0: 1, 1: 2, 2: 3}
    assert sorted(e for e in events if isinstance(e, tuple)) == [("item", 1), ("item", 2), ("item", 3)]
    assert len([w for w in warned if issubclass(w.category, ProgressLostWarning)]) <= 1


def test_errors_are_named_and_user_errors_pass_unchanged(ray_ex: Executor) -> None:
    with pytest.raises(ClusterError, match="`3` failed: ValueError: three is not allowed"):
        list(ray_ex.map_unordered(fail_on_three, [1, 2, 3]))
    with pytest.raises(DataError, match="no image 5"):
        list(ray_ex.map_unordered(user_error, [5]))


def test_workers_take_the_setup_threads(ray_ex: Executor) -> None:
    assert {r for _, r in ray_ex.map_unordered(threads, [0, 1, 2])} == {1}


def test_a_task_whose_worker_dies_is_retried(ray_ex: Executor, tmp_path: Path) -> None:
    results = dict(ray_ex.map_unordered(die_once, [0, 1, 2], shared=str(tmp_path)))
    assert sorted(v[0] for v in results.values()) == [0, 1, 2] and (tmp_path / "died-0").exists()


def test_a_phone_is_a_resource_and_a_missing_one_is_a_clear_error(ray_ex: Executor) -> None:
    phone = Resources(cpus=0.5, custom={STANDIN_PHONE: 1})
    assert dict(ray_ex.map_unordered(square_plus, [1, 2], shared=0, resources=phone)) == {0: 1, 1: 4}
    with pytest.raises(ClusterError) as err:
        list(ray_ex.map_unordered(square_plus, [1], shared=0, resources=Resources(custom={"device:R5CX": 1})))
    assert "`device:R5CX`" in str(err.value) and "--resources" in (err.value.diagnostics[0].help or "")
    with pytest.raises(ClusterError, match="`GPU`"):
        list(ray_ex.map_unordered(square_plus, [1], shared=0, resources=Resources(gpus=0.25)))


def test_without_ray_the_cluster_option_is_one_error_with_the_install_command(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['ray'] = None\n"
        "from archc.cli import main\n"
        "sys.argv = ['archc', 'distill', 'x.arch', '--weights', 'w', '--data', 'd', '--out', 'o', '--cluster', 'ray']\n"
        "main()\n"
    )
    (tmp_path / "x.arch").write_text(Path(__file__).parents[2].joinpath("..", "specs", "nafnet_tiny.arch").read_text())
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "pip install 'archc[ray]'" in proc.stderr and "Traceback" not in proc.stderr


def test_without_an_address_a_local_ray_is_started_on_loopback_and_stopped(tmp_path: Path) -> None:
    import os

    pytest.importorskip("ray", reason="Ray is not installed (make setup installs it: pip install -e '.[dev,ray]')")

    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    spec = Path(__file__).parents[3] / "specs" / "nafnet_tiny.arch"
    cmd = [
        sys.executable,
        "-m",
        "archc.cli",
        "profile",
        str(spec),
        "--device",
        "s24",
        "--size",
        "32",
        "32",
        "--cluster",
        "ray",
        "--out",
        str(tmp_path / "p"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "a local Ray on 127.0.0.1" in proc.stderr
    assert (tmp_path / "p" / "latency.json").exists()
