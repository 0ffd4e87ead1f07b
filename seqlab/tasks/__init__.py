"""The tasks: one folder each, holding its data handling, model choice, metrics, presets and Task.

Each task folder reads top to bottom like a recipe: ``config.py`` (what its data settings
are), ``data.py`` (reading and encoding), ``task.py`` (what a batch is, what the model is
asked, what is measured), ``presets.py`` (which settings reproduce which paper) and
``run.py`` (a whole run, callable from Python and from ``seqlab``). What the tasks' settings
share is in :mod:`seqlab.tasks.run_settings`.

- :mod:`seqlab.tasks.lm`: word- and character-level language models.
- :mod:`seqlab.tasks.translate`: sequence to sequence with attention, beam search and BLEU.
- :mod:`seqlab.tasks.classify`: sentence classification (sentiment on the Sentiment Treebank).
- :mod:`seqlab.tasks.tag`: sequence tagging (named entities) with a BiLSTM and a CRF.
- :mod:`seqlab.tasks.speech`: speech recognition of spoken digits with CTC.
- :mod:`seqlab.tasks.trigger`: trigger-word detection over a stream of audio.
"""
