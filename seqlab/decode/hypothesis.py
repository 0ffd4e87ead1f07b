"""What a search returns: one finished (or cut) output sequence with its scores."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hypothesis:
    """An output sequence of a search, with the scores it was ranked by.

    Example:
        >>> Hypothesis(tokens=[5, 9], log_prob=-1.5, score=-1.25, finished=True).tokens
        [5, 9]
    """

    tokens: list[int]  # the output words, without BOS and without EOS
    log_prob: float  # log P(Y|X): the model's log-probabilities of the tokens, plus EOS's when finished
    score: float  # log_prob / lp(|Y|) (Wu et al. 2016, section 7); |Y| = len(tokens) + finished
    finished: bool  # True: the model chose EOS; False: cut at the maximum length, no EOS scored
