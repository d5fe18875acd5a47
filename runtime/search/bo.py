"""Multi-objective Bayesian optimisation with BoTorch (qLogNEHVI) over slots x candidates.

Documented choices:
- Inputs: one integer per slot (the candidate index), every dimension categorical.
- Quality model: `MixedSingleTaskGP` with all dimensions declared categorical, i.e. a Hamming-
  distance (categorical) kernel with a lengthscale per slot, fitted to -PSNR drop.
- Latency: when it is a deterministic prediction (block table or device model), it enters the
  model list *exactly* as a `GenericDeterministicModel`; otherwise a second categorical GP.
- Acquisition: qLogNoisyExpectedHypervolumeImprovement, reference point (in minimisation terms)
  PSNR drop = `ref_drop` (default: 1.1 x the worst drop seen, at least 0.1 dB) and latency =
  `ref_latency` (default: the baseline network's latency; slower networks are of no interest).
  Constraints (a latency budget, a maximum PSNR drop) enter as feasibility constraints.
- Initial design: the baseline, then uniform random networks, `n_init` in all (default
  max(5, 2 x slots)).
- Candidate set: every unevaluated network when the space has at most 20,000 of them; otherwise
  5,000 random ones, every 1-Hamming neighbour of the current Pareto set and 40 random 2-slot
  mutations of each Pareto point.
- Screen: the acquisition scores at most 256 of them. The model's optimistic value of each
  candidate (posterior mean + 2 posterior sd per output; a deterministic latency is exact) is
  ranked by the hypervolume it would add to the observed front (2-D, exact, vectorised); the top
  256 go on. It keeps one proposal cheap however large the candidate set, which is what lets the
  set grow.
- The best `q` of the screened candidates by the acquisition (sequential greedy) are proposed.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import torch

from archc.compiler.space import SearchSpace

from .journal import Evaluation
from .pareto import front_indices
from .random_search import RandomStrategy

LatencyFn = Callable[[np.ndarray], np.ndarray]  # n x slots candidate indices -> n latencies (ms)
ENUMERATE_LIMIT = 20_000
POOL = 5_000
MUTATIONS = 40  # random 2-slot mutations per Pareto point
SCREEN = 256
BETA = 2.0  # optimism of the screen, in posterior standard deviations


def _skip_fused_kernel_build() -> None:
    """BoTorch JIT-compiles a C++ kernel for qLogNEHVI on first use (seconds to a minute);
    ARCHC_BOTORCH_FUSED=0 keeps the pure-Python path (tests and short runs)."""
    if os.environ.get("ARCHC_BOTORCH_FUSED", "1") == "0":
        import botorch.acquisition.multi_objective.logei as logei

        logei._load_attempted = True


class BoTorchStrategy:
    name = "botorch"

    def __init__(self, space: SearchSpace, seed: int = 0, latency: LatencyFn | None = None,
                 n_init: int | None = None, ref_drop: float | None = None, ref_latency: float | None = None,
                 max_latency: float | None = None, max_drop: float | None = None) -> None:
        self.space = space
        self.seed = seed
        self.latency = latency
        self.n_init = n_init if n_init is not None else max(5, 2 * len(space.slots))
        self.ref_drop, self.ref_latency = ref_drop, ref_latency
        self.max_latency, self.max_drop = max_latency, max_drop
        self.init = RandomStrategy(space, seed)

    # ---------------------------------------------------------------- data
    def _xy(self, history: Sequence[Evaluation]) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.tensor([e.indices for e in history], dtype=torch.double)
        y = torch.tensor([[-e.psnr_drop, -e.latency_ms] for e in history], dtype=torch.double)
        return x, y

    def _ref_point(self, history: Sequence[Evaluation]) -> list[float]:
        drops = [e.psnr_drop for e in history]
        ref_drop = self.ref_drop if self.ref_drop is not None else max(0.1, 1.1 * max(drops))
        base = next((e for e in history if not any(e.indices)), None)
        lat = [e.latency_ms for e in history]
        ref_lat = self.ref_latency if self.ref_latency is not None else (
            base.latency_ms if base is not None else max(lat))
        return [-ref_drop, -ref_lat]

    # ---------------------------------------------------------------- models
    def _model(self, x: torch.Tensor, y: torch.Tensor):  # type: ignore[no-untyped-def]
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import MixedSingleTaskGP
        from botorch.models.deterministic import GenericDeterministicModel
        from botorch.models.model import ModelList
        from gpytorch.mlls import ExactMarginalLogLikelihood

        dims = list(range(x.shape[-1]))

        def gp(col: int) -> MixedSingleTaskGP:
            model = MixedSingleTaskGP(x, y[:, col:col + 1], cat_dims=dims)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
            return model

        if self.latency is None:
            return ModelList(gp(0), gp(1))
        latency = self.latency

        def neg_latency(xx: torch.Tensor) -> torch.Tensor:
            flat = xx.detach().reshape(-1, xx.shape[-1]).round().long().numpy()
            vals = torch.as_tensor(-latency(flat), dtype=xx.dtype)
            return vals.reshape(*xx.shape[:-1], 1)

        return ModelList(gp(0), GenericDeterministicModel(neg_latency, num_outputs=1))

    # ---------------------------------------------------------------- candidates
    def _candidates(self, history: Sequence[Evaluation]) -> torch.Tensor:
        seen = {e.indices for e in history}
        if self.space.size - len(seen) <= ENUMERATE_LIMIT and self.space.size <= 10 * ENUMERATE_LIMIT:
            rows = [self.space.indices_at(i) for i in range(self.space.size)]
            rows = [r for r in rows if r not in seen]
        else:
            rng = np.random.default_rng([self.seed, len(history), 5])
            rows = self.space.sample(rng, POOL, exclude=seen)
            avoid = seen | set(rows)
            pts = np.array([[e.psnr_drop, e.latency_ms] for e in history])
            for i in front_indices(pts):
                rows += self._neighbours(history[i].indices, avoid)
                rows += self._mutations(history[i].indices, avoid, rng)
        return torch.tensor(rows, dtype=torch.double)

    def _mutations(self, idx: tuple[int, ...], avoid: set[tuple[int, ...]],
                   rng: np.random.Generator) -> list[tuple[int, ...]]:
        """Up to MUTATIONS networks differing from `idx` in two random slots (added to `avoid`)."""
        if len(idx) < 2:
            return []
        out = []
        for _ in range(MUTATIONS):
            n = list(idx)
            for slot in rng.choice(len(idx), size=2, replace=False):
                n[slot] = int(rng.integers(self.space.radices[slot]))
            t = tuple(n)
            if t not in avoid:
                out.append(t)
                avoid.add(t)
        return out

    def _neighbours(self, idx: tuple[int, ...], avoid: set[tuple[int, ...]]) -> list[tuple[int, ...]]:
        out = []
        for slot, radix in enumerate(self.space.radices):
            for c in range(radix):
                n = (*idx[:slot], c, *idx[slot + 1:])
                if n not in avoid:
                    out.append(n)
                    avoid.add(n)
        return out

    def _constraints(self) -> list[Callable[[torch.Tensor], torch.Tensor]] | None:
        cons: list[Callable[[torch.Tensor], torch.Tensor]] = []
        if self.max_drop is not None:
            max_drop = self.max_drop
            cons.append(lambda y: -y[..., 0] - max_drop)
        if self.max_latency is not None:
            max_latency = self.max_latency
            cons.append(lambda y: -y[..., 1] - max_latency)
        return cons or None

    def _screen(self, model, choices: torch.Tensor, y: torch.Tensor,  # type: ignore[no-untyped-def]
                ref: Sequence[float]) -> torch.Tensor:
        """The SCREEN candidates (`n x slots` -> `min(n, SCREEN) x slots`) whose optimistic values
        would add the most hypervolume to the observed front (ties: the most uncertain first)."""
        if len(choices) <= SCREEN:
            return choices
        with torch.no_grad():
            post = model.posterior(choices.unsqueeze(-2))  # n x 1 x d: marginals only
            mean, sd = post.mean.squeeze(-2), post.variance.squeeze(-2).clamp_min(0).sqrt()
        optimistic = (mean + BETA * sd).numpy()
        gain = hv_gain_2d(-y.numpy(), -optimistic, -np.asarray(ref, dtype=float))
        order = np.lexsort((-sd.sum(dim=-1).numpy(), -gain))
        return choices[torch.as_tensor(order[:SCREEN].copy())]

    def _sampler(self, model, x: torch.Tensor):  # type: ignore[no-untyped-def]
        """Quasi-MC samples for the GP and the exact value for a deterministic latency model
        (`get_sampler` picks the right sampler per output of the model list)."""
        from botorch.sampling.get_sampler import get_sampler

        return get_sampler(model.posterior(x[:1]), torch.Size([64]), seed=self.seed + len(x))

    # ---------------------------------------------------------------- proposal
    def propose(self, history: Sequence[Evaluation], n: int) -> list[tuple[int, ...]]:
        if len(history) < self.n_init:
            return self.init.propose(history, min(n, self.n_init - len(history)))
        from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
        from botorch.optim import optimize_acqf_discrete
        _skip_fused_kernel_build()
        torch.manual_seed(self.seed * 7919 + len(history))
        x, y = self._xy(history)
        model = self._model(x, y)
        choices = self._candidates(history)
        if len(choices) == 0:
            return []
        ref = self._ref_point(history)
        choices = self._screen(model, choices, y, ref)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            acqf = qLogNoisyExpectedHypervolumeImprovement(
                model=model, ref_point=ref, X_baseline=x, prune_baseline=True,
                sampler=self._sampler(model, x),
                constraints=self._constraints(),
            )
            best, _ = optimize_acqf_discrete(acqf, q=min(n, len(choices)), choices=choices, max_batch_size=512)
        return [tuple(int(v) for v in row) for row in best.round().long().tolist()]


def hv_gain_2d(front: np.ndarray, points: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Hypervolume each of `points` (`n x 2`, minimised) would add alone to that of `front`
    (`k x 2`), inside the box below `ref`.

    Along the second objective the front's attainment is a staircase: at t, the lowest first
    objective among front points with second objective <= t (ref[0] where none). A point p adds,
    over t in [p_1, ref_1], the height by which it undercuts that staircase.
    """
    f = front[np.all(front < ref, axis=1)]
    f = f[np.argsort(f[:, 1], kind="stable")]
    edges = np.concatenate([[-np.inf], f[:, 1], [ref[1]]])  # segment s: [edges[s], edges[s+1])
    stair = np.minimum.accumulate(np.concatenate([[ref[0]], f[:, 0]]))  # attainment on segment s
    lo = np.maximum(edges[None, :-1], points[:, 1:2])
    width = np.clip(edges[None, 1:] - lo, 0.0, None)
    height = np.clip(stair[None, :] - points[:, 0:1], 0.0, None)
    return (width * height).sum(axis=1)
