"""`qai-hub:DEVICE NAME`: a profile job on a device hosted by Qualcomm AI Hub.

Needs the `qai-hub` client (`pip install qai-hub`, imported only when this device is used) and
an API token: `QAIHUB_API_TOKEN`, or the client's config file written by
`qai-hub configure --api_token TOKEN` (`~/.qai_hub/client.ini`, or `QAIHUB_CLIENT_INI`).
Each workload's ONNX graph (input shape frozen) is uploaded with `upload_model`, profiled with
`submit_profile_job(model, device=Device(name))`, and `job.download_profile()` gives
`execution_summary.estimated_inference_time` in microseconds. Option (`--device-option`):
`options` (passed to the job as-is, e.g. `--compute_unit npu`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from archc.diagnostics import unknown_name_help
from archc.errors import ProfileError
from archc.runtime.cluster import Resources

from .adb import check_options
from .backend import Profiler
from .measure import Measurement
from .workload import Workload

ENV_TOKEN = "QAIHUB_API_TOKEN"
ENV_CONFIG = "QAIHUB_CLIENT_INI"
OPTIONS = ("options",)


def config_path() -> Path:
    return Path(os.environ.get(ENV_CONFIG) or Path.home() / ".qai_hub" / "client.ini")


def client() -> Any:
    """The `qai_hub` module, once it is installed and a token is configured."""
    try:
        import qai_hub
    except ImportError:
        raise ProfileError(
            "the qai-hub device needs the Qualcomm AI Hub client", code="E0820", help="pip install qai-hub"
        ) from None
    if not os.environ.get(ENV_TOKEN) and not config_path().is_file():
        raise ProfileError(
            "no Qualcomm AI Hub API token",
            code="E0821",
            help=f"set {ENV_TOKEN}, or run `qai-hub configure --api_token TOKEN`",
        )
    return qai_hub


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


class QaiHubProfiler(Profiler):
    kind = "remote"

    def __init__(self, device_name: str, options: Mapping[str, str]) -> None:
        check_options(options, OPTIONS, "qai-hub")
        self.device_name = device_name
        self.name = f"qai-hub:{device_name}"
        self.options = dict(options)
        self.description = f"Qualcomm AI Hub profile job on {device_name}"
        self._hub: Any = None

    def record(self) -> dict[str, Any]:
        return {
            "device": self.name,
            "kind": self.kind,
            "runtime": "Qualcomm AI Hub profile job",
            "statistic": "execution_summary.estimated_inference_time",
            "options": self.options.get("options", ""),
        }

    def resources(self) -> Resources:
        return Resources(cpus=0.5)  # the farm queues jobs itself; a worker only waits on one

    def _connect(self) -> Any:
        if self._hub is not None:
            return self._hub
        hub = client()
        try:
            names = sorted({d.name for d in hub.get_devices()})
        except Exception as exc:  # network, auth: the client raises its own types
            raise ProfileError(f"Qualcomm AI Hub is unreachable: {_one_line(exc)}", code="E0823") from None
        if self.device_name not in names:
            raise ProfileError(
                f"Qualcomm AI Hub has no device named `{self.device_name}`",
                code="E0822",
                help=unknown_name_help(
                    self.device_name, names, f"{len(names)} devices are listed by qai_hub.get_devices()"
                ),
            )
        self._hub = hub
        return hub

    def profile(self, workload: Workload) -> Measurement:
        hub = self._connect()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{workload.key.replace('/', '_')[:80]}.onnx"
            path.write_bytes(workload.onnx_bytes())
            try:
                model = hub.upload_model(str(path))
                job = hub.submit_profile_job(
                    model=model,
                    device=hub.Device(self.device_name),
                    name=f"archc {workload.key}"[:100],
                    options=self.options.get("options", ""),
                )
                result = job.download_profile()
            except Exception as exc:
                raise ProfileError(f"AI Hub profile job failed: {_one_line(exc)}", code="E0823") from None
        try:
            us = float(result["execution_summary"]["estimated_inference_time"])
        except (KeyError, TypeError, ValueError):
            raise ProfileError(
                "AI Hub profile has no execution_summary.estimated_inference_time", code="E0823"
            ) from None
        job_id = getattr(job, "job_id", None)
        return Measurement(us / 1e3, "remote", None, 1, True, self.record(), {"job_id": job_id})
