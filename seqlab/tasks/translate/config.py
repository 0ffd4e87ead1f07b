"""The settings of a translation run besides the engine's: which model, its data and its objective.

Torch-free, so that the command line lists every field as a flag without importing torch. A run's
``config.json`` holds them as the ``data`` and ``objective`` sections.
"""

from __future__ import annotations

from dataclasses import dataclass

from seqlab.errors import SeqlabError
from seqlab.models.seq2seq_configs import Seq2SeqConfig
from seqlab.models.transformer_configs import TransformerConfig

MODEL_CONFIGS = {"rnn": Seq2SeqConfig, "transformer": TransformerConfig}  # architecture -> its config dataclass

UNITS = ("word", "char", "subword")
SUBWORD_MODELS = ("unigram", "bpe")
VARIANTS = ("tok", "raw")
STOPPING_RULES = ("count", "bound")  # the rules of seqlab.decode.search, named here without importing torch


@dataclass
class DataConfig:
    """Which sentences, cut into which units, batched how."""

    corpus: str | None = None  # a Multi30k-style folder (raw/, tok/), or its name under $SEQLAB_DATA; None: dates
    source_language: str = "de"  # file suffix of the source side
    target_language: str = "en"  # file suffix of the target side
    variant: str = "tok"  # "tok": lower-cased tokenised files; "raw": cased text, scored with sacreBLEU's 13a
    units: str = "word"  # "word", "char" or "subword" (sentencepiece, trained on the training text)
    min_count: int = 2  # words or characters seen fewer times in training become <unk>
    subword_vocab_size: int = 8000  # pieces per language with units = "subword"
    subword_model: str = "unigram"  # "unigram" (Kudo 2018) or "bpe" (Sennrich et al. 2016)
    max_train_length: int = 80  # training pairs with a longer side (in units) are left out
    batch_size: int = 128  # sentence pairs per batch, at most
    max_tokens: int | None = None  # padded target tokens per batch, at most (a token budget)
    dates_train: int = 20_000  # with no corpus: training dates
    dates_valid: int = 1_000  # with no corpus: held-out dates to select by
    dates_test: int = 1_000  # with no corpus: test dates
    dates_seed: int = 0  # with no corpus: the generator's seed (the same seed, the same dates)

    def __post_init__(self) -> None:
        if self.units not in UNITS:
            raise SeqlabError(f"units must be one of {UNITS}, got {self.units!r}")
        if self.subword_model not in SUBWORD_MODELS:
            raise SeqlabError(f"subword_model must be one of {SUBWORD_MODELS}, got {self.subword_model!r}")
        if self.variant not in VARIANTS:
            raise SeqlabError(f"variant must be one of {VARIANTS}, got {self.variant!r}")
        for name in ("min_count", "max_train_length", "batch_size", "subword_vocab_size"):
            if getattr(self, name) < 1:
                raise SeqlabError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise SeqlabError(f"max_tokens must be at least 1 or None, got {self.max_tokens}")


@dataclass
class ObjectiveConfig:
    """What training minimises and how held-out translations are produced."""

    label_smoothing: float = 0.1  # ε of Szegedy et al. 2016, §7 (0: plain cross-entropy)
    teacher_forcing: float = 1.0  # probability of feeding the gold previous token (else the model's own)
    beam_size: int = 1  # beam width of the held-out translations scored each evaluation (1: greedy)
    length_alpha: float = 0.0  # Wu et al. 2016's length normalisation of beam scores (0: none)
    max_length_ratio: float = 1.5  # a translation stops at ratio × source length + max_length_extra
    max_length_extra: int = 10  # see max_length_ratio
    stopping: str = "count"  # one of STOPPING_RULES: end a beam at K finished (fairseq) or once none live can win
    prune_relative: float | None = None  # beam search drops candidates with P <= this × the best's (Freitag 2017)
    prune_absolute: float | None = None  # beam search drops candidates this many nats below the best (Freitag 2017)

    def __post_init__(self) -> None:
        if not 0.0 <= self.label_smoothing < 1.0:
            raise SeqlabError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if not 0.0 <= self.teacher_forcing <= 1.0:
            raise SeqlabError(f"teacher_forcing must be in [0, 1], got {self.teacher_forcing}")
        if self.beam_size < 1:
            raise SeqlabError(f"beam_size must be at least 1, got {self.beam_size}")
        if self.stopping not in STOPPING_RULES:
            raise SeqlabError(f"stopping must be one of {', '.join(STOPPING_RULES)}; got {self.stopping!r}")
        if self.prune_relative is not None and not 0.0 < self.prune_relative <= 1.0:
            raise SeqlabError(f"prune_relative must be in (0, 1], got {self.prune_relative}")
        if self.prune_absolute is not None and not self.prune_absolute > 0.0:
            raise SeqlabError(f"prune_absolute must be positive (nats), got {self.prune_absolute}")
        for name in ("length_alpha", "max_length_ratio", "max_length_extra"):
            if getattr(self, name) < 0:
                raise SeqlabError(f"{name} must not be negative, got {getattr(self, name)}")
