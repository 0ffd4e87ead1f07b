"""Log-mel spectrograms and MFCCs of a padded batch of waveforms in torch, equal to librosa 0.11's.

For each utterance, alone, the numbers are librosa's::

    S   = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=.., hop_length=.., win_length=.., window="hann",
                                         center=True, pad_mode="constant", power=2.0, n_mels=.., fmin=.., fmax=..)
    dB  = librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=80.0)
    C   = librosa.feature.mfcc(S=dB, n_mfcc=13)          # = scipy.fft.dct(dB, type=2, norm="ortho", axis=-2)[:13]

transposed to time-major: (T, n_mels) and (T, n_mfcc). The steps, for utterance i of L_i samples:

1. **Frames.** With ``center=True`` the signal is padded by n_fft // 2 on each side (zeros for
   ``pad_mode="constant"``, librosa 0.11's default, or its mirror image for ``"reflect"``), so
   frame t is centred on sample t·hop and there are T_i = 1 + L_i // hop frames (for even n_fft;
   1 + (L_i + 2⌊n_fft/2⌋ − n_fft) // hop in general). The padding is made per utterance, so an
   utterance's right edge is its own, not the batch's padding.
2. **STFT**: X[t, k] = Σ_n w[n] x[t·hop + n] e^{−2πikn/n_fft}, w the periodic Hann window of
   ``win_length`` samples centred in n_fft; P = |X|^power.
3. **Mel filterbank** (:func:`seqlab.audio.mel.mel_filterbank`, as ``librosa.filters.mel``): n_mels triangles
   evenly spaced on the mel scale between fmin and fmax, M[t, m] = Σ_k P[t, k] · W[m, k]. With
   ``norm="slaney"`` each triangle is scaled to unit area in Hz (2 / its bandwidth).
4. **Log** (``power_to_db``): dB = 10·log10(max(M, amin)) − 10·log10(max(amin, ref)), then, with
   ``top_db``, dB = max(dB, max over the utterance's frames of dB − top_db). ``log="natural"`` gives
   the same numbers times ln(10)/10 (so ln(max(M, amin)) when ``ref=1`` and ``top_db=None``).
5. **MFCC** (Davis & Mermelstein 1980): the orthonormal DCT-II over the mel axis of the dB values,
   c_k = s_k Σ_m dB_m cos(πk(2m + 1) / (2·n_mels)), s_0 = √(1/n_mels), s_k = √(2/n_mels), first n_mfcc kept.

Padding: frames t ≥ T_i of utterance i are exactly 0 in every output here, and the frame lengths
T_i come back with the features so that a model can ignore them; the samples of a waveform past
its length are never read (nor given a gradient).

**Speed.** No Python loop over utterances, and no work on padding: the utterances are laid out in
rows of the batch whose length is a multiple of hop, so that every frame of every utterance is a
row of one strided view (``unfold``) of the flattened batch; the N = Σ T_i frames that belong to
an utterance are picked from it, windowed, transformed by ``torch.fft.rfft`` and multiplied by the
filterbank in blocks of a few thousand frames (a block stays in cache and its buffers are reused
rather than freshly page-faulted), and the log is taken on the packed (N, n_mels) rows before
they are scattered into the padded (B, T, n_mels) output. ``benchmarks/audio_features.py`` times
it against librosa's loop. With ``warp`` (a filterbank per utterance, for vocal tract length
perturbation in training) the powers of all N frames are kept and each utterance's contiguous
frames go through its own filterbank, one product per utterance.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor, nn

from seqlab.audio.mel import mel_filterbank
from seqlab.errors import SeqlabError

WINDOWS = {"hann": torch.hann_window, "hamming": torch.hamming_window}  # periodic, as scipy's get_window(fftbins=True)
PAD_MODES = ("constant", "reflect")
LOG_SCALES = ("db", "natural", None)
# frames transformed at a time: on a CPU a block that stays in cache (n_fft 256: 2 MiB in, 2 MiB out) and whose
# buffers are reused rather than freshly page-faulted; elsewhere large blocks, bounding the memory of long inputs
CPU_FRAMES_PER_BLOCK = 2048
ACCELERATOR_FRAMES_PER_BLOCK = 1 << 16


def frame_lengths(lengths: Tensor | int, n_fft: int, hop_length: int, center: bool = True) -> Tensor | int:
    """Frames of the STFT of signals of ``lengths`` samples: 1 + (L + 2⌊n_fft/2⌋·center − n_fft) // hop.

    Shape:
        (B,) -> (B,), or an int -> an int.
    """
    padded = lengths + 2 * (n_fft // 2) if center else lengths
    return 1 + (padded - n_fft) // hop_length


class LogMelSpectrogram(nn.Module):
    """Log-mel features of a padded batch of waveforms, equal to librosa's per utterance (module docstring).

    Defaults: 25 ms Hann windows every 10 ms at 8 kHz (win_length 200, hop 80) in a 256-point FFT
    (31.25 Hz bins), 40 Slaney mel filters over 0-4 kHz (each spans 3 bins or more; at 80 some span
    a single bin, and from about 150 some none), and librosa's ``power_to_db`` defaults: dB with ref
    1.0, amin 1e-10 and top_db 80, so that digital silence sits 80 dB under the utterance's loudest
    bin rather than at -100 dB. A model should see the features after
    :func:`normalise_per_utterance`, which removes the recording level and makes the dB/natural
    choice (a factor) immaterial. Window sizes are in samples: scale them for another rate.

    Args:
        sample_rate: Hz of the waveforms.
        n_fft: FFT size.
        win_length: window length in samples (≤ n_fft; centred in the FFT frame).
        hop_length: samples between frames.
        n_mels: mel filters.
        fmin, fmax, htk, norm: of :func:`mel_filterbank`.
        window: ``"hann"`` or ``"hamming"`` (periodic).
        power: P = |X|^power; 2: power, 1: magnitude.
        center: pad n_fft // 2 on each side so that frame t is centred on sample t·hop.
        pad_mode: ``"constant"`` (zeros) or ``"reflect"``, for ``center``.
        log: ``"db"``, ``"natural"`` (dB · ln(10)/10) or None (the mel powers, no log).
        ref, amin, top_db: of ``librosa.power_to_db``; ``ref="max"``: each utterance's largest mel power.

    Shape:
        waveforms (B, S) float, lengths (B,) ints in [1, S] (None: all S) ->
        features (B, T, n_mels) in the waveforms' dtype, 0 at padding; frame lengths (B,) on lengths' device.
        T = 1 + S // hop_length (center, even n_fft).

    Example:
        >>> features, frames = LogMelSpectrogram(8000)(torch.randn(2, 4000), torch.tensor([4000, 2400]))
        >>> features.shape, frames.tolist()
        (torch.Size([2, 51, 40]), [51, 31])
    """

    def __init__(
        self,
        sample_rate: int,
        *,
        n_fft: int = 256,  # 32 ms at 8 kHz: the power of two above the window
        win_length: int = 200,  # 25 ms at 8 kHz
        hop_length: int = 80,  # 10 ms at 8 kHz
        n_mels: int = 40,
        fmin: float = 0.0,
        fmax: float | None = None,  # sample_rate / 2
        htk: bool = False,  # librosa's default: Slaney's mel scale ...
        norm: str | float | None = "slaney",  # ... and area-normalised triangles
        window: str = "hann",
        power: float = 2.0,
        center: bool = True,
        pad_mode: str = "constant",  # librosa 0.11's default (0.9 and older reflected)
        log: str | None = "db",
        ref: float | str = 1.0,
        amin: float = 1e-10,
        top_db: float | None = 80.0,
    ) -> None:
        super().__init__()
        if not 0 < win_length <= n_fft or hop_length <= 0:
            raise SeqlabError(
                f"need 0 < win_length <= n_fft and hop_length > 0, got {win_length}, {n_fft}, {hop_length}"
            )
        for name, value, allowed in (
            ("window", window, WINDOWS),
            ("pad_mode", pad_mode, PAD_MODES),
            ("log", log, LOG_SCALES),
        ):
            if value not in allowed:
                raise SeqlabError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
        if ref != "max" and (isinstance(ref, str) or ref <= 0):
            raise SeqlabError(f'ref must be a positive number or "max", got {ref!r}')
        if amin <= 0 or (top_db is not None and top_db < 0) or power <= 0:
            raise SeqlabError(f"need amin > 0, top_db >= 0 and power > 0, got {amin}, {top_db}, {power}")
        self.sample_rate, self.n_fft, self.win_length, self.hop_length = sample_rate, n_fft, win_length, hop_length
        self.n_mels, self.power, self.center, self.pad_mode = n_mels, power, center, pad_mode
        self.log, self.ref, self.amin, self.top_db = log, ref, amin, top_db
        # float64 copies, cast to the input's dtype per call; derived from the settings, so not in state_dict()
        self._filterbank = functools.partial(mel_filterbank, sample_rate, n_fft, n_mels, fmin, fmax, htk=htk,
                                             norm=norm, dtype=torch.float64)  # fmt: skip
        self.register_buffer("mel_weights", self._filterbank(), persistent=False)  # (n_mels, 1 + n_fft // 2)
        left = (n_fft - win_length) // 2  # the window centred in the FFT frame, as librosa's pad_center
        padded_window = nn.functional.pad(
            WINDOWS[window](win_length, dtype=torch.float64), (left, n_fft - win_length - left)
        )
        self.register_buffer("window", padded_window, persistent=False)  # (n_fft,)

    def extra_repr(self) -> str:
        return (
            f"sample_rate={self.sample_rate}, n_fft={self.n_fft}, win_length={self.win_length}, "
            f"hop_length={self.hop_length}, n_mels={self.n_mels}, log={self.log!r}, top_db={self.top_db}"
        )

    def forward(
        self, waveforms: Tensor, lengths: Tensor | None = None, *, warp: Callable[[Tensor], Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        """Features and frame lengths (class docstring).

        ``warp``: moves each utterance's filterbank (``mel_filterbank``'s argument, returning
        (B, n_mels + 2) frequencies: one row per utterance), as vocal tract length perturbation
        does (:mod:`seqlab.audio.vtlp`); None: the filterbank as built.
        """
        packed, frames, where = self._packed_mel_power(waveforms, lengths, warp)
        if self.log is not None:
            packed = self._log(packed, where)
        return where.unpack(packed), frames

    def mel_power(
        self, waveforms: Tensor, lengths: Tensor | None = None, *, warp: Callable[[Tensor], Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        """The mel spectrogram before the log (``librosa.feature.melspectrogram``), 0 at padding;
        ``warp`` as in :meth:`forward`.

        Shape:
            waveforms (B, S), lengths (B,) -> mel powers (B, T, n_mels), frame lengths (B,).
        """
        packed, frames, where = self._packed_mel_power(waveforms, lengths, warp)
        return where.unpack(packed), frames

    def _packed_mel_power(
        self, waveforms: Tensor, lengths: Tensor | None, warp: Callable[[Tensor], Tensor] | None = None
    ) -> tuple[Tensor, Tensor, _Frames]:
        """The mel powers of the N = Σ T_i frames of the utterances only: padding frames cost nothing.

        Shape:
            -> mel powers (N, n_mels), frame lengths (B,) on lengths' device, where the N frames are.
        """
        lengths = self._check(waveforms, lengths)
        frames = frame_lengths(lengths, self.n_fft, self.hop_length, self.center)
        rows = self._rows(waveforms, lengths.to(waveforms.device))  # (B, R), R = hop · frames per row
        every = rows.view(-1).unfold(0, self.n_fft, self.hop_length)  # frame j of the flat batch: (≈B·R / hop, n_fft)
        total = frame_lengths(waveforms.shape[1], self.n_fft, self.hop_length, self.center)  # T
        valid = torch.arange(total, device=rows.device) < frames.to(rows.device)[:, None]  # (B, T)
        where = _Frames(*valid.nonzero(as_tuple=True), *valid.shape)
        starts = where.utterance * (rows.shape[1] // self.hop_length) + where.frame  # (N,) frame j of the flat batch
        window = self.window.to(rows.dtype)  # (n_fft,)
        block = CPU_FRAMES_PER_BLOCK if rows.device.type == "cpu" else ACCELERATOR_FRAMES_PER_BLOCK
        blocks = (every.index_select(0, starts[first : first + block]) for first in range(0, len(starts), block))
        if warp is None:
            weights = self.mel_weights.to(rows.dtype).T  # (K, n_mels)
            mel = [self._power(chunk, window) @ weights for chunk in blocks]  # (n, n_mels) each
        else:  # each utterance's frames (contiguous in the packed order) through its own filterbank
            weights = self._warped_weights(warp, len(lengths)).to(rows.device, rows.dtype).transpose(1, 2)
            power = torch.cat([self._power(chunk, window) for chunk in blocks])  # (N, K)
            mel = [part @ weights[i] for i, part in enumerate(power.split(frames.tolist()))]  # (T_i, n_mels) each
        mel = torch.cat(mel) if len(mel) > 1 else mel[0]  # (N, n_mels)
        return mel, frames, where

    def _warped_weights(self, warp: Callable[[Tensor], Tensor], batch: int) -> Tensor:
        """One filterbank per utterance, moved by ``warp``. Shape: -> (B, n_mels, K), float64."""
        weights = self._filterbank(warp=warp)
        if weights.shape != (batch, *self.mel_weights.shape):
            raise SeqlabError(f"the warp must give one filterbank per utterance ({batch}), "
                              f"got filterbanks of shape {tuple(weights.shape)}")  # fmt: skip
        return weights

    def _power(self, frames: Tensor, window: Tensor) -> Tensor:
        """|X|^power of each windowed frame. Shape: (n, n_fft) -> (n, 1 + n_fft // 2)."""
        spectrum = torch.view_as_real(torch.fft.rfft(frames.mul_(window)))  # (n, K, 2)
        if self.power == 2.0:
            spectrum = spectrum.square_()
            return spectrum[..., 0] + spectrum[..., 1]  # re² + im²: exact where |X|² would round twice
        return torch.view_as_complex(spectrum).abs().pow_(self.power)

    def _check(self, waveforms: Tensor, lengths: Tensor | None) -> Tensor:
        if waveforms.dim() != 2 or not waveforms.is_floating_point():
            raise SeqlabError(
                f"waveforms must be a float tensor (B, S), got {waveforms.dtype} of shape {tuple(waveforms.shape)}"
            )
        batch, samples = waveforms.shape
        if lengths is None:
            lengths = torch.full((batch,), samples, dtype=torch.long)
        if lengths.shape != (batch,) or lengths.is_floating_point() or lengths.dtype == torch.bool:
            raise SeqlabError(f"lengths must be {batch} ints, got {lengths.dtype} of shape {tuple(lengths.shape)}")
        shortest = 1 if self.center else self.n_fft
        if batch == 0 or lengths.min() < shortest or lengths.max() > samples:
            raise SeqlabError(
                f"lengths must be in [{shortest}, {samples}] (S, the waveforms' samples"
                f"{'' if self.center else '; n_fft at least without center'}), got {lengths.tolist()[:8]}"
            )
        return lengths.long()

    def _rows(self, waveforms: Tensor, lengths: Tensor) -> Tensor:
        """Each utterance in a row of R samples, R a multiple of hop_length, so that the frames of the flattened
        batch at multiples of hop are every row's frames. With ``center``, n_fft // 2 samples of padding (zeros
        or the reflection) before and after each utterance, whose frames read no further; past that, anything.

        Shape:
            waveforms (B, S), lengths (B,) -> (B, R), R ≥ S + 2·(n_fft // 2).
        """
        half = self.n_fft // 2 if self.center else 0
        batch, samples = waveforms.shape
        row = -(-(samples + 2 * half) // self.hop_length) * self.hop_length
        if self.center and self.pad_mode == "reflect":
            source = torch.arange(-half, row - half, device=waveforms.device).expand(batch, -1)
            last = (lengths - 1)[:, None]  # (B, 1)
            period = (2 * last).clamp_min(1)  # numpy's "reflect": period 2(L − 1), the edge sample not repeated
            folded = source.remainder(period)
            return waveforms.gather(1, torch.where(folded <= last, folded, period - folded).clamp_max(samples - 1))
        rows = waveforms.new_zeros(batch, row)
        rows[:, half : half + samples] = waveforms
        if half:  # the caller's padding may hold anything: zero the n_fft // 2 samples that the frames read past L
            after = (half + lengths)[:, None] + torch.arange(half, device=waveforms.device)  # (B, half), all < R
            rows.scatter_(1, after, 0.0)
        return rows

    def _log(self, mel: Tensor, where: _Frames) -> Tensor:
        """``power_to_db`` of each utterance over its own frames, in the order librosa computes it.

        Shape:
            mel (N, n_mels) packed -> (N, n_mels).
        """
        utterance = where.utterance
        loudest = mel.new_zeros(where.batch).scatter_reduce_(0, utterance, mel.amax(1), "amax")  # (B,)
        if self.ref == "max":
            ref_db = 10.0 * torch.log10(loudest.clamp_min(self.amin))  # (B,)
            db = 10.0 * torch.log10(mel.clamp_min(self.amin)) - ref_db[utterance, None]
        else:
            ref_db = torch.full_like(loudest, 10.0 * math.log10(max(self.amin, self.ref)))
            db = 10.0 * torch.log10(mel.clamp_min(self.amin)) - ref_db[0]
        if self.top_db is not None:  # the max of the logs is the log of the max: log10 is monotonic
            floor = 10.0 * torch.log10(loudest.clamp_min(self.amin)) - ref_db - self.top_db  # (B,)
            db = torch.maximum(db, floor[utterance, None])
        return db * (math.log(10.0) / 10.0) if self.log == "natural" else db


class _Frames(NamedTuple):
    """Where the N frames of a packed batch belong: utterance (N,) and frame (N,) indices in a (batch, steps) grid."""

    utterance: Tensor
    frame: Tensor
    batch: int
    steps: int

    def unpack(self, packed: Tensor) -> Tensor:
        """Rows back into a padded batch, zeros elsewhere. Shape: (N, F) -> (B, T, F)."""
        out = packed.new_zeros(self.batch * self.steps, packed.shape[1])
        return out.index_copy_(0, self.utterance * self.steps + self.frame, packed).view(self.batch, self.steps, -1)


def dct_matrix(n_mels: int, n_mfcc: int, *, dtype: torch.dtype = torch.float32) -> Tensor:
    """The first ``n_mfcc`` rows of the orthonormal DCT-II of size n_mels (scipy's ``dct(type=2, norm="ortho")``).

    Shape:
        (n_mfcc, n_mels): c = D @ x.
    """
    m = torch.arange(n_mels, dtype=torch.float64)
    k = torch.arange(n_mfcc, dtype=torch.float64)[:, None]
    scale = torch.full((n_mfcc, 1), math.sqrt(2.0 / n_mels), dtype=torch.float64)
    scale[0] = math.sqrt(1.0 / n_mels)
    return (scale * torch.cos(math.pi * k * (2 * m + 1) / (2 * n_mels))).to(dtype)


def mfcc(log_mel: Tensor, n_mfcc: int = 13, *, lifter: float = 0.0) -> Tensor:
    """MFCCs from log-mel features in dB, as ``librosa.feature.mfcc(S=dB, n_mfcc, dct_type=2, norm="ortho")``.

    13 coefficients by default, the classic choice (librosa's default is 20). Padding frames of 0 stay 0.

    Args:
        log_mel: dB values (the default of :class:`LogMelSpectrogram`), mel bins last.
        n_mfcc: coefficients kept, ≤ n_mels.
        lifter: L > 0 scales c_k by 1 + (L/2)·sin(π(k + 1)/L) (librosa's liftering); 0: none.

    Shape:
        (..., n_mels) -> (..., n_mfcc).

    Example:
        >>> mfcc(torch.zeros(2, 51, 40)).shape
        torch.Size([2, 51, 13])
    """
    n_mels = log_mel.shape[-1]
    if not 0 < n_mfcc <= n_mels:
        raise SeqlabError(f"n_mfcc must be in [1, n_mels={n_mels}], got {n_mfcc}")
    if lifter < 0:
        raise SeqlabError(f"lifter must be >= 0, got {lifter}")
    basis = dct_matrix(n_mels, n_mfcc, dtype=torch.float64)  # (n_mfcc, n_mels)
    if lifter > 0:
        k = torch.arange(1, n_mfcc + 1, dtype=torch.float64)
        basis = basis * (1.0 + (lifter / 2.0) * torch.sin(math.pi * k / lifter))[:, None]
    return log_mel @ basis.to(log_mel.dtype).to(log_mel.device).T


def normalise_per_utterance(features: Tensor, lengths: Tensor, *, eps: float = 1e-5) -> Tensor:
    """Mean and variance normalisation of each feature over each utterance's own frames (CMVN).

    y[b, t, f] = (x[b, t, f] − μ[b, f]) / √(σ²[b, f] + eps), μ and σ² (the population variance) over
    t < lengths[b]; frames at or past lengths[b] are 0 in the output, whatever they held (NaN included).

    Shape:
        features (B, T, F), lengths (B,) frames in [1, T] -> (B, T, F).

    Example:
        >>> y = normalise_per_utterance(torch.tensor([[[1.0], [3.0], [9.0]]]), torch.tensor([2]))
        >>> [round(value, 4) for value in y.squeeze().tolist()]  # the third frame is padding
        [-1.0, 1.0, 0.0]
    """
    if features.dim() != 3 or lengths.shape != features.shape[:1]:
        raise SeqlabError(
            f"need features (B, T, F) and lengths (B,), got {tuple(features.shape)} and {tuple(lengths.shape)}"
        )
    if len(lengths) and (lengths.min() < 1 or lengths.max() > features.shape[1]):
        raise SeqlabError(
            f"lengths must be in [1, T={features.shape[1]}], got {lengths.min().item()}..{lengths.max().item()}"
        )
    lengths = lengths.to(features.device)
    valid = (torch.arange(features.shape[1], device=features.device) < lengths[:, None])[:, :, None]  # (B, T, 1)
    count = lengths.to(features.dtype)[:, None, None]  # (B, 1, 1)
    kept = torch.where(valid, features, 0.0)
    mean = kept.sum(1, keepdim=True) / count  # (B, 1, F)
    centred = torch.where(valid, features - mean, 0.0)
    variance = centred.square().sum(1, keepdim=True) / count
    return centred / torch.sqrt(variance + eps)
