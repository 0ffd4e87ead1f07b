"""Language modelling: word- and character-level models on a corpus, trained on the engine.

Example (the same run ``seqlab lm train notes.txt --out runs/notes --max-minutes 1`` starts):

    >>> from seqlab.tasks import lm  # doctest: +SKIP
    >>> settings = {"training": {"max_minutes": 1.0}}
    >>> report = lm.train("runs/notes", corpus="notes.txt", overrides=settings)  # doctest: +SKIP
    >>> report.held_out["perplexity"]  # doctest: +SKIP

Modules, in the order a run uses them: :mod:`~seqlab.tasks.lm.config` (data and batching
settings), :mod:`~seqlab.tasks.lm.presets` (the papers' configurations),
:mod:`~seqlab.tasks.lm.settings` (where a run's settings come from), :mod:`~seqlab.tasks.lm.data`
(corpus to token ids), :mod:`~seqlab.tasks.lm.task` (BPTT windows, loss, evaluation),
:mod:`~seqlab.tasks.lm.run` (the run), :mod:`~seqlab.tasks.lm.checkpoint` (loading a trained
model), :mod:`~seqlab.tasks.lm.evaluation` and :mod:`~seqlab.tasks.lm.neural_cache` (scoring text).
"""

from __future__ import annotations

from seqlab.lazy_exports import lazy_exports

_EXPORTS = {
    "CacheConfig": "seqlab.tasks.lm.neural_cache",
    "DataConfig": "seqlab.tasks.lm.config",
    "Evaluation": "seqlab.tasks.lm.evaluation",
    "LanguageModelReport": "seqlab.tasks.lm.run",
    "LanguageModelSettings": "seqlab.tasks.lm.settings",
    "LanguageModelTask": "seqlab.tasks.lm.task",
    "PRESETS": "seqlab.tasks.lm.presets",
    "Preset": "seqlab.tasks.lm.presets",
    "evaluate": "seqlab.tasks.lm.evaluation",
    "evaluate_text": "seqlab.tasks.lm.score_text",
    "evaluate_with_cache": "seqlab.tasks.lm.neural_cache",
    "get_preset": "seqlab.tasks.lm.presets",
    "load_language_model": "seqlab.tasks.lm.checkpoint",
    "new_settings": "seqlab.tasks.lm.settings",
    "read_vocab": "seqlab.tasks.lm.checkpoint",
    "train": "seqlab.tasks.lm.run",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
