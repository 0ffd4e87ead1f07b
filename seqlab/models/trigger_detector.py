"""A trigger-word detector that can run over a stream: log-mel frames in, one logit per output step out.

::

    frames (B, T, F) ─ (x − mean) / std ─ causal Conv1d(k, stride s) ─ BatchNorm ─ ReLU ─ dropout
        ─ [GRU ─ dropout ─ BatchNorm] × num_layers ─ dropout ─ linear ─ logits (B, T // s)

The material's model (Ng, "Trigger word detection": Conv1D of 196 filters, kernel 15, stride 4;
two GRU(128) layers with dropout and batch normalisation; a sigmoid per output step), made causal
so that it streams:

- **Fixed input normalisation.** The mean and deviation of each band are buffers of the model
  (``feature_mean``, ``feature_std``), measured on training clips and saved with the weights; a
  stream cannot be normalised over a file it has not heard yet.
- **A convolution that only looks back.** Output step j reads the k frames ending with frame
  ``s·j + s − 1``: the frames are padded on the left with k − s zero frames (the mean frame, after
  the normalisation) and none on the right, so T frames give T // s steps and step j is known as
  soon as its s frames have arrived.
- **State carried.** :class:`TriggerState` holds the normalised frames not yet used up (the
  convolution's k − s frames of left context, plus any frames short of a whole step) and each
  GRU's last hidden state. ``forward(chunk, state)`` over consecutive chunks gives the outputs of
  ``forward(whole)``, to rounding (``tests/trigger/test_streaming.py``). Batch normalisation in
  eval mode is an affine map per channel, so it is causal too.

The loss is the binary cross-entropy of each output step, a positive step weighted by
``pos_weight`` (the labels are mostly 0), mean over the steps.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from seqlab.models.trigger_configs import TriggerConfig
from seqlab.nn import GRU


class TriggerState(NamedTuple):
    frames: torch.Tensor  # (B, P, F) normalised frames not yet used up, P ≥ k − s
    hidden: tuple[torch.Tensor, ...]  # (1, B, H) per GRU layer


class TriggerOutput(NamedTuple):
    logits: torch.Tensor  # (B, T') one logit per output step
    state: TriggerState  # to continue the stream with the next frames
    loss: torch.Tensor | None  # 0-dim: mean weighted binary cross-entropy per output step, with targets


class TriggerDetector(nn.Module):
    """Causal convolution, GRU layers, a logit per output step (see the module's docstring).

    Example:
        >>> model = TriggerDetector(TriggerConfig(input_size=40)).eval()
        >>> whole = model(torch.randn(2, 100, 40))
        >>> whole.logits.shape, whole.state.frames.shape
        (torch.Size([2, 25]), torch.Size([2, 11, 40]))
    """

    def __init__(self, config: TriggerConfig):
        super().__init__()
        self.config = config
        self.register_buffer("feature_mean", torch.zeros(config.input_size))  # (F,) saved with the weights
        self.register_buffer("feature_std", torch.ones(config.input_size))  # (F,)
        self.convolution = nn.Conv1d(config.input_size, config.conv_channels, config.conv_kernel,
                                     stride=config.conv_stride)  # fmt: skip
        self.convolution_norm = nn.BatchNorm1d(config.conv_channels)
        sizes = [config.conv_channels] + [config.hidden_size] * (config.num_layers - 1)
        self.rnns = nn.ModuleList(GRU(size, config.hidden_size, batch_first=True) for size in sizes)
        self.rnn_norms = nn.ModuleList(nn.BatchNorm1d(config.hidden_size) for _ in sizes)
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(config.hidden_size, 1)

    @property
    def context(self) -> int:
        """k − s: the frames of left context the convolution keeps between chunks."""
        return self.config.conv_kernel - self.config.conv_stride

    def set_normalisation(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Set the fixed per-band mean and deviation. Shape: (F,) each."""
        self.feature_mean.copy_(mean)
        self.feature_std.copy_(std.clamp_min(1e-5))

    def initial_state(self, batch: int) -> TriggerState:
        """The state before the first frame: k − s zero frames of context, zero hidden states."""
        reference = self.feature_mean
        frames = reference.new_zeros(batch, self.context, self.config.input_size)
        hidden = tuple(reference.new_zeros(1, batch, self.config.hidden_size) for _ in self.rnns)
        return TriggerState(frames, hidden)

    def forward(self, features: torch.Tensor, state: TriggerState | None = None, *, targets: torch.Tensor | None = None,
                pos_weight: float = 1.0) -> TriggerOutput:  # fmt: skip
        """The logits of the output steps the frames complete, and the state after them.

        Shape:
            - features: ``(B, T, F)`` log-mel frames (dB), the stream's next T frames (or a whole clip)
            - targets: ``(B, T')`` 0/1 labels per output step, ``T'`` the steps returned
            - logits: ``(B, T')``, T' = (P + T − k) // s + 1 steps (0 if P + T < k), P the state's frames
        """
        if state is None:
            state = self.initial_state(features.size(0))
        normalised = (features - self.feature_mean) / self.feature_std
        frames = torch.cat([state.frames, normalised], dim=1)  # (B, P + T, F)
        kernel, stride = self.config.conv_kernel, self.config.conv_stride
        steps = max((frames.size(1) - kernel) // stride + 1, 0)
        left = frames[:, steps * stride :]  # (B, P', F): the next step's window starts here
        if steps == 0:
            logits = features.new_zeros(features.size(0), 0)
            return TriggerOutput(logits, TriggerState(left, state.hidden), None if targets is None else logits.sum())
        used = frames[:, : (steps - 1) * stride + kernel].transpose(1, 2)  # (B, F, ·)
        hidden = self.dropout(F.relu(self.convolution_norm(self.convolution(used))))  # (B, C, T')
        hidden = hidden.transpose(1, 2)  # (B, T', C)
        carried = []
        for rnn, norm, h0 in zip(self.rnns, self.rnn_norms, state.hidden):
            hidden, h_n = rnn(hidden, h0)  # (B, T', H), (1, B, H)
            carried.append(h_n)
            hidden = norm(self.dropout(hidden).transpose(1, 2)).transpose(1, 2)  # (B, T', H)
        logits = self.output(self.dropout(hidden)).squeeze(-1)  # (B, T')
        loss = None
        if targets is not None:
            weight = torch.tensor(pos_weight, dtype=logits.dtype, device=logits.device)
            loss = F.binary_cross_entropy_with_logits(logits, targets.to(logits.dtype), pos_weight=weight)
        return TriggerOutput(logits, TriggerState(left, tuple(carried)), loss)
