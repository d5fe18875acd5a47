from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

# shared test modules (helpers, reference_nafnet, macs) import by plain name
sys.path.insert(0, str(Path(__file__).resolve().parent))
# BoTorch's optional fused C++ kernel is compiled on first use; the tests keep the Python path
os.environ.setdefault("ARCHC_BOTORCH_FUSED", "0")
# most tests drive saliency / distill / search with random micro teachers that do not deblur; the
# teacher check has its own tests (tests/runtime/test_guard.py, tests/cli/test_teacher_guard.py)
os.environ.setdefault("ARCHC_ALLOW_WEAK_TEACHER", "1")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--phone-families",
        action="store_true",
        help="also run the tests marked phone_families: every shipped tiny network converted to .pte and .tflite "
        "(minutes each on two cores)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _group(items)
    if config.getoption("--phone-families"):
        return
    skip = pytest.mark.skip(reason="converts whole tiny networks (minutes each): run with --phone-families")
    for item in items:
        if "phone_families" in item.keywords:
            item.add_marker(skip)


def _group(items: list[pytest.Item]) -> None:
    """With pytest-xdist's `--dist loadgroup` (`make test`), a module's tests run in one worker, so
    its module fixtures are made once; every module with a test on the Ray cluster runs in one
    worker, so one cluster serves them all and no other Ray starts beside it, as in a
    single-process run."""
    module = {item: item.nodeid.split("::")[0] for item in items}
    ray = {module[item] for item in items if "ray_cluster" in getattr(item, "fixturenames", ())}
    for item in items:
        item.add_marker(pytest.mark.xdist_group("ray" if module[item] in ray else module[item]))


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def ray_cluster(request: pytest.FixtureRequest) -> Iterator[str]:
    """A real local Ray cluster for the session (2 CPUs and a stand-in phone resource
    `device:STANDIN`), bound to 127.0.0.1 and stopped at the end; yields its address. When a test
    failed and ARCHC_KEEP_RAY_LOGS names a folder, the cluster's logs are kept there."""
    from ray_helpers import start_ray, stop_ray

    address, process, temp = start_ray()
    try:
        yield address
    finally:
        keep = os.environ.get("ARCHC_KEEP_RAY_LOGS") if request.session.testsfailed else None
        stop_ray(process, temp, keep)


@pytest.fixture(scope="session")
def micro_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 synthetic photographs, 2 training and 2 test crops of 128 px each (read only: shared by all tests)."""
    from helpers import synth_data

    return synth_data(tmp_path_factory.mktemp("data") / "synth")
