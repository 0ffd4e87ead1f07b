"""Models built from seqlab.nn layers, and their configs.

- language models (:mod:`~seqlab.models.rnn_lm`, :mod:`~seqlab.models.fixed_window_lm`) and their
  registry by architecture name (:mod:`~seqlab.models.registry`);
- sequence-to-sequence models: the RNN encoder-decoder with or without attention
  (:mod:`~seqlab.models.seq2seq`) and the Transformer (:mod:`~seqlab.models.transformer_seq2seq`);
- sentence classifiers (:mod:`~seqlab.models.sentence_classifier`) and the BiLSTM-CRF tagger
  (:mod:`~seqlab.models.sequence_tagger`, with its word features in :mod:`~seqlab.models.word_features`).

The configs (``*_configs.py``) import no torch; the models do. Names are loaded when first used,
so that importing a config does not import torch.
"""

from __future__ import annotations

from seqlab.lazy_exports import lazy_exports

_EXPORTS = {
    "ARCHITECTURES": "seqlab.models.registry",
    "build_model": "seqlab.models.registry",
    "FixedWindowLanguageModel": "seqlab.models.fixed_window_lm",
    "FixedWindowLMConfig": "seqlab.models.lm_configs",
    "LanguageModelOutput": "seqlab.models.output",
    "MODEL_CONFIGS": "seqlab.models.lm_configs",
    "model_config": "seqlab.models.lm_configs",
    "model_section": "seqlab.models.lm_configs",
    "RNNLanguageModel": "seqlab.models.rnn_lm",
    "RNNLMConfig": "seqlab.models.lm_configs",
    "Seq2Seq": "seqlab.models.seq2seq",
    "Seq2SeqConfig": "seqlab.models.seq2seq_configs",
    "Seq2SeqOutput": "seqlab.models.seq2seq_output",
    "TransformerConfig": "seqlab.models.transformer_configs",
    "TransformerSeq2Seq": "seqlab.models.transformer_seq2seq",
    "ClassifierConfig": "seqlab.models.classifier_configs",
    "ClassifierOutput": "seqlab.models.sentence_classifier",
    "SentenceClassifier": "seqlab.models.sentence_classifier",
    "SequenceTagger": "seqlab.models.sequence_tagger",
    "TaggerConfig": "seqlab.models.tagger_configs",
    "TaggerOutput": "seqlab.models.sequence_tagger",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
