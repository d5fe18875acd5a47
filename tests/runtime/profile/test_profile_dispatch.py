"""Block tables profiled through execution backends: the same figures as one at a time here; a
phone runs one profile at a time (a Ray resource), timings on this machine never leave it."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import archc
from archc.runtime.cluster import Executor, WorkerSetup, open_executor
from archc.runtime.profile.devices import resolve
from archc.runtime.profile.dispatch import dispatched
from archc.runtime.profile.measure import Protocol
from archc.runtime.profile.run import Request, execute

from distill_helpers import MICRO
from ray_helpers import STANDIN_PHONE

# The micro U-Net with two slots of two candidates: every kind of table row (fixed parts, the
# teacher's blocks, candidates) in few profiles, since each phone profile is several adb calls.
SPEC = MICRO.split("search over")[0] + "search over micro {\n    slots enc1, dec1\n    candidates *: naf | dsconv\n}\n"
SERIAL = STANDIN_PHONE.split(":", 1)[1]
PERF_OUTPUT = "Total inference requests: 20\nAverage inference time cost: {ms} ms\nP50 Latency: {s} s\n"

# A stand-in for adb (`devices`, `push`, `shell`) whose phone keeps files under ROOT, logs when
# each onnxruntime_perf_test starts and ends, and reports a latency derived from the model's size.
FAKE_ADB = """#!{python}
import os, shutil, sys, time
root = {root!r}
args = sys.argv[1:]
if args == ["devices"]:
    print("List of devices attached\\n{serial}\\tdevice\\n")
    sys.exit(0)
serial, verb, rest = args[1], args[2], args[3:]
phone = os.path.join(root, serial)
if verb == "push":
    dest = phone + rest[1]
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    shutil.copy(rest[0], dest)
elif verb == "shell" and "onnxruntime_perf_test -I" in rest[0]:
    model = os.path.join(phone + "/data/local/tmp/archc", rest[0].split()[-1])
    with open(os.path.join(root, "runs.log"), "a") as log:
        log.write(f"start {{time.time()}}\\n")
    time.sleep(0.2)
    ms = os.path.getsize(model) / 1000.0
    print({output!r}.format(ms=ms, s=ms / 1000.0))
    with open(os.path.join(root, "runs.log"), "a") as log:
        log.write(f"end {{time.time()}}\\n")
"""


@pytest.fixture
def phone(tmp_path: Path) -> dict[str, str]:
    adb = tmp_path / "adb"
    adb.write_text(FAKE_ADB.format(python=sys.executable, root=str(tmp_path), serial=SERIAL, output=PERF_OUTPUT))
    adb.chmod(0o755)
    perf = tmp_path / "onnxruntime_perf_test"
    perf.write_text("an arm64 binary")
    return {"adb": str(adb), "perf_test": str(perf), "runs": "20"}


def _figures(device: str, out: Path, executor: Executor | None, options: dict[str, str] | None = None) -> Any:
    req = Request(archc.parse(SPEC), device, (32, 32), out, Protocol(), options or {})
    record, _ = execute(req, executor=executor)
    return {k: v["latency_ms"] for k, v in json.loads((out / "latency.json").read_text())["measurements"].items()}


def test_modelled_profiles_run_in_a_pool_with_the_same_figures(tmp_path: Path) -> None:
    here = _figures("s24", tmp_path / "here", None)
    with open_executor("local", 2) as ex:
        assert dispatched(resolve("s24"), ex)
        assert _figures("s24", tmp_path / "pool", ex) == here


def test_timings_on_this_machine_and_phones_without_a_scheduler_stay_here(phone: dict[str, str]) -> None:
    with open_executor("local", 2) as ex:
        assert not dispatched(resolve("cpu"), ex)
        assert not dispatched(resolve(f"adb:{SERIAL}", options=phone), ex)


@pytest.fixture(scope="module")
def ray_ex(ray_cluster: str) -> Iterator[Executor]:
    """One driver for both Ray tests: its workers, once started (torch imported), serve both."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_ADDRESS", ray_cluster)
        with open_executor("ray", setup=WorkerSetup(threads=1)) as ex:
            yield ex


def test_ray_profiles_a_phone_one_at_a_time_with_the_same_figures(phone: dict[str, str], ray_ex: Executor,
                                                                  tmp_path: Path) -> None:
    device = f"adb:{SERIAL}"
    here = _figures(device, tmp_path / "here", None, phone)
    (Path(phone["adb"]).parent / "runs.log").unlink()
    assert dispatched(resolve(device, options=phone), ray_ex)
    # the stand-in's figure is the model's size in kB; the whole network's ONNX differs by a few
    # dozen bytes between two exports (metadata), so the figures agree to 0.1 (100 bytes), not to
    # the byte (a relative bound would fail on the micro network's small files)
    assert _figures(device, tmp_path / "ray", ray_ex, phone) == pytest.approx(here, abs=0.1)
    events = [line.split() for line in (Path(phone["adb"]).parent / "runs.log").read_text().splitlines()]
    assert len(events) == 2 * len(here)
    running = 0
    for kind, _ in sorted(events, key=lambda e: (float(e[1]), e[0] == "start")):
        running += 1 if kind == "start" else -1
        assert running <= 1  # never two profiles on the phone at once


def test_ray_profiles_a_modelled_device_with_the_same_figures(ray_ex: Executor, tmp_path: Path) -> None:
    assert _figures("s24", tmp_path / "ray", ray_ex) == _figures("s24", tmp_path / "here", None)
