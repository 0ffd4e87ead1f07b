"""Translation: sequence to sequence with attention, beam search and BLEU.

Read top to bottom, the folder is the recipe:

    config       the data and objective settings (torch-free: the command line's flags)
    dates        human-readable dates to ISO 8601, generated offline: the embedded demo
    data         reading the sentences (Multi30k layout or dates), units, vocabularies, encoding
    models       which model an architecture name builds
    task         what a batch is, what the model is asked, what is measured (loss, BLEU, exact match)
    translator   greedy or beam search over padded batches of sources
    presets      the settings of each reproduced model
    settings     a run's settings and where they came from
    checkpoint   the vocabularies of a run, and loading a trained model back
    run          a whole training run, from Python or from ``seqlab translate train``
    attention_map  attention heat-maps as PNG

Parallel text files and the Multi30k layout are read by :mod:`seqlab.data.parallel_text`.
"""

from __future__ import annotations

from seqlab.lazy_exports import lazy_exports

_EXPORTS = {
    "AttentionExample": "seqlab.tasks.translate.attention_map",
    "DateExample": "seqlab.tasks.translate.dates",
    "DateSplits": "seqlab.tasks.translate.dates",
    "generate_date_splits": "seqlab.tasks.translate.dates",
    "load_translation_model": "seqlab.tasks.translate.checkpoint",
    "plot_attention": "seqlab.tasks.translate.attention_map",
    "plot_attention_grid": "seqlab.tasks.translate.attention_map",
    "PRESETS": "seqlab.tasks.translate.presets",
    "train": "seqlab.tasks.translate.run",
    "TranslationReport": "seqlab.tasks.translate.run",
    "translate_batch": "seqlab.tasks.translate.translator",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
