"""The local backends: results, progress, errors, thread setup, and a pool that survives a dead worker."""

from __future__ import annotations

from pathlib import Path

import pytest

from archc.errors import DataError, ProgressLostWarning
from archc.runtime.cluster import ClusterError, WorkerSetup, check_cluster, open_executor
from archc.runtime.cluster.local import InlineExecutor, PoolExecutor

from cluster_work import die_once, fail_on_three, garbled_progress, square_plus, threads, user_error


@pytest.mark.parametrize("jobs", [1, 2])
def test_every_item_once_with_its_result_and_progress(jobs: int) -> None:
    events: list[object] = []
    with open_executor("local", jobs) as ex:
        assert isinstance(ex, InlineExecutor if jobs == 1 else PoolExecutor)
        results = dict(ex.map_unordered(square_plus, [1, 2, 3, 4], shared=10, on_progress=events.append))
    assert results == {0: 11, 1: 14, 2: 19, 3: 26}
    assert sorted(events) == [("item", 1), ("item", 2), ("item", 3), ("item", 4)]  # type: ignore[type-var]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failing_item_is_named_and_user_errors_pass_unchanged(jobs: int) -> None:
    with open_executor("local", jobs) as ex, pytest.raises(ClusterError) as err:
        list(ex.map_unordered(fail_on_three, [1, 2, 3]))
    assert "`3` failed: ValueError: three is not allowed" in str(err.value)
    assert err.value.diagnostics[0].code == "E1701"
    with open_executor("local", jobs) as ex, pytest.raises(DataError, match="no image 5"):
        list(ex.map_unordered(user_error, [5]))


def test_workers_run_with_the_setup_threads_and_the_driver_keeps_its_own() -> None:
    import torch

    before = torch.get_num_threads()
    with open_executor("local", 2, WorkerSetup(threads=2)) as ex:
        assert {r for _, r in ex.map_unordered(threads, [0, 1])} == {2}
    with open_executor("local", 1, WorkerSetup(threads=2)) as ex:
        assert [r for _, r in ex.map_unordered(threads, [0])] == [2]
    assert torch.get_num_threads() == before


def test_the_pool_reruns_what_a_killed_worker_was_running(tmp_path: Path) -> None:
    with PoolExecutor(2) as ex:
        results = dict(ex.map_unordered(die_once, [0, 1, 2, 3], shared=str(tmp_path)))
    assert sorted(v[0] for v in results.values()) == [0, 1, 2, 3]
    assert (tmp_path / "died-0").exists()  # item 0 really killed its first worker


def test_progress_that_cannot_travel_costs_progress_lines_and_one_warning_never_an_item() -> None:
    events: list[object] = []
    with PoolExecutor(2) as ex, pytest.warns(ProgressLostWarning) as warned:
        results = dict(ex.map_unordered(garbled_progress, [1, 2, 3], on_progress=events.append))
    assert results == {0: 1, 1: 2, 2: 3}
    assert sorted(events) == [("item", 1), ("item", 2), ("item", 3)]  # type: ignore[type-var]
    assert len(warned) == 1 and "fewer progress lines" in str(warned[0].message)


def test_unknown_cluster_names_the_choices() -> None:
    with pytest.raises(ClusterError) as err:
        check_cluster("rai")
    rendered = err.value.render()
    assert "unknown --cluster `rai`" in rendered and "did you mean `ray`?" in rendered
    assert check_cluster("ray://10.1.2.3:10001") == "ray://10.1.2.3:10001"
    with pytest.raises(ClusterError):
        check_cluster("ray://")
