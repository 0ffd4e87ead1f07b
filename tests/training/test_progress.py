"""Progress: a bar on a terminal, plain periodic lines in a log."""

from __future__ import annotations

import time

from seqlab.training.progress import EpochProgress


def test_away_from_a_terminal_progress_is_plain_lines_at_an_interval(monkeypatch):
    clock = iter([0.0, 10.0, 30.0, 61.0, 70.0, 125.0, 126.0])
    monkeypatch.setattr(time, "monotonic", lambda: next(clock))
    lines = []
    with EpochProgress(2, 1000, 100, enabled=True, unit="word", log=lines.append, terminal=False) as progress:
        for _ in range(5):
            progress.update(100, 4.0)
    # Lines after 61 s and 125 s (every 60 s), and one at the end of the epoch.
    assert len(lines) == 3
    assert lines[0].startswith("epoch 2 |  40.0% | 400/1,000 words |") and "words/s" in lines[0]
    assert lines[-1].startswith("epoch 2 |  60.0% | 600/1,000 words")
    assert all("\r" not in line and "ppl 54.6" in line for line in lines)


def test_characters_show_bits_per_character():
    lines = []
    with EpochProgress(1, 10, 0, enabled=True, unit="char", log=lines.append, terminal=False, interval=0) as progress:
        progress.update(5, 0.6931471805599453)
    assert "bpc 1.000" in lines[0]


def test_disabled_progress_says_nothing():
    lines = []
    with EpochProgress(1, 10, 0, enabled=False, log=lines.append, terminal=False, interval=0) as progress:
        progress.update(5, 1.0)
    assert lines == []


def test_a_loss_per_sentence_counted_in_words_shows_no_perplexity():
    lines = []
    with EpochProgress(1, 90, 0, enabled=True, unit="word", loss_unit="sentence", log=lines.append, terminal=False,
                       interval=0) as progress:  # fmt: skip
        progress.update(9, 0.7)
    assert lines[0].startswith("epoch 1 |  10.0% | 9/90 words |") and "loss 0.700" in lines[0]
    assert "ppl" not in lines[0] and "bpc" not in lines[0]
