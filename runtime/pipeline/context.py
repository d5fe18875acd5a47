"""What the stages of one run share: where torch runs, the cluster connection, the teacher check
and the console. A `Context` resolves the accelerator once, opens the cluster once (closed with
the context) and checks a teacher once per (weights, data, images, crop)."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from attrs import define, field
from rich.console import Console

from .console import console as default_console
from .console import err_console as default_err_console


@define
class Context:
    """`with Context(accelerator="cpu", cluster="ray") as ctx: distill(run_dir, settings, ctx)`.

    `accelerator` is where torch runs (auto, cpu, cuda, cuda:N, mps), `amp` the training steps'
    mixed precision, `cluster` where parallel work runs (local, ray, ray://HOST:PORT) with `jobs`
    local processes, `allow_weak_teacher` goes on past a teacher that does not restore."""

    accelerator: str = "auto"
    amp: str = "off"
    cluster: str = "local"
    jobs: int = 1
    allow_weak_teacher: bool = False
    console: Console = field(factory=lambda: default_console)
    notes: Console = field(factory=lambda: default_err_console)  # side lines that must not mix with --json
    _device: Any = field(default=None, init=False)
    _executors: dict[int, Any] = field(factory=dict, init=False)
    _checks: dict[tuple[Any, ...], Any] = field(factory=dict, init=False)

    def say(self, text: str) -> None:
        self.console.print(text)

    def device(self) -> Any:
        """The accelerator's `torch.device`, resolved on first use (AcceleratorError when missing)."""
        if self._device is None:
            from archc.runtime.accel.accelerator import resolve

            self._device = resolve(self.accelerator)
        return self._device

    def check(self) -> None:
        """Fail before any work: an unknown accelerator or cluster, an impossible AMP, a missing Ray."""
        self.where_to_run(self.amp)
        _check_cluster(self.cluster)

    def where_to_run(self, amp: str = "off") -> tuple[str, dict[str, str]]:
        """(the accelerator name workers resolve, what the run records). With a local cluster the
        name is resolved here, so a missing accelerator or an impossible precision fails before any
        work; on a Ray cluster only the name is checked (the workers' hardware is not this machine's)."""
        from archc.runtime.accel.accelerator import check_name, describe
        from archc.runtime.training.amp import check_amp

        if self.cluster != "local":
            name = check_name(self.accelerator)
            return name, {"accelerator": name, "accelerator_name": f"the {self.cluster} cluster's workers", "amp": amp}
        check_amp(amp, self.device())
        return str(self.device()), describe(self.device(), amp)

    def executor(self, jobs: int | None = None, threads: int = 1) -> Any:
        """The cluster's executor, opened once per thread count and kept until the context closes;
        None with `cluster="local"` (each stage then uses this process, or its own pool)."""
        from archc.compiler.blocks.registry import plugin_files
        from archc.runtime.cluster import WorkerSetup, check_cluster, open_executor

        if check_cluster(self.cluster) == "local":
            return None
        if threads not in self._executors:
            executor = open_executor(self.cluster, jobs or self.jobs, WorkerSetup(threads, plugin_files()))
            where = executor.describe()
            self.notes.print(f"cluster: Ray ({where.get('where')}), {where['workers']} CPUs")
            self._executors[threads] = executor
        return self._executors[threads]

    def check_teacher(self, spec: Any, weights: str, data: str, images: int, crop: int | None) -> Any:
        """Score the teacher WEIGHTS and the blurred input on the first `images` test pairs of DATA
        (centre `crop` crops) once, print the line and return the `TeacherCheck`. Raises
        WeakTeacherError when the teacher gains less than 0.1 dB, unless `allow_weak_teacher`."""
        key = (str(weights), str(data), images, crop)
        if key not in self._checks:
            self._checks[key] = self._measure(spec, str(weights), str(data), images, crop)
        return self._checks[key]

    def _measure(self, spec: Any, weights: str, data: str, images: int, crop: int | None) -> Any:
        from archc.runtime.accel.accelerator import resolve_here
        from archc.runtime.data.datasets import open_dataset
        from archc.runtime.evaluation.guard import ALLOW_FLAG, measure, require
        from archc.runtime.network.build import build

        check = measure(
            build(spec, None, weights), open_dataset(data, split="test"), images, crop, resolve_here(self.accelerator)
        )
        if check.passed:
            self.console.print(check.line())
        elif self.allow_weak_teacher:
            self.console.print(
                f"[yellow]warning: {check.line()}; the teacher does not restore, going on ({ALLOW_FLAG})[/yellow]"
            )
        return require(check, self.allow_weak_teacher)

    def close(self) -> None:
        for executor in self._executors.values():
            executor.close()
        self._executors.clear()

    def __enter__(self) -> Context:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _check_cluster(cluster: str) -> None:
    from archc.runtime.cluster import check_cluster

    if check_cluster(cluster) != "local":
        from archc.runtime.cluster.raycluster import import_ray

        import_ray()
