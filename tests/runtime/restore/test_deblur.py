from __future__ import annotations

import torch

from archc.runtime.restore.deblur import dihedral, restore_image, undo_dihedral


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


def test_dihedral_views_are_the_eight_symmetries_and_undo_inverts_them() -> None:
    image = torch.arange(2 * 3 * 5, dtype=torch.float32).view(2, 3, 5)
    views = [dihedral(image, k) for k in range(8)]
    assert len({tuple(v.flatten().tolist()) + tuple(v.shape) for v in views}) == 8
    for k, v in enumerate(views):
        assert torch.equal(undo_dihedral(v, k), image)
    assert torch.equal(views[1], image.transpose(-2, -1).flip(-2))  # one counter-clockwise quarter turn
    assert torch.equal(views[4], image.flip(-1))


def test_self_ensemble_is_the_mean_of_the_turned_back_restorations() -> None:
    torch.manual_seed(0)
    model = torch.nn.Conv2d(3, 3, 3, padding=1)  # not equivariant: the views disagree
    image = torch.rand(3, 9, 14)
    with torch.no_grad():
        expected = torch.zeros_like(image)
        for hflip in (False, True):
            for turns in range(4):
                view = torch.rot90(image, turns, dims=(1, 2))
                view = view.flip(2) if hflip else view
                out = model(view[None])[0]
                out = out.flip(2) if hflip else out
                expected += torch.rot90(out, -turns, dims=(1, 2)) / 8
    got = restore_image(model, image, ensemble=True)
    torch.testing.assert_close(got, expected.clamp(0, 1))
    assert not torch.allclose(got, restore_image(model, image), atol=1e-3)
    tiled = restore_image(torch.nn.Conv2d(3, 3, 1).requires_grad_(False), image, tile=8, overlap=2, ensemble=True)
    assert tiled.shape == image.shape


def test_tiles_follow_the_network_output_channels() -> None:
    model = torch.nn.Conv2d(3, 1, 1).requires_grad_(False)
    image = torch.rand(3, 40, 50)
    whole = restore_image(model, image)
    tiled = restore_image(model, image, tile=16, overlap=4)
    assert tiled.shape == (1, 40, 50)
    assert torch.allclose(whole, tiled, atol=1e-6)
