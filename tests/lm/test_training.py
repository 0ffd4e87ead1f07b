"""The engine on the language-model task: schedules, stopping, averaging, divergence, exact repeats."""

from __future__ import annotations

import math
import random
import time

import pytest
import torch

from seqlab.data import CharVocab
from seqlab.models import LanguageModelOutput, RNNLanguageModel, RNNLMConfig
from seqlab.tasks.lm.config import DataConfig
from seqlab.tasks.lm.data import LanguageModelData
from seqlab.tasks.lm.evaluation import evaluate
from seqlab.tasks.lm.task import VARIABLE_BPTT_MIN, LanguageModelTask, window_length
from seqlab.training import (
    TrainConfig,
    TrainingDiverged,
    TrainingRun,
    TrainingState,
    learning_rate,
    make_optimizer,
    seed_everything,
    train,
)
from seqlab.training.loop import stop_reason
from seqlab.training.optim import MIN_LR_FRACTION
from seqlab.training.task import Selection
from tests.saved_weights import record_weights_after_each_step


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (0, 0.1),  # warm-up: lr * (step + 1) / warmup_steps
        (9, 1.0),
        (10, 1.0),  # cosine starts at the peak
        (60, (1.0 + MIN_LR_FRACTION) / 2),  # halfway
        (110, MIN_LR_FRACTION),  # the end of the schedule
        (500, MIN_LR_FRACTION),  # and flat after it
    ],
)
def test_cosine_schedule_with_warmup(step, expected):
    config = TrainConfig(lr=1.0, warmup_steps=10, lr_schedule="cosine")
    assert math.isclose(learning_rate(config, step, total_steps=110), expected, abs_tol=1e-12)


def test_constant_schedule_after_warmup():
    config = TrainConfig(lr=0.5, warmup_steps=2, lr_schedule="constant")
    assert [learning_rate(config, step, 100) for step in range(4)] == [0.25, 0.5, 0.5, 0.5]


def test_step_schedule_halves_the_rate_each_epoch_after_the_first_four_like_zaremba():
    config = TrainConfig(lr=1.0, warmup_steps=0, lr_schedule="step", lr_decay=0.5, lr_decay_start=4)
    rates = [learning_rate(config, step=1000, total_steps=1, epoch=epoch) for epoch in range(7)]
    assert rates == [1.0, 1.0, 1.0, 1.0, 0.5, 0.25, 0.125]


def setup_run(corpus_text: str, variable_bptt: bool = False, **train_settings):
    """A run of a tiny character LSTM on ``corpus_text``: 4 streams, windows of 16."""
    vocab = CharVocab.from_text(corpus_text)
    tokens = torch.tensor(vocab.encode(corpus_text))
    data = LanguageModelData(vocab, tokens[:-400], tokens[-400:], None, "test text", {})
    task = LanguageModelTask(data, DataConfig(batch_size=4, bptt=16, variable_bptt=variable_bptt), torch.device("cpu"))
    config = TrainConfig(**{"eval_every": 5, **train_settings})
    seed_everything(config.seed)
    model = RNNLanguageModel(RNNLMConfig(vocab_size=len(vocab), embedding_size=8, hidden_size=16, dropout=0.1))
    run = TrainingRun.start(model, make_optimizer(model.parameters(), config))
    return run, task, config


def quiet_train(run, task, config, **options):
    return train(run, task, config, log=lambda line: None, progress=False, **options)


def test_training_lowers_the_held_out_loss(corpus_text):
    run, task, config = setup_run(corpus_text, epochs=3)
    before = evaluate(run.model, task.streams["valid"], 16)
    result = quiet_train(run, task, config)
    assert result.scores["loss"] < before.loss - 0.3
    assert math.isclose(result.scores["perplexity"], math.exp(result.scores["loss"]))


def test_stops_at_max_steps_and_saves_after_each_evaluation(corpus_text):
    run, task, config = setup_run(corpus_text, max_steps=12)
    saved_steps, lines = [], []
    result = train(run, task, config, save=lambda run: saved_steps.append(run.state.step), log=lines.append,
                   progress=False)  # fmt: skip
    assert run.state.step == 12
    assert result.stop_reason == "reached max_steps=12"
    assert saved_steps == [5, 10, 12]
    assert all("bpc" in line for line in lines) and len(lines) == 3


def test_every_evaluation_is_recorded_in_the_history(corpus_text):
    run, task, config = setup_run(corpus_text, max_steps=10)
    quiet_train(run, task, config)
    assert [record["step"] for record in run.state.history] == [5, 10]
    record = run.state.history[-1]
    assert record["train_loss"] > 0 and record["valid_loss"] > 0
    assert record["lr"] == pytest.approx(config.lr * 10 / config.warmup_steps)  # the rate of step 10
    assert math.isclose(record["valid_perplexity"], math.exp(record["valid_loss"]))
    assert 0 < record["epoch"] < 1 and not record["epoch_end"] and not record["averaging"]


