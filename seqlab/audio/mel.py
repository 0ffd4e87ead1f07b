"""The mel scale and triangular mel filterbanks, as librosa 0.11 computes them (``librosa.filters.mel``).

Two mel scales. Slaney's (Auditory Toolbox, 1998; librosa's default): linear below 1 kHz, 3 mels
per 200 Hz, and logarithmic above, 27 mels per factor 6.4:

    m(f) = 3f / 200                                  f < 1000 Hz
    m(f) = 15 + 27 · ln(f / 1000) / ln(6.4)          f ≥ 1000 Hz

and HTK's (Young et al., The HTK Book), m(f) = 2595 · log10(1 + f / 700).

The filterbank: n_mels + 2 frequencies evenly spaced in mels between fmin and fmax are the edges
and centres of n_mels overlapping triangles, each rising from 0 at its left neighbour's centre to 1
at its own and falling to 0 at its right neighbour's, sampled at the FFT's bin frequencies k·sr/n_fft.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import torch
from torch import Tensor

from seqlab.errors import SeqlabError

_SLANEY_LINEAR_HZ_PER_MEL = 200.0 / 3  # the mel scale of Slaney's Auditory Toolbox: linear below 1 kHz ...
_SLANEY_LOG_STEP = math.log(6.4) / 27.0  # ... and logarithmic above it, 27 mels per factor 6.4


def _hz_to_mel(hz: Tensor, htk: bool) -> Tensor:
    if htk:
        return 2595.0 * torch.log10(1.0 + hz / 700.0)
    linear = hz / _SLANEY_LINEAR_HZ_PER_MEL
    knee = 1000.0 / _SLANEY_LINEAR_HZ_PER_MEL
    return torch.where(hz >= 1000.0, knee + torch.log(hz.clamp_min(1000.0) / 1000.0) / _SLANEY_LOG_STEP, linear)


def _mel_to_hz(mel: Tensor, htk: bool) -> Tensor:
    if htk:
        return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)
    knee = 1000.0 / _SLANEY_LINEAR_HZ_PER_MEL
    return torch.where(
        mel >= knee, 1000.0 * torch.exp(_SLANEY_LOG_STEP * (mel - knee)), _SLANEY_LINEAR_HZ_PER_MEL * mel
    )


def mel_filterbank(
    sample_rate: int,
    n_fft: int,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: float | None = None,
    *,
    htk: bool = False,
    norm: str | float | None = "slaney",
    dtype: torch.dtype = torch.float32,
    warp: Callable[[Tensor], Tensor] | None = None,
) -> Tensor:
    """Triangular mel filters over the bins of an n_fft-point FFT, as ``librosa.filters.mel``.

    Args:
        sample_rate: Hz.
        n_fft: the FFT size; the filters cover its 1 + n_fft // 2 non-negative frequencies.
        n_mels: the number of filters.
        fmin: the lowest frequency, Hz.
        fmax: the highest frequency, Hz; None: sample_rate / 2.
        htk: the HTK mel scale 2595·log10(1 + f/700); False: Slaney's (linear below 1 kHz, log above).
        norm: ``"slaney"``: each triangle divided by half its width in Hz (unit area); a number p:
            each filter divided by its Lp norm (``math.inf`` for the max); None: peaks of 1.
        dtype: of the result (computed in float64).
        warp: moves the filters: maps the n_mels + 2 edge and centre frequencies (Hz, float64) to
            where they go, e.g. :func:`seqlab.audio.vtlp.vtlp_warp`; it may return a batch of them,
            one filterbank each. The triangles and their norm follow the moved frequencies.

    Shape:
        (n_mels, 1 + n_fft // 2): M = P @ W.T turns powers (..., 1 + n_fft // 2) into (..., n_mels);
        (..., n_mels, 1 + n_fft // 2) where ``warp`` returns (..., n_mels + 2).

    Example:
        >>> mel_filterbank(8000, 256, 40).shape
        torch.Size([40, 129])
    """
    fmax = sample_rate / 2.0 if fmax is None else float(fmax)
    if not 0 <= fmin < fmax:
        raise SeqlabError(f"mel filters need 0 <= fmin < fmax, got fmin={fmin}, fmax={fmax}")
    fft_hz = torch.arange(1 + n_fft // 2, dtype=torch.float64) * (sample_rate / n_fft)  # (K,) as numpy's rfftfreq
    edges = torch.tensor([fmin, fmax], dtype=torch.float64)
    low, high = _hz_to_mel(edges, htk).tolist()
    centres = _mel_to_hz(torch.linspace(low, high, n_mels + 2, dtype=torch.float64), htk)  # (n_mels + 2,)
    if warp is not None:
        centres = _warped(warp, centres)  # (..., n_mels + 2)
    weights = _normalised(_triangles(centres, fft_hz), centres, norm)  # (..., n_mels, K)
    if not (weights.amax(-1) > 0).all():
        warnings.warn(
            f"{n_mels} mel filters over a {n_fft}-point FFT: some have no FFT bin (too many mels)", stacklevel=2
        )
    return weights.to(dtype)


def _triangles(centres: Tensor, fft_hz: Tensor) -> Tensor:
    """Peak-1 triangles from each frequency's left neighbour to its right one, at the bins ``fft_hz``.

    Shape: centres (..., n_mels + 2), fft_hz (K,) -> (..., n_mels, K).
    """
    widths = centres.diff()  # (..., n_mels + 1)
    ramps = centres[..., :, None] - fft_hz  # (..., n_mels + 2, K)
    rising = -ramps[..., :-2, :] / widths[..., :-1, None]
    falling = ramps[..., 2:, :] / widths[..., 1:, None]
    return torch.minimum(rising, falling).clamp_min(0.0)


def _normalised(weights: Tensor, centres: Tensor, norm: str | float | None) -> Tensor:
    """The triangles scaled as :func:`mel_filterbank`'s ``norm`` says. Shape: as ``weights`` (..., n_mels, K)."""
    if norm is None:
        return weights
    if norm == "slaney":
        return weights * (2.0 / (centres[..., 2:] - centres[..., :-2]))[..., None]
    if isinstance(norm, str) or norm <= 0:
        raise SeqlabError(f'norm must be "slaney", a positive number or None, got {norm!r}')
    size = weights.amax(-1) if math.isinf(norm) else weights.pow(norm).sum(-1).pow(1.0 / norm)
    return weights / torch.where(size < torch.finfo(torch.float64).tiny, 1.0, size)[..., None]


def _warped(warp: Callable[[Tensor], Tensor], centres: Tensor) -> Tensor:
    """``warp(centres)``, checked: (..., n_mels + 2) frequencies, still increasing, from fmin to fmax still."""
    moved = warp(centres).to("cpu", torch.float64)
    if moved.shape[-1:] != centres.shape:
        raise SeqlabError(f"a filterbank warp must give {len(centres)} frequencies, got shape {tuple(moved.shape)}")
    if not bool((moved.diff() > 0).all()):
        raise SeqlabError("a filterbank warp must keep the frequencies in increasing order")
    ends = moved[..., [0, -1]]
    if not torch.allclose(ends, centres[[0, -1]].expand_as(ends), rtol=1e-9, atol=1e-6):
        raise SeqlabError(f"a filterbank warp must keep fmin and fmax ({centres[0]:g} and {centres[-1]:g} Hz) in place")
    return moved
