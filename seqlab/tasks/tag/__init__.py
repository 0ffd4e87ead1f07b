"""Sequence tagging (named entities): a BiLSTM with a CRF or softmax output, trained on the engine.

Read top to bottom, the folder is the recipe:

    config      the data settings: which CoNLL files, which schemes, how words are looked up (torch-free)
    data        reading the files, the tags rewritten in the training scheme, vocabularies, encoding
    task        what a batch is, what the model is asked, what is measured (loss, conlleval's entity F1)
    presets     the settings of each reproduced tagger (Lample et al. 2016, Ma & Hovy 2016)
    checkpoint  the vocabularies of a run, and loading a trained tagger back
    transfer    starting a tagger from another run's weights (e.g. WNUT-17's from CoNLL-2003's)
    run         a whole training run, from Python or from ``seqlab tag train``
    tagging     tagging sentences and scoring a file with a trained tagger

The model is :class:`seqlab.models.sequence_tagger.SequenceTagger`; the schemes and their
constraints are :mod:`seqlab.data.tag_schemes`; the scores are :mod:`seqlab.metrics.conlleval`'s.
"""

from __future__ import annotations

from seqlab.lazy_exports import lazy_exports

_EXPORTS = {
    "PRESETS": "seqlab.tasks.tag.presets",
    "evaluate_file": "seqlab.tasks.tag.tagging",
    "load_tagger": "seqlab.tasks.tag.checkpoint",
    "tag_sentences": "seqlab.tasks.tag.tagging",
    "train": "seqlab.tasks.tag.run",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
