"""The utterances of a speech run: spoken-digit recordings, split by recording and speaker, made into utterances.

Every split's utterances come from its own recordings only (:mod:`seqlab.data.spoken_digits`):
"train" from the training recordings, the held-out "valid" from two parts scored apart,
``recordings`` (unseen recordings of the training speakers) and ``speaker`` (the left-out
speaker). With isolated utterances each recording is one utterance; connected ones are drawn
with ``synthesis_seed``, so every run is scored on the same held-out utterances.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from seqlab.data.spoken_digits import (
    SAMPLE_RATE,
    DigitString,
    DigitStringStyle,
    SpokenDigits,
    draw_digit_strings,
    isolated,
    read_spoken_digits,
)
from seqlab.errors import SeqlabError
from seqlab.tasks.speech.config import DataConfig

SYMBOLS = ("<blank>", *"0123456789")  # output symbol ids: the CTC blank, then the digits
BLANK = 0
SPLITS = ("train", "valid")
PARTS = {"valid": "recordings", "valid-speaker": "speaker"}  # held-out recordings' split -> its part of "valid"


def digit_symbol(digit: int) -> int:
    """The output symbol of a digit."""
    return digit + 1


def symbols_text(symbols: list[int]) -> str:
    """A transcript as text: its digits separated by spaces ("3 0 7"), so that WER counts digits."""
    return " ".join(SYMBOLS[symbol] for symbol in symbols)


@dataclass(frozen=True)
class Utterance:
    """One utterance of a split: how to make it, and which part of the split it belongs to."""

    recipe: DigitString
    part: str  # "train", or a value of PARTS


@dataclass
class SpeechData:
    """The recordings and every split's utterances."""

    digits: SpokenDigits
    utterances: dict[str, list[Utterance]]
    fingerprint: dict[str, str]  # identifies the recordings and the utterances drawn from them
    origin: str  # the data in words

    def describe(self) -> str:
        counts = {part: sum(u.part == part for u in self.utterances["valid"]) for part in PARTS.values()}
        return (f"{len(self.utterances['train']):,} training utterances; held out: {counts['recordings']:,} "
                f"of unseen recordings, {counts['speaker']:,} of the left-out speaker")  # fmt: skip


def prepare_speech_data(config: DataConfig) -> SpeechData:
    """Read the recordings and make every split's utterances.

    Raises:
        SeqlabError: the folder's recordings cannot be read, or a split has none.
    """
    digits = read_spoken_digits(config.corpus)
    splits = digits.split(config.left_out_speaker)
    style = DigitStringStyle(min_digits=config.min_digits, max_digits=config.max_digits, max_gap=config.max_gap,
                             max_gain=config.max_gain, min_snr=config.min_snr, max_snr=config.max_snr,
                             noise_share=config.noise_share)  # fmt: skip
    utterances: dict[str, list[Utterance]] = {"train": [], "valid": []}
    for seed, (split, part) in enumerate((("train", "train"), *PARTS.items())):
        pool = splits[split]
        if not pool:
            if split == "valid-speaker" and config.left_out_speaker is None:
                continue
            raise SeqlabError(f"{config.corpus}: no recordings for the {split!r} split")
        if config.utterances == "isolated":
            recipes = isolated(pool)
        else:
            count = config.train_utterances if split == "train" else config.valid_utterances
            recipes = draw_digit_strings(digits.recordings, pool, count, style, seed=config.synthesis_seed + seed)
        utterances["train" if split == "train" else "valid"].extend(Utterance(recipe, part) for recipe in recipes)
    fingerprint = {"recordings": _recordings_digest(digits), "utterances": config.utterances}
    origin = f"{len(digits.recordings):,} recordings of {len(digits.speakers)} speakers in {Path(config.corpus).name}"
    return SpeechData(digits, utterances, fingerprint, origin)


def frames(samples: int, hop_ms: float) -> int:
    """Frames of ``samples`` samples at :data:`SAMPLE_RATE` with centred frames every ``hop_ms`` ms."""
    return samples // round(SAMPLE_RATE * hop_ms / 1000) + 1


def _recordings_digest(digits: SpokenDigits) -> str:
    """SHA-256 over the recordings' names and samples, in file-name order."""
    digest = hashlib.sha256()
    for recording, samples in zip(digits.recordings, digits.samples):
        digest.update(recording.file.encode())
        digest.update(samples.tobytes())
    return digest.hexdigest()
