"""The data settings of a speech run: which recordings, which utterances, which features (torch-free)."""

from __future__ import annotations

from dataclasses import dataclass

from seqlab.errors import SeqlabError

UTTERANCES = {
    "isolated": "one recording, one digit, as recorded",
    "connected": "2-7 digits of one speaker's recordings, with gaps, gains and background noise between them",
}
FEATURES = ("log-mel", "mfcc")


@dataclass
class DataConfig:
    """Which recordings make which utterances, what the model hears of them, and how they are batched."""

    corpus: str = "fsdd"  # a folder of Free Spoken Digit Dataset recordings (or its name under $SEQLAB_DATA)
    left_out_speaker: str | None = "lucas"  # trained on by no utterance; scored as "valid-speaker" (None: none)
    utterances: str = "isolated"  # one of UTTERANCES
    train_utterances: int = 12_000  # connected utterances drawn for training (isolated: every training recording)
    valid_utterances: int = 500  # connected utterances drawn for each held-out part
    min_digits: int = 2  # digits per connected utterance, at least
    max_digits: int = 7  # and at most
    max_gap: float = 0.4  # seconds of silence between two digits, at most
    max_gain: float = 6.0  # dB: each digit's gain is within +-max_gain
    min_snr: float = 10.0  # dB: background noise at least this far below the speech
    max_snr: float = 30.0  # dB
    noise_share: float = 0.8  # connected utterances with background noise
    synthesis_seed: int = 1234  # the connected utterances drawn (the held-out ones are the same in every run)
    features: str = "log-mel"  # one of FEATURES, normalised per utterance
    n_mels: int = 40  # mel bands (MFCC: computed from them)
    n_mfcc: int = 13  # cepstral coefficients with features "mfcc"
    window_ms: float = 25.0  # analysis window
    hop_ms: float = 10.0  # frame shift
    speed_perturbation: float = 0.1  # training utterances at speed 1-x, 1 or 1+x, drawn uniformly (Ko et al. 2015)
    vtlp: float = 0.0  # VTLP (Jaitly & Hinton 2013): training filterbanks warped by a factor in [1-x, 1+x]; 0.1 theirs
    freq_masks: int = 2  # SpecAugment (Park et al. 2019, §2): frequency masks per training utterance
    freq_mask_width: int = 8  # F: the widest frequency mask, in bands
    time_masks: int = 2  # time masks per training utterance
    time_mask_width: int = 10  # T: the widest time mask, in frames
    time_mask_ratio: float = 0.2  # p: a time mask covers at most this share of the utterance's frames
    batch_size: int = 32  # utterances per batch, at most

    def __post_init__(self) -> None:
        if self.utterances not in UTTERANCES:
            raise SeqlabError(f"utterances must be one of {list(UTTERANCES)}, got {self.utterances!r}")
        if self.features not in FEATURES:
            raise SeqlabError(f"features must be one of {list(FEATURES)}, got {self.features!r}")
        for name in ("train_utterances", "valid_utterances", "batch_size", "n_mels", "n_mfcc"):
            if getattr(self, name) < 1:
                raise SeqlabError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0 <= self.speed_perturbation < 0.5:
            raise SeqlabError(f"speed_perturbation must be in [0, 0.5), got {self.speed_perturbation}")
        if not 0 <= self.vtlp <= 0.3:
            raise SeqlabError(f"vtlp must be in [0, 0.3], got {self.vtlp}")
        if self.window_ms <= 0 or self.hop_ms <= 0:
            raise SeqlabError("window_ms and hop_ms must be positive")

    @property
    def feature_size(self) -> int:
        """Features per frame."""
        return self.n_mfcc if self.features == "mfcc" else self.n_mels
