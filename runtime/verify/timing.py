"""End-to-end latency of the exported networks.

On a device measured on this machine with ONNX Runtime (`cpu`, `ort-cpu`): the exported ONNX
files, each frozen at the profiled input size, timed in one process, interleaved (every round runs
each graph once, in a rotating order, so load from other processes falls on all of them alike),
with the threads of the profile's protocol; each figure is the median over the rounds with its
interquartile range, and each speed-up the median of the per-round ratios with theirs.
On any other device (a modelled one such as `s24`, or a phone): the device profiler's whole-network
figure for each network, labelled as the profiler labels it (`modelled`, `remote`, `measured`).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from archc.compiler.onnx_export import INPUT
from archc.errors import VerifyError
from archc.runtime.profile.measure import machine, quartiles
from archc.runtime.profile.ort import session
from archc.runtime.profile.workload import Workload, freeze_shape

HERE = ("cpu", "ort-cpu")  # devices whose latency is ONNX Runtime on this machine


def _summary(samples: list[float]) -> dict[str, Any]:
    q25, med, q75 = quartiles(samples)
    return {"median": med, "q25": q25, "q75": q75, "iqr": q75 - q25, "min": min(samples)}


def time_onnx(
    files: Mapping[str, str | Path],
    size: tuple[int, int],
    threads: int = 1,
    rounds: int = 50,
    warmup: int = 3,
    channels: int = 3,
    clock: str = "wall",
) -> dict[str, Any]:
    """Interleaved ONNX Runtime timing of `files` (name -> ONNX path) at 1 x `channels` x `size`:
    `networks` {name: {latency_ms, iqr_ms, q25_ms, q75_ms, min_ms}}, `speedups` {name: the per-round
    ratio of the first file's time to name's (median, q25, q75)}, and the protocol. `clock` `cpu`
    times this process's CPU time (1 thread: on a shared machine it still measures the work)."""
    import onnx

    if clock == "cpu" and threads != 1:
        raise VerifyError(
            "the `cpu` clock measures latency with 1 thread only",
            code="E1904",
            help="time with the `wall` clock, or profile with 1 thread",
        )
    tick = time.process_time if clock == "cpu" else time.perf_counter

    shape = (1, channels, *size)
    sessions = {
        k: session(freeze_shape(onnx.load(str(p)), shape).SerializeToString(), threads) for k, p in files.items()
    }
    feeds = {INPUT: np.random.default_rng(0).random(shape, dtype=np.float32)}
    for _ in range(warmup):
        for s in sessions.values():
            s.run(None, feeds)
    names = list(sessions)
    samples: dict[str, list[float]] = {k: [] for k in names}
    for r in range(rounds):
        for k in names[r % len(names) :] + names[: r % len(names)]:
            samples[k].append(_once(sessions[k], feeds, tick))
    first = names[0]
    ratios = {k: _summary([a / b for a, b in zip(samples[first], samples[k], strict=True)]) for k in names[1:]}
    return {
        "networks": {k: _ms(_summary(v)) for k, v in samples.items()},
        "speedups": {k: {"median": v["median"], "q25": v["q25"], "q75": v["q75"]} for k, v in ratios.items()},
        "label": "measured",
        "how": f"ONNX Runtime CPUExecutionProvider on this machine, {threads} thread(s), "
        f"median of {rounds} interleaved rounds ({clock} clock)",
        "clock": clock,
        "threads": threads,
        "rounds": rounds,
        "warmup": warmup,
        "input": list(shape),
        "machine": machine(),
    }


def _once(sess: Any, feeds: dict[str, np.ndarray], tick: Callable[[], float]) -> float:
    t0 = tick()
    sess.run(None, feeds)
    return tick() - t0


def _ms(s: dict[str, Any]) -> dict[str, float]:
    return {
        "latency_ms": s["median"] * 1e3,
        "iqr_ms": s["iqr"] * 1e3,
        "q25_ms": s["q25"] * 1e3,
        "q75_ms": s["q75"] * 1e3,
        "min_ms": s["min"] * 1e3,
    }


def device_figures(
    device: str, networks: Mapping[str, nn.Module], size: tuple[int, int], channels: int = 3
) -> dict[str, Any]:
    """The whole-network figure of each of `networks` from `device`'s profiler, labelled as it labels
    them; `speedups` are the first network's figure over each other's."""
    from archc.runtime.profile.devices import resolve

    profiler = resolve(device)
    networks = {k: copy.deepcopy(m).cpu().eval() for k, m in networks.items()}  # fine-tuned on a GPU, say
    try:
        got = {
            k: profiler.profile(
                Workload(f"verify:{k}@{size[0]}x{size[1]}", m, channels, size, cache_key=f"verify:{k}:{id(m)}")
            )
            for k, m in networks.items()
        }
    finally:
        profiler.close()
    first = next(iter(got.values()))
    kinds = {m.kind for m in got.values()}
    return {
        "networks": {k: {"latency_ms": m.median_ms, "iqr_ms": m.iqr_ms} for k, m in got.items()},
        "speedups": {k: {"median": first.median_ms / m.median_ms} for k, m in list(got.items())[1:]},
        "label": kinds.pop() if len(kinds) == 1 else "mixed",
        "how": profiler.description,
        "input": [1, channels, *size],
    }
