"""SpecAugment's frequency and time masks (Park et al. 2019, "SpecAugment: A Simple Data Augmentation
Method for Automatic Speech Recognition", §2), per utterance of a padded batch.

For an utterance of τ frames and ν mel channels (§2, "Augmentation policy"):

* **Frequency masking**, m_F times: f is drawn uniformly from {0, …, F}, f₀ from {0, …, ν − f}, and the
  channels [f₀, f₀ + f) are masked.
* **Time masking**, m_T times: t is drawn uniformly from {0, …, T'}, t₀ from {0, …, τ − t}, and the
  frames [t₀, t₀ + t) are masked. T' = min(T, ⌊p·τ⌋): the paper's upper bound "a time mask cannot
  be wider than p times the number of time steps", which holds for each mask, so that m_T masks
  cover at most m_T·p·τ frames (fewer where they overlap).

The paper writes the ranges of f₀ and t₀ as half-open, [0, ν − f) and [0, τ − t); here the last start
that keeps a mask inside the utterance is allowed too, so that every position is equally likely to
be masked and a mask of the full width is possible. Masks of one utterance may overlap. Each
utterance of a batch gets its own masks, drawn within its own τ frames: frames past its length
are never touched (frequency masks too stop at its last frame), so the padding stays as it was.

**Mask value.** Masked entries are set to ``mask_value``, 0 by default: the paper normalises the
log-mel spectrogram to zero mean, so 0 is the mean (use this after
:func:`seqlab.audio.features.normalise_per_utterance`).

**Not here.** Time warping (§2, the first of the paper's three augmentations) is left out: the
paper's own ablation (§5, Discussion) found it "the most expensive as well as the least
influential" of the three (turning it off cost the least WER). So are the adaptive masks of Park
et al. (2020, "SpecAugment on large scale datasets"), whose number and width grow with the
utterance's length.

Identity in eval mode (``module.eval()``), and whenever both mask counts are 0.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from seqlab.errors import SeqlabError

# The policies of Park et al. (2019), Table 1, for 80 mel channels and 10 ms frames: keyword arguments of SpecAugment.
POLICIES: dict[str, dict[str, float]] = {
    "LB": dict(freq_mask_param=27, num_freq_masks=1, time_mask_param=100, num_time_masks=1, max_time_fraction=1.0),
    "LD": dict(freq_mask_param=27, num_freq_masks=2, time_mask_param=100, num_time_masks=2, max_time_fraction=1.0),
    "SM": dict(freq_mask_param=15, num_freq_masks=2, time_mask_param=70, num_time_masks=2, max_time_fraction=0.2),
    "SS": dict(freq_mask_param=27, num_freq_masks=2, time_mask_param=70, num_time_masks=2, max_time_fraction=0.2),
}


class Masks(NamedTuple):
    """The masks drawn for a batch: [start, start + width) of each; a width of 0 masks nothing.

    ``freq_starts``, ``freq_widths``: (B, m_F) channels; ``time_starts``, ``time_widths``: (B, m_T) frames.
    """

    freq_starts: Tensor
    freq_widths: Tensor
    time_starts: Tensor
    time_widths: Tensor

    def apply(self, features: Tensor, lengths: Tensor, value: float = 0.0) -> Tensor:
        """``features`` with the masked entries set to ``value`` (a new tensor).

        Shape:
            features (B, T, F), lengths (B,) -> (B, T, F).
        """
        steps = torch.arange(features.shape[1], device=features.device)
        channels = torch.arange(features.shape[2], device=features.device)
        time = _covered(steps, self.time_starts.to(features.device), self.time_widths.to(features.device))  # (B, T)
        freq = _covered(channels, self.freq_starts.to(features.device), self.freq_widths.to(features.device))  # (B, F)
        inside = steps < lengths.to(features.device)[:, None]  # (B, T)
        masked = (time[:, :, None] | freq[:, None, :]) & inside[:, :, None]  # (B, T, F)
        return features.masked_fill(masked, value)


def _covered(positions: Tensor, starts: Tensor, widths: Tensor) -> Tensor:
    """Which positions some interval covers. Shape: positions (P,), starts and widths (B, m) -> (B, P)."""
    ends = starts + widths
    inside = (positions[None, :, None] >= starts[:, None, :]) & (positions[None, :, None] < ends[:, None, :])
    return inside.any(2)


def _uniform_integers(high: Tensor, count: int, generator: torch.Generator | None) -> Tensor:
    """Integers drawn uniformly from {0, …, high[b]}, ``count`` per row. Shape: high (B,) -> (B, count)."""
    draws = torch.rand(len(high), count, generator=generator, device=high.device, dtype=torch.float64)
    return torch.minimum((draws * (high[:, None] + 1)).floor().long(), high[:, None])


class SpecAugment(nn.Module):
    """Frequency and time masks of SpecAugment on a padded batch of features (module docstring).

    Args:
        freq_mask_param: F, the widest frequency mask, in channels.
        time_mask_param: T, the widest time mask, in frames.
        num_freq_masks: m_F.
        num_time_masks: m_T.
        max_time_fraction: p; no time mask is wider than p·τ frames (τ: the utterance's frames).
        mask_value: what masked entries become (0: the mean of normalised features).

    ``POLICIES`` holds the paper's LB, LD, SM and SS (Table 1), for 80 channels; scale F with the
    channels used, e.g. ``SpecAugment(**(POLICIES["SM"] | dict(freq_mask_param=8)))`` for 40.

    Shape:
        features (B, T, F), lengths (B,) frames -> (B, T, F).

    Example:
        >>> augment = SpecAugment(freq_mask_param=8, time_mask_param=10, num_time_masks=2, max_time_fraction=0.2)
        >>> features = torch.randn(2, 50, 40)
        >>> augment(features, torch.tensor([50, 30]), generator=torch.Generator().manual_seed(0)).shape
        torch.Size([2, 50, 40])
    """

    def __init__(
        self,
        freq_mask_param: int,
        time_mask_param: int,
        *,
        num_freq_masks: int = 1,
        num_time_masks: int = 1,
        max_time_fraction: float = 1.0,
        mask_value: float = 0.0,
    ) -> None:
        super().__init__()
        for name, value in (
            ("freq_mask_param", freq_mask_param),
            ("time_mask_param", time_mask_param),
            ("num_freq_masks", num_freq_masks),
            ("num_time_masks", num_time_masks),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise SeqlabError(f"{name} must be an int >= 0, got {value!r}")
        if not 0.0 <= max_time_fraction <= 1.0:
            raise SeqlabError(f"max_time_fraction (p) must be in [0, 1], got {max_time_fraction}")
        self.freq_mask_param, self.time_mask_param = freq_mask_param, time_mask_param
        self.num_freq_masks, self.num_time_masks = num_freq_masks, num_time_masks
        self.max_time_fraction, self.mask_value = max_time_fraction, mask_value

    def extra_repr(self) -> str:
        return (
            f"F={self.freq_mask_param}, m_F={self.num_freq_masks}, T={self.time_mask_param}, "
            f"m_T={self.num_time_masks}, p={self.max_time_fraction}, mask_value={self.mask_value}"
        )

    def draw(self, lengths: Tensor, num_channels: int, generator: torch.Generator | None = None) -> Masks:
        """Masks for utterances of ``lengths`` frames and ``num_channels`` channels, on ``generator``'s device.

        Shape:
            lengths (B,) -> Masks of (B, m_F) and (B, m_T) ints.
        """
        device = generator.device if generator is not None else lengths.device
        lengths = lengths.to(device).long()
        widest_freq = torch.full_like(lengths, min(self.freq_mask_param, num_channels))  # (B,)
        freq_widths = _uniform_integers(widest_freq, self.num_freq_masks, generator)  # (B, m_F)
        freq_starts = self._starts(num_channels - freq_widths, generator)
        bound = (self.max_time_fraction * lengths.double()).floor().long()  # ⌊p·τ⌋
        widest_time = torch.clamp(bound, max=self.time_mask_param)  # (B,)
        time_widths = _uniform_integers(widest_time, self.num_time_masks, generator)  # (B, m_T)
        time_starts = self._starts(lengths[:, None] - time_widths, generator)
        return Masks(freq_starts, freq_widths, time_starts, time_widths)

    @staticmethod
    def _starts(room: Tensor, generator: torch.Generator | None) -> Tensor:
        """A start drawn uniformly from {0, …, room} for each mask. Shape: room (B, m) -> (B, m)."""
        return _uniform_integers(room.reshape(-1), 1, generator).view(room.shape)

    def forward(self, features: Tensor, lengths: Tensor, generator: torch.Generator | None = None) -> Tensor:
        if not self.training or self.num_freq_masks + self.num_time_masks == 0:
            return features
        if features.dim() != 3 or lengths.shape != features.shape[:1]:
            raise SeqlabError(
                f"need features (B, T, F) and lengths (B,), got {tuple(features.shape)} and {tuple(lengths.shape)}"
            )
        if len(lengths) and (lengths.min() < 0 or lengths.max() > features.shape[1]):
            raise SeqlabError(f"lengths must be in [0, T={features.shape[1]}], got {lengths.tolist()[:8]}")
        return self.draw(lengths, features.shape[2], generator).apply(features, lengths, self.mask_value)