def test_an_epoch_ends_with_an_evaluation_and_a_fresh_state(corpus_text):
    run, task, config = setup_run(corpus_text, epochs=1)
    carries = []
    result = quiet_train(run, task, config, save=lambda run: carries.append(run.carry))
    assert (run.state.epoch, run.state.position) == (1, 0)
    assert result.stop_reason == "finished 1 epoch(s)"
    assert carries[-1] is None and carries[0] is not None
    assert run.state.history[-1]["epoch_end"] and run.state.history[-1]["epoch"] == 1


def test_the_time_limit_is_checked_after_every_step(monkeypatch):
    clock = iter(range(1000))  # a clock that advances one second each time it is read
    monkeypatch.setattr(time, "monotonic", lambda: float(next(clock)))
    run, task, config = setup_run("abcdefgh" * 200)
    config.max_minutes = 5 / 60  # read at 0 s: the deadline is at 5 s
    result = quiet_train(run, task, config)
    # Read at 1 s before the first step, then at 2, 3, 4, 5 s after steps 1 to 4.
    assert run.state.step == 4
    assert result.stop_reason == "reached the 0.0833333-minute limit"


def test_same_seed_same_weights(corpus_text):
    weights = []
    for _ in range(2):
        run, task, config = setup_run(corpus_text, max_steps=8, variable_bptt=True)
        quiet_train(run, task, config)
        weights.append(run.model.state_dict())
    for name, value in weights[0].items():
        assert torch.equal(value, weights[1][name]), name


def test_variable_bptt_draws_lengths_around_bptt_like_awd_lstm():
    config = DataConfig(bptt=70, variable_bptt=True)
    random.seed(0)
    lengths = [window_length(config) for _ in range(4000)]
    assert min(lengths) >= VARIABLE_BPTT_MIN
    halves = sum(length < 52 for length in lengths) / len(lengths)  # 35 ± 3.4 sigma vs 70 ± 3.6 sigma
    assert 0.04 < halves < 0.06
    full = [length for length in lengths if length >= 52]
    assert abs(sum(full) / len(full) - 69.5) < 0.5  # int() of a normal around 70 floors by 0.5 on average
    assert window_length(DataConfig(bptt=70)) == 70


def test_variable_windows_tile_the_epoch_and_scale_the_learning_rate(corpus_text):
    run, task, config = setup_run(corpus_text, epochs=1, variable_bptt=True, optimizer="sgd", lr=1.0, warmup_steps=0)
    lengths, rates = [], []
    step = run.optimizer.step

    def recording_step(*args, **kwargs):
        rates.append(run.optimizer.param_groups[0]["lr"])
        return step(*args, **kwargs)

    run.model.register_forward_pre_hook(
        lambda module, args: lengths.append(args[0].size(0)) if module.training else None
    )
    run.optimizer.step = recording_step
    quiet_train(run, task, config)
    assert sum(lengths) == task.streams["train"].size(0) - 1  # every row once, no gaps
    assert len(set(lengths)) > 2
    full = lengths[:-1]  # the last window is cut by the end of the streams
    assert rates[:-1] == pytest.approx([length / 16 for length in full])


def test_nt_asgd_starts_averaging_when_validation_stops_improving(corpus_text, monkeypatch):
    run, task, config = setup_run(corpus_text, epochs=5, optimizer="nt-asgd", nonmono=1, eval_every=10_000)
    run.state.history = [{"valid_loss": loss, "epoch_end": True} for loss in (2.0, 1.5)]  # as if two epochs ran
    run.state.epoch = 2
    # Epoch 3 improves; epoch 4 (1.6) is worse than 1.5, the best of the previous epochs but the last
    # one, but prev = [2.0, 1.5, 1.4] and min(prev[:-1]) = 1.5: NT-ASGD switches there.
    losses = iter([1.4, 1.6, 1.7])
    monkeypatch.setattr(task, "evaluate", lambda model, split: {"nll": next(losses), "tokens": 1.0})
    switched = []
    quiet_train(run, task, config, save=lambda run: switched.append(run.state.averaging_since is not None))
    assert switched == [False, True, True]  # switched at the end of epoch 4
    assert [record["averaging"] for record in run.state.history[2:]] == [False, False, True]
    assert run.averager.active  # epoch 5 was averaged


def test_asgd_evaluates_and_returns_the_average_of_the_weights_since_the_start(corpus_text):
    run, task, config = setup_run(corpus_text, max_steps=6, optimizer="asgd", eval_every=100)
    snapshots = record_weights_after_each_step(run)
    result = quiet_train(run, task, config)
    assert run.state.averaging_since == 0 and run.averager.count == 6
    for index, average in enumerate(run.averager.averages):
        expected = torch.stack([snapshot[index] for snapshot in snapshots]).mean(0)
        torch.testing.assert_close(average, expected, rtol=1e-5, atol=1e-6)
    with run.averager.applied():
        assert evaluate(run.model, task.streams["valid"], 16).loss == pytest.approx(result.scores["loss"])
    assert evaluate(run.model, task.streams["valid"], 16).loss != pytest.approx(result.scores["loss"])


