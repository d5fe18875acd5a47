"""Multi-objective Bayesian optimisation with BoTorch (qLogNEHVI) over slots x candidates.

Documented choices:
- Inputs: one integer per slot (the candidate index), every dimension categorical.
- Quality model: `MixedSingleTaskGP` with all dimensions declared categorical, i.e. a Hamming-
  distance (categorical) kernel with a lengthscale per slot, fitted to -PSNR drop; with an
  additive prediction (`additive.py`: the plug-in drops of the distill stage summed over the
  slots) the GP models only what that prediction misses. A residual GP, not a prior mean inside
  one GP: the drop is modelled as `a x predicted drop + residual`, `a` the least-squares scale of
  the prediction to the scored drops (1 until three networks are scored, clipped to [0.25, 4]:
  plug-in drops are measured on whole images, the search scores crops, so their scale may
  differ), the residual a GP over the scored networks, and the model the acquisition sees is the
  sum (`PriorMeanModel`: the GP's posterior shifted by the prediction). Far from every scored
  network the residual GP reverts to its constant mean, so the model falls back on the additive
  prediction, which is what distillation measured; near scored networks the data win. (A prior
  mean inside the GP would interact with the outcome standardisation; a residual keeps the GP,
  its fitting and its priors exactly as without a prediction.)
- Latency: when it is a deterministic prediction (block table or device model), it enters the
  model list *exactly* as a `GenericDeterministicModel`; otherwise a second categorical GP.
- Acquisition: qLogNoisyExpectedHypervolumeImprovement, reference point (in minimisation terms)
  PSNR drop = `ref_drop` (default: 1.1 x the worst drop seen, at least 0.1 dB) and latency =
  `ref_latency` (default: the baseline network's latency; slower networks are of no interest).
  Constraints (a latency budget, a maximum PSNR drop) enter as feasibility constraints.
- Initial design, with an additive prediction: the baseline (the teacher), then networks spread
  along the prediction's exact Pareto front (`additive.spread`: drops from 0 up to `SPREAD_CAP`
  dB, denser near 0), `n_init` in all (default max(5, slots)); the first evaluations cover the
  drop range users want instead of networks that replace most slots at once. Without a
  prediction (no plug-in report, or `prior=None`: the `botorch-random` strategy): the baseline,
  then uniform random networks, `n_init` in all (default max(5, 2 x slots)).
- Candidate set: every unevaluated network when the space has at most 20,000 of them; otherwise
  5,000 random ones, every 1-Hamming neighbour of the current Pareto set and 40 random 2-slot
  mutations of each Pareto point; with an additive prediction also every member of its front,
  their 1-Hamming neighbours and `FRONT_MUTATIONS` 2-slot mutations of each.
- Origins: every proposal says where it came from (`origin`): `initial-teacher`,
  `initial-additive`, `initial-random`, or `bo` with the candidate set it was drawn from
  (`bo:additive-front`, `bo:additive-neighbour`, `bo:front-neighbour`, `bo:random`, `bo:all`).
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

from .additive import AdditiveModel, spread
from .journal import Evaluation
from .kernel_lock import clear_stale_lock
from .pareto import front_indices
from .random_search import RandomStrategy

LatencyFn = Callable[[np.ndarray], np.ndarray]  # n x slots candidate indices -> n latencies (ms)
ENUMERATE_LIMIT = 20_000
POOL = 5_000
MUTATIONS = 40  # random 2-slot mutations per Pareto point
SCREEN = 256
BETA = 2.0  # optimism of the screen, in posterior standard deviations
FRONT_MUTATIONS = 10  # random 2-slot mutations per member of the additive front
SPREAD_CAP = 2.0  # dB: the initial design spreads over the additive front's drops up to this


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
                 max_latency: float | None = None, max_drop: float | None = None,
                 prior: AdditiveModel | None = None, name: str = "botorch") -> None:
        self.space = space
        self.seed = seed
        self.latency = latency
        self.prior = prior
        self.name = name
        default_init = max(5, len(space.slots)) if prior is not None else max(5, 2 * len(space.slots))
        self.n_init = n_init if n_init is not None else default_init
        self.ref_drop, self.ref_latency = ref_drop, ref_latency
        self.max_latency, self.max_drop = max_latency, max_drop
        self.init = RandomStrategy(space, seed)
        self.origins: dict[tuple[int, ...], str] = {}
        self._front: np.ndarray | None = None

    def origin(self, idx: tuple[int, ...]) -> str:
        return self.origins.get(tuple(idx), "bo")

    # ---------------------------------------------------------------- initial design
    def additive_front(self) -> np.ndarray:
        """`k x len(radices)` index rows of the additive prediction's exact front, fastest first."""
        assert self.prior is not None
        if self._front is None:
            self._front = self.prior.front()[1]
        return self._front

    def initial_design(self) -> list[tuple[tuple[int, ...], str]]:
        """(proposal, origin) of the whole initial design, in order (module docstring)."""
        base = (0,) * len(self.space.radices)
        design = [(base, "initial-teacher")]
        if self.prior is not None:
            rows = self.additive_front()
            rows = rows[np.any(rows != 0, axis=1)]  # the teacher is already in
            for i in spread(self.prior.predict(rows), self.n_init - 1, SPREAD_CAP):
                design.append((tuple(int(v) for v in rows[i]), "initial-additive"))
        seen = {d for d, _ in design}
        rng = np.random.default_rng([self.seed, 11])
        rest = self.space.sample(rng, max(0, self.n_init - len(design)), exclude=seen)
        return design[: self.n_init] + [(r, "initial-random") for r in rest]

    def _initial(self, history: Sequence[Evaluation], n: int) -> list[tuple[int, ...]]:
        if self.prior is None:
            out = self.init.propose(history, min(n, self.n_init - len(history)))
            for idx in out:
                self.origins[idx] = "initial-teacher" if not any(idx) else "initial-random"
            return out
        seen = {e.indices for e in history}
        todo = [(d, o) for d, o in self.initial_design() if d not in seen][: min(n, self.n_init - len(history))]
        self.origins.update(todo)
        return [d for d, _ in todo]

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
    def _prior_mean(self, x: torch.Tensor, y: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor] | None:
        """The additive part of the quality model (-a x predicted drop), or None without a prediction."""
        if self.prior is None:
            return None
        prior = self.prior
        pred = torch.as_tensor(prior.predict(x.round().long().numpy())[:, 0], dtype=x.dtype)
        scale = 1.0
        if len(x) >= 3 and float(pred @ pred) > 0:
            scale = float(np.clip(float(pred @ -y[:, 0]) / float(pred @ pred), 0.25, 4.0))

        def mean(xx: torch.Tensor) -> torch.Tensor:
            flat = xx.detach().reshape(-1, xx.shape[-1]).round().long().numpy()
            vals = torch.as_tensor(-scale * prior.predict(flat)[:, 0], dtype=xx.dtype)
            return vals.reshape(xx.shape[:-1])

        return mean

    def _model(self, x: torch.Tensor, y: torch.Tensor):  # type: ignore[no-untyped-def]
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import MixedSingleTaskGP
        from botorch.models.deterministic import GenericDeterministicModel
        from botorch.models.model import ModelList
        from gpytorch.mlls import ExactMarginalLogLikelihood

        from .prior_model import PriorMeanModel

        dims = list(range(x.shape[-1]))

        def gp(target: torch.Tensor) -> MixedSingleTaskGP:
            model = MixedSingleTaskGP(x, target, cat_dims=dims)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
            return model

        mean = self._prior_mean(x, y)
        quality = gp(y[:, :1]) if mean is None else PriorMeanModel(gp(y[:, :1] - mean(x).unsqueeze(-1)), mean)
        if self.latency is None:
            return ModelList(quality, gp(y[:, 1:2]))
        latency = self.latency

        def neg_latency(xx: torch.Tensor) -> torch.Tensor:
            flat = xx.detach().reshape(-1, xx.shape[-1]).round().long().numpy()
            vals = torch.as_tensor(-latency(flat), dtype=xx.dtype)
            return vals.reshape(*xx.shape[:-1], 1)

        return ModelList(quality, GenericDeterministicModel(neg_latency, num_outputs=1))

    # ---------------------------------------------------------------- candidates
    def _candidates(self, history: Sequence[Evaluation]) -> tuple[torch.Tensor, list[str]]:
        """(`n x len(radices)` unevaluated candidates, the set each came from)."""
        seen = {e.indices for e in history}
        if self.space.size - len(seen) <= ENUMERATE_LIMIT and self.space.size <= 10 * ENUMERATE_LIMIT:
            rows = [self.space.indices_at(i) for i in range(self.space.size)]
            rows = [r for r in rows if r not in seen]
            return torch.tensor(rows, dtype=torch.double), ["bo:all"] * len(rows)
        rng = np.random.default_rng([self.seed, len(history), 5])
        avoid = set(seen)
        tagged: list[tuple[tuple[int, ...], str]] = []
        if self.prior is not None:
            front = [tuple(int(v) for v in r) for r in self.additive_front()]
            fresh = [f for f in front if f not in avoid]
            avoid.update(fresh)
            tagged += [(f, "bo:additive-front") for f in fresh]
            for f in front:
                tagged += [(r, "bo:additive-neighbour") for r in self._neighbours(f, avoid)]
                tagged += [(r, "bo:additive-neighbour") for r in self._mutations(f, avoid, rng, FRONT_MUTATIONS)]
        pts = np.array([[e.psnr_drop, e.latency_ms] for e in history])
        for i in front_indices(pts):
            tagged += [(r, "bo:front-neighbour") for r in self._neighbours(history[i].indices, avoid)]
            tagged += [(r, "bo:front-neighbour") for r in self._mutations(history[i].indices, avoid, rng)]
        tagged += [(r, "bo:random") for r in self.space.sample(rng, POOL, exclude=avoid)]
        return torch.tensor([r for r, _ in tagged], dtype=torch.double), [t for _, t in tagged]

    def _mutations(self, idx: tuple[int, ...], avoid: set[tuple[int, ...]], rng: np.random.Generator,
                   count: int = MUTATIONS) -> list[tuple[int, ...]]:
        """Up to `count` networks differing from `idx` in two random slots (added to `avoid`)."""
        if len(idx) < 2:
            return []
        out = []
        for _ in range(count):
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
            return self._initial(history, n)
        from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
        from botorch.optim import optimize_acqf_discrete
        _skip_fused_kernel_build()
        torch.manual_seed(self.seed * 7919 + len(history))
        x, y = self._xy(history)
        model = self._model(x, y)
        choices, tags = self._candidates(history)
        if len(choices) == 0:
            return []
        tag_of = {tuple(int(v) for v in row): t for row, t in zip(choices.long().tolist(), tags, strict=True)}
        ref = self._ref_point(history)
        choices = self._screen(model, choices, y, ref)
        clear_stale_lock()  # a build killed mid-way would otherwise hang the acquisition forever
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            acqf = qLogNoisyExpectedHypervolumeImprovement(
                model=model, ref_point=ref, X_baseline=x, prune_baseline=True,
                sampler=self._sampler(model, x),
                constraints=self._constraints(),
            )
            best, _ = optimize_acqf_discrete(acqf, q=min(n, len(choices)), choices=choices, max_batch_size=512)
        out = [tuple(int(v) for v in row) for row in best.round().long().tolist()]
        self.origins.update((idx, tag_of.get(idx, "bo")) for idx in out)
        return out


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
