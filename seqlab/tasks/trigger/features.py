"""What a trigger detector hears: log-mel frames computed causally, so that a stream's frames equal the file's.

librosa's (and :mod:`seqlab.tasks.speech.features`') frames are centred: the signal is padded by
n_fft / 2 on both sides, and the dB floor (``top_db``) and per-utterance normalisation read the
whole utterance. A stream has neither its end nor its loudest frame yet, so here:

- the signal is padded by n_fft / 2 zeros **on the left only**: frame t is centred on sample
  t·hop, as librosa's, and is made as soon as its last sample (t·hop + n_fft / 2 − 1) arrives; a
  signal of L samples gives 1 + (L + n_fft / 2 − n_fft) // hop frames (librosa's last few frames,
  which read the zeros past the end, are not made);
- dB without ``top_db`` (10·log10(max(mel power, 1e-10))): each frame on its own;
- no normalisation here: the model normalises with fixed statistics of its training clips
  (:class:`seqlab.models.trigger_detector.TriggerDetector`).

:class:`FeatureStream` keeps the samples not yet framed between chunks, so the frames of a
recording pushed in chunks of any size are those of :meth:`CausalLogMel.whole` of it.
"""

from __future__ import annotations

import numpy as np
import torch

from seqlab.audio.features import LogMelSpectrogram
from seqlab.data.spoken_digits import SAMPLE_RATE
from seqlab.tasks.trigger.config import DataConfig


class CausalLogMel:
    """Log-mel frames (dB) with left padding only (module docstring), on ``device``."""

    def __init__(self, config: DataConfig, device: torch.device | str = "cpu"):
        window = round(SAMPLE_RATE * config.window_ms / 1000)
        self.n_fft = 1 << (window - 1).bit_length()
        self.hop = round(SAMPLE_RATE * config.hop_ms / 1000)
        self.spectrogram = LogMelSpectrogram(SAMPLE_RATE, n_fft=self.n_fft, win_length=window, hop_length=self.hop,
                                             n_mels=config.n_mels, center=False, top_db=None).to(device)  # fmt: skip
        self.device = torch.device(device)

    @property
    def left_padding(self) -> int:
        """The zeros before the first sample: n_fft // 2."""
        return self.n_fft // 2

    def frames(self, samples: int) -> int:
        """Frames of a signal of ``samples`` samples (with the left padding)."""
        padded = samples + self.left_padding
        return 0 if padded < self.n_fft else 1 + (padded - self.n_fft) // self.hop

    def whole(self, waves: torch.Tensor) -> torch.Tensor:
        """The frames of equally long signals. Shape: (B, S) -> (B, T, n_mels), T = :meth:`frames` (S)."""
        padded = torch.nn.functional.pad(waves.to(self.device, torch.float32), (self.left_padding, 0))
        count = self.frames(waves.shape[1])
        if count == 0:
            return padded.new_zeros(waves.shape[0], 0, self.spectrogram.n_mels)
        return self.spectrogram(padded[:, : (count - 1) * self.hop + self.n_fft])[0]

    def of_clips(self, waves: list[np.ndarray]) -> torch.Tensor:
        """The frames of equally long clips given as NumPy arrays. Shape: B × (S,) -> (B, T, n_mels)."""
        return self.whole(torch.from_numpy(np.stack(waves).astype(np.float32)))

    def stream(self) -> FeatureStream:
        """A stream that starts at the first sample of a recording."""
        return FeatureStream(self)


class FeatureStream:
    """The frames of a recording pushed chunk by chunk: the samples short of a frame wait for the next chunk."""

    def __init__(self, features: CausalLogMel):
        self.features = features
        self.pending = torch.zeros(features.left_padding, device=features.device)  # (P,) samples not yet framed

    def push(self, samples: np.ndarray | torch.Tensor) -> torch.Tensor:
        """The frames the chunk completes. Shape: (S,) -> (T, n_mels), T ≥ 0."""
        chunk = torch.as_tensor(np.asarray(samples, dtype=np.float32), device=self.features.device)
        self.pending = torch.cat([self.pending, chunk])
        n_fft, hop = self.features.n_fft, self.features.hop
        count = 0 if len(self.pending) < n_fft else 1 + (len(self.pending) - n_fft) // hop
        if count == 0:
            return self.pending.new_zeros(0, self.features.spectrogram.n_mels)
        frames = self.features.spectrogram(self.pending[None, : (count - 1) * hop + n_fft])[0][0]
        self.pending = self.pending[count * hop :]
        return frames
