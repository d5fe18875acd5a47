"""Block saliency: which blocks and slots of a trained network matter (facts/saliency.md).

- `score.compute_saliency`: grad_norm, snip, grasp, fisher, synflow and the block-removal
  Taylor score per block and per slot (sum, per-parameter, rank), with parameter and MAC
  baselines, on a private copy of the network;
- `ablate.ablate`: the ground truth, the PSNR drop of removing each unit, and `correlations`;
- `report`: the saliency.json format; `plot`: saliency.png;
- `resolve.resolve`: the slots a spec's `exclude top K by METRIC` lines exclude.
"""

from archc.errors import SaliencyError

from .ablate import Ablation, ablate, correlations
from .measures import MEASURES
from .resolve import Resolution, resolve
from .score import Saliency, UnitScore, compute_saliency

__all__ = [
    "MEASURES",
    "Ablation",
    "Resolution",
    "Saliency",
    "SaliencyError",
    "UnitScore",
    "ablate",
    "compute_saliency",
    "correlations",
    "resolve",
]
