"""Translating padded batches of source sentences with a trained model: greedy or beam search, or sampling.

The search itself is :func:`seqlab.decode.search`; this module gives it what a translation model
needs: the length limit of each output (a multiple of its source's length, plus a margin), the
tokens never to emit (``<pad>`` and ``<bos>``), and the text of each hypothesis, for padded batches
(:func:`translate_batch`, what evaluation uses) and for lines of text (:func:`translate_lines`).
Sampling (:class:`~seqlab.decode.SamplingSearch`) draws each token instead of searching; the same
loop, length limits and banned tokens apply.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from seqlab.data.padded_batches import pad_sequences
from seqlab.decode import BeamSearch, GreedySearch, Hypothesis, SamplingConfig, SamplingSearch, SearchPolicy, search
from seqlab.errors import SeqlabError
from seqlab.tasks.translate.config import DataConfig, ObjectiveConfig
from seqlab.tasks.translate.dates import model_input


def max_output_lengths(lengths: torch.Tensor, objective: ObjectiveConfig) -> torch.Tensor:
    """(B,) the most tokens each output may have: ``ratio × source length + extra``, at least 1."""
    limits = torch.floor(lengths.double() * objective.max_length_ratio).long() + objective.max_length_extra
    return limits.clamp(min=1)


@torch.no_grad()
def translate_batch(
    model,
    source: torch.Tensor,
    lengths: torch.Tensor,
    objective: ObjectiveConfig,
    *,
    target_vocab,
    nbest: int = 1,
    policy: SearchPolicy | None = None,
) -> list[list[Hypothesis]]:
    """The ``nbest`` best translations of each source sentence, best first.

    Args:
        model: a sequence-to-sequence model with ``start``, ``step`` and ``reorder`` (in eval mode).
        source: ``(B, S)`` token ids padded with the vocabulary's ``pad_id``; lengths ``(B,)``.
        objective: the beam width, its pruning, length normalisation and length limit.
        target_vocab: gives the ids of ``<bos>``, ``<eos>`` and ``<pad>``.
        nbest: translations returned per sentence; at most the policy's ``beam_size``.
        policy: the per-step choice, e.g. a :class:`~seqlab.decode.SamplingSearch`; None: greedy or beam
            search of the objective's width (widened to ``nbest``).
    """
    if policy is None:
        beam = objective.beam_size if nbest == 1 else max(objective.beam_size, nbest)
        policy = GreedySearch() if beam == 1 else BeamSearch(beam, relative_threshold=objective.prune_relative,
                                                               absolute_threshold=objective.prune_absolute)  # fmt: skip
    return search(
        model,
        model.start(source, lengths),
        policy,
        bos=target_vocab.bos_id,
        eos=target_vocab.eos_id,
        max_lengths=max_output_lengths(lengths, objective).to(source.device),
        nbest=nbest,
        alpha=objective.length_alpha,
        stopping=objective.stopping,
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
                    objective: ObjectiveConfig, nbest: int = 1, with_attention: bool = False, batch_size: int = 64,
                    sampling: SamplingConfig | None = None, num_samples: int = 1,
                    seed: int | None = None) -> list[list[Translation]]:  # fmt: skip
    """The ``nbest`` best translations of each line, best first, in the order of ``lines``.

    Lines are translated in batches of similar length. With ``with_attention`` each translation
    carries the attention weights the model gives it (teacher forced on the translation itself).

    With ``sampling``, each line gets ``num_samples`` translations drawn from the model (temperature,
    top-k, top-p) instead of the search of ``objective``; the ``nbest`` with the best scores are returned
    (``nbest=num_samples``: all of them). Each sample's ``log_prob`` is the model's, before filtering, and
    its ``score`` that normalised by ``objective.length_alpha``. One ``seed`` gives the same samples of the
    same lines; each batch draws from its own generator, seeded from ``seed``.

    Args:
        sampling: temperature, top-k and top-p; None searches (greedy or beam, as ``objective`` says).
        num_samples: translations drawn per line when sampling.
        seed: of the sampling; None draws a fresh one from the operating system.

    Raises:
        SeqlabError: an empty line (it has nothing to translate), naming its number; ``num_samples``
            or ``seed`` without ``sampling``, or ``nbest`` more than ``num_samples``.
    """
    policies = _policies(sampling, num_samples, seed, nbest, batches=-(-len(lines) // batch_size))
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
        found = translate_batch(model, source, lengths, objective, target_vocab=target_vocab, nbest=nbest,
                                policy=next(policies))  # fmt: skip
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


def _policies(
    sampling: SamplingConfig | None, num_samples: int, seed: int | None, nbest: int, *, batches: int
) -> Iterator[SearchPolicy | None]:
    """The policy of each batch: None (the objective's search), or samplers seeded apart from one another.

    Each batch gets its own seed, drawn from ``seed``: one seed for all would give the rows of every batch
    the same random numbers.
    """
    if sampling is None:
        if num_samples != 1 or seed is not None:
            raise SeqlabError("num_samples and seed are for sampling: give sampling=SamplingConfig(...) too")
        return itertools.repeat(None)
    if num_samples < 1:
        raise SeqlabError(f"num_samples must be at least 1, got {num_samples}")
    if not 1 <= nbest <= num_samples:
        raise SeqlabError(f"nbest must be between 1 and num_samples {num_samples}, got {nbest}")
    if seed is None:
        seeds = [None] * batches
    else:
        seeds = torch.randint(2**62, (batches,), generator=torch.Generator().manual_seed(seed)).tolist()
    return iter([SamplingSearch(sampling, num_samples=num_samples, seed=batch_seed) for batch_seed in seeds])


def _attention(model, source: torch.Tensor, hypothesis: Hypothesis, target_vocab) -> list[list[float]] | None:
    """(T, S) attention weights of the model reading ``hypothesis`` (with <eos> when it ended)."""
    tokens = hypothesis.tokens + ([target_vocab.eos_id] if hypothesis.finished else [])
    target_input = torch.tensor([[target_vocab.bos_id, *tokens[:-1]]], device=source.device)
    lengths = torch.tensor([source.size(1)], device=source.device)
    weights = model(source, lengths, target_input).attention
    return None if weights is None else weights[0].tolist()
