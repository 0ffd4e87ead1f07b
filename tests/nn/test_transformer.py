"""The Transformer's layers: equal to torch.nn's layers and attention with the same weights, and Vaswani et al.
2017's positional encodings written out here."""

from __future__ import annotations

import doctest
import math

import pytest
import torch

from seqlab.nn import transformer
from seqlab.nn.transformer import MultiheadAttention, TransformerDecoder, TransformerEncoder, sinusoidal_positions

NORMS = [True, False]  # pre-norm, post-norm
LAYERS = dict(d_model=8, nhead=2, dim_feedforward=12)  # two layers in each stack


@pytest.mark.parametrize("d_model", [6, 7])
def test_positional_encodings_are_the_sinusoids_of_section_3_5(d_model):
    encodings = sinusoidal_positions(torch.arange(50), d_model, dtype=torch.float64)
    for pos in range(50):
        for dim in range(d_model):
            i = dim // 2  # PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d))
            angle = pos / 10000 ** (2 * i / d_model)
            expected = math.sin(angle) if dim % 2 == 0 else math.cos(angle)
            assert abs(encodings[pos, dim].item() - expected) <= 1e-12
    later = sinusoidal_positions(torch.tensor([3, 4]), d_model, dtype=torch.float32)
    torch.testing.assert_close(later, encodings[3:5].float(), rtol=0, atol=1e-6)


def make_stacks(norm_first: bool) -> tuple[TransformerEncoder, TransformerDecoder]:
    torch.manual_seed(0)
    encoder = TransformerEncoder(**LAYERS, num_layers=2, dropout=0.0, norm_first=norm_first)
    decoder = TransformerDecoder(**LAYERS, num_layers=2, dropout=0.0, norm_first=norm_first)
    return encoder.double().eval(), decoder.double().eval()


def torch_stacks(ours: tuple[TransformerEncoder, TransformerDecoder], norm_first: bool):
    """torch.nn.TransformerEncoder and TransformerDecoder with the weights of ours."""
    layer_settings = dict(**LAYERS, dropout=0.0, batch_first=True, norm_first=norm_first)

    def norm():
        return torch.nn.LayerNorm(LAYERS["d_model"]) if norm_first else None

    encoder = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(**layer_settings), 2, norm=norm(), enable_nested_tensor=False
    )
    decoder = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(**layer_settings), 2, norm=norm())
    encoder.load_state_dict(ours[0].state_dict())
    decoder.load_state_dict(ours[1].state_dict())
    return encoder.double().eval(), decoder.double().eval()


@pytest.mark.parametrize("norm_first", NORMS)
def test_the_layers_equal_torch_nn_transformer_layers_with_the_same_weights(norm_first):
    ours_encoder, ours_decoder = ours = make_stacks(norm_first)
    encoder, decoder = torch_stacks(ours, norm_first)
    torch.manual_seed(1)
    source, target = torch.randn(2, 5, 8, dtype=torch.float64), torch.randn(2, 4, 8, dtype=torch.float64)
    real = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])  # (B, S); torch's masks are True at padding
    memory = ours_encoder(source, real)
    expected_memory = encoder(source, src_key_padding_mask=~real)
    torch.testing.assert_close(memory[real], expected_memory[real], rtol=0, atol=1e-12)
    features, _, _ = ours_decoder(target, ours_decoder.memory_keys_values(memory), real)
    future = torch.ones(4, 4, dtype=torch.bool).triu(1)  # True: may not attend
    expected = decoder(target, memory, tgt_mask=future, memory_key_padding_mask=~real)
    torch.testing.assert_close(features, expected, rtol=0, atol=1e-12)


def test_attention_and_its_head_averaged_weights_equal_torch_nn_multihead_attention():
    torch.manual_seed(0)
    ours = MultiheadAttention(8, 4).double()
    reference = torch.nn.MultiheadAttention(8, 4, batch_first=True).double()
    reference.load_state_dict(ours.state_dict())
    query, key_value = torch.randn(3, 2, 8, dtype=torch.float64), torch.randn(3, 5, 8, dtype=torch.float64)
    real = torch.tensor([[True] * 5, [True] * 2 + [False] * 3, [False] + [True] * 4])
    output, weights = ours(query, key_value, real[:, None, None, :])
    expected, expected_weights = reference(query, key_value, key_value, key_padding_mask=~real,
                                           need_weights=True, average_attn_weights=True)  # fmt: skip
    torch.testing.assert_close(output, expected, rtol=0, atol=1e-12)
    torch.testing.assert_close(weights.mean(1), expected_weights, rtol=0, atol=1e-12)


def test_docstring_examples():
    result = doctest.testmod(transformer)
    assert result.attempted > 0 and result.failed == 0
