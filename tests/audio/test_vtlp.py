"""Vocal tract length perturbation: equation (1) of Jaitly & Hinton (2013) written out here, the warped
filterbank built here from librosa's mel frequencies, and log-mel features against librosa's STFT
through that filterbank."""

import functools

import librosa
import numpy as np
import pytest
import torch

from seqlab.audio.features import LogMelSpectrogram
from seqlab.audio.mel import mel_filterbank
from seqlab.audio.vtlp import default_boundary_hz, draw_warp_factors, filterbank_warp, vtlp_warp
from seqlab.errors import SeqlabError

RATE, NYQUIST, BOUNDARY = 8000, 4000.0, 3500.0


def paper_warp(f: np.ndarray, alpha: float, sample_rate: float, f_hi: float) -> np.ndarray:
    """Jaitly & Hinton (2013), eq. (1), one frequency at a time."""
    half = sample_rate / 2
    out = []
    for x in f:
        if x <= f_hi * min(alpha, 1) / alpha:
            out.append(x * alpha)
        else:
            out.append(half - (half - f_hi * min(alpha, 1)) / (half - f_hi * min(alpha, 1) / alpha) * (half - x))
    return np.array(out)


def triangles(centres: np.ndarray, n_fft: int, sample_rate: int) -> np.ndarray:
    """Slaney-normalised triangles between consecutive frequencies ``centres`` (n_mels + 2,), sampled at the bins."""
    bins = np.arange(1 + n_fft // 2) * sample_rate / n_fft
    n_mels = len(centres) - 2
    weights = np.zeros((n_mels, len(bins)))
    for m in range(n_mels):
        left, centre, right = centres[m : m + 3]
        rising = (bins - left) / (centre - left)
        falling = (right - bins) / (right - centre)
        weights[m] = np.maximum(0.0, np.minimum(rising, falling)) * 2.0 / (right - left)
    return weights


@pytest.mark.parametrize("alpha", [0.9, 0.95, 1.0, 1.04, 1.1])
def test_the_warp_is_equation_1_of_the_paper(alpha):
    f = np.linspace(0.0, NYQUIST, 401)
    ours = vtlp_warp(
        torch.from_numpy(f), torch.tensor(alpha, dtype=torch.float64), nyquist_hz=NYQUIST, boundary_hz=BOUNDARY
    )
    np.testing.assert_allclose(ours.numpy(), paper_warp(f, alpha, RATE, BOUNDARY), rtol=0, atol=1e-9)
    assert ours[0] == 0 and abs(ours[-1].item() - NYQUIST) < 1e-9  # the band's ends stay
    assert bool((ours.diff() > 0).all())  # increasing: no two frequencies swap
    if alpha != 1.0:
        knee = BOUNDARY * min(alpha, 1) / alpha
        below = f[f < knee]
        np.testing.assert_allclose(ours[: len(below)].numpy(), alpha * below)  # the formants scale by alpha


def test_a_batch_of_factors_warps_once_per_factor():
    f = torch.linspace(0.0, NYQUIST, 50, dtype=torch.float64)
    factors = torch.tensor([0.9, 1.0, 1.1], dtype=torch.float64)
    warped = vtlp_warp(f, factors[:, None], nyquist_hz=NYQUIST, boundary_hz=BOUNDARY)
    assert warped.shape == (3, 50)
    torch.testing.assert_close(warped[1], f, rtol=0, atol=0)
    for row, alpha in enumerate(factors.tolist()):
        np.testing.assert_allclose(warped[row].numpy(), paper_warp(f.numpy(), alpha, RATE, BOUNDARY), atol=1e-9)


@pytest.mark.parametrize("alpha", [0.9, 1.07])
def test_the_warped_filterbank_has_its_triangles_at_the_warped_mel_frequencies(alpha):
    centres = librosa.mel_frequencies(42, fmin=0.0, fmax=NYQUIST)  # librosa's 40 + 2 filter frequencies
    expected = triangles(paper_warp(centres, alpha, RATE, BOUNDARY), 256, RATE)
    warp = functools.partial(
        vtlp_warp, alpha=torch.tensor(alpha, dtype=torch.float64), nyquist_hz=NYQUIST, boundary_hz=BOUNDARY
    )
    ours = mel_filterbank(RATE, 256, 40, dtype=torch.float64, warp=warp)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-9, atol=1e-12)
    unwarped = librosa.filters.mel(sr=RATE, n_fft=256, n_mels=40, dtype=np.float64)
    np.testing.assert_allclose(triangles(centres, 256, RATE), unwarped, rtol=1e-9, atol=1e-12)  # the oracle's own check
    assert not np.allclose(expected, unwarped)


