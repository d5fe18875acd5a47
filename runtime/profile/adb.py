"""`adb:SERIAL`: a runtime's own benchmark binary run on an Android phone over adb.

`--device-option runtime=` picks the runtime (default `onnxruntime`):

| runtime       | file      | binary (host path: option `perf_test` or the variable) | reports           |
|---------------|-----------|--------------------------------------------------------|-------------------|
| `onnxruntime` | `.onnx`   | `onnxruntime_perf_test` (`ARCHC_ADB_PERF_TEST`)         | P50 of the runs   |
| `executorch`  | `.pte`    | `executor_runner` (`ARCHC_ADB_EXECUTOR_RUNNER`)         | mean of the runs  |
| `litert`      | `.tflite` | `benchmark_model` (`ARCHC_ADB_BENCHMARK_MODEL`)         | mean of the runs  |

The `.pte` and `.tflite` files are converted at the workload's fixed shape as `executorch-cpu` and
`litert-cpu` convert them (`phone_cpu.py`), and run with XNNPACK on the phone's CPU:

    executor_runner --model_path=M.pte --num_executions=RUNS --cpu_threads=THREADS
        -> "Model executed successfully RUNS time(s) in T ms."
    benchmark_model --graph=M.tflite --num_runs=RUNS --num_threads=THREADS --use_xnnpack=true
        -> "Inference timings in us: Init: ..., First inference: ..., Warmup (avg): ..., Inference (avg): T"

The ONNX Runtime path:

The user provides an Android (arm64) build of `onnxruntime_perf_test` on this machine:
`ARCHC_ADB_PERF_TEST=/path/to/onnxruntime_perf_test` or `--device-option perf_test=PATH`
(ONNX Runtime builds it with `./build.sh --android ... --build_shared_lib` off, which links it
statically). It is pushed once to `/data/local/tmp/archc/`; each workload's ONNX graph (input
shape frozen, so `-I` generates a full-size input) is pushed there and timed with

    onnxruntime_perf_test -I -m times -r RUNS -x THREADS -e EP model.onnx

Options (`--device-option KEY=VALUE`): `perf_test` (host path), `ep` (cpu, nnapi, qnn, xnnpack;
default cpu), `runs` (default: the protocol's max repeats, at least 20), `remote_dir`, `adb` (path
to adb; default `ARCHC_ADB` or `adb` on PATH). Its report gives the average and P50/P90/P95/P99;
the median reported is P50.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from attrs import frozen

from archc.diagnostics import quoted_list, unknown_name_help
from archc.errors import ProfileError
from archc.runtime.cluster import Resources

from .backend import Profiler
from .measure import Measurement, Protocol
from .workload import Workload

ENV_ADB = "ARCHC_ADB"
ENV_PERF_TEST = "ARCHC_ADB_PERF_TEST"
OPTIONS = ("perf_test", "ep", "runs", "remote_dir", "adb", "runtime")
EPS = ("cpu", "nnapi", "qnn", "xnnpack")
TIMEOUT_S = 600
_AVERAGE = re.compile(r"Average inference time cost(?: total)?:\s*([0-9.eE+-]+)\s*ms")
_LATENCY = re.compile(r"\b(Min|Max|P50|P90|P95|P99|P999) Latency:\s*([0-9.eE+-]+)\s*s")
_REQUESTS = re.compile(r"(?:Total inference requests:\s*|Runs:\s*)(\d+)")


def parse_perf_test(text: str) -> dict[str, float]:
    """Figures (ms, and `runs`) from onnxruntime_perf_test's report; raises if there are none."""
    avg = _AVERAGE.search(text)
    if avg is None:
        tail = " | ".join(text.strip().splitlines()[-3:]) or "no output"
        raise ProfileError(f"onnxruntime_perf_test printed no latency: {tail}", code="E0813")
    out = {"average_ms": float(avg.group(1))}
    out.update({f"{k.lower()}_ms": float(v) * 1e3 for k, v in _LATENCY.findall(text)})
    runs = _REQUESTS.search(text)
    if runs:
        out["runs"] = float(runs.group(1))
    return out


