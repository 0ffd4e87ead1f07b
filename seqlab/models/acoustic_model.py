"""A recurrent acoustic model read out by CTC: frames of features in, a distribution over symbols per frame out.

::

    features (B, T, F) ─ [Conv1d ─ ReLU] × conv_layers ─ (B, T', C) ─ BiGRU/BiLSTM × num_layers ─ dropout
        ─ linear ─ log-softmax ─ log_probs (B, T', K),  T' = ceil(T / subsample)

The front end's first convolutions stride by 2 until the time axis is subsampled ``subsample``
times (Amodei et al. 2016, Deep Speech 2, §3.4-3.5: convolutions over the spectrogram, strided so
that the recurrent layers see fewer, richer frames). Frames past an utterance's length are set to zero before and
after every convolution, so an utterance's outputs do not depend on the batch it is padded into.
The loss is CTC's maximum-likelihood objective (Graves et al. 2006, §4.2: −ln p(z|x), p summed over
the alignments by the forward algorithm, here torch's ``ctc_loss``), mean over the batch's utterances; an utterance with
fewer output frames than its transcript needs has no alignment and adds 0 (``zero_infinity``).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from seqlab.data.padded_batches import pack, padding_mask, unpack
from seqlab.models.acoustic_configs import AcousticConfig
from seqlab.nn import GRU, LSTM

RECURRENT_LAYERS = {"gru": GRU, "lstm": LSTM}


class AcousticOutput(NamedTuple):
    log_probs: torch.Tensor  # (B, T', K) log-probabilities per output frame
    lengths: torch.Tensor  # (B,) output frames of each utterance
    loss: torch.Tensor | None  # 0-dim: mean CTC negative log-likelihood per utterance (nats), with targets


class AcousticModel(nn.Module):
    """Convolutions, a recurrent stack and a CTC output layer (see the module's docstring).

    Example:
        >>> model = AcousticModel(AcousticConfig(input_size=40, num_symbols=11))
        >>> out = model(torch.randn(2, 50, 40), torch.tensor([50, 31]))
        >>> out.log_probs.shape, out.lengths.tolist()
        (torch.Size([2, 25, 11]), [25, 16])
    """

    def __init__(self, config: AcousticConfig):
        super().__init__()
        self.config = config
        self.strides = _strides(config)
        convolutions, channels = [], config.input_size
        for stride in self.strides:
            convolutions.append(nn.Conv1d(channels, config.conv_channels, config.conv_kernel, stride=stride,
                                          padding=config.conv_kernel // 2))  # fmt: skip
            channels = config.conv_channels
        self.convolutions = nn.ModuleList(convolutions)
        self.rnn = RECURRENT_LAYERS[config.cell](channels, config.hidden_size, num_layers=config.num_layers,
                                                 batch_first=True, bidirectional=config.bidirectional,
                                                 dropout=config.dropout if config.num_layers > 1 else 0.0)  # fmt: skip
        self.dropout = nn.Dropout(config.dropout)
        directions = 2 if config.bidirectional else 1
        self.output = nn.Linear(directions * config.hidden_size, config.num_symbols)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        """Output frames of utterances of ``lengths`` input frames: each stride-s convolution gives ⌈L / s⌉."""
        for stride in self.strides:
            lengths = torch.div(lengths + stride - 1, stride, rounding_mode="floor")
        return lengths

    def forward(self, features: torch.Tensor, lengths: torch.Tensor, *, targets: torch.Tensor | None = None,
                target_lengths: torch.Tensor | None = None) -> AcousticOutput:  # fmt: skip
        """Per-frame log-probabilities, and the CTC loss when ``targets`` are given.

        Shape:
            - features: ``(B, T, F)`` (what lies past an utterance's length is never read); lengths: ``(B,)``
            - targets: ``(B, L)`` symbol ids (never the blank), padded; target_lengths: ``(B,)``
        """
        lengths = lengths.to(features.device)
        hidden = features.masked_fill(~padding_mask(lengths, features.size(1), batch_first=True).unsqueeze(-1), 0.0)
        for convolution, stride in zip(self.convolutions, self.strides):
            hidden = F.relu(convolution(hidden.transpose(1, 2))).transpose(1, 2)  # (B, T', C)
            lengths = torch.div(lengths + stride - 1, stride, rounding_mode="floor")
            hidden = hidden.masked_fill(~padding_mask(lengths, hidden.size(1), batch_first=True).unsqueeze(-1), 0.0)
        packed, _ = self.rnn(pack(hidden, lengths, batch_first=True))
        states, _ = unpack(packed, batch_first=True, total_length=hidden.size(1))  # (B, T', D·H)
        log_probs = F.log_softmax(self.output(self.dropout(states)), dim=-1)  # (B, T', K)
        loss = None
        if targets is not None:
            if target_lengths is None:
                raise ValueError("targets need target_lengths")
            loss = F.ctc_loss(log_probs.transpose(0, 1), targets, lengths, target_lengths.to(lengths.device),
                              blank=self.config.blank, reduction="sum", zero_infinity=True) / len(features)  # fmt: skip
        return AcousticOutput(log_probs, lengths, loss)


def _strides(config: AcousticConfig) -> list[int]:
    """Each convolution's stride: 2 for the first log2(subsample) of them, then 1."""
    if config.conv_channels == 0:
        return []
    halvings = {1: 0, 2: 1, 4: 2}[config.subsample]
    return [2 if layer < halvings else 1 for layer in range(config.conv_layers)]