def test_log_mel_of_each_utterance_goes_through_its_own_warped_filterbank():
    rng = np.random.default_rng(3)
    lengths = [4000, 2960, 1234]
    waves = [rng.standard_normal(n) * np.linspace(0.2, 1.0, n) for n in lengths]
    padded = torch.zeros(3, max(lengths), dtype=torch.float64)
    for row, wave in enumerate(waves):
        padded[row, : len(wave)] = torch.from_numpy(wave)
    factors = torch.tensor([0.9, 1.0, 1.1], dtype=torch.float64)
    warp = functools.partial(vtlp_warp, alpha=factors[:, None], nyquist_hz=NYQUIST, boundary_hz=BOUNDARY)
    features, frames = LogMelSpectrogram(RATE)(padded, torch.tensor(lengths), warp=warp)
    powers, _ = LogMelSpectrogram(RATE).mel_power(padded, torch.tensor(lengths), warp=warp)
    centres = librosa.mel_frequencies(42, fmin=0.0, fmax=NYQUIST)
    for row, (wave, alpha) in enumerate(zip(waves, factors.tolist())):
        power = np.abs(librosa.stft(wave, n_fft=256, hop_length=80, win_length=200, pad_mode="constant")) ** 2
        mel = triangles(paper_warp(centres, alpha, RATE, BOUNDARY), 256, RATE) @ power  # (40, T)
        expected = librosa.power_to_db(mel, top_db=80.0).T
        assert frames[row] == len(expected)
        np.testing.assert_allclose(features[row, : frames[row]].numpy(), expected, rtol=0, atol=1e-9)
        assert not features[row, frames[row] :].any()
        np.testing.assert_allclose(powers[row, : frames[row]].numpy(), mel.T, rtol=1e-12, atol=0)
    unwarped, _ = LogMelSpectrogram(RATE)(padded, torch.tensor(lengths))
    torch.testing.assert_close(features[1], unwarped[1], rtol=0, atol=1e-9)  # a factor of 1 changes nothing


def test_the_boundary_is_the_papers_4800_hz_or_500_hz_below_nyquist_where_that_does_not_fit():
    assert default_boundary_hz(16000) == 4800.0 and default_boundary_hz(44100) == 4800.0
    assert default_boundary_hz(8000) == 3500.0 and default_boundary_hz(10000) == 4500.0


@pytest.mark.parametrize(
    "settings",
    [
        dict(n_mels=40),
        dict(n_mels=40, htk=True, norm=None),
        dict(n_mels=30, norm=2.0),
        dict(n_mels=64, htk=True, norm=1.0),
    ],
)
def test_a_batch_of_warps_gives_each_factor_its_own_filterbank(settings):
    factors = torch.tensor([0.93, 1.0, 1.08], dtype=torch.float64)
    batched = mel_filterbank(RATE, 256, **settings, dtype=torch.float64, warp=filterbank_warp(factors, RATE))
    for row, alpha in enumerate(factors):
        single = mel_filterbank(RATE, 256, **settings, dtype=torch.float64, warp=filterbank_warp(alpha[None], RATE))
        torch.testing.assert_close(batched[row], single[0], rtol=0, atol=0)
    torch.testing.assert_close(
        batched[1], mel_filterbank(RATE, 256, **settings, dtype=torch.float64), rtol=0, atol=1e-15
    )


def test_warped_features_of_a_float32_batch_in_several_blocks_equal_each_utterance_alone():
    lengths = [1234, 200_000, 2960]  # out of order; 2,501 frames for the second: more than one block of 2,048
    waves = torch.randn(3, max(lengths), generator=torch.Generator().manual_seed(1))
    factors = torch.tensor([1.1, 0.9, 1.0], dtype=torch.float64)
    spectrogram = LogMelSpectrogram(RATE)
    features, frames = spectrogram(waves, torch.tensor(lengths), warp=filterbank_warp(factors, RATE))
    assert features.dtype == torch.float32
    for row, length in enumerate(lengths):
        alone, _ = spectrogram(waves[row : row + 1, :length], warp=filterbank_warp(factors[row : row + 1], RATE))
        torch.testing.assert_close(features[row, : frames[row]], alone[0], rtol=0, atol=1e-4)
    torch.testing.assert_close(features[2], spectrogram(waves, torch.tensor(lengths))[0][2], rtol=0, atol=1e-4)


def test_bad_warps_are_refused_with_one_line():
    f = torch.linspace(0.0, NYQUIST, 5)
    with pytest.raises(SeqlabError, match="boundary must be between 0 and 4000"):
        vtlp_warp(f, torch.tensor(1.1), nyquist_hz=NYQUIST, boundary_hz=NYQUIST)
    with pytest.raises(SeqlabError, match="must be positive"):
        vtlp_warp(f, torch.tensor([1.0, 0.0]), nyquist_hz=NYQUIST, boundary_hz=BOUNDARY)
    with pytest.raises(SeqlabError, match="increasing order"):
        mel_filterbank(RATE, 256, 40, warp=lambda hz: hz.flip(0))
    with pytest.raises(SeqlabError, match="must give 42 frequencies"):
        mel_filterbank(RATE, 256, 40, warp=lambda hz: hz[1:])
    with pytest.raises(SeqlabError, match=r"keep fmin and fmax \(0 and 3000 Hz\) in place"):
        mel_filterbank(RATE, 256, 40, fmax=3000.0, warp=filterbank_warp(torch.tensor([1.1]), RATE))
    two = functools.partial(vtlp_warp, alpha=torch.tensor([[0.9], [1.1]]), nyquist_hz=NYQUIST, boundary_hz=BOUNDARY)
    with pytest.raises(SeqlabError, match=r"one filterbank per utterance \(3\)"):
        LogMelSpectrogram(RATE)(torch.randn(3, 800), warp=two)


def test_factors_are_uniform_over_the_spread_and_follow_the_global_seed():
    torch.manual_seed(5)
    factors = draw_warp_factors(20_000, 0.1)
    torch.manual_seed(5)
    assert torch.equal(draw_warp_factors(20_000, 0.1), factors)
    assert 0.9 <= factors.min() < 0.901 and 1.099 < factors.max() <= 1.1
    assert abs(factors.mean().item() - 1.0) < 2e-3 and abs(factors.var().item() - 0.2**2 / 12) < 1e-4
