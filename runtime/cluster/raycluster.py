"""The Ray backend: every work item a Ray task, scheduled by its `Resources`.

Connecting (`connect`): `ray://HOST:PORT` is a Ray Client address; plain `ray` joins the cluster
named by `RAY_ADDRESS`, or else starts a local Ray for this run, bound to 127.0.0.1, with this
machine's cores and one `device:SERIAL` resource per phone `adb devices` lists, and stops it at the
end. Workers must run the same archc (installed on every node).

Data: a work item carries paths, not tensors, and `shared` goes through the object store once per
call. Stages keep their inputs and outputs (the teacher-feature cache, the surrogate bank, result
files) in the run folder, which every node must see at the same path (a shared filesystem; on one
machine it trivially is): that is what makes a resumed run skip finished work on any cluster.

Failures: a task whose worker process dies is retried by Ray (`max_retries`), an exception raised
by the work itself is not (it would fail again); ArchErrors reach the driver unchanged.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from archc.errors import ArchError, ClusterError

from . import worker
from .base import MAX_RETRIES, Executor, ProgressCallback, Resources, Work, WorkerSetup, warn_progress_lost
from .local import failed, item_label

POLL_SECONDS = 0.25
FLUSH_SECONDS = 60.0  # a worker waits at most this long for the progress actor after an item
INSTALL = "pip install 'archc[ray]'"
LOCAL_HOST = "127.0.0.1"


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ClusterError(
            "--cluster ray needs Ray, which is not installed",
            code="E1703",
            help=f"install it with `{INSTALL}` (or `pip install ray`), or use --cluster local",
        ) from None
    return ray


def adb_phones() -> dict[str, float]:
    """`device:SERIAL` = 1 for every phone `adb devices` lists as ready (none without adb)."""
    adb = shutil.which(os.environ.get("ARCHC_ADB", "adb"))
    if adb is None:
        return {}
    try:
        out = subprocess.run([adb, "devices"], capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    rows = [line.split() for line in out.splitlines()[1:]]
    return {f"device:{r[0]}": 1.0 for r in rows if len(r) >= 2 and r[1] == "device"}


def _stay_on_loopback() -> None:
    """Ray rewrites 127.0.0.1 to the machine's outward address unless its cluster mode is off,
    then binds its servers there or dials it: a local run must stay on the loopback interface."""
    from ray._private import ray_constants

    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False


def _token_auth_like_ray_start() -> None:
    """Use token authentication when a Ray token is available and RAY_AUTH_MODE is unset: the rule
    `ray start` follows, so a driver agrees with a cluster started on the same machine (a cluster
    without authentication accepts a driver that sends a token)."""
    try:
        from ray._private.authentication.authentication_token_setup import (
            maybe_enable_token_auth_if_token_available,
        )
    except ImportError:  # a Ray without token authentication
        return
    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)


def _is_loopback(address: str) -> bool:
    host = address.removeprefix("ray://").rsplit(":", 1)[0].strip("[]")
    return host in ("127.0.0.1", "localhost", "::1")


def _init_local(ray: Any, cpus: int) -> None:
    _stay_on_loopback()
    ray.init(
        num_cpus=cpus,
        resources=adb_phones(),
        include_dashboard=False,
        _node_ip_address=LOCAL_HOST,
        configure_logging=False,
        log_to_driver=False,
    )


def connect(address: str | None, cpus: int) -> tuple[Any, str]:
    """Connect to `address` (None: `RAY_ADDRESS`, else a local Ray started here); returns the ray
    module and a description of the cluster ("local Ray, 2 CPUs" or the address)."""
    ray = import_ray()
    target = address or os.environ.get("RAY_ADDRESS") or None
    try:
        if target is None:
            _init_local(ray, cpus)
            return ray, f"a local Ray on {LOCAL_HOST} ({cpus} CPUs)"
        if _is_loopback(target):
            _stay_on_loopback()
        _token_auth_like_ray_start()
        ray.init(address=target, configure_logging=False, log_to_driver=False)
    except ArchError:
        raise
    except Exception as exc:
        raise ClusterError(
            f"cannot connect to the Ray cluster at {target or 'a new local Ray'}: {type(exc).__name__}: {exc}",
            code="E1704",
            help="start one with `ray start --head` and set RAY_ADDRESS, or pass --cluster ray://HOST:PORT; "
            "a cluster with token authentication needs its token (RAY_AUTH_TOKEN or ~/.ray/auth_token)",
        ) from exc
    return ray, str(target)


def run_item(setup: WorkerSetup, progress: Any, fn: Work, shared: Any, item: Any) -> Any:
    """A work item in a Ray worker: set the process up, route its progress, run it."""
    setup.apply()
    worker.set_channel(_sender(progress) if progress is not None else None)
    try:
        return fn(shared, item)
    finally:
        worker.set_channel(None)
        if progress is not None:
            _flush(progress)


def _flush(progress: Any) -> None:
    """Wait for the queue actor's reply to one call after the item's events, so it holds them all
    when the item's result reaches the driver. A lost actor only costs progress lines: the driver
    warns about it, the item's result stands."""
    import ray

    try:
        ray.get(progress.actor.qsize.remote(), timeout=FLUSH_SECONDS)
    except Exception:  # noqa: BLE001 - any failure of the progress channel must leave the item alone
        return


