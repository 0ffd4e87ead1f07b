"""Spoken digits (the Free Spoken Digit Dataset): the recordings, their splits, and connected-digit recipes.

A folder of FSDD recordings holds one WAV per spoken digit, named ``{digit}_{speaker}_{index}.wav``
(``7_jackson_32.wav``: the 33rd "seven" of jackson). The splits are by recording, so that no
recording is in two of them, and one speaker can be left out of training entirely::

    index   0 ─ 4      5 ─ 9          10 ─ 49
    ───────────────────────────────────────────
    others  test       valid          train
    left    test       valid-speaker  valid-speaker

Indices 0-4 are the dataset's official test recordings: held out, never trained on or selected
by. Indices 5-9 of the training speakers are unseen recordings of known voices ("valid"); the
left-out speaker's recordings 5-49 are a voice never heard in training ("valid-speaker").

Connected-digit utterances are drawn from one split's recordings only (:func:`draw_digit_strings`):
a :class:`DigitString` is a recipe (which recordings, the gaps between them, their gains, the
background noise's level) that :mod:`seqlab.audio.mixing` turns into samples.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqlab.audio.mixing import add_noise, coloured_noise, lay_out
from seqlab.audio.wav import read_wav
from seqlab.errors import SeqlabError

SAMPLE_RATE = 8_000  # Hz, every FSDD recording's rate
TEST_INDICES = range(0, 5)  # the official test recordings (the dataset's README)
VALID_INDICES = range(5, 10)  # unseen recordings of the training speakers
SPLITS = ("train", "valid", "valid-speaker", "test")
NOISE_EXPONENTS = (0.0, 1.0, 2.0)  # white, pink and brown background noise, drawn uniformly
_FILE_NAME = re.compile(r"(?P<digit>[0-9])_(?P<speaker>[A-Za-z]+)_(?P<index>[0-9]+)\.wav")


@dataclass(frozen=True)
class DigitRecording:
    """One recording of one spoken digit."""

    file: str  # the WAV's name in its folder
    digit: int  # 0-9
    speaker: str
    index: int  # the recording's number among the speaker's recordings of this digit, from 0


@dataclass(frozen=True)
class SpokenDigits:
    """The recordings of a folder, their samples at :data:`SAMPLE_RATE`, in file-name order."""

    folder: Path
    recordings: tuple[DigitRecording, ...]
    samples: tuple[np.ndarray, ...]  # float32 (S,) in [-1, 1], one per recording

    @property
    def speakers(self) -> tuple[str, ...]:
        return tuple(sorted({recording.speaker for recording in self.recordings}))

    def split(self, left_out_speaker: str | None) -> dict[str, list[int]]:
        """The recordings of each of :data:`SPLITS`, as indices into :attr:`recordings`.

        Raises:
            SeqlabError: the left-out speaker has no recording in the folder.
        """
        if left_out_speaker is not None and left_out_speaker not in self.speakers:
            raise SeqlabError(f"{self.folder}: no recording of speaker {left_out_speaker!r} to leave out "
                              f"(speakers: {', '.join(self.speakers)})")  # fmt: skip
        splits: dict[str, list[int]] = {name: [] for name in SPLITS}
        for position, recording in enumerate(self.recordings):
            splits[_split_of(recording, left_out_speaker)].append(position)
        return splits


def _split_of(recording: DigitRecording, left_out_speaker: str | None) -> str:
    if recording.index in TEST_INDICES:
        return "test"
    if recording.speaker == left_out_speaker:
        return "valid-speaker"
    return "valid" if recording.index in VALID_INDICES else "train"


def parse_file_name(name: str) -> DigitRecording:
    """The digit, speaker and index a file name ``{digit}_{speaker}_{index}.wav`` gives.

    Raises:
        SeqlabError: the name is not of that form.
    """
    match = _FILE_NAME.fullmatch(name)
    if match is None:
        raise SeqlabError(f"{name}: not a spoken-digit file name (expected DIGIT_SPEAKER_INDEX.wav, "
                          "e.g. 7_jackson_32.wav)")  # fmt: skip
    return DigitRecording(name, int(match["digit"]), match["speaker"], int(match["index"]))


def read_spoken_digits(folder: str | Path) -> SpokenDigits:
    """Every recording of an FSDD folder (its ``recordings/`` subfolder if it has one).

    Raises:
        SeqlabError: no WAV file, a file name not of the dataset's form, or a file that is not
            readable 8 kHz audio (named).
    """
    folder = Path(folder)
    audio_folder = folder / "recordings" if (folder / "recordings").is_dir() else folder
    paths = sorted(audio_folder.glob("*.wav"))
    if not paths:
        raise SeqlabError(f"{audio_folder}: no .wav files (expected the Free Spoken Digit Dataset's recordings)")
    recordings = tuple(parse_file_name(path.name) for path in paths)
    samples = tuple(read_wav(path, sample_rate=SAMPLE_RATE).samples for path in paths)
    return SpokenDigits(folder, recordings, samples)


@dataclass(frozen=True)
class DigitString:
    """How to make one utterance of several digits from recordings (times in seconds, levels in dB).

    ``gaps[0]`` is the silence before the first digit, ``gaps[i]`` the one before digit ``i`` and
    ``gaps[-1]`` the one after the last, so ``len(gaps) == len(recordings) + 1``.
    """

    recordings: tuple[int, ...]  # indices into SpokenDigits.recordings, in spoken order
    gaps: tuple[float, ...]  # seconds of silence around and between the digits
    gains: tuple[float, ...]  # dB applied to each recording
    snr: float | None  # the background noise's level below the speech, in dB; None: no noise
    noise_seed: int  # seeds the noise's samples


@dataclass(frozen=True)
class DigitStringStyle:
    """The ranges connected-digit utterances are drawn from (each uniformly)."""

    min_digits: int = 2
    max_digits: int = 7
    min_gap: float = 0.0  # seconds between two digits
    max_gap: float = 0.4
    max_edge: float = 0.3  # seconds of silence at most before the first and after the last digit
    max_gain: float = 6.0  # dB: each recording's gain is drawn from [-max_gain, +max_gain]
    min_snr: float = 10.0  # dB: the background noise is at least this far below the speech
    max_snr: float = 30.0
    noise_share: float = 0.8  # the share of utterances with background noise

    def __post_init__(self) -> None:
        if not 1 <= self.min_digits <= self.max_digits:
            raise SeqlabError(f"digits per utterance: need 1 <= min ({self.min_digits}) <= max ({self.max_digits})")
        if not 0 <= self.min_gap <= self.max_gap or self.max_edge < 0 or self.max_gain < 0:
            raise SeqlabError("gaps, edges and gains must be non-negative ranges (min <= max)")
        if self.min_snr > self.max_snr or not 0 <= self.noise_share <= 1:
            raise SeqlabError("need min_snr <= max_snr and a noise share in [0, 1]")


def draw_digit_strings(recordings: Sequence[DigitRecording], pool: Sequence[int], count: int,
                       style: DigitStringStyle, *, seed: int) -> list[DigitString]:  # fmt: skip
    """``count`` connected-digit recipes from the recordings ``pool`` (indices into ``recordings``).

    Each utterance is one speaker's: a speaker of the pool is drawn, then every digit of the
    string uniformly from the digits that speaker recorded in the pool (0-9 in the FSDD's
    splits), and for each a recording of that speaker and digit. The same arguments give the
    same recipes.

    Raises:
        SeqlabError: the pool is empty.
    """
    if not pool:
        raise SeqlabError("no recordings to draw connected digits from")
    rng = np.random.default_rng(seed)
    by_speaker: dict[str, dict[int, list[int]]] = {}
    for position in pool:
        recording = recordings[position]
        by_speaker.setdefault(recording.speaker, {}).setdefault(recording.digit, []).append(position)
    speakers = sorted(by_speaker)
    strings = []
    for _ in range(count):
        digits = by_speaker[speakers[rng.integers(len(speakers))]]
        known = sorted(digits)
        length = int(rng.integers(style.min_digits, style.max_digits + 1))
        chosen = [digits[known[rng.integers(len(known))]] for _ in range(length)]
        picked = tuple(int(choices[rng.integers(len(choices))]) for choices in chosen)
        inner = rng.uniform(style.min_gap, style.max_gap, size=length - 1)
        edges = rng.uniform(0.0, style.max_edge, size=2)
        gaps = (float(edges[0]), *map(float, inner), float(edges[1]))
        gains = tuple(float(gain) for gain in rng.uniform(-style.max_gain, style.max_gain, size=length))
        snr = float(rng.uniform(style.min_snr, style.max_snr)) if rng.random() < style.noise_share else None
        strings.append(DigitString(picked, gaps, gains, snr, int(rng.integers(2**31))))
    return strings


def isolated(pool: Sequence[int]) -> list[DigitString]:
    """One recipe per recording of ``pool``: the recording alone, as recorded (no gaps, gain or noise)."""
    return [DigitString((position,), (0.0, 0.0), (0.0,), None, 0) for position in pool]


def render(string: DigitString, digits: SpokenDigits) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The samples of a recipe at :data:`SAMPLE_RATE`, and each digit's ``(start, end)`` sample.

    The noise (white, pink or brown, drawn with the recipe's seed) is scaled against the power of
    the digits alone, not of the silences; a signal that would clip is scaled to a peak of 1.
    """
    segments = [digits.samples[position] for position in string.recordings]
    gaps = [round(seconds * SAMPLE_RATE) for seconds in string.gaps]
    signal, spans = lay_out(segments, gaps, string.gains)
    if string.snr is not None:
        rng = np.random.default_rng(string.noise_seed)
        noise = coloured_noise(len(signal), NOISE_EXPONENTS[rng.integers(len(NOISE_EXPONENTS))], rng)
        speech = np.zeros(len(signal), dtype=bool)
        for start, end in spans:
            speech[start:end] = True
        signal = add_noise(signal, noise, string.snr, speech=speech)
    peak = float(np.abs(signal).max(initial=0.0))
    return (signal / peak if peak > 1.0 else signal), spans


def samples_of(string: DigitString, digits: SpokenDigits) -> int:
    """The length in samples of the utterance a recipe makes, without making it."""
    spoken = sum(len(digits.samples[position]) for position in string.recordings)
    return spoken + sum(round(seconds * SAMPLE_RATE) for seconds in string.gaps)


def transcript(string: DigitString, digits: SpokenDigits) -> list[int]:
    """The digits a recipe speaks, in order."""
    return [digits.recordings[position].digit for position in string.recordings]
