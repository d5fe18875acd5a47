from __future__ import annotations

from torch import nn

from archc.compiler.passes.fold_residual_scale import fold_residual_scale

from helpers import Compare, rewritten


def test_beta_gamma_fold_into_conv3_conv5(tiny_strong: nn.Module, max_diff: Compare) -> None:
    names = {n.rsplit(".", 1)[-1] for n, _ in tiny_strong.named_parameters()}
    assert {"beta", "gamma"} <= names
    after = rewritten(tiny_strong, fold_residual_scale)
    assert max_diff(tiny_strong, after) <= 1e-4
    assert not {"beta", "gamma"} & {n.rsplit(".", 1)[-1] for n, _ in after.named_parameters()}
    assert all(getattr(m, "beta", 0) is None for m in after.modules() if hasattr(m, "RESIDUAL_SCALES"))
