"""What the speech model hears: normalised log-mel frames, and the training utterances' augmentations."""

from __future__ import annotations

import functools

import librosa
import numpy as np
import pytest
import torch

from seqlab.audio.features import LogMelSpectrogram, normalise_per_utterance
from seqlab.audio.vtlp import vtlp_warp
from seqlab.data.padded_batches import pad_sequences
from seqlab.tasks.speech.config import DataConfig
from seqlab.tasks.speech.features import UtteranceFeatures
from tests.speech.conftest import SAMPLE_RATE, tone


def waves() -> list[np.ndarray]:
    """Two tones in faint noise (no band sits at the 80 dB floor, where normalising would divide float noise)."""
    rng = np.random.default_rng(0)
    return [wave + 0.01 * rng.standard_normal(len(wave)).astype(np.float32) for wave in (tone(3, 1.0, 0),
                                                                                         tone(7, 1.04, 5))]  # fmt: skip


def test_held_out_utterances_are_librosas_log_mel_normalised_over_their_own_frames():
    features, frames = UtteranceFeatures(DataConfig(), torch.device("cpu"))(waves(), augment=False)
    for row, wave in enumerate(waves()):
        mel = librosa.feature.melspectrogram(y=wave, sr=SAMPLE_RATE, n_fft=256, win_length=200, hop_length=80,
                                             n_mels=40, pad_mode="constant")  # fmt: skip
        decibels = librosa.power_to_db(mel, top_db=80.0).T  # (T, 40)
        expected = (decibels - decibels.mean(0)) / np.sqrt(decibels.var(0) + 1e-5)
        assert frames[row] == len(expected)
        np.testing.assert_allclose(features[row, : frames[row]].numpy(), expected, atol=2e-3)
        assert not features[row, frames[row] :].any()


def test_mfcc_features_have_the_configured_coefficients():
    features, _ = UtteranceFeatures(DataConfig(features="mfcc", n_mfcc=13), torch.device("cpu"))(waves(), augment=False)
    assert features.shape[-1] == 13 == DataConfig(features="mfcc").feature_size


def test_training_utterances_play_at_one_of_three_speeds_and_are_masked():
    config = DataConfig(speed_perturbation=0.1, freq_masks=2, time_masks=2)
    extract = UtteranceFeatures(config, torch.device("cpu"))
    plain, plain_frames = extract(waves(), augment=False)
    seen = set()
    torch.manual_seed(0)
    for _ in range(30):
        augmented, frames = extract(waves(), augment=True)
        ratio = frames[0].item() / plain_frames[0].item()
        seen.add(min((1 / 1.1, 1.0, 1 / 0.9), key=lambda expected: abs(expected - ratio)))
        assert min(abs(ratio - expected) for expected in (1 / 1.1, 1.0, 1 / 0.9)) < 0.03
        if frames[0] == plain_frames[0]:
            masked = augmented[0, : frames[0]] == 0
            assert masked.any() and not torch.equal(augmented[0, : frames[0]], plain[0, : frames[0]])
    assert seen == {1 / 1.1, 1.0, 1 / 0.9}


def test_no_augmentation_when_switched_off():
    config = DataConfig(speed_perturbation=0.0, freq_masks=0, time_masks=0)
    extract = UtteranceFeatures(config, torch.device("cpu"))
    plain, _ = extract(waves(), augment=False)
    assert torch.equal(extract(waves(), augment=True)[0], plain)


@pytest.mark.parametrize("value", [-0.1, 0.5])
def test_an_impossible_speed_perturbation_is_refused(value):
    with pytest.raises(Exception, match="speed_perturbation must be in"):
        DataConfig(speed_perturbation=value)


def test_vtlp_warps_each_training_utterance_by_its_own_factor_and_leaves_held_out_ones_alone():
    config = DataConfig(speed_perturbation=0.0, freq_masks=0, time_masks=0, vtlp=0.1)
    extract = UtteranceFeatures(config, torch.device("cpu"))
    plain, plain_frames = extract(waves(), augment=False)
    assert torch.equal(plain, UtteranceFeatures(DataConfig(), torch.device("cpu"))(waves(), augment=False)[0])
    torch.manual_seed(0)
    warped, frames = extract(waves(), augment=True)
    torch.manual_seed(0)
    factors = 0.9 + 0.2 * torch.rand(2, dtype=torch.float64)  # uniform in [0.9, 1.1], from the global generator
    assert abs(factors[0] - factors[1]) > 0.01
    padded, lengths = pad_sequences([torch.from_numpy(wave) for wave in waves()], batch_first=True)
    spectrogram = LogMelSpectrogram(SAMPLE_RATE)  # the task's settings: 25 ms windows every 10 ms, 40 bands
    for row, alpha in enumerate(factors.tolist()):  # F_hi = 3,500 Hz at 8 kHz: S/2 - 500 Hz, below the paper's 4,800
        warp = functools.partial(vtlp_warp, alpha=torch.tensor([[alpha]], dtype=torch.float64), nyquist_hz=4000.0,
                                 boundary_hz=3500.0)  # fmt: skip
        alone, _ = spectrogram(padded[row : row + 1], lengths[row : row + 1], warp=warp)
        expected = normalise_per_utterance(alone, frames[row : row + 1])[0]
        torch.testing.assert_close(warped[row], expected, rtol=0, atol=1e-5)
        assert not torch.allclose(warped[row], plain[row], atol=1e-3)
    assert torch.equal(frames, plain_frames)


@pytest.mark.parametrize("value", [-0.1, 0.35])
def test_an_impossible_vtlp_is_refused(value):
    with pytest.raises(Exception, match="vtlp must be in"):
        DataConfig(vtlp=value)
