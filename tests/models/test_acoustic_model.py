"""The CTC acoustic model: output lengths, independence from padding, its loss, and a gradient check."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from seqlab.errors import SeqlabError
from seqlab.models.acoustic_configs import AcousticConfig
from seqlab.models.acoustic_model import AcousticModel


def tiny(**fields) -> AcousticModel:
    torch.manual_seed(0)
    settings = dict(input_size=6, num_symbols=5, conv_channels=8, conv_layers=2, hidden_size=7, num_layers=2,
                    dropout=0.0) | fields  # fmt: skip
    return AcousticModel(AcousticConfig(**settings)).eval()


@pytest.mark.parametrize(("subsample", "expected"), [(1, [13, 8, 1]), (2, [7, 4, 1]), (4, [4, 2, 1])])
def test_each_stride_two_convolution_gives_the_ceiling_of_half_the_frames(subsample, expected):
    model = tiny(subsample=subsample)
    lengths = torch.tensor([13, 8, 1])
    out = model(torch.randn(3, 13, 6), lengths)
    assert out.lengths.tolist() == expected == model.output_lengths(lengths).tolist()
    assert out.log_probs.shape == (3, max(expected), 5)
    torch.testing.assert_close(out.log_probs.exp().sum(-1), torch.ones(3, max(expected)))


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_an_utterances_outputs_do_not_depend_on_the_batch_it_is_padded_into(cell):
    model = tiny(cell=cell)
    short = torch.randn(1, 9, 6)
    alone = model(short, torch.tensor([9])).log_probs
    padded = torch.cat([short, torch.full((1, 8, 6), float("nan"))], dim=1)  # padding is never read
    batch = torch.cat([padded, torch.randn(1, 17, 6)])
    together = model(batch, torch.tensor([9, 17]))
    torch.testing.assert_close(together.log_probs[0, : together.lengths[0]], alone[0], rtol=0, atol=1e-6)


def test_the_loss_is_the_mean_over_utterances_of_torchs_ctc_loss_of_each_alone():
    model = tiny()
    features, lengths = torch.randn(3, 20, 6), torch.tensor([20, 15, 11])
    targets, target_lengths = torch.tensor([[1, 2, 2], [3, 0, 0], [4, 1, 0]]), torch.tensor([3, 1, 2])
    out = model(features, lengths, targets=targets, target_lengths=target_lengths)
    each = []
    for row in range(3):
        alone = model(features[row : row + 1, : lengths[row]], lengths[row : row + 1])
        each.append(F.ctc_loss(alone.log_probs.transpose(0, 1), targets[row : row + 1, : target_lengths[row]],
                               alone.lengths, target_lengths[row : row + 1], blank=0, reduction="sum"))  # fmt: skip
    torch.testing.assert_close(out.loss, torch.stack(each).mean(), rtol=1e-5, atol=1e-5)


def test_gradients_match_central_differences_in_float64():
    model = tiny(num_layers=1, hidden_size=3, conv_channels=4).double()
    features = torch.randn(2, 8, 6, dtype=torch.float64, requires_grad=True)
    lengths, targets, target_lengths = torch.tensor([8, 6]), torch.tensor([[1, 3], [2, 0]]), torch.tensor([2, 1])

    def loss(inputs):
        return model(inputs, lengths, targets=targets, target_lengths=target_lengths).loss

    assert torch.autograd.gradcheck(loss, (features,), eps=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("fields", "message"),
    [({"cell": "rnn"}, "cell must be one of"), ({"subsample": 3}, "subsample must be 1, 2 or 4"),
     ({"conv_channels": 0}, "subsampling needs the convolutional front end"),
     ({"subsample": 4, "conv_layers": 1}, "subsample 4 needs at least 2"), ({"blank": 5}, "blank 5 is not one of"),
     ({"conv_kernel": 4}, "conv_kernel must be odd")],
)  # fmt: skip
def test_impossible_shapes_are_refused_naming_the_setting(fields, message):
    with pytest.raises(SeqlabError, match=message):
        AcousticConfig(**({"num_symbols": 5} | fields))
