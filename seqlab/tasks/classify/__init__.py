"""Sentence classification (sentiment): averaged word vectors or a recurrent encoder, trained on the engine.

Read top to bottom, the folder is the recipe:

    config       the data settings: which treebank files, fine-grained or binary labels, phrases (torch-free)
    data         reading the trees, the examples (sentences or all phrases), the vocabulary, encoding
    task         what a batch is, what the model is asked, what is measured (loss, accuracy, macro-F1)
    presets      the settings of each reproduced model (Kalchbrenner et al. 2014, Tai et al. 2015)
    checkpoint   the vocabulary of a run, and loading a trained classifier back
    run          a whole training run, from Python or from ``seqlab classify train``
    classifying  classifying sentences, scoring a file, the confusion matrix as a picture

The model is :class:`seqlab.models.sentence_classifier.SentenceClassifier`; the treebank is read by
:mod:`seqlab.data.sentiment_trees`; transferred vectors come from :mod:`seqlab.embeddings.transfer`.
"""

from __future__ import annotations

from seqlab.lazy_exports import lazy_exports

_EXPORTS = {
    "PRESETS": "seqlab.tasks.classify.presets",
    "classify_sentences": "seqlab.tasks.classify.classifying",
    "evaluate_file": "seqlab.tasks.classify.classifying",
    "load_classifier": "seqlab.tasks.classify.checkpoint",
    "plot_confusion": "seqlab.tasks.classify.classifying",
    "train": "seqlab.tasks.classify.run",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
