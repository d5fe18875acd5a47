from pathlib import Path
import numpy as np
import torch
from test_run import _run, _tensors, _Kill
def test_dbg(micro, micro_run, tmp_path: Path) -> None:
    b = _run(micro, tmp_path / "b")
    for f in sorted((micro_run.out / "features").glob("*.npy")):
        x = np.load(f); y = np.load(tmp_path / "b" / "features" / f.name)
        print(f.name, np.abs(x - y).max())
    c = _tensors(_run(micro, tmp_path / "c"))
    bb = _tensors(b)
    for k in bb:
        print(k, {n: float((c[k][n]-bb[k][n]).abs().max()) for n in c[k] if not torch.equal(c[k][n], bb[k][n])})
    assert 0
