"""The training loop: schedule, stopping, and runs that repeat exactly from a seed."""

from __future__ import annotations

import math
import time

import pytest
import torch

from seqlab.data import CharVocab, batchify
from seqlab.models import CharLM, CharLMConfig
from seqlab.training import (
    TrainConfig,
    TrainingState,
    evaluate,
    learning_rate,
    make_optimizer,
    seed_everything,
    train,
)
from seqlab.training.optim import MIN_LR_FRACTION


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


def setup_run(corpus_text: str, **train_settings):
    vocab = CharVocab.from_text(corpus_text)
    tokens = torch.tensor(vocab.encode(corpus_text))
    train_streams, valid_streams = batchify(tokens[:-400], 4), batchify(tokens[-400:], 4)
    config = TrainConfig(bptt=16, max_minutes=None, eval_every=5, **train_settings)
    seed_everything(config.seed)
    model = CharLM(CharLMConfig(vocab_size=len(vocab), embedding_size=8, hidden_size=16, dropout=0.1))
    return model, make_optimizer(model.parameters(), config), train_streams, valid_streams, config


def test_training_lowers_the_held_out_loss(corpus_text):
    model, optimizer, train_streams, valid_streams, config = setup_run(corpus_text, epochs=3)
    before = evaluate(model, valid_streams, config.bptt)
    result = train(
        model, optimizer, train_streams, valid_streams, config, TrainingState(), log=lambda line: None, progress=False
    )
    assert result.evaluation.loss < before.loss - 0.3
    assert math.isclose(result.evaluation.bits_per_char, result.evaluation.loss / math.log(2))
    assert math.isclose(result.evaluation.perplexity, math.exp(result.evaluation.loss))


def test_stops_at_max_steps_and_saves_after_each_evaluation(corpus_text):
    model, optimizer, train_streams, valid_streams, config = setup_run(corpus_text, max_steps=12)
    saved_steps, lines = [], []
    state = TrainingState()
    result = train(
        model,
        optimizer,
        train_streams,
        valid_streams,
        config,
        state,
        save=lambda state, carry: saved_steps.append(state.step),
        log=lines.append,
        progress=False,
    )
    assert state.step == 12
    assert result.stop_reason == "reached max_steps=12"
    assert saved_steps == [5, 10, 12]
    assert all("bpc" in line for line in lines) and len(lines) == 3


def test_an_epoch_ends_with_an_evaluation_and_a_fresh_state(corpus_text):
    model, optimizer, train_streams, valid_streams, config = setup_run(corpus_text, epochs=1)
    carries = []
    state = TrainingState()
    result = train(
        model,
        optimizer,
        train_streams,
        valid_streams,
        config,
        state,
        save=lambda state, carry: carries.append(carry),
        log=lambda line: None,
        progress=False,
    )
    assert (state.epoch, state.window) == (1, 0)
    assert result.stop_reason == "finished 1 epoch(s)"
    assert carries[-1] is None and carries[0] is not None


def test_the_time_limit_is_checked_after_every_step(monkeypatch):
    clock = iter(range(1000))  # a clock that advances one second each time it is read
    monkeypatch.setattr(time, "monotonic", lambda: float(next(clock)))
    model, optimizer, train_streams, valid_streams, config = setup_run("abcdefgh" * 200)
    config.max_minutes = 5 / 60  # read at 0 s: the deadline is at 5 s
    state = TrainingState()
    result = train(model, optimizer, train_streams, valid_streams, config, state, log=lambda line: None, progress=False)
    # Read at 1 s before the first step, then at 2, 3, 4, 5 s after steps 1 to 4.
    assert state.step == 4
    assert result.stop_reason == "reached the 0.0833333-minute limit"


def test_same_seed_same_weights(corpus_text):
    weights = []
    for _ in range(2):
        model, optimizer, train_streams, valid_streams, config = setup_run(corpus_text, max_steps=8)
        train(
            model,
            optimizer,
            train_streams,
            valid_streams,
            config,
            TrainingState(),
            log=lambda line: None,
            progress=False,
        )
        weights.append(model.state_dict())
    for name, value in weights[0].items():
        assert torch.equal(value, weights[1][name]), name
