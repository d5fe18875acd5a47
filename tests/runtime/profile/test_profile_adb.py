"""The adb backend against the documented interfaces of onnxruntime_perf_test, ExecuTorch's executor_runner
and LiteRT's benchmark_model, with a stand-in adb."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from archc.compiler.mobile import available, install_command
from archc.errors import ProfileError
from archc.runtime.profile.adb import parse_benchmark_model, parse_executor_runner, parse_perf_test
from archc.runtime.profile.devices import resolve
from archc.runtime.profile.table import block_workload, identity_block
from archc.runtime.profile.workload import Workload

PERF_TEST_OUTPUT = """Setting intra_op_num_threads to 1
Session creation time cost: 0.0358 s
First inference time cost: 14 ms
Total inference time cost: 0.615 s
Total inference requests: 50
Average inference time cost: 12.3 ms
Total inference run time: 0.6161 s
Number of inferences per second: 81.2
Avg CPU usage: 98 %
Peak working set size: 29687808 bytes
Min Latency: 0.0115 s
Max Latency: 0.0162 s
P50 Latency: 0.0121 s
P90 Latency: 0.0133 s
P95 Latency: 0.0141 s
P99 Latency: 0.0158 s
P999 Latency: 0.0162 s
"""

EXECUTOR_RUNNER_OUTPUT = """I 00:00:00.001 executorch:executor_runner.cpp:140] Model file m.pte is loaded.
I 00:00:00.004 executorch:executor_runner.cpp:160] Using method forward
I 00:00:00.412 executorch:executor_runner.cpp:260] Model executed successfully 20 time(s) in 250.000000 ms.
I 00:00:00.412 executorch:executor_runner.cpp:270] 1 outputs:
"""

BENCHMARK_MODEL_OUTPUT = """INFO: Num threads: [1]
INFO: Graph: [m.tflite]
INFO: Use xnnpack: [1]
INFO: The input model file size (MB): 0.01
INFO: Inference timings in us: Init: 3459, First inference: 21398, Warmup (avg): 16939.4, Inference (avg): 16794.6
"""

# A stand-in for adb: `devices`, `-s SERIAL push LOCAL REMOTE`, `-s SERIAL shell CMD`, with the
# phone's files kept under $FAKE_PHONE and every call logged to $FAKE_PHONE/calls.log.
FAKE_ADB = """#!{python}
import os, shutil, sys
root = os.environ["FAKE_PHONE"]
args = sys.argv[1:]
with open(os.path.join(root, "calls.log"), "a") as log:
    log.write(" ".join(args) + "\\n")
if args == ["devices"]:
    print("List of devices attached\\nFAKE123\\tdevice\\nOLD9\\toffline\\n")
    sys.exit(0)
assert args[0] == "-s", args
serial, verb, rest = args[1], args[2], args[3:]
phone = os.path.join(root, serial)
if verb == "push":
    dest = phone + rest[1]
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    shutil.copy(rest[0], dest)
    print("1 file pushed")
elif verb == "shell":
    cmd = rest[0]
    if "onnxruntime_perf_test" in cmd and "-I -m times" in cmd:
        model = cmd.split()[-1]
        assert os.path.exists(os.path.join(phone + "/data/local/tmp/archc", model)), model
        sys.stdout.write(open(os.path.join(root, "perf_output.txt")).read())
    for binary, flag in (("executor_runner", "--model_path="), ("benchmark_model", "--graph=")):
        if "./" + binary in cmd:
            model = cmd.split(flag)[1].split()[0]
            assert os.path.exists(os.path.join(phone + "/data/local/tmp/archc", model)), model
            sys.stdout.write(open(os.path.join(root, binary + "_output.txt")).read())
else:
    sys.exit("unknown verb " + verb)
