"""Which evaluation's weights are the best: every evaluation is a candidate, ties go to the latest."""

from __future__ import annotations

from seqlab.training.fit import ReportedWeights, is_best
from seqlab.training.task import Selection

LOSS, BLEU = Selection(), Selection("bleu", higher_is_better=True)


def record(step: int, epoch: float, loss: float, *, epoch_end: bool) -> dict:
    return {"step": step, "epoch": epoch, "epoch_end": epoch_end, "valid_loss": loss, "valid_bleu": -loss}


def test_the_evaluation_a_time_limit_makes_part_way_through_an_epoch_can_be_the_best():
    history = [record(100, 1.0, 3.0, epoch_end=True), record(200, 2.0, 2.5, epoch_end=True)]
    assert is_best(history, LOSS)
    history.append(record(260, 2.6, 2.4, epoch_end=False))  # the run stopped at its limit here
    assert is_best(history, LOSS) and is_best(history, BLEU)
    history.append(record(300, 3.0, 2.45, epoch_end=True))
    assert not is_best(history, LOSS)


def test_a_tie_makes_the_latest_evaluation_the_best():
    history = [record(100, 1.0, 2.0, epoch_end=True), record(200, 2.0, 2.0, epoch_end=True)]
    assert is_best(history, LOSS)


def test_nothing_evaluated_is_never_the_best():
    assert not is_best([], LOSS)


def test_the_reported_weights_name_their_evaluation():
    assert str(ReportedWeights("best", record(200, 2.0, 2.5, epoch_end=True))) == "best (epoch 2, step 200)"
    assert str(ReportedWeights("best", record(1311, 5.775, 2.5, epoch_end=False))) == "best (epoch 5.78, step 1,311)"
    assert str(ReportedWeights("last", record(1311, 5.775, 2.5, epoch_end=False))) == "last (step 1,311)"
