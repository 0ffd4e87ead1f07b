"""Trigger-word detection: a word (one spoken digit) heard in a stream of audio, trained on the engine.

Read top to bottom, the folder is the recipe:

    config      the data settings: the trigger, how clips are made, the labels, the firing rule (torch-free)
    data        clips of noise with the trigger and distractors laid in, times exact; labels per output step
    features    what the model hears: log-mel frames computed causally, the same in a stream as over a file
    task        what a batch is, what the model is asked (weighted BCE per step), what is measured (event counts)
    events      when the detector fires (threshold, refractory period), which firings hit a trigger, the scores
    presets     the material's detector on spoken digits
    checkpoint  loading a trained detector back
    run         a whole training run, from Python or from ``seqlab trigger train``
    detecting   the streaming detector over a recording, the held-out evaluation, chimes mixed in at the firings
    plots       the detector's output over time; misses against false alarms per hour

The model is :class:`seqlab.models.trigger_detector.TriggerDetector`; the recordings are read by
:mod:`seqlab.data.spoken_digits`; audio, noise and features by :mod:`seqlab.audio`.
"""

from __future__ import annotations

from seqlab.lazy_exports import lazy_exports

_EXPORTS = {
    "PRESETS": "seqlab.tasks.trigger.presets",
    "StreamingDetector": "seqlab.tasks.trigger.detecting",
    "detect_file": "seqlab.tasks.trigger.detecting",
    "evaluate_held_out": "seqlab.tasks.trigger.detecting",
    "load_detector": "seqlab.tasks.trigger.checkpoint",
    "train": "seqlab.tasks.trigger.run",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