"""


@pytest.fixture
def phone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    adb = bin_dir / "adb"
    adb.write_text(FAKE_ADB.format(python=sys.executable))
    adb.chmod(0o755)
    perf = tmp_path / "onnxruntime_perf_test"
    perf.write_text("an arm64 binary")
    (tmp_path / "perf_output.txt").write_text(PERF_TEST_OUTPUT)
    (tmp_path / "executor_runner_output.txt").write_text(EXECUTOR_RUNNER_OUTPUT)
    (tmp_path / "benchmark_model_output.txt").write_text(BENCHMARK_MODEL_OUTPUT)
    for binary in ("executor_runner", "benchmark_model"):
        (tmp_path / binary).write_text("an arm64 binary")
    monkeypatch.setenv("ARCHC_ADB_EXECUTOR_RUNNER", str(tmp_path / "executor_runner"))
    monkeypatch.setenv("ARCHC_ADB_BENCHMARK_MODEL", str(tmp_path / "benchmark_model"))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_PHONE", str(tmp_path))
    monkeypatch.setenv("ARCHC_ADB_PERF_TEST", str(perf))
    monkeypatch.delenv("ARCHC_ADB", raising=False)
    return tmp_path


def _workload():  # type: ignore[no-untyped-def]
    return block_workload(identity_block(), 4, (8, 8))


def test_parse_perf_test_reads_average_and_percentiles() -> None:
    fig = parse_perf_test(PERF_TEST_OUTPUT)
    assert fig["average_ms"] == 12.3 and fig["p50_ms"] == pytest.approx(12.1) and fig["runs"] == 50
    newer = PERF_TEST_OUTPUT.replace("Average inference time cost:", "Average inference time cost total:")
    assert parse_perf_test(newer)["average_ms"] == 12.3
    with pytest.raises(ProfileError, match="printed no latency: .*model failed"):
        parse_perf_test("Session creation failed\nmodel failed to load")


def test_profile_pushes_the_binary_and_model_and_reports_p50(phone: Path) -> None:
    m = resolve("adb:FAKE123", options={"runs": "50"}).profile(_workload())
    assert m.kind == "remote" and m.median_ms == pytest.approx(12.1) and m.repeats == 50
    assert m.extra["p90_ms"] == pytest.approx(13.3)
    calls = (phone / "calls.log").read_text()
    assert "push" in calls and "/data/local/tmp/archc/onnxruntime_perf_test" in calls
    assert "-x 1 -e cpu" in calls and "rm -f" in calls


def test_missing_adb_is_one_line(phone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(phone / "empty"))
    with pytest.raises(ProfileError) as info:
        resolve("adb:FAKE123").profile(_workload())
    assert info.value.diagnostics[0].code == "E0810" and "adb not found" in str(info.value)


def test_a_device_that_is_not_attached(phone: Path) -> None:
    with pytest.raises(ProfileError) as info:
        resolve("adb:OLD9").profile(_workload())
    assert "`OLD9` is not attached" in str(info.value) and "`FAKE123`" in str(info.value)


def test_a_missing_perf_test_binary(phone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARCHC_ADB_PERF_TEST")
    with pytest.raises(ProfileError) as info:
        resolve("adb:FAKE123").profile(_workload())
    assert info.value.diagnostics[0].code == "E0812" and "ARCHC_ADB_PERF_TEST" in info.value.render()


def test_unknown_options_are_rejected() -> None:
    with pytest.raises(ProfileError, match="unknown --device-option `rnus`"):
        resolve("adb:X", options={"rnus": "3"})


def test_parse_the_phone_runtimes_benchmark_reports() -> None:
    assert parse_executor_runner(EXECUTOR_RUNNER_OUTPUT) == {"average_ms": 12.5, "runs": 20.0}
    assert parse_benchmark_model(BENCHMARK_MODEL_OUTPUT)["average_ms"] == pytest.approx(16.7946)
    with pytest.raises(ProfileError, match="executor_runner printed no latency"):
        parse_executor_runner("Missing operator: aten::foo")


@pytest.mark.parametrize(
    ("runtime", "fmt", "binary", "ms"),
    [
        pytest.param(r, f, b, ms, marks=pytest.mark.skipif(not available(f), reason=f"needs {install_command(f)}"))
        for r, f, b, ms in (
            ("executorch", "pte", "executor_runner", 12.5),
            ("litert", "tflite", "benchmark_model", 16.7946),
        )
    ],
)
def test_a_phone_runtime_pushes_its_file_and_binary(
    phone: Path, runtime: str, fmt: str, binary: str, ms: float, phone_block: Workload
) -> None:
    m = resolve("adb:FAKE123", options={"runtime": runtime, "runs": "20"}).profile(phone_block)
    assert m.kind == "remote" and m.median_ms == pytest.approx(ms)
    assert m.protocol["runtime"] == runtime and m.protocol["statistic"] == "mean of the runs"
    calls = (phone / "calls.log").read_text()
    assert f"/data/local/tmp/archc/{binary}" in calls and f".{fmt}" in calls and "rm -f" in calls


def test_an_unknown_runtime_is_rejected() -> None:
    with pytest.raises(ProfileError, match="unknown runtime `tflite` for adb"):
        resolve("adb:X", options={"runtime": "tflite"})
