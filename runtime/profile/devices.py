"""Device names -> profilers. A device is a name resolved to a backend:

| name                     | kind     | backend                                                  |
|--------------------------|----------|----------------------------------------------------------|
| `cpu` (alias `ort-cpu`)  | measured | ONNX Runtime CPUExecutionProvider here (`ort.py`)        |
| `torch-cpu`              | measured | the PyTorch module here (`torch_cpu.py`)                 |
| `executorch-cpu`         | measured | ExecuTorch + XNNPACK here (`phone_cpu.py`)               |
| `litert-cpu`             | measured | LiteRT's interpreter + XNNPACK here (`phone_cpu.py`)     |
| `adb:SERIAL`             | remote   | a runtime's benchmark binary on an Android phone (`adb.py`) |
| `qai-hub:DEVICE NAME`    | remote   | a Qualcomm AI Hub profile job (`qaihub.py`)              |
| `s24`, any device file   | modelled | the op-level cost model (`costmodel.py`)                 |

Device files are the shipped `devices/*.toml` plus `*.toml` / `*.json` in `--devices-dir`
(a file there overrides a shipped one of the same name). A path to a device file also works.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path

from attrs import frozen

from archc.diagnostics import quoted_list, unknown_name_help
from archc.errors import ProfileError

from . import devicefile
from .backend import Profiler
from .costmodel import DeviceModel, ModelledProfiler
from .measure import Protocol

Options = Mapping[str, str]


@frozen
class DeviceInfo:
    name: str
    kind: str  # measured | modelled | remote
    description: str
    source: str = "built in"


def _cpu(protocol: Protocol, options: Options, name: str) -> Profiler:
    from .ort import OrtCpuProfiler

    return OrtCpuProfiler(protocol, name)


def _torch(protocol: Protocol, options: Options, name: str) -> Profiler:
    from .torch_cpu import TorchCpuProfiler

    return TorchCpuProfiler(protocol, name)


def _executorch(protocol: Protocol, options: Options, name: str) -> Profiler:
    from .phone_cpu import PhoneCpuProfiler

    return PhoneCpuProfiler("pte", protocol, name)


def _litert(protocol: Protocol, options: Options, name: str) -> Profiler:
    from .phone_cpu import PhoneCpuProfiler

    return PhoneCpuProfiler("tflite", protocol, name)


def _adb(protocol: Protocol, options: Options, name: str) -> Profiler:
    from .adb import AdbProfiler

    return AdbProfiler(name.split(":", 1)[1], protocol, options)


def _qai_hub(protocol: Protocol, options: Options, name: str) -> Profiler:
    from .qaihub import QaiHubProfiler

    return QaiHubProfiler(name.split(":", 1)[1], options)


Factory = Callable[[Protocol, Options, str], Profiler]
BUILTIN: dict[str, tuple[Factory, DeviceInfo]] = {
    "cpu": (
        _cpu,
        DeviceInfo(
            "cpu",
            "measured",
            "ONNX Runtime CPUExecutionProvider on this machine "
            "(alias ort-cpu; --threads pins intra-op threads, default 1)",
        ),
    ),
    "torch-cpu": (
        _torch,
        DeviceInfo(
            "torch-cpu", "measured", "the PyTorch module on this machine's CPU (torch.set_num_threads, inference_mode)"
        ),
    ),
    "executorch-cpu": (
        _executorch,
        DeviceInfo(
            "executorch-cpu",
            "measured",
            "the .pte program (XNNPACK delegate) in ExecuTorch's runtime on this machine (needs archc[executorch])",
        ),
    ),
    "litert-cpu": (
        _litert,
        DeviceInfo(
            "litert-cpu",
            "measured",
            "the .tflite file in LiteRT's interpreter (XNNPACK delegate) on this machine (needs archc[litert])",
        ),
    ),
}
ALIASES = {"ort-cpu": "cpu"}
PREFIXES: dict[str, tuple[Factory, DeviceInfo]] = {
    "adb:": (
        _adb,
        DeviceInfo(
            "adb:SERIAL",
            "remote",
            "an Android phone over adb running a runtime's benchmark binary: onnxruntime_perf_test, or with "
            "--device-option runtime=executorch|litert executor_runner / benchmark_model (see `adb.py`)",
        ),
    ),
    "qai-hub:": (
        _qai_hub,
        DeviceInfo(
            "qai-hub:DEVICE NAME",
            "remote",
            "a Qualcomm AI Hub profile job on a hosted "
            "device, e.g. `qai-hub:Samsung Galaxy S24 Ultra` (needs qai-hub and a token)",
        ),
    ),
}


def shipped_dir() -> Path:
    return Path(str(resources.files("archc.runtime.profile").joinpath("devices")))


def device_files(devices_dir: str | Path | None = None) -> dict[str, Path]:
    """Modelled device name -> file: shipped first, then `devices_dir` (which wins)."""
    out: dict[str, Path] = {}
    for folder in (shipped_dir(), Path(devices_dir) if devices_dir else None):
        if folder is None:
            continue
        if not folder.is_dir():
            raise ProfileError(f"no such devices folder: {folder}", code="E0807")
        for path in sorted([*folder.glob("*.toml"), *folder.glob("*.json")]):
            out[path.stem] = path
    return out


def known_names(devices_dir: str | Path | None = None) -> list[str]:
    return [*BUILTIN, *ALIASES, *(p.rstrip(":") + ":..." for p in PREFIXES), *device_files(devices_dir)]


def load_model(name: str, devices_dir: str | Path | None = None) -> DeviceModel:
    """The cost model of a modelled device, by name or by path to its file."""
    files = device_files(devices_dir)
    if name in files:
        return devicefile.load(files[name])
    if Path(name).suffix in (".toml", ".json") and Path(name).is_file():
        return devicefile.load(name)
    raise unknown(name, devices_dir, modelled_only=True)


def unknown(name: str, devices_dir: str | Path | None, modelled_only: bool = False) -> ProfileError:
    names = list(device_files(devices_dir)) if modelled_only else known_names(devices_dir)
    what = "modelled device" if modelled_only else "device"
    known = f"known: {quoted_list(names)} (`archc devices` lists them)"
    return ProfileError(
        f"unknown {what} `{name}`", code="E0801", help=unknown_name_help(name, names, known, always=True)
    )


def resolve(
    name: str, protocol: Protocol | None = None, options: Options | None = None, devices_dir: str | Path | None = None
) -> Profiler:
    """The profiler for device `name` (see the module docstring); raises ProfileError if unknown."""
    protocol = protocol or Protocol()
    options = dict(options or {})
    key = ALIASES.get(name, name)
    if key in BUILTIN:
        return BUILTIN[key][0](protocol, options, name)
    for prefix, (factory, _) in PREFIXES.items():
        if name.startswith(prefix) and len(name) > len(prefix):
            return factory(protocol, options, name)
    files = device_files(devices_dir)
    if name in files or (Path(name).suffix in (".toml", ".json") and Path(name).is_file()):
        return ModelledProfiler(load_model(name, devices_dir))
    raise unknown(name, devices_dir)


def listing(devices_dir: str | Path | None = None) -> list[DeviceInfo]:
    """Every device `archc devices` shows: built-ins, remote patterns, device files."""
    out = [info for _, info in BUILTIN.values()]
    out += [info for _, info in PREFIXES.values()]
    for name, path in device_files(devices_dir).items():
        model = devicefile.load(path)
        out.append(DeviceInfo(name, "modelled", model.description, str(path)))
    return out
