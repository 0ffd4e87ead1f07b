"""Vocal tract length perturbation (Jaitly & Hinton 2013, "Vocal Tract Length Perturbation (VTLP)
improves speech recognition", ICML Workshop on Deep Learning for Audio, Speech and Language).

A longer vocal tract puts the same vowel's formants lower. VTLP gives each training utterance a
random warp factor α, uniform in [1 − x, 1 + x] (the paper: [0.9, 1.1]), and warps the frequencies of
its filterbank by the piecewise-linear function of the paper's equation (1), the warp of vocal
tract length normalisation:

    f' = f·α                                                          f <= F_hi · min(α, 1) / α
    f' = S/2 − (S/2 − F_hi · min(α, 1)) / (S/2 − F_hi · min(α, 1) / α) · (S/2 − f)      otherwise

with S the sampling rate and F_hi the boundary frequency: below F_hi·min(α, 1)/α the axis is scaled by
α, above it a second line joins that point to S/2, so 0 and S/2 stay where they are and the warp is
continuous and increasing. The paper takes F_hi = 4,800 Hz at S = 16 kHz, above the formants that
tell vowels apart; at 8 kHz that is past the Nyquist frequency, so :func:`default_boundary_hz` takes
4,800 Hz or, where that does not fit, S/2 − 500 Hz (Kaldi's default upper knee for VTLN,
``--vtln-high=-500``): 3,500 Hz at 8 kHz, above the third formant of most adult voices.

Where the warp acts: here it moves the mel filterbank (each triangle's edges and centre go from f
to f'; the FFT bins stay), as Kaldi's VTLN warps its mel banks (:func:`seqlab.audio.mel.mel_filterbank`
with ``warp``, per utterance in :class:`seqlab.audio.features.LogMelSpectrogram`). A filter moved
from f to αf reads what the spectrum holds at αf, so the model sees the spectrum warped by the
inverse of (1) (scaled by 1/α below the knee), as Kaldi's warp factor is the reciprocal of the
scale; implementations that move the spectrum's bins instead (nlpaug's, torch-audiomentations')
apply (1) itself. With factors drawn symmetrically around 1 the two augmentations are nearly the
same. Test utterances are not warped.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import Tensor

from seqlab.errors import SeqlabError

PAPER_BOUNDARY_HZ = 4800.0  # F_hi of Jaitly & Hinton (2013), at 16 kHz
KALDI_MARGIN_HZ = 500.0  # Kaldi's default upper knee of VTLN: this far below S/2


def default_boundary_hz(sample_rate: float) -> float:
    """F_hi for a sampling rate: the paper's 4,800 Hz, or S/2 − 500 Hz where that is lower (module docstring)."""
    return min(PAPER_BOUNDARY_HZ, sample_rate / 2 - KALDI_MARGIN_HZ)


def vtlp_warp(hz: Tensor, alpha: Tensor, *, nyquist_hz: float, boundary_hz: float) -> Tensor:
    """Frequencies ``hz`` warped by factors ``alpha`` (equation (1), module docstring).

    Args:
        hz: frequencies in [0, S/2], Hz.
        alpha: warp factors, positive; broadcast against ``hz`` (``alpha[:, None]`` warps ``hz``
            once per factor).
        nyquist_hz: S/2.
        boundary_hz: F_hi, in (0, S/2).

    Shape:
        hz (...), alpha broadcastable -> the broadcast shape.

    Example:
        >>> vtlp_warp(torch.tensor([0.0, 1000.0, 4000.0]), torch.tensor(1.1), nyquist_hz=4000, boundary_hz=3500)
        tensor([   0., 1100., 4000.])
    """
    if not 0 < boundary_hz < nyquist_hz:
        raise SeqlabError(f"the VTLP boundary must be between 0 and {nyquist_hz} Hz, got {boundary_hz}")
    alpha = torch.as_tensor(alpha, dtype=hz.dtype, device=hz.device)
    if not bool((alpha > 0).all()):
        raise SeqlabError(f"VTLP warp factors must be positive, got {alpha.min().item()}")
    bend = boundary_hz * alpha.clamp(max=1.0)  # F_hi · min(α, 1): where the knee lands
    knee = bend / alpha  # the last frequency scaled by α
    slope = (nyquist_hz - bend) / (nyquist_hz - knee)
    return torch.where(hz <= knee, hz * alpha, nyquist_hz - slope * (nyquist_hz - hz))


def draw_warp_factors(count: int, spread: float) -> Tensor:
    """``count`` factors uniform in [1 − spread, 1 + spread], float64, from torch's global generator."""
    return 1.0 + spread * (2.0 * torch.rand(count, dtype=torch.float64) - 1.0)


def filterbank_warp(factors: Tensor, sample_rate: float) -> Callable[[Tensor], Tensor]:
    """The warp of one filterbank per factor, for ``mel_filterbank(..., warp=)`` over 0 to S/2.

    Shape:
        factors (B,) -> a function of frequencies (n,) -> (B, n).
    """
    return functools.partial(vtlp_warp, alpha=factors[:, None], nyquist_hz=sample_rate / 2,
                             boundary_hz=default_boundary_hz(sample_rate))  # fmt: skip
