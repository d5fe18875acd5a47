"""compute_saliency: the caller's model is untouched, untrained weights are refused, the
normalisations, and undefined scores stay NaN."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import rankdata

import archc
from archc.runtime.saliency import SaliencyError, compute_saliency

from saliency_nets import MIXED, SEARCHED, batches, randomised


def _snapshot(model: torch.nn.Module) -> tuple[dict[str, torch.Tensor], dict[str, bool], dict[str, bool]]:
    params = {n: p.detach().clone() for n, p in model.state_dict().items()}
    modes = {n: m.training for n, m in model.named_modules()}
    grads = {n: p.requires_grad for n, p in model.named_parameters()}
    return params, modes, grads


@pytest.mark.parametrize("train_mode", [True, False])
def test_the_callers_model_is_never_modified(train_mode: bool) -> None:
    spec = archc.parse(SEARCHED)
    model = randomised(spec)
    model.train(train_mode)
    model.intro.weight.requires_grad_(False)
    before = _snapshot(model)
    compute_saliency(spec, model, batches(2))
    after = _snapshot(model)
    assert before[0].keys() == after[0].keys()
    assert all(torch.equal(before[0][k], after[0][k]) for k in before[0])
    assert before[1] == after[1] and before[2] == after[2]
    assert all(p.grad is None for p in model.parameters())


def test_untrained_weights_are_refused() -> None:
    spec = archc.parse(SEARCHED)
    with pytest.raises(SaliencyError) as info:
        compute_saliency(spec, archc.build(spec), batches(1))
    assert info.value.diagnostics[0].code == "E1001"
    assert "untrained" in str(info.value)


def test_normalisations() -> None:
    spec = archc.parse(SEARCHED)
    result = compute_saliency(spec, randomised(spec), batches(2), metrics=["grad_norm", "snip"])
    assert result.metrics == ("grad_norm", "snip")
    for units in (result.blocks, result.slots):
        sums = [u.sums["snip"] for u in units]
        assert [u.per_param["snip"] for u in units] == pytest.approx(
            [s / u.params for s, u in zip(sums, units, strict=True)]
        )
        assert [u.rank["snip"] for u in units] == pytest.approx(list(rankdata(sums) / len(sums)))
    # a slot's sum-type score is the sum of its blocks' scores
    by_name = {u.unit.name: u for u in result.blocks}
    assert {u.unit.name: u for u in result.slots}["e2[1:2]"].sums["snip"] == by_name["e2[1]"].sums["snip"]


def test_undefined_scores_stay_nan_with_a_note() -> None:
    spec = archc.parse(MIXED)
    result = compute_saliency(spec, randomised(spec), batches(2), metrics=["taylor", "grad_norm"])
    blocks = {u.unit.name: u for u in result.blocks}
    identity = blocks["d2[0]"]
    assert math.isnan(identity.sums["taylor"]) and math.isnan(identity.rank["taylor"])
    assert identity.sums["grad_norm"] == 0.0 and math.isnan(identity.per_param["grad_norm"])
    assert any("taylor is undefined" in n for n in identity.notes)
    assert any("no parameters" in n for n in identity.notes)
    assert np.isfinite(blocks["e1[0]"].sums["taylor"])  # dsconv: beta alone
    # taylor of a 2-block slot squares the summed per-batch estimate, so it is not the blocks' sum
    slot = {u.unit.name: u for u in result.slots}["e2"]
    assert slot.sums["taylor"] != pytest.approx(blocks["e2[0]"].sums["taylor"] + blocks["e2[1]"].sums["taylor"])


def test_unknown_metric_and_loss_are_user_errors() -> None:
    spec = archc.parse(SEARCHED)
    with pytest.raises(SaliencyError, match="unknown saliency metric"):
        compute_saliency(spec, randomised(spec), batches(1), metrics=["gradnorm"])
    with pytest.raises(SaliencyError, match="unknown loss"):
        compute_saliency(spec, randomised(spec), batches(1), loss="l3")
