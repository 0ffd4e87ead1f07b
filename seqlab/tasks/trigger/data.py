"""The clips of a trigger-word run: background noise with the trigger and distractor words laid in, times exact.

A clip (the material's "activate" clips) is ``clip_seconds`` of synthetic coloured noise with 0 to
``max_triggers`` recordings of the trigger digit and 0 to ``max_distractors`` recordings of the
other digits laid in at random places that do not overlap, at least ``min_gap`` seconds apart (a
clip has one word at least, so that the noise has a level to be set against). A :class:`ClipRecipe`
is drawn from a seed and records which recording lies where, to the sample; :func:`render_clip`
makes its samples and :func:`step_labels` its labels.

Every split's clips come from its own recordings only (:meth:`SpokenDigits.split`): "train" from
the training recordings; the held-out "valid" from two parts scored apart, ``recordings``
(unseen recordings of the training speakers) and ``speaker`` (the left-out speaker). The
official test recordings are never used.

**Placement.** The n words are put in a random order; with W their total length and G the
minimal gaps between them, the free time F = clip − W − G is cut at n sorted uniform points
u_1 ≤ … ≤ u_n of [0, F], and word i starts at u_i + (the words and gaps before it): every
arrangement of the n words in that order is equally likely, and no two overlap.

**Labels.** Output step j covers the hops up to time t_j = (j + 1)·Δ, Δ = stride · hop (40 ms by
default). It is labelled 1 when t_j lies in (e, e + label_steps·Δ] for a trigger ending at e
(sample-exact: steps ⌊e / Δ⌋ to ⌊e / Δ⌋ + label_steps − 1): the material's stretch of ones
after the word's end, which also makes the rare class less rare.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqlab.audio.mixing import add_noise, coloured_noise, decibels_to_amplitude, lay_out
from seqlab.data.spoken_digits import NOISE_EXPONENTS, SAMPLE_RATE, SpokenDigits, read_spoken_digits
from seqlab.errors import SeqlabError
from seqlab.tasks.trigger.config import DataConfig

SPLITS = ("train", "valid")
PARTS = {"valid": "recordings", "valid-speaker": "speaker"}  # held-out recordings' split -> its part of "valid"


@dataclass(frozen=True)
class Word:
    """One recording laid into a clip: samples [start, end) of the clip."""

    recording: int  # index into SpokenDigits.recordings
    start: int
    end: int  # exclusive
    gain: float  # dB
    trigger: bool


@dataclass(frozen=True)
class ClipRecipe:
    """How to make one clip: its words in time order, and its noise and level."""

    samples: int  # the clip's length
    words: tuple[Word, ...]
    snr: float  # dB: the words' power above the noise's
    noise_exponent: float  # the noise's colour: power ∝ 1/f^exponent
    noise_seed: int
    clip_gain: float  # dB applied to the whole clip
    part: str  # "train", or a value of PARTS

    @property
    def trigger_ends(self) -> list[int]:
        """The sample at which each trigger word ends (exclusive), in time order."""
        return [word.end for word in self.words if word.trigger]


def draw_clips(digits: SpokenDigits, pool: list[int], count: int, config: DataConfig, *, seed: int,
               part: str) -> list[ClipRecipe]:  # fmt: skip
    """``count`` clip recipes from the recordings ``pool`` (indices into ``digits.recordings``); the same
    arguments give the same recipes.

    Raises:
        SeqlabError: the pool has no recording of the trigger or none of another digit (when needed),
            or a word does not fit in a clip.
    """
    triggers = [i for i in pool if digits.recordings[i].digit == config.trigger]
    others = [i for i in pool if digits.recordings[i].digit != config.trigger]
    if (config.max_triggers and not triggers) or (config.max_distractors and not others):
        raise SeqlabError(f"{digits.folder}: the {part!r} recordings need both the trigger {config.trigger} and "
                          "other digits")  # fmt: skip
    rng = np.random.default_rng(seed)
    clip = round(config.clip_seconds * SAMPLE_RATE)
    gap = round(config.min_gap * SAMPLE_RATE)
    recipes = []
    for _ in range(count):
        n_triggers = int(rng.integers(config.max_triggers + 1))
        n_others = int(rng.integers(config.max_distractors + 1))
        if n_triggers + n_others == 0:
            n_triggers, n_others = (0, 1) if config.max_distractors else (1, 0)
        chosen = [(int(triggers[rng.integers(len(triggers))]), True) for _ in range(n_triggers)]
        chosen += [(int(others[rng.integers(len(others))]), False) for _ in range(n_others)]
        chosen = [chosen[i] for i in rng.permutation(len(chosen))]
        while chosen and _needed(digits, chosen, gap) > clip:  # too many words for the clip: drop the last
            chosen.pop()
        if not chosen:
            raise SeqlabError(f"a recording is longer than a clip of {config.clip_seconds} s")
        cuts = np.sort(rng.uniform(0.0, clip - _needed(digits, chosen, gap), size=len(chosen)))
        words, before = [], 0
        for (recording, trigger), cut in zip(chosen, cuts):
            start = int(cut) + before
            length = len(digits.samples[recording])
            gain = float(rng.uniform(-config.max_gain, config.max_gain))
            words.append(Word(recording, start, start + length, gain, trigger))
            before += length + gap
        recipes.append(ClipRecipe(clip, tuple(words), float(rng.uniform(config.min_snr, config.max_snr)),
                                  float(NOISE_EXPONENTS[rng.integers(len(NOISE_EXPONENTS))]),
                                  int(rng.integers(2**31)), float(rng.uniform(-config.clip_gain, config.clip_gain)),
                                  part))  # fmt: skip
    return recipes


def _needed(digits: SpokenDigits, chosen: list[tuple[int, bool]], gap: int) -> int:
    """Samples the words and the minimal gaps between them take."""
    return sum(len(digits.samples[recording]) for recording, _ in chosen) + gap * (len(chosen) - 1)


def render_clip(recipe: ClipRecipe, digits: SpokenDigits) -> np.ndarray:
    """The samples of a clip ``(samples,)``, float32.

    The words are laid out at their places with their gains, the noise (seeded) is scaled against
    the words' power alone at the recipe's SNR, the clip is scaled by its gain, and a clip that
    would clip is scaled to a peak of 1 (its times do not move).
    """
    ends = [0, *(word.end for word in recipe.words)]
    gaps = [word.start - end for word, end in zip(recipe.words, ends)] + [recipe.samples - ends[-1]]
    segments = [digits.samples[word.recording] for word in recipe.words]
    signal, spans = lay_out(segments, gaps, [word.gain for word in recipe.words])
    speech = np.zeros(len(signal), dtype=bool)
    for start, end in spans:
        speech[start:end] = True
    noise = coloured_noise(len(signal), recipe.noise_exponent, np.random.default_rng(recipe.noise_seed))
    signal = add_noise(signal, noise, recipe.snr, speech=speech) * decibels_to_amplitude(recipe.clip_gain)
    peak = float(np.abs(signal).max(initial=0.0))
    return (signal / peak if peak > 1.0 else signal).astype(np.float32)


def step_labels(trigger_ends: list[int], steps: int, step_samples: int, label_steps: int) -> np.ndarray:
    """0/1 per output step ``(steps,)``: ``label_steps`` ones from step ⌊e / Δ⌋ for each trigger end e (module
    docstring), cut at the clip's end."""
    labels = np.zeros(steps, dtype=np.float32)
    for end in trigger_ends:
        first = end // step_samples
        labels[first : first + label_steps] = 1.0
    return labels


