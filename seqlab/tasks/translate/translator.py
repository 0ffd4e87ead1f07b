"""Translating padded batches of source sentences with a trained model: greedy or beam search.

The search itself is :func:`seqlab.decode.search`; this module gives it what a translation model
needs: the length limit of each output (a multiple of its source's length, plus a margin), the
tokens never to emit (``<pad>`` and ``<bos>``), and the text of each hypothesis, for padded batches
(:func:`translate_batch`, what evaluation uses) and for lines of text (:func:`translate_lines`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from seqlab.data.padded_batches import pad_sequences
from seqlab.decode import BeamSearch, GreedySearch, Hypothesis, search
from seqlab.errors import SeqlabError
from seqlab.tasks.translate.config import DataConfig, ObjectiveConfig
from seqlab.tasks.translate.dates import model_input


def max_output_lengths(lengths: torch.Tensor, objective: ObjectiveConfig) -> torch.Tensor:
    """(B,) the most tokens each output may have: ``ratio × source length + extra``, at least 1."""
    limits = torch.floor(lengths.double() * objective.max_length_ratio).long() + objective.max_length_extra
    return limits.clamp(min=1)


@torch.no_grad()
def translate_batch(
    model, source: torch.Tensor, lengths: torch.Tensor, objective: ObjectiveConfig, *, target_vocab, nbest: int = 1
) -> list[list[Hypothesis]]:
    """The ``nbest`` best translations of each source sentence, best first.

    Args:
        model: a sequence-to-sequence model with ``start``, ``step`` and ``reorder`` (in eval mode).
        source: ``(B, S)`` token ids padded with the vocabulary's ``pad_id``; lengths ``(B,)``.
        objective: the beam width, length normalisation and length limit.
        target_vocab: gives the ids of ``<bos>``, ``<eos>`` and ``<pad>``.
    """
    beam = objective.beam_size if nbest == 1 else max(objective.beam_size, nbest)
    policy = GreedySearch() if beam == 1 else BeamSearch(beam)
    return search(
        model,
        model.start(source, lengths),
        policy,
        bos=target_vocab.bos_id,
        eos=target_vocab.eos_id,
        max_lengths=max_output_lengths(lengths, objective).to(source.device),
        nbest=nbest,
        alpha=objective.length_alpha,
        banned_ids=(target_vocab.pad_id, target_vocab.bos_id),
    )


@dataclass
class Translation:
    """One translation of one source sentence, with its scores and, when asked for, its attention."""

    text: str
    tokens: list[int]  # the output's ids, without <bos> and <eos>
    log_prob: float  # log P(y|x), EOS included when the search ended with it
    score: float  # the length-normalised score the search ranked it by
    attention: list[list[float]] | None = None  # (T, S): a row per output token (and <eos>), a column per source token


def source_text(line: str, data: DataConfig) -> str:
    """A source line as the model reads it: the dates model reads lower case, the others the line as it is."""
    return model_input(line) if data.corpus is None else line.strip()


@torch.no_grad()
def translate_lines(model, lines: Sequence[str], *, source_vocab, target_vocab, data: DataConfig,
                    objective: ObjectiveConfig, nbest: int = 1, with_attention: bool = False,
                    batch_size: int = 64) -> list[list[Translation]]:  # fmt: skip
    """The ``nbest`` best translations of each line, best first, in the order of ``lines``.

    Lines are translated in batches of similar length. With ``with_attention`` each translation
    carries the attention weights the model gives it (teacher forced on the translation itself).

    Raises:
        SeqlabError: an empty line (it has nothing to translate), naming its number.
    """
    device = next(model.parameters()).device
    encoded = []
    for number, line in enumerate(lines, start=1):
        ids = source_vocab.encode(source_text(line, data))
        if not ids:
            raise SeqlabError(f"line {number} is empty: there is nothing to translate")
        encoded.append(ids)
    order = sorted(range(len(encoded)), key=lambda index: len(encoded[index]))
    results: list[list[Translation]] = [[] for _ in encoded]
    for start in range(0, len(order), batch_size):
        indices = order[start : start + batch_size]
        source, lengths = pad_sequences([torch.tensor(encoded[i]) for i in indices], batch_first=True,
                                        padding_value=source_vocab.pad_id)  # fmt: skip
        source, lengths = source.to(device), lengths.to(device)
        found = translate_batch(model, source, lengths, objective, target_vocab=target_vocab, nbest=nbest)
        for row, (index, hypotheses) in enumerate(zip(indices, found)):
            results[index] = [
                Translation(
                    target_vocab.decode(h.tokens),
                    h.tokens,
                    h.log_prob,
                    h.score,
                    _attention(model, source[row : row + 1, : lengths[row]], h, target_vocab)
                    if with_attention
                    else None,
                )  # fmt: skip
                for h in hypotheses
            ]
    return results


def _attention(model, source: torch.Tensor, hypothesis: Hypothesis, target_vocab) -> list[list[float]] | None:
    """(T, S) attention weights of the model reading ``hypothesis`` (with <eos> when it ended)."""
    tokens = hypothesis.tokens + ([target_vocab.eos_id] if hypothesis.finished else [])
    target_input = torch.tensor([[target_vocab.bos_id, *tokens[:-1]]], device=source.device)
    lengths = torch.tensor([source.size(1)], device=source.device)
    weights = model(source, lengths, target_input).attention
    return None if weights is None else weights[0].tolist()
