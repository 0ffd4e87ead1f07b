"""The data settings of a trigger-word run: the trigger, how clips are made, what the model hears (torch-free)."""

from __future__ import annotations

from dataclasses import dataclass

from seqlab.errors import SeqlabError


@dataclass
class DataConfig:
    """Which clips are made from which recordings, how they are labelled, and when the detector fires.

    ``hit_before``: a recording's end is where its file ends, and some FSDD recordings end in near-silence
    that the background noise hides (over the corpus: under 0.1 s for 90% of them, 0.5 s for 1%), so a
    detector may rightly fire a little before the recorded end.
    """

    corpus: str = "fsdd"  # a folder of Free Spoken Digit Dataset recordings (or its name under $SEQLAB_DATA)
    left_out_speaker: str | None = "lucas"  # trained on by no clip; scored as the "speaker" part (None: none)
    trigger: int = 7  # the digit whose word is the trigger; the other nine are the distractors
    clip_seconds: float = 10.0  # every clip's length (the material's 10 s)
    train_clips: int = 4_000  # training clips drawn from the training recordings
    valid_clips: int = 400  # clips drawn for each held-out part
    max_triggers: int = 3  # triggers per clip, drawn uniformly from 0..max_triggers
    max_distractors: int = 3  # distractor words per clip, drawn from 0..max_distractors (a clip has a word at least)
    min_gap: float = 0.5  # seconds between two words at least, so that one word's label stretch and hit window end
    max_gain: float = 6.0  # dB: each word's gain is within +-max_gain
    clip_gain: float = 10.0  # dB: the whole clip's level is within +-clip_gain (the normalisation is fixed)
    min_snr: float = 5.0  # dB: the background noise at least this far below the words
    max_snr: float = 30.0  # dB
    synthesis_seed: int = 2024  # the clips drawn (the held-out ones are the same in every run)
    n_mels: int = 40  # mel bands of the log-mel features
    window_ms: float = 25.0  # analysis window
    hop_ms: float = 10.0  # frame shift
    normalisation_clips: int = 200  # training clips whose frames give the fixed mean and deviation per band
    label_steps: int = 10  # output steps labelled 1 after a trigger ends (the material's 50 of 1,375 steps: 0.36 s)
    positive_weight: float = 5.0  # the weight of a positive step in the loss (about 1/8 of the steps are positive)
    threshold: float = 0.5  # the detector fires when its output reaches this
    refractory: float = 0.5  # seconds after a firing in which it cannot fire again
    hit_before: float = 0.2  # a firing hits a trigger from this many seconds before its end (a near-silent tail) ...
    hit_after: float = 0.6  # ... to this many after it
    batch_size: int = 32  # clips per batch

    def __post_init__(self) -> None:
        if not 0 <= self.trigger <= 9:
            raise SeqlabError(f"trigger must be a digit 0-9, got {self.trigger}")
        for name in ("train_clips", "valid_clips", "batch_size", "n_mels", "label_steps", "normalisation_clips"):
            if getattr(self, name) < 1:
                raise SeqlabError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_triggers < 0 or self.max_distractors < 0 or self.max_triggers + self.max_distractors < 1:
            raise SeqlabError("need max_triggers, max_distractors >= 0 with a word per clip at least")
        if self.clip_seconds <= 0 or self.min_gap < 0 or self.max_gain < 0 or self.clip_gain < 0:
            raise SeqlabError("clip_seconds must be positive; min_gap, max_gain and clip_gain non-negative")
        if self.min_snr > self.max_snr:
            raise SeqlabError(f"need min_snr <= max_snr, got {self.min_snr} > {self.max_snr}")
        if self.window_ms <= 0 or self.hop_ms <= 0:
            raise SeqlabError("window_ms and hop_ms must be positive")
        if self.positive_weight <= 0 or not 0 < self.threshold < 1:
            raise SeqlabError("positive_weight must be positive and threshold in (0, 1)")
        if self.refractory < 0 or self.hit_before < 0 or self.hit_after < 0:
            raise SeqlabError("refractory, hit_before and hit_after must be non-negative")