def _sender(progress: Any) -> Callable[[Any], None]:
    """Progress events sent without waiting for the queue actor's reply (a round trip per event
    would stall short work items); Ray delivers one caller's calls to an actor in order. A send
    that fails drops the event: progress never fails an item."""

    def send(event: Any) -> None:
        try:
            progress.actor.put_nowait.remote(event)
        except Exception:  # noqa: BLE001 - see above
            return

    return send


class _Progress:
    """The driver's end of the progress channel: a Ray queue actor the workers send events to.
    Losing it (the actor died, the cluster is short of memory) costs the progress lines from then
    on and one warning, never the run: `drain` then returns nothing."""

    def __init__(self) -> None:
        self.queue: Any = None
        self.lost = False

    def open(self) -> Any:
        """The queue to hand to work items (None once the channel is lost)."""
        if self.queue is None and not self.lost:
            try:
                from ray.util.queue import Queue

                self.queue = Queue(actor_options={"num_cpus": 0})
            except Exception as exc:  # noqa: BLE001 - progress is optional
                self._lose(exc)
        return None if self.lost else self.queue

    def drain(self, on_progress: ProgressCallback) -> None:
        if self.queue is None or self.lost:
            return
        try:
            size = self.queue.qsize()
            events = self.queue.get_nowait_batch(size) if size else []
        except Exception as exc:  # noqa: BLE001 - a lost channel is a warning, not a failure
            self._lose(exc)
            return
        for event in events:  # outside the try: an exception the callback raises is the driver's own
            on_progress(event)

    def _lose(self, exc: BaseException) -> None:
        self.lost = True  # the queue stays referenced: `close` stops the actor if it still runs
        warn_progress_lost("the Ray cluster", exc)

    def close(self) -> None:
        if self.queue is not None:
            with contextlib.suppress(Exception):  # an actor already gone has nothing to stop
                self.queue.shutdown()
            self.queue = None


