"""Speech recognition with CTC: spoken digits, isolated or connected, trained on the engine.

Read top to bottom, the folder is the recipe:

    config       the data settings: which utterances, how they are made, which features (torch-free)
    data         the recordings split by recording and speaker, and every split's utterances
    features     what the model hears: log-mel or MFCC frames, normalised, SpecAugment on training batches
    task         what a batch is, what the model is asked (CTC), what is measured (WER, accuracy)
    presets      isolated and connected digits
    checkpoint   loading a trained recogniser back
    run          a whole training run, from Python or from ``seqlab speech train``
    recognising  transcribing files, scoring the held-out utterances, confusions and alignments as pictures

The model is :class:`seqlab.models.acoustic_model.AcousticModel`; the recordings are read and
connected utterances made by :mod:`seqlab.data.spoken_digits`; audio and features by :mod:`seqlab.audio`;
CTC decoding by :mod:`seqlab.decode.ctc`.
"""

from __future__ import annotations

from seqlab.lazy_exports import lazy_exports

_EXPORTS = {
    "PRESETS": "seqlab.tasks.speech.presets",
    "evaluate_held_out": "seqlab.tasks.speech.recognising",
    "load_recogniser": "seqlab.tasks.speech.checkpoint",
    "train": "seqlab.tasks.speech.run",
    "transcribe_files": "seqlab.tasks.speech.recognising",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