_EXECUTED = re.compile(r"executed successfully\s+(\d+)\s+time\(s\) in\s+([0-9.eE+-]+)\s*ms")
_TFLITE_AVG = re.compile(r"Inference \(avg\):\s*([0-9.eE+-]+)")


def parse_executor_runner(text: str) -> dict[str, float]:
    """`average_ms` and `runs` from executor_runner's summary line; raises if there is none."""
    found = _EXECUTED.search(text)
    if found is None:
        raise _no_latency("executor_runner", text)
    runs = int(found.group(1))
    return {"average_ms": float(found.group(2)) / max(runs, 1), "runs": float(runs)}


def parse_benchmark_model(text: str) -> dict[str, float]:
    """`average_ms` (from microseconds) from LiteRT benchmark_model's timings line."""
    found = _TFLITE_AVG.search(text)
    if found is None:
        raise _no_latency("benchmark_model", text)
    return {"average_ms": float(found.group(1)) / 1e3}


def _no_latency(tool: str, text: str) -> ProfileError:
    tail = " | ".join(text.strip().splitlines()[-3:]) or "no output"
    return ProfileError(f"{tool} printed no latency: {tail}", code="E0813")


@frozen
class Tool:
    """One runtime's benchmark binary: its name, host-path variable, file format and report parser."""

    binary: str
    env: str
    fmt: str
    parse: Callable[[str], dict[str, float]]

    def command(self, model: str, runs: int, threads: int, ep: str) -> str:
        if self.fmt == "pte":
            return f"./{self.binary} --model_path={model} --num_executions={runs} --cpu_threads={threads}"
        if self.fmt == "tflite":
            return f"./{self.binary} --graph={model} --num_runs={runs} --num_threads={threads} --use_xnnpack=true"
        return f"./{self.binary} -I -m times -r {runs} -x {threads} -e {ep} {model}"


TOOLS = {
    "onnxruntime": Tool("onnxruntime_perf_test", ENV_PERF_TEST, "onnx", parse_perf_test),
    "executorch": Tool("executor_runner", "ARCHC_ADB_EXECUTOR_RUNNER", "pte", parse_executor_runner),
    "litert": Tool("benchmark_model", "ARCHC_ADB_BENCHMARK_MODEL", "tflite", parse_benchmark_model),
}


def check_options(options: Mapping[str, str], known: Sequence[str], backend: str) -> None:
    for key in options:
        if key not in known:
            raise ProfileError(
                f"unknown --device-option `{key}` for {backend}",
                code="E0805",
                help=unknown_name_help(key, known, f"known: {quoted_list(known)}", always=True),
            )


def adb_path(options: Mapping[str, str]) -> str:
    exe = options.get("adb") or os.environ.get(ENV_ADB) or shutil.which("adb")
    if not exe or not Path(exe).exists():
        raise ProfileError(
            "adb not found",
            code="E0810",
            help=f"install Android platform-tools, or point {ENV_ADB} at the adb executable",
        )
    return exe


