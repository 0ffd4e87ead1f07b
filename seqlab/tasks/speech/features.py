"""What a speech model hears: waveforms to normalised log-mel (or MFCC) frames, masked by SpecAugment in training.

A batch of waveforms at :data:`~seqlab.data.spoken_digits.SAMPLE_RATE` becomes ``(B, T, F)`` frames
in one batched STFT (:class:`seqlab.audio.features.LogMelSpectrogram`: 25 ms Hann windows every
10 ms by default, 40 mel bands in dB), optionally MFCCs (DCT-II of the dB bands), then each
utterance is normalised to zero mean and unit variance over its own frames.

Training utterances are augmented twice. Before the features, speed perturbation after Ko et al.
(2015), who add copies of the whole training set at speeds 0.9 and 1.1 (sox's ``speed``, which
scales tempo and pitch together); here, on the fly, each time an utterance is loaded it is played
at speed 1 − x, 1 or 1 + x (x = 0.1: the paper's three speeds), drawn uniformly, so that over the
epochs the model sees each speed about as often as the paper's tripled set holds it. A speed s takes
the samples as recorded at s·8 kHz and resamples them to 8 kHz (1/s as long, the spectral envelope
scaled by s: a cheap stand-in for another speaker's vocal tract). With ``vtlp`` x > 0, each
utterance's mel filterbank is then warped by a factor drawn uniformly from [1 − x, 1 + x]
(:mod:`seqlab.audio.vtlp`, Jaitly & Hinton 2013: the spectral envelope alone, the tempo kept). After
the features, SpecAugment's frequency and time masks (Park et al. 2019, §2). All are drawn from
torch's global generator, whose state the engine's checkpoints keep, so a resumed run draws the same.
"""

from __future__ import annotations

import numpy as np
import torch

from seqlab.audio.features import LogMelSpectrogram, mfcc, normalise_per_utterance
from seqlab.audio.resample import resample
from seqlab.audio.spec_augment import SpecAugment
from seqlab.audio.vtlp import draw_warp_factors, filterbank_warp
from seqlab.data.padded_batches import pad_sequences
from seqlab.data.spoken_digits import SAMPLE_RATE
from seqlab.tasks.speech.config import DataConfig


class UtteranceFeatures:
    """Waveforms → features for a model (see the module docstring), on ``device``."""

    def __init__(self, config: DataConfig, device: torch.device):
        window = round(SAMPLE_RATE * config.window_ms / 1000)
        self.spectrogram = LogMelSpectrogram(SAMPLE_RATE, n_fft=1 << (window - 1).bit_length(), win_length=window,
                                             hop_length=round(SAMPLE_RATE * config.hop_ms / 1000),
                                             n_mels=config.n_mels).to(device)  # fmt: skip
        self.augment = SpecAugment(config.freq_mask_width, config.time_mask_width,
                                   num_freq_masks=config.freq_masks, num_time_masks=config.time_masks,
                                   max_time_fraction=config.time_mask_ratio)  # fmt: skip
        self.n_mfcc = config.n_mfcc if config.features == "mfcc" else None
        self.speeds = sorted({1.0 - config.speed_perturbation, 1.0, 1.0 + config.speed_perturbation})
        self.vtlp = config.vtlp
        self.device = device

    def __call__(self, waves: list[np.ndarray], *, augment: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Features ``(B, T, F)`` (0 past each utterance's frames) and frame lengths ``(B,)``, on the device."""
        if augment and len(self.speeds) > 1:
            waves = [self.perturb_speed(wave) for wave in waves]
        padded, lengths = pad_sequences([torch.from_numpy(np.asarray(wave, dtype=np.float32)) for wave in waves],
                                        batch_first=True)  # fmt: skip
        warp = None
        if augment and self.vtlp:  # one factor per utterance, drawn after the speeds
            warp = filterbank_warp(draw_warp_factors(len(waves), self.vtlp), SAMPLE_RATE)
        features, frames = self.spectrogram(padded.to(self.device), lengths.to(self.device), warp=warp)
        if self.n_mfcc is not None:
            features = mfcc(features, self.n_mfcc)
        features = normalise_per_utterance(features, frames)
        if augment:
            features = self.augment.train()(features, frames)
        return features, frames

    def perturb_speed(self, wave: np.ndarray) -> np.ndarray:
        """``wave`` at one of the speeds, drawn uniformly (a speed of 1.1 makes it 1/1.1 as long)."""
        speed = self.speeds[int(torch.randint(len(self.speeds), ()))]
        if speed == 1.0:
            return wave
        # a 16-zero-crossing filter: resampling for augmentation needs no 64-tap precision, and is 3x faster
        return resample(wave, round(SAMPLE_RATE * speed), SAMPLE_RATE, lowpass_filter_width=16)