def test_patience_stops_when_an_epoch_is_worse_than_the_best_before_the_last_n():
    config = TrainConfig(patience=2, max_minutes=None, epochs=100)
    state = TrainingState(epoch=4)
    state.history = [{"valid_loss": loss, "epoch_end": True} for loss in (3.0, 2.5, 2.6, 2.4)]
    assert stop_reason(config, state, None) is None  # 2.4 beats 2.5, the best before the last two
    state.history.append({"valid_loss": 2.45, "epoch_end": True})  # worse than 2.4, the best so far ...
    assert stop_reason(config, state, None) is None  # ... but the best before the last two is 2.5
    state.history.append({"valid_loss": 2.7, "epoch_end": True})
    assert stop_reason(config, state, None) == "validation stopped improving (patience 2)"


def blow_up_from_training_call(model, call: int) -> None:
    """Make ``model``'s loss NaN from its ``call``-th call in training mode on."""
    forward, calls = model.forward, []

    def forward_that_blows_up(inputs, state=None, targets=None):
        output = forward(inputs, state, targets)
        if model.training:
            calls.append(None)
            if len(calls) >= call:
                return output._replace(loss=output.loss * float("nan"))
        return output

    model.forward = forward_that_blows_up


def test_a_nan_loss_stops_training_before_the_step_and_says_where(corpus_text):
    run, task, config = setup_run(corpus_text, max_steps=20)
    saved = []
    blow_up_from_training_call(run.model, 8)
    with pytest.raises(TrainingDiverged, match=r"the loss is nan at step 8 \(epoch 1, training row 112"):
        quiet_train(run, task, config, save=lambda run: saved.append(
            {name: value.clone() for name, value in run.model.state_dict().items()}))  # fmt: skip
    assert run.state.step == 7 and len(saved) == 1  # the checkpoint at step 5 is the last
    assert all(torch.isfinite(parameter).all() for parameter in run.model.parameters())


def test_an_infinite_gradient_is_caught_too(corpus_text):
    run, task, config = setup_run(corpus_text, max_steps=3)
    run.model.embedding.weight.register_hook(lambda grad: grad * float("inf"))
    with pytest.raises(TrainingDiverged, match="the gradient norm is not finite at step 1"):
        quiet_train(run, task, config)


def test_the_output_type_is_what_the_loop_reads():
    assert LanguageModelOutput._fields == ("logits", "state", "loss", "cross_entropy", "features")


def test_held_out_text_is_batched_like_training_unless_told_otherwise():
    assert DataConfig(batch_size=7).held_out_batch_size == 7
    assert DataConfig(batch_size=7, eval_batch_size=3).held_out_batch_size == 3


def awd_lstm_switches(losses: list[float], nonmono: int) -> bool:
    """AWD-LSTM's main.py, written out: ``losses`` ends with the newest epoch's ``val_loss``.

    if 't0' not in optimizer.param_groups[0] and (len(best_val_loss) > args.nonmono
                                                 and val_loss > min(best_val_loss[:-args.nonmono])):
        ... switch to ASGD ...
    best_val_loss.append(val_loss)
    """
    best_val_loss, val_loss = losses[:-1], losses[-1]  # the list does not yet hold the newest loss
    return len(best_val_loss) > nonmono and val_loss > min(best_val_loss[:-nonmono])


def test_the_non_monotone_trigger_is_awd_lstms_with_nonmono_five_not_four():
    # Five earlier epochs: AWD-LSTM needs more than nonmono=5 of them before it may switch.
    losses = [1.0, 2.0, 2.0, 2.0, 2.0, 1.5]
    assert not awd_lstm_switches(losses, 5)
    assert not Selection().stopped_improving(losses, 5)
    assert Selection().stopped_improving([*losses[:-1], 2.0, 1.5], 5) == awd_lstm_switches([*losses[:-1], 2.0, 1.5], 5)


@pytest.mark.parametrize("nonmono", [1, 2, 5])
def test_the_non_monotone_trigger_agrees_with_awd_lstm_on_random_histories(nonmono):
    generator = random.Random(nonmono)
    for _ in range(500):
        losses = [generator.uniform(1.0, 2.0) for _ in range(generator.randint(1, 12))]
        assert Selection().stopped_improving(losses, nonmono) == awd_lstm_switches(losses, nonmono), losses


def test_a_score_where_higher_is_better_stalls_when_it_falls():
    bleu = Selection("bleu", higher_is_better=True)
    assert bleu.stopped_improving([20.0, 25.0, 24.0], 1) == (24.0 < 20.0)
    assert bleu.stopped_improving([20.0, 25.0, 26.0, 19.0], 1)