class RayExecutor(Executor):
    """Work items as Ray tasks on the cluster `connect` reached."""

    name = "ray"
    schedules_resources = True

    def __init__(self, address: str | None, setup: WorkerSetup | None = None, cpus: int = 1) -> None:
        self.setup = setup or WorkerSetup()
        ray = import_ray()
        self._owns = not ray.is_initialized()  # disconnect at close only what this executor connected
        self.ray, self.where = connect(address, cpus) if self._owns else (ray, _connected_to(ray))
        self.workers = int(self.ray.cluster_resources().get("CPU", 1))
        self._remote = self.ray.remote(run_item)
        self._progress = _Progress()

    def describe(self) -> dict[str, Any]:
        resources = {k: v for k, v in self.ray.cluster_resources().items() if not k.startswith("node:")}
        return {"cluster": "ray", "where": self.where, "workers": self.workers, "resources": resources}

    def gpus(self) -> float:
        return float(self.ray.cluster_resources().get("GPU", 0.0))

    def check(self, resources: Resources) -> None:
        """Raise ClusterError when no node offers what an item needs (Ray would wait forever)."""
        have = self.ray.cluster_resources()
        need: dict[str, float] = {"CPU": resources.cpus, "GPU": resources.gpus, **resources.custom}
        missing = [k for k, v in need.items() if v > 0 and have.get(k, 0.0) < v]
        if missing:
            raise ClusterError(
                f"no node of the Ray cluster offers {', '.join(f'`{k}`' for k in missing)} "
                f"(it has: {', '.join(sorted(k for k in have if not k.startswith('node:')))})",
                code="E1705",
                help=_resource_hint(missing[0]),
            )

    def _options(self, resources: Resources) -> dict[str, Any]:
        return {
            "num_cpus": resources.cpus,
            "num_gpus": resources.gpus,
            "resources": dict(resources.custom),
            "max_retries": MAX_RETRIES,
            "retry_exceptions": False,
        }

    def map_unordered(
        self,
        fn: Work,
        items: Sequence[Any],
        shared: Any = None,
        resources: Resources | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Iterator[tuple[int, Any]]:
        res = resources or Resources(cpus=float(self.setup.threads))
        self.check(res)
        queue = self._progress.open() if on_progress is not None else None
        shared_ref = self.ray.put(shared)
        task = self._remote.options(**self._options(res))
        refs = {task.remote(self.setup, queue, fn, shared_ref, item): i for i, item in enumerate(items)}
        yield from self._collect(refs, items, on_progress)

    def _collect(
        self, refs: Mapping[Any, int], items: Sequence[Any], on_progress: ProgressCallback | None
    ) -> Iterator[tuple[int, Any]]:
        pending = list(refs)
        try:
            while pending:
                done, pending = self.ray.wait(pending, num_returns=1, timeout=POLL_SECONDS)
                self._drain(on_progress)
                for ref in done:
                    i = refs[ref]
                    yield i, self._result(ref, items[i])
            self._drain(on_progress)
        finally:
            # force: a worker interrupted mid-item (mid-import even) is not fit to run the next one
            for ref in pending:
                self.ray.cancel(ref, force=True)

    def _result(self, ref: Any, item: Any) -> Any:
        from ray.exceptions import RayTaskError

        try:
            return self.ray.get(ref)
        except RayTaskError as exc:
            cause = exc.cause if isinstance(exc.cause, BaseException) else exc
            raise failed(item, cause) from exc
        except Exception as exc:  # the worker died more often than Ray retries, or was cancelled
            raise ClusterError(
                f"work item `{item_label(item)}` did not finish on the Ray cluster: {type(exc).__name__}: {exc}",
                code="E1706",
                help="finished items are kept: rerun the same command to resume",
            ) from exc

    def _drain(self, on_progress: ProgressCallback | None) -> None:
        if on_progress is not None:
            self._progress.drain(on_progress)

    def close(self) -> None:
        self._progress.close()
        if self._owns and self.ray.is_initialized():
            self.ray.shutdown()


def _connected_to(ray: Any) -> str:
    """The GCS address of the cluster this process is connected to (a run's later stages reuse it)."""
    try:
        return f"connected, {ray.get_runtime_context().gcs_address}"
    except Exception:  # an older Ray without it: the description is for people only
        return "this process's Ray connection"


def _resource_hint(name: str) -> str:
    if name.startswith("device:"):
        serial = name.split(":", 1)[1]
        return (
            f"start the Ray node the phone is plugged into with "
            f"`ray start --address=HEAD --resources='{{\"device:{serial}\": 1}}'`"
        )
    if name == "GPU":
        return "add a GPU node to the cluster, or run with --accelerator cpu"
    return "add a node that offers it, or ask for less"
