"""Beam-search error analysis: for each wrong translation, is the search or the model to blame?

For a source x with reference y* and output ŷ ≠ y*, score both under the model with the score the
search maximised (``log P(y|x)``, divided by Wu et al.'s ``lp(|y|)`` when ``alpha > 0``). If
``score(y*) > score(ŷ)`` the model preferred the reference and a better search would have found
something at least as good as it: a **search error**. Otherwise the model itself prefers a wrong
output: a **model error**, which no wider beam can mend. The shares of each, for several beam widths
and length normalisations, say where effort pays: more beam, or a better model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace

import torch

from seqlab.data.padded_batches import pad_sequences
from seqlab.decode import classify_errors, normalised_score, sequence_log_probs
from seqlab.tasks.translate.config import DataConfig, ObjectiveConfig
from seqlab.tasks.translate.translator import source_text, translate_lines

MARGIN = 1e-4  # nats: scores closer than this (rounding of differently batched arithmetic) count as ties


@dataclass
class ErrorExample:
    """One wrong translation and the two scores that decided its kind."""

    source: str
    reference: str
    output: str
    reference_score: float
    output_score: float


@dataclass
class ErrorAnalysis:
    """The error analysis of one search setting over a test set."""

    beam_size: int
    alpha: float
    sentences: int
    correct: int  # outputs equal to their reference
    search_errors: int
    model_errors: int
    search_examples: list[ErrorExample] = field(default_factory=list)
    model_examples: list[ErrorExample] = field(default_factory=list)

    @property
    def search_error_share(self) -> float:
        """Search errors among the wrong outputs, in percent."""
        return 100.0 * self.search_errors / max(self.search_errors + self.model_errors, 1)

    def to_json(self) -> dict:
        return {**asdict(self), "search_error_share": self.search_error_share}

    def summary(self) -> str:
        wrong = self.search_errors + self.model_errors
        return (f"beam {self.beam_size:>2}, alpha {self.alpha:g}: {wrong} of {self.sentences} outputs differ from "
                f"the reference; search errors {self.search_errors} ({self.search_error_share:.1f}%), model errors "
                f"{self.model_errors} ({100.0 - self.search_error_share:.1f}%)")  # fmt: skip

    def report(self) -> str:
        """The summary line, then the examples of each kind with their two scores."""
        lines = [self.summary()]
        for kind, examples in (("search error", self.search_examples), ("model error", self.model_examples)):
            for example in examples:
                lines += [f"  {kind}: {example.source!r}",
                          f"    reference {example.reference!r} ({example.reference_score:.3f})",
                          f"    output    {example.output!r} ({example.output_score:.3f})"]  # fmt: skip
        return "\n".join(lines)


@torch.no_grad()
def _scores(model, sources: list[list[int]], outputs: list[list[int]], *, vocabularies, alpha: float,
            batch_size: int = 64) -> list[float]:  # fmt: skip
    """The search's score of each output (ids without specials; EOS is scored after each)."""
    source_vocab, target_vocab = vocabularies
    device = next(model.parameters()).device
    scores: list[float] = []
    for start in range(0, len(sources), batch_size):
        chunk = slice(start, start + batch_size)
        source, lengths = pad_sequences([torch.tensor(ids) for ids in sources[chunk]], batch_first=True,
                                        padding_value=source_vocab.pad_id)  # fmt: skip
        state = model.start(source.to(device), lengths.to(device))
        log_probs = sequence_log_probs(model, state, outputs[chunk], bos=target_vocab.bos_id, eos=target_vocab.eos_id)
        length = torch.tensor([len(ids) + 1 for ids in outputs[chunk]], dtype=torch.float64)
        scores += normalised_score(log_probs.double().cpu(), length, alpha).tolist()
    return scores


def analyse_errors(model, sources: Sequence[str], references: Sequence[str], *, source_vocab, target_vocab,
                   data: DataConfig, objective: ObjectiveConfig, beam_size: int, alpha: float,
                   examples: int = 3) -> ErrorAnalysis:  # fmt: skip
    """Translate ``sources`` with beam ``beam_size`` and ``alpha``, and blame each wrong output on search or model.

    References are compared with outputs as the model's units (so that spacing differences are no
    error). A reference holding units the vocabulary lacks is scored with ``<unk>`` in their place;
    an output the search cut at its maximum length is scored as if it ended there.
    """
    setting = replace(objective, beam_size=beam_size, length_alpha=alpha)
    translations = translate_lines(model, sources, source_vocab=source_vocab, target_vocab=target_vocab, data=data,
                                   objective=setting)  # fmt: skip
    best = [found[0] for found in translations]
    reference_ids = [target_vocab.encode(reference) for reference in references]
    wrong = [i for i, (output, reference) in enumerate(zip(best, reference_ids)) if output.tokens != reference]
    analysis = ErrorAnalysis(beam_size, alpha, len(sources), len(sources) - len(wrong), 0, 0)
    source_ids = [source_vocab.encode(source_text(sources[i], data)) for i in wrong]
    reference_ids = [reference_ids[i] for i in wrong]
    output_ids = [best[i].tokens for i in wrong]
    vocabularies = (source_vocab, target_vocab)
    reference_scores = _scores(model, source_ids, reference_ids, vocabularies=vocabularies, alpha=alpha)
    output_scores = _scores(model, source_ids, output_ids, vocabularies=vocabularies, alpha=alpha)
    kinds = classify_errors(reference_scores, output_scores, margin=MARGIN) if wrong else []
    for i, kind, reference_score, output_score in zip(wrong, kinds, reference_scores, output_scores):
        example = ErrorExample(sources[i], references[i], best[i].text, reference_score, output_score)
        if kind == "search error":
            analysis.search_errors += 1
            if len(analysis.search_examples) < examples:
                analysis.search_examples.append(example)
        else:
            analysis.model_errors += 1
            if len(analysis.model_examples) < examples:
                analysis.model_examples.append(example)
    return analysis
