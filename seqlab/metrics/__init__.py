"""Metrics from sufficient statistics. Translation, equal to sacrebleu 2.6.0's: BLEU, chrF/chrF++, paired
bootstrap; scoring files as sacrebleu's command line does (``score_files``, ``compare_files``). Tagging, equal to
conlleval's and seqeval 1.2.2's: entity precision, recall and F1 (``entity_statistics``, ``score_tag_file``).
Speech, equal to jiwer 4.0's: WER, CER, MER, WIL/WIP and the alignment (``process_words``, ``corpus_wer``,
``score_transcripts``); isolated items: the confusion matrix (``confusion_matrix``).

No torch. Names are imported on first use, so ``import seqlab.metrics`` costs nothing (NumPy comes with BLEU).
"""

from seqlab.lazy_exports import lazy_exports

_EXPORTS = {
    "BLEUStatistics": "seqlab.metrics.bleu",
    "BLEUScore": "seqlab.metrics.bleu",
    "bleu_from_statistics": "seqlab.metrics.bleu",
    "corpus_bleu": "seqlab.metrics.bleu",
    "corpus_statistics": "seqlab.metrics.bleu",
    "sentence_bleu": "seqlab.metrics.bleu",
    "sentence_statistics": "seqlab.metrics.bleu",
    "chrf_from_statistics": "seqlab.metrics.chrf",
    "chrf_statistics": "seqlab.metrics.chrf",
    "corpus_chrf": "seqlab.metrics.chrf",
    "sentence_chrf": "seqlab.metrics.chrf",
    "BootstrapResult": "seqlab.metrics.bootstrap",
    "paired_bootstrap": "seqlab.metrics.bootstrap",
    "Comparison": "seqlab.metrics.files",
    "compare_files": "seqlab.metrics.files",
    "read_aligned_files": "seqlab.metrics.files",
    "score_files": "seqlab.metrics.files",
    "Score": "seqlab.metrics.signature",
    "EntityScores": "seqlab.metrics.entity_counts",
    "EntityStatistics": "seqlab.metrics.entity_counts",
    "entity_scores": "seqlab.metrics.entity_counts",
    "entity_statistics": "seqlab.metrics.entity_f1",
    "conlleval_report": "seqlab.metrics.conlleval",
    "conlleval_statistics": "seqlab.metrics.conlleval",
    "lenient_spans": "seqlab.metrics.entity_spans",
    "strict_spans": "seqlab.metrics.entity_spans",
    "score_tag_file": "seqlab.metrics.tag_files",
    "tokenize_lines": "seqlab.metrics.tokenizers",
    "AlignmentChunk": "seqlab.metrics.edit_distance",
    "EditStatistics": "seqlab.metrics.edit_distance",
    "align": "seqlab.metrics.edit_distance",
    "edit_operations": "seqlab.metrics.edit_distance",
    "edit_statistics": "seqlab.metrics.edit_distance",
    "ProcessedCorpus": "seqlab.metrics.wer",
    "character_statistics": "seqlab.metrics.wer",
    "corpus_cer": "seqlab.metrics.wer",
    "corpus_wer": "seqlab.metrics.wer",
    "process_characters": "seqlab.metrics.wer",
    "process_words": "seqlab.metrics.wer",
    "word_statistics": "seqlab.metrics.wer",
    "TranscriptScore": "seqlab.metrics.wer_files",
    "score_transcripts": "seqlab.metrics.wer_files",
    "ConfusionMatrix": "seqlab.metrics.confusion",
    "confusion_matrix": "seqlab.metrics.confusion",
    "plot_confusion_matrix": "seqlab.metrics.confusion",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
