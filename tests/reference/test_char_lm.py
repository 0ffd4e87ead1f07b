"""The character-level language model: vocabulary, gradients, training and sampling."""

import numpy as np
import pytest

from seqlab.errors import SeqlabError
from seqlab.reference import CharLM, CharVocabulary, gradient_check, train_char_lm

RELATIVE_TOLERANCE = 1e-6  # gradient check, largest entrywise relative error
REPETITIVE_TEXT = "hello world! " * 20  # 9 distinct characters: log V = 2.197


@pytest.mark.parametrize("text", ["abc", "hello world!\n", "ça va — ünïcode ✓", "a"])
def test_vocabulary_round_trip(text):
    vocab = CharVocabulary.from_text(text)

    assert vocab.chars == tuple(sorted(set(text)))
    assert vocab.decode(vocab.encode(text)) == text


def test_vocabulary_rejects_empty_text_and_unknown_characters():
    with pytest.raises(SeqlabError, match="empty"):
        CharVocabulary.from_text("")
    with pytest.raises(SeqlabError, match="'xz'"):
        CharVocabulary.from_text("abc").encode("axbz")


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_loss_gradients_match_central_differences(cell):
    rng = np.random.default_rng(0)
    model = CharLM(CharVocabulary.from_text("abcd"), cell=cell, hidden_size=5, rng=rng)
    input_ids = rng.integers(0, 4, size=(4, 2))  # (T, B)
    target_ids = rng.integers(0, 4, size=(4, 2))
    state = tuple(rng.normal(size=(2, 5)) for _ in model.initial_state(2))

    loss, grads, _ = model.loss_and_grads(input_ids, target_ids, state)
    errors = gradient_check(lambda: model.loss_and_grads(input_ids, target_ids, state)[0], model.params, grads)

    assert loss > 0
    assert set(errors) == set(model.params)
    assert max(errors.values()) < RELATIVE_TOLERANCE, errors


@pytest.mark.parametrize("cell, learning_rate", [("rnn", 0.1), ("gru", 1.0), ("lstm", 1.0)])
def test_training_on_repetitive_text_drives_loss_far_below_log_vocab(cell, learning_rate):
    vocab = CharVocabulary.from_text(REPETITIVE_TEXT)
    model = CharLM(vocab, cell=cell, hidden_size=32, rng=np.random.default_rng(0))
    untrained = model.sample("h", 12, rng=np.random.default_rng(1), temperature=0.1)

    steps = list(
        train_char_lm(
            model,
            vocab.encode(REPETITIVE_TEXT),
            steps=300,
            seq_length=13,
            learning_rate=learning_rate,
        )
    )

    first, last = np.mean([s.loss for s in steps[:10]]), np.mean([s.loss for s in steps[-50:]])
    assert first > 0.75 * np.log(vocab.size)  # starts near uniform guessing
    assert last < 0.1 * np.log(vocab.size)
    assert untrained != "ello world! "
    assert model.sample("h", 12, rng=np.random.default_rng(1), temperature=0.1) == "ello world! "


class RecordingModel:
    """Stands in for CharLM: records each window and returns state + 1 as the next state."""

    def __init__(self):
        self.params = {}
        self.windows = []

    def initial_state(self):
        return (np.zeros((1, 1)),)

    def loss_and_grads(self, input_ids, target_ids, state):
        self.windows.append((input_ids[:, 0].tolist(), target_ids[:, 0].tolist(), state[0].item()))
        return 0.0, {}, (state[0] + 1,)


def test_training_reads_consecutive_windows_and_carries_the_state_within_an_epoch():
    model = RecordingModel()

    steps = list(train_char_lm(model, np.arange(11), steps=4, seq_length=4))

    assert model.windows == [
        ([0, 1, 2, 3], [1, 2, 3, 4], 0.0),
        ([4, 5, 6, 7], [5, 6, 7, 8], 1.0),  # the state of the last window carries over
        ([8, 9], [9, 10], 2.0),  # the last window is shorter
        ([0, 1, 2, 3], [1, 2, 3, 4], 0.0),  # a new epoch starts from a zero state
    ]
    assert [s.epoch for s in steps] == [1, 1, 1, 2]
    assert [s.step for s in steps] == [1, 2, 3, 4]


def test_training_needs_two_characters():
    model = RecordingModel()
    with pytest.raises(SeqlabError, match="at least 2"):
        next(train_char_lm(model, np.arange(1), steps=1))


def test_divergence_is_reported_not_propagated():
    class DivergingModel(RecordingModel):
        def loss_and_grads(self, input_ids, target_ids, state):
            return float("nan"), {}, state

    with pytest.raises(SeqlabError, match="training diverged: the loss is nan at step 1"):
        list(train_char_lm(DivergingModel(), np.arange(5), steps=3))


def _model(seed=0):
    vocab = CharVocabulary.from_text("abcde")
    return CharLM(vocab, cell="lstm", hidden_size=8, rng=np.random.default_rng(seed))


def test_sampling_is_reproducible_from_the_generator_seed():
    model = _model()

    first = model.sample("ab", 30, rng=np.random.default_rng(7))
    second = model.sample("ab", 30, rng=np.random.default_rng(7))

    assert first == second
    assert len(first) == 30 and set(first) <= set("abcde")


def test_sampling_at_low_temperature_is_greedy():
    model = _model(seed=3)
    ids, state = model.vocab.encode("a")[:, None], model.initial_state()
    greedy = []
    for _ in range(20):
        logits, state = model.predict(ids, state)
        ids = np.array([[int(np.argmax(logits[-1, 0]))]])
        greedy.append(int(ids[0, 0]))

    sample = model.sample("a", 20, rng=np.random.default_rng(0), temperature=1e-3)

    assert sample == model.vocab.decode(greedy)


@pytest.mark.parametrize(
    "prime, temperature, message",
    [("a", 0.0, "temperature"), ("a", -1.0, "temperature"), ("", 1.0, "prime"), ("z", 1.0, "'z'")],
)
def test_sampling_rejects_bad_arguments(prime, temperature, message):
    with pytest.raises(SeqlabError, match=message):
        _model().sample(prime, 5, rng=np.random.default_rng(0), temperature=temperature)


def test_unknown_cell_is_refused():
    with pytest.raises(SeqlabError, match="unknown cell"):
        CharLM(CharVocabulary.from_text("ab"), cell="transformer", rng=np.random.default_rng(0))
