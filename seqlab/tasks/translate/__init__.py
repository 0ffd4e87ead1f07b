"""Translation: sequence to sequence with attention, beam search and BLEU (issue 10).

- :mod:`~seqlab.tasks.translate.dates`: human-readable dates to ISO 8601, generated offline; the
  small exercise whose attention map shows day, month and year aligning.

Parallel text files and the Multi30k layout are read by :mod:`seqlab.data.parallel_text`.
"""

from __future__ import annotations

from seqlab.lazy_exports import lazy_exports

_EXPORTS = {
    "DateExample": "seqlab.tasks.translate.dates",
    "DateSplits": "seqlab.tasks.translate.dates",
    "generate_date_splits": "seqlab.tasks.translate.dates",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
