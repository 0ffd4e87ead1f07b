"""The language-model task's data settings: which text, what a token is, and how it is batched."""

from __future__ import annotations

from dataclasses import dataclass

from seqlab.errors import SeqlabError

LEVELS = ("char", "word")


@dataclass
class DataConfig:
    """Where the text comes from, how it becomes tokens, how much is held out, and how it is batched.

    Batches are windows of ``batch_size`` parallel streams (see
    :func:`~seqlab.data.batching.batchify`), ``bptt`` tokens long.
    """

    corpus: str | None = None  # a text file or corpus directory; None: the Python standard library's source
    level: str = "char"  # "char" or "word": what a token is
    min_count: int = 1  # tokens seen fewer times in the training text become <unk>
    max_vocab: int | None = None  # keep at most this many tokens (the most frequent), specials included
    stdlib_max_chars: int = 6_000_000  # about what 3 minutes on 2 CPU cores get through
    valid_fraction: float = 0.05  # without a validation file, the last 5 percent of the text is held out
    batch_size: int = 32  # parallel streams B; on 2 CPU cores 32 and 64 give equal tokens/s
    bptt: int = 128  # window length T of truncated back-propagation through time
    variable_bptt: bool = False  # AWD-LSTM: windows of random length around bptt, lr scaled to match
    eval_batch_size: int | None = None  # parallel streams of the held-out text; None: batch_size

    @property
    def held_out_batch_size(self) -> int:
        """The streams the held-out text is cut into: ``eval_batch_size``, or ``batch_size``."""
        return self.eval_batch_size or self.batch_size

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise SeqlabError(f"level must be one of {LEVELS}, got {self.level!r}")
        if not 0.0 < self.valid_fraction < 1.0:
            raise SeqlabError(f"valid_fraction must be between 0 and 1, got {self.valid_fraction}")
        if self.stdlib_max_chars < 1:
            raise SeqlabError(f"stdlib_max_chars must be positive, got {self.stdlib_max_chars}")
        if self.min_count < 1:
            raise SeqlabError(f"min_count must be at least 1, got {self.min_count}")
        if self.max_vocab is not None and self.max_vocab < 3:
            raise SeqlabError(f"max_vocab must be at least 3 (the special tokens and a word), got {self.max_vocab}")
        for name in ("batch_size", "bptt"):
            if getattr(self, name) < 1:
                raise SeqlabError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.eval_batch_size is not None and self.eval_batch_size < 1:
            raise SeqlabError(f"eval_batch_size must be at least 1, got {self.eval_batch_size}")
