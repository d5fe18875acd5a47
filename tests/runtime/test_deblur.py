from __future__ import annotations

import torch

from archc.runtime.deblur import restore_image


def test_tiles_blend_to_the_whole_image_result_for_a_pointwise_model() -> None:
    torch.manual_seed(0)
    model = torch.nn.Conv2d(3, 3, 1)
    with torch.no_grad():
        model.weight.copy_(torch.eye(3).view(3, 3, 1, 1) * 0.5)
        model.bias.fill_(0.1)
    image = torch.rand(3, 70, 101)
    whole = restore_image(model, image)
    tiled = restore_image(model, image, tile=32, overlap=8)
    assert torch.allclose(whole, tiled, atol=1e-6)
    assert whole.shape == image.shape and whole.min() >= 0 and whole.max() <= 1