def attached(exe: str, timeout: float = 10.0) -> list[str]:
    """Serials that `adb devices` lists as ready (state `device`)."""
    try:
        out = subprocess.run([exe, "devices"], capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProfileError(f"`adb devices` failed: {exc}", code="E0810") from None
    serials = []
    for line in out.stdout.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[1] == "device":
            serials.append(parts[0])
    return serials


class AdbProfiler(Profiler):
    kind = "remote"

    def __init__(self, serial: str, protocol: Protocol, options: Mapping[str, str]) -> None:
        check_options(options, OPTIONS, "adb")
        self.serial = serial
        self.name = f"adb:{serial}"
        self.protocol = protocol
        self.options = dict(options)
        runtime = self.options.get("runtime", "onnxruntime")
        if runtime not in TOOLS:
            raise ProfileError(
                f"unknown runtime `{runtime}` for adb", code="E0805", help=f"use one of {quoted_list(TOOLS)}"
            )
        self.runtime = runtime
        self.tool = TOOLS[runtime]
        self.ep = self.options.get("ep", "cpu" if runtime == "onnxruntime" else "xnnpack")
        if runtime == "onnxruntime" and self.ep not in EPS:
            raise ProfileError(
                f"unknown execution provider `{self.ep}` for adb", code="E0805", help=f"use one of {quoted_list(EPS)}"
            )
        self.runs = int(self.options.get("runs", max(protocol.max_repeats, 20)))
        self.remote_dir = self.options.get("remote_dir", "/data/local/tmp/archc")
        self.description = f"{self.tool.binary} on Android device {serial} ({self.ep})"
        self._exe: str | None = None
        self._binary: str | None = None

    def record(self) -> dict[str, Any]:
        return {
            "device": self.name,
            "kind": self.kind,
            "runtime": self.runtime,
            "benchmark": self.tool.binary,
            "ep": self.ep,
            "threads": self.protocol.threads,
            "runs": self.runs,
            "warmup": "1 (the binary's first run, excluded)",
            "statistic": "P50 of the runs" if self.runtime == "onnxruntime" else "mean of the runs",
            "perf_test": self._binary,
        }

    def resources(self) -> Resources:
        return Resources(cpus=0.5, custom={f"device:{self.serial}": 1.0})  # one profile at a time per phone

    def _adb(self, *args: str) -> str:
        assert self._exe is not None
        try:
            out = subprocess.run(
                [self._exe, "-s", self.serial, *args], capture_output=True, text=True, timeout=TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ProfileError(f"adb {args[0]} failed on {self.serial}: {exc}", code="E0813") from None
        if out.returncode != 0:
            msg = (out.stderr or out.stdout).strip().splitlines()
            raise ProfileError(
                f"adb {args[0]} failed on {self.serial}: {msg[-1] if msg else out.returncode}", code="E0813"
            )
        return out.stdout

    def _connect(self) -> None:
        if self._binary is not None:
            return
        self._exe = adb_path(self.options)
        serials = attached(self._exe)
        if self.serial not in serials:
            listed = quoted_list(serials) if serials else "no device"
            raise ProfileError(
                f"Android device `{self.serial}` is not attached (adb devices lists {listed})",
                code="E0811",
                help="connect it with USB debugging on, or pick a listed serial",
            )
        local = self.options.get("perf_test") or os.environ.get(self.tool.env)
        if not local or not Path(local).is_file():
            raise ProfileError(
                f"no {self.tool.binary} binary for the phone",
                code="E0812",
                help=f"build it for Android and set {self.tool.env}=PATH or pass --device-option perf_test=PATH",
            )
        self._adb("shell", f"mkdir -p {self.remote_dir}")
        remote = f"{self.remote_dir}/{self.tool.binary}"
        self._adb("push", str(local), remote)
        self._adb("shell", f"chmod 755 {remote}")
        self._binary = remote

    def _model(self, workload: Workload) -> bytes:
        if self.tool.fmt == "onnx":
            return workload.onnx_bytes()
        from .phone_cpu import converted

        return converted(self.tool.fmt, workload)

    def profile(self, workload: Workload) -> Measurement:
        self._connect()
        data = self._model(workload)
        name = f"{hashlib.sha1(data).hexdigest()[:16]}.{self.tool.fmt}"
        remote = f"{self.remote_dir}/{name}"
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / name
            local.write_bytes(data)
            self._adb("push", str(local), remote)
        cmd = f"cd {self.remote_dir} && " + self.tool.command(name, self.runs, self.protocol.threads, self.ep)
        try:
            figures = self.tool.parse(self._adb("shell", cmd))
        finally:
            self._adb("shell", f"rm -f {remote}")
        median = figures.get("p50_ms", figures["average_ms"])
        return Measurement(
            median,
            "remote",
            None,
            int(figures.get("runs", self.runs)),
            True,
            self.record(),
            {k: v for k, v in figures.items() if k != "runs"},
        )
