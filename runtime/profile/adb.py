"""`adb:SERIAL`: ONNX Runtime's `onnxruntime_perf_test` run on an Android phone over adb.

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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from archc.diagnostics import quoted_list, unknown_name_help
from archc.errors import ProfileError
from archc.runtime.cluster import Resources

from .backend import Profiler
from .measure import Measurement, Protocol
from .workload import Workload

ENV_ADB = "ARCHC_ADB"
ENV_PERF_TEST = "ARCHC_ADB_PERF_TEST"
OPTIONS = ("perf_test", "ep", "runs", "remote_dir", "adb")
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
        self.ep = self.options.get("ep", "cpu")
        if self.ep not in EPS:
            raise ProfileError(
                f"unknown execution provider `{self.ep}` for adb", code="E0805", help=f"use one of {quoted_list(EPS)}"
            )
        self.runs = int(self.options.get("runs", max(protocol.max_repeats, 20)))
        self.remote_dir = self.options.get("remote_dir", "/data/local/tmp/archc")
        self.description = f"onnxruntime_perf_test on Android device {serial} ({self.ep} EP)"
        self._exe: str | None = None
        self._binary: str | None = None

    def record(self) -> dict[str, Any]:
        return {
            "device": self.name,
            "kind": self.kind,
            "runtime": "onnxruntime_perf_test",
            "ep": self.ep,
            "threads": self.protocol.threads,
            "runs": self.runs,
            "warmup": "1 (perf_test's first run, excluded)",
            "statistic": "P50 of the runs",
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
        local = self.options.get("perf_test") or os.environ.get(ENV_PERF_TEST)
        if not local or not Path(local).is_file():
            raise ProfileError(
                "no onnxruntime_perf_test binary for the phone",
                code="E0812",
                help=f"build it for Android and set {ENV_PERF_TEST}=PATH or pass --device-option perf_test=PATH",
            )
        self._adb("shell", f"mkdir -p {self.remote_dir}")
        remote = f"{self.remote_dir}/onnxruntime_perf_test"
        self._adb("push", str(local), remote)
        self._adb("shell", f"chmod 755 {remote}")
        self._binary = remote

    def profile(self, workload: Workload) -> Measurement:
        self._connect()
        data = workload.onnx_bytes()
        name = f"{hashlib.sha1(data).hexdigest()[:16]}.onnx"
        remote = f"{self.remote_dir}/{name}"
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / name
            local.write_bytes(data)
            self._adb("push", str(local), remote)
        cmd = (
            f"cd {self.remote_dir} && ./onnxruntime_perf_test -I -m times -r {self.runs} "
            f"-x {self.protocol.threads} -e {self.ep} {name}"
        )
        try:
            figures = parse_perf_test(self._adb("shell", cmd))
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
