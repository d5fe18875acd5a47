"""Starting and stopping a real local Ray cluster for the tests: `ray start --head --block` in a
child process, bound to 127.0.0.1 only, with bounded waits; and finding its worker processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

START_SECONDS = 60.0
STOP_SECONDS = 45.0
STANDIN_PHONE = "device:STANDIN"
TEMP_DIRS: list[str] = []  # the temp dirs of the clusters these tests started


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def local_env() -> dict[str, str]:
    """The environment that keeps Ray on the loopback interface and its telemetry off."""
    return {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}


def start_ray(cpus: int = 2) -> tuple[str, subprocess.Popen[bytes], str]:
    """Start the cluster; returns (address, the `ray start --block` process, its temp dir)."""
    ray = Path(sys.executable).with_name("ray")
    if not ray.exists():
        pytest.skip("Ray is not installed (make setup installs it: pip install -e '.[dev,ray]')")
    port, temp = _free_port(), tempfile.mkdtemp(prefix="archc-ray-", dir="/tmp")
    cmd = [
        str(ray),
        "start",
        "--head",
        "--block",
        f"--num-cpus={cpus}",
        "--node-ip-address=127.0.0.1",
        f"--port={port}",
        "--include-dashboard=false",
        "--disable-usage-stats",
        f"--temp-dir={temp}",
        f"--resources={json.dumps({STANDIN_PHONE: 1})}",
    ]
    log = open(Path(temp) / "start.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=local_env(), start_new_session=True)
    deadline = time.monotonic() + START_SECONDS
    while not _listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_ray(process, temp)
            raise RuntimeError(f"ray start failed: {(Path(temp) / 'start.log').read_text()[-2000:]}")
        time.sleep(0.5)
    TEMP_DIRS.append(temp)
    return f"127.0.0.1:{port}", process, temp


def stop_ray(process: subprocess.Popen[bytes], temp: str, keep_logs: str | None = None) -> None:
    """SIGTERM the blocking `ray start` (it stops its processes), then kill what is left; with
    `keep_logs`, the cluster's logs are copied into that folder before its temp dir is removed."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
    if keep_logs:
        try:
            shutil.copytree(
                temp,
                Path(keep_logs) / Path(temp).name,
                dirs_exist_ok=True,
                ignore_dangling_symlinks=True,
                ignore=shutil.ignore_patterns("*.sock", "sockets", "plasma_store*"),
            )
        except (OSError, shutil.Error) as exc:  # a socket or a file Ray removes while copying
            print(f"some Ray logs were not kept: {exc}", file=sys.stderr)
    shutil.rmtree(temp, ignore_errors=True)


def worker_pids(title: str = "ray::run_item") -> list[int]:
    """Worker processes of the clusters these tests started that run a work item now (Ray sets
    their title to `ray::FUNCTION`; their log files live in the cluster's temp dir). Workers of any
    other Ray on the machine are never listed."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if cmdline.startswith(title) and _in_our_cluster(proc):
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def _in_our_cluster(proc: Path) -> bool:
    for fd in (proc / "fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if any(target.startswith(temp) for temp in TEMP_DIRS):
            return True
    return False
