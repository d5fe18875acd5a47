"""The AI Hub backend against qai_hub's documented client interface, with a stand-in module."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest

from archc.errors import ProfileError
from archc.runtime.profile.devices import resolve
from archc.runtime.profile.table import block_workload, identity_block


def _fake_hub(calls: list[Any], estimated_us: float = 8500.0) -> types.ModuleType:
    hub = types.ModuleType("qai_hub")

    class Device:
        def __init__(self, name: str) -> None:
            self.name = name

    class Job:
        job_id = "j123"

        def download_profile(self) -> dict[str, Any]:
            return {"execution_summary": {"estimated_inference_time": estimated_us}}

    def upload_model(path: str) -> str:
        calls.append(("upload", Path(path).suffix, Path(path).stat().st_size > 0))
        return "model-1"

    def submit_profile_job(model: str, device: Device, name: str = "", options: str = "") -> Job:
        calls.append(("profile", model, device.name, options))
        return Job()

    hub.Device = Device  # type: ignore[attr-defined]
    hub.get_devices = lambda: [Device("Samsung Galaxy S24 Ultra"), Device("Samsung Galaxy S24 (Family)")]  # type: ignore[attr-defined]
    hub.upload_model = upload_model  # type: ignore[attr-defined]
    hub.submit_profile_job = submit_profile_job  # type: ignore[attr-defined]
    return hub


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Any]:
    calls: list[Any] = []
    monkeypatch.setitem(sys.modules, "qai_hub", _fake_hub(calls))
    monkeypatch.setenv("QAIHUB_API_TOKEN", "t0k3n")
    monkeypatch.setenv("QAIHUB_CLIENT_INI", str(tmp_path / "none.ini"))
    return calls


def _workload():  # type: ignore[no-untyped-def]
    return block_workload(identity_block(), 4, (8, 8))


def test_a_profile_job_gives_milliseconds(hub: list[Any]) -> None:
    m = resolve("qai-hub:Samsung Galaxy S24 Ultra", options={"options": "--compute_unit npu"}).profile(_workload())
    assert m.kind == "remote" and m.median_ms == pytest.approx(8.5) and m.extra["job_id"] == "j123"
    assert hub == [("upload", ".onnx", True), ("profile", "model-1", "Samsung Galaxy S24 Ultra", "--compute_unit npu")]


def test_an_unknown_hub_device_suggests_one(hub: list[Any]) -> None:
    with pytest.raises(ProfileError) as info:
        resolve("qai-hub:Samsung Galaxy S24 Ultar").profile(_workload())
    assert "did you mean `Samsung Galaxy S24 Ultra`" in info.value.render()


def test_no_client_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "qai_hub", None)  # import fails like an absent package
    with pytest.raises(ProfileError) as info:
        resolve("qai-hub:Samsung Galaxy S24 Ultra").profile(_workload())
    assert info.value.diagnostics[0].code == "E0820" and "pip install qai-hub" in info.value.render()


def test_no_token(hub: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QAIHUB_API_TOKEN")
    with pytest.raises(ProfileError) as info:
        resolve("qai-hub:Samsung Galaxy S24 Ultra").profile(_workload())
    assert info.value.diagnostics[0].code == "E0821" and "QAIHUB_API_TOKEN" in info.value.render()
