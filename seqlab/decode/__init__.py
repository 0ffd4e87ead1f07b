"""Decoding: a loop (:func:`search`) apart from the per-step choice (greedy, beam, sampling), and scoring.

Models are decoded by their step interface (:class:`IncrementalDecoder`), several as one by an
:class:`Ensemble`. :func:`generate` is the language model's sampling loop. CTC outputs are decoded
from their per-frame log-probabilities (:func:`ctc_greedy`, :func:`ctc_prefix_beam_search` with an
optional :class:`SymbolNgramLM`, :func:`ctc_forced_alignment`). The names of the search are imported on first use.
"""

from __future__ import annotations

from seqlab.decode.generate import generate
from seqlab.decode.sampling import SamplingConfig, filter_logits, sample_next
from seqlab.lazy_exports import lazy_exports

# No module here is named as a name it exports: importing a submodule binds its name on the package.
_EXPORTS = {
    "BeamSearch": "seqlab.decode.policies",
    "classify_errors": "seqlab.decode.scoring",
    "ctc_forced_alignment": "seqlab.decode.ctc_alignment",
    "ctc_greedy": "seqlab.decode.ctc",
    "ctc_prefix_beam_search": "seqlab.decode.ctc",
    "CTCHypothesis": "seqlab.decode.ctc",
    "Ensemble": "seqlab.decode.ensemble",
    "GreedySearch": "seqlab.decode.policies",
    "Hypothesis": "seqlab.decode.hypothesis",
    "IncrementalDecoder": "seqlab.decode.incremental",
    "length_penalty": "seqlab.decode.length_normalisation",
    "normalised_score": "seqlab.decode.length_normalisation",
    "repeated_ngram_mask": "seqlab.decode.no_repeat",
    "SamplingSearch": "seqlab.decode.policies",
    "search": "seqlab.decode.loop",
    "SearchPolicy": "seqlab.decode.policies",
    "SymbolNgramLM": "seqlab.decode.symbol_ngram",
    "sequence_log_probs": "seqlab.decode.scoring",
}

__all__ = ["SamplingConfig", "filter_logits", "generate", "sample_next", *sorted(_EXPORTS)]


__getattr__ = lazy_exports(__name__, _EXPORTS)
