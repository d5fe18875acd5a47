"""A BoTorch model of one output made of a known mean function plus a GP of the residual (the
quality model of `bo.py` with an additive prediction; its docstring says why a residual)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from botorch.models.model import Model
from botorch.posteriors import Posterior


class PriorMeanModel(Model):
    """One output: a fitted GP of the residual plus a known mean function of the inputs (the
    additive prediction); its posterior is the GP's, shifted by the mean (`b x q x d` inputs ->
    a `b x q x 1` Gaussian posterior)."""

    def __init__(self, residual: Model, mean: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.residual = residual
        self.mean = mean

    @property
    def num_outputs(self) -> int:
        return 1

    @property
    def batch_shape(self) -> torch.Size:
        return self.residual.batch_shape

    def posterior(
        self,
        X: torch.Tensor,
        output_indices: list[int] | None = None,  # noqa: N803 (BoTorch's name)
        observation_noise: bool | torch.Tensor = False,
        posterior_transform: Callable[[Posterior], Posterior] | None = None,
    ) -> Posterior:
        from botorch.posteriors.gpytorch import GPyTorchPosterior
        from gpytorch.distributions import MultivariateNormal

        post = self.residual.posterior(X, observation_noise=observation_noise)
        mvn = post.distribution  # type: ignore[attr-defined]
        shifted = GPyTorchPosterior(MultivariateNormal(mvn.mean + self.mean(X), mvn.lazy_covariance_matrix))
        return posterior_transform(shifted) if posterior_transform is not None else shifted
