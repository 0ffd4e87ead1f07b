"""Reading WAV (and other libsndfile) files into float samples, with errors that name the file; writing 16-bit WAVs.

Samples are float32 in [-1, 1): integer PCM of b bits is divided by 2^(b-1) (libsndfile's
convention: -32768 → -1.0, 32767 → 0.99997); a float file is returned as stored. Time is the
first axis: (S,) mono, (S, C) with C channels.

Every problem with a file is a ``SeqlabError`` of one line that starts with its path: missing,
not audio or a broken header (libsndfile's reason is quoted; its exception never escapes), a
data chunk shorter than its header declares (a truncated copy), no frames, NaN or infinite
samples, silence (every sample zero: an error unless ``allow_silent``, since a recognition input
with nothing in it is a broken file, not an utterance) and, when the caller names one, the wrong
number of channels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from seqlab.atomic_file import atomic_path
from seqlab.audio.resample import resample
from seqlab.errors import SeqlabError

PCM_16_SCALE = 32767  # write: x·32767 rounded, so that ±1.0 are both representable and nothing wraps
# libsndfile's log line for a WAV whose data chunk is shorter than its header says: "data : 2000 (should be 16)"
_SHORT_DATA_CHUNK = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
_STREAMING_SIZES = {0, 0xFFFFFFFF, 0x7FFFFFFF}  # placeholders left by writers that never went back to the header


@dataclass(frozen=True, eq=False)
class Recording:
    """Samples read from an audio file.

    Example:
        >>> recording = read_wav("7_jackson_32.wav")  # doctest: +SKIP
        >>> recording.samples.shape, recording.sample_rate  # doctest: +SKIP
        ((4301,), 8000)
    """

    samples: np.ndarray  # float32, (S,) mono or (S, C); integer PCM in [-1, 1)
    sample_rate: int  # Hz, after any resampling
    path: Path  # the file read

    @property
    def num_frames(self) -> int:
        """S, the samples per channel."""
        return self.samples.shape[0]

    @property
    def duration(self) -> float:
        """Seconds: S / sample_rate."""
        return self.samples.shape[0] / self.sample_rate


def read_wav(
    path: str | Path,
    *,
    sample_rate: int | None = None,
    mono: bool = True,
    channels: int | None = None,
    allow_silent: bool = False,
) -> Recording:
    """Read an audio file (WAV, or any format libsndfile reads) as float32 samples.

    Args:
        path: the file.
        sample_rate: the rate wanted, in Hz; a file at another rate is resampled
            (:func:`seqlab.audio.resample.resample`, Kaiser-windowed sinc). None: the file's rate.
        mono: average the channels into one: (S,). False: (S, C), always 2-D.
        channels: the number of channels the file must have (checked before any down-mix);
            None accepts any.
        allow_silent: accept a file whose samples are all zero.

    Returns:
        A :class:`Recording`; its ``sample_rate`` is ``sample_rate`` when given.

    Raises:
        SeqlabError: one line naming the file and its problem (see the module docstring).
    """
    path = Path(path)
    if sample_rate is not None and (
        not isinstance(sample_rate, int) or isinstance(sample_rate, bool) or sample_rate <= 0
    ):
        raise SeqlabError(f"sample_rate must be a positive int (Hz) or None, got {sample_rate!r}")
    if not path.exists():
        raise SeqlabError(f"{path}: no such file")
    if not path.is_file():
        raise SeqlabError(f"{path}: not a file")
    try:
        with soundfile.SoundFile(path) as audio:
            _check_header(path, audio, channels)
            samples = audio.read(dtype="float32", always_2d=True)  # (S, C)
            file_rate = audio.samplerate
    except soundfile.SoundFileError as error:
        raise SeqlabError(f"{path}: not a readable audio file (libsndfile: {_reason(error)})") from None
    if samples.shape[0] == 0:
        raise SeqlabError(f"{path}: holds no audio (0 frames)")
    if not np.isfinite(samples).all():
        raise SeqlabError(f"{path}: holds NaN or infinite samples")
    mixed = mono and samples.shape[1] > 1
    if mono:
        samples = samples.mean(axis=1, dtype=np.float32)  # (S,)
    if not allow_silent and not samples.any():
        after = " after the down-mix to mono" if mixed else ""
        raise SeqlabError(f"{path}: is silent (all {samples.size} samples are zero{after})")
    if sample_rate is not None and sample_rate != file_rate:
        try:
            samples = resample(samples, file_rate, sample_rate)
        except SeqlabError as error:
            raise SeqlabError(f"{path}: {error}") from None
    return Recording(samples, file_rate if sample_rate is None else sample_rate, path)


def _check_header(path: Path, audio: soundfile.SoundFile, channels: int | None) -> None:
    if channels is not None and audio.channels != channels:
        raise SeqlabError(f"{path}: has {audio.channels} channels, expected {channels}")
    if audio.format == "WAV":
        short = _SHORT_DATA_CHUNK.search(audio.extra_info)
        if short and int(short[1]) not in _STREAMING_SIZES and int(short[1]) > int(short[2]):
            raise SeqlabError(
                f"{path}: truncated: its header declares {short[1]} bytes of samples, the file holds {short[2]}"
            )


def _reason(error: soundfile.SoundFileError) -> str:
    """libsndfile's words without the path soundfile puts before them: "Format not recognised."."""
    message = str(error)
    return message.split("': ", 1)[1] if "': " in message else message


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int) -> None:
    """Write samples as a 16-bit PCM WAV file, atomically (a reader never sees half of it).

    Samples are clipped to [-1, 1] and scaled by 32767, rounded; :func:`read_wav` gives back each
    sample to within 1.5 / 32768.

    Args:
        path: the file to write (its folder is made if missing).
        samples: (S,) mono or (S, C) floats (a NumPy array, or anything ``np.asarray`` takes).
        sample_rate: Hz.

    Raises:
        SeqlabError: samples of another rank, NaN or infinite samples, or a rate that is not a positive int.
    """
    samples = np.asarray(samples)
    if samples.ndim not in (1, 2) or samples.dtype.kind not in "fiu":
        raise SeqlabError(
            f"{path}: samples must be real numbers of shape (S,) or (S, C), got {samples.dtype} {samples.shape}"
        )
    if not isinstance(sample_rate, int) or isinstance(sample_rate, bool) or sample_rate <= 0:
        raise SeqlabError(f"{path}: sample_rate must be a positive int (Hz), got {sample_rate!r}")
    if not np.isfinite(samples).all():
        raise SeqlabError(f"{path}: cannot write NaN or infinite samples")
    pcm = np.round(np.clip(samples.astype(np.float64), -1.0, 1.0) * PCM_16_SCALE).astype(np.int16)
    with atomic_path(path) as temporary:
        soundfile.write(temporary, pcm, sample_rate, subtype="PCM_16", format="WAV")