@dataclass
class TriggerData:
    """The recordings and every split's clips."""

    digits: SpokenDigits
    clips: dict[str, list[ClipRecipe]]
    fingerprint: dict[str, str]  # identifies the recordings and the clips drawn from them
    origin: str  # the data in words

    def describe(self) -> str:
        counts = {part: sum(clip.part == part for clip in self.clips["valid"]) for part in PARTS.values()}
        triggers = sum(len(clip.trigger_ends) for clip in self.clips["train"])
        return (f"{len(self.clips['train']):,} training clips ({triggers:,} triggers); held out: "
                f"{counts['recordings']:,} of unseen recordings, "
                f"{counts['speaker']:,} of the left-out speaker")  # fmt: skip


def prepare_trigger_data(config: DataConfig) -> TriggerData:
    """Read the recordings and draw every split's clips.

    Raises:
        SeqlabError: the folder's recordings cannot be read, or a split has none.
    """
    digits = read_spoken_digits(config.corpus)
    splits = digits.split(config.left_out_speaker)
    clips: dict[str, list[ClipRecipe]] = {"train": [], "valid": []}
    for seed, (split, part) in enumerate((("train", "train"), *PARTS.items())):
        pool = splits[split]
        if not pool:
            if split == "valid-speaker" and config.left_out_speaker is None:
                continue
            raise SeqlabError(f"{config.corpus}: no recordings for the {split!r} split")
        count = config.train_clips if split == "train" else config.valid_clips
        recipes = draw_clips(digits, pool, count, config, seed=config.synthesis_seed + seed, part=part)
        clips["train" if split == "train" else "valid"].extend(recipes)
    fingerprint = {"recordings": _recordings_digest(digits), "trigger": str(config.trigger)}
    origin = (f"clips of {config.clip_seconds:g} s with the trigger {config.trigger} from {len(digits.recordings):,} "
              f"recordings of {len(digits.speakers)} speakers in {Path(config.corpus).name}")  # fmt: skip
    return TriggerData(digits, clips, fingerprint, origin)


def _recordings_digest(digits: SpokenDigits) -> str:
    """SHA-256 over the recordings' names and samples, in file-name order."""
    digest = hashlib.sha256()
    for recording, samples in zip(digits.recordings, digits.samples):
        digest.update(recording.file.encode())
        digest.update(samples.tobytes())
    return digest.hexdigest()
