"""The detector against the same layers composed from ``torch.nn`` in float64, its causality, its loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from seqlab.models.trigger_configs import TriggerConfig
from seqlab.models.trigger_detector import TriggerDetector
from tests.trigger.conftest import a_detector


def torch_nn_reference(model: TriggerDetector, frames: torch.Tensor) -> torch.Tensor:
    """The model's logits by torch.nn's layers: zero frames padded on the left only, then the material's stack."""
    config = model.config
    x = (frames - model.feature_mean) / model.feature_std
    x = F.pad(x.transpose(1, 2), (config.conv_kernel - config.conv_stride, 0))  # (B, F, k − s + T)
    x = F.conv1d(x, model.convolution.weight, model.convolution.bias, stride=config.conv_stride)
    x = F.relu(model.convolution_norm(x)).transpose(1, 2)  # (B, T', C)
    for ours, norm in zip(model.rnns, model.rnn_norms):
        gru = nn.GRU(ours.input_size, ours.hidden_size, batch_first=True, dtype=frames.dtype)
        gru.load_state_dict(ours.state_dict())
        x = norm(gru(x)[0].transpose(1, 2)).transpose(1, 2)
    return model.output(x).squeeze(-1)


def test_the_detector_is_the_material_s_stack_with_a_left_padded_convolution_in_float64():
    model = a_detector(torch.float64)
    frames = torch.randn(3, 97, 40, dtype=torch.float64) * 15 - 40
    out = model(frames)
    assert out.logits.shape == (3, 97 // 4)
    torch.testing.assert_close(out.logits, torch_nn_reference(model, frames), rtol=0, atol=1e-10)


def test_an_output_step_depends_on_no_frame_after_its_own_four():
    model = a_detector(torch.float64)
    frames = torch.randn(1, 64, 40, dtype=torch.float64)
    base = model(frames).logits
    for frame in (0, 13, 31, 63):
        changed = frames.clone()
        changed[0, frame] += 5.0
        differs = (model(changed).logits - base).abs()[0] > 0
        first = frame // 4  # frames 4j .. 4j + 3 complete step j
        assert not differs[:first].any() and differs[first], frame


def test_the_loss_is_the_weighted_binary_cross_entropy_per_step():
    model = a_detector(torch.float64)
    frames = torch.randn(2, 40, 40, dtype=torch.float64)
    labels = (torch.rand(2, 10) < 0.3).double()
    out = model(frames, targets=labels, pos_weight=5.0)
    p = torch.sigmoid(out.logits)
    expected = -(5.0 * labels * torch.log(p) + (1 - labels) * torch.log(1 - p)).mean()
    torch.testing.assert_close(out.loss, expected, rtol=0, atol=1e-12)


def test_the_input_normalisation_is_saved_with_the_weights():
    model = TriggerDetector(TriggerConfig(input_size=4, conv_channels=8, hidden_size=8))
    model.set_normalisation(torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.tensor([1.0, 0.0, 2.0, 3.0]))
    state = model.state_dict()
    assert state["feature_mean"].tolist() == [1.0, 2.0, 3.0, 4.0]
    clamped = torch.tensor([1.0, 1e-5, 2.0, 3.0])  # a band that never varies is not divided by 0
    assert state["feature_std"].tolist() == clamped.tolist()
    again = TriggerDetector(TriggerConfig(input_size=4, conv_channels=8, hidden_size=8))
    again.load_state_dict(state)
    assert torch.equal(again.feature_std, model.feature_std)


def test_frames_short_of_a_step_give_no_output_and_wait_in_the_state():
    model = a_detector()
    out = model(torch.randn(1, 3, 40))
    assert out.logits.shape == (1, 0) and out.state.frames.shape == (1, 11 + 3, 40)
    assert model(torch.randn(1, 1, 40), out.state).logits.shape == (1, 1)
