"""Putting recordings together: segments laid out with gaps and gains, and background noise at a chosen SNR.

All signals are float32 NumPy arrays of samples ``(S,)``; levels are in decibels. The noise is
synthetic, coloured by the exponent β of its power spectrum ∝ 1/f^β: white (0), pink (1) or brown
(2), since the corpora at hand (the spoken digits) have no recorded background.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seqlab.errors import SeqlabError


def decibels_to_amplitude(decibels: float) -> float:
    """The amplitude factor of a gain in dB: 10^(dB / 20)."""
    return float(10.0 ** (decibels / 20.0))


def lay_out(segments: Sequence[np.ndarray], gaps: Sequence[int],
            gains: Sequence[float]) -> tuple[np.ndarray, list[tuple[int, int]]]:  # fmt: skip
    """The segments one after another with silences between them, and where each one lies.

    Args:
        segments: N float32 arrays ``(S_i,)``.
        gaps: N + 1 silences in samples: before the first segment, between each two, after the last.
        gains: N gains in dB, one per segment.

    Returns:
        the signal ``(sum(S_i) + sum(gaps),)`` and each segment's ``(start, end)`` sample (end exclusive).
    """
    if len(gaps) != len(segments) + 1 or len(gains) != len(segments):
        raise SeqlabError(f"{len(segments)} segments need {len(segments) + 1} gaps and {len(segments)} gains, "
                          f"got {len(gaps)} and {len(gains)}")  # fmt: skip
    signal = np.zeros(sum(len(segment) for segment in segments) + sum(gaps), dtype=np.float32)
    spans, position = [], gaps[0]
    for segment, gap, gain in zip(segments, gaps[1:], gains):
        signal[position : position + len(segment)] = segment * decibels_to_amplitude(gain)
        spans.append((position, position + len(segment)))
        position += len(segment) + gap
    return signal, spans


def coloured_noise(length: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise ``(length,)`` whose power spectrum falls as 1/f^exponent, scaled to unit power.

    White noise is shaped in the frequency domain: each rFFT bin k > 0 is multiplied by
    k^(-exponent / 2) (power ∝ amplitude²), the DC bin set to 0.
    """
    if length <= 0:
        return np.zeros(0, dtype=np.float32)
    spectrum = np.fft.rfft(rng.standard_normal(length))
    bins = np.arange(len(spectrum), dtype=np.float64)
    bins[0] = np.inf  # no DC offset
    noise = np.fft.irfft(spectrum * bins ** (-exponent / 2.0), n=length)
    power = float(np.mean(noise**2))
    return (noise / np.sqrt(power) if power > 0 else noise).astype(np.float32)


def add_noise(signal: np.ndarray, noise: np.ndarray, snr: float, *, speech: np.ndarray | None = None) -> np.ndarray:
    """``signal + c · noise`` with c chosen so that the speech's power is ``snr`` dB above the noise's.

    Args:
        signal, noise: ``(S,)`` each.
        snr: 10 log10(P_speech / P_noise) in dB.
        speech: a boolean mask ``(S,)`` of the samples whose power counts as the speech's (the
            segments, not the silences between them); None: the whole signal.
    """
    if noise.shape != signal.shape:
        raise SeqlabError(f"noise of {noise.shape[0]} samples for a signal of {signal.shape[0]}")
    voiced = signal if speech is None else signal[speech]
    speech_power = float(np.mean(voiced.astype(np.float64) ** 2)) if voiced.size else 0.0
    noise_power = float(np.mean(noise.astype(np.float64) ** 2)) if noise.size else 0.0
    if speech_power == 0.0 or noise_power == 0.0:
        return signal.copy()
    scale = np.sqrt(speech_power / (noise_power * 10.0 ** (snr / 10.0)))
    return (signal + scale * noise).astype(np.float32)
