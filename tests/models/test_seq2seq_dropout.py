"""The dropout variants of the RNN encoder–decoder, each by its defining property: a locked mask is one
per sentence at every position, a dropped word is zeros wherever it occurs, DropConnect holds one
mask over all the decoder's steps, and the two ways of training (teacher forced, or stepped token by
token) read the same masks. (One layer each side: between stacked layers the RNN's own dropout is
per position.)"""

from __future__ import annotations

import copy

import pytest
import torch

from seqlab.errors import SeqlabError
from seqlab.models.seq2seq import Seq2Seq
from seqlab.models.seq2seq_configs import Seq2SeqConfig
from seqlab.nn import recurrent
from tests.models.test_seq2seq import SOURCE_VOCAB, TARGET_VOCAB, make_batch

ALL_ON = {"dropout": 0.4, "dropout_kind": "locked", "word_dropout": 0.3, "weight_drop": 0.3}


def make_model(attention="bahdanau", cell="gru", **overrides) -> Seq2Seq:
    torch.manual_seed(0)
    settings = dict(source_vocab_size=SOURCE_VOCAB, target_vocab_size=TARGET_VOCAB, attention=attention, cell=cell,
                    embedding_size=6, hidden_size=5, attention_size=4, dropout=0.0)  # fmt: skip
    return Seq2Seq(Seq2SeqConfig(**(settings | overrides))).double().train()


def seeded(function, *arguments, seed=7, **keywords):
    torch.manual_seed(seed)
    return function(*arguments, **keywords)


DECODERS = [("none", True), ("bahdanau", True), ("luong-general", True), ("luong-general", False)]


@pytest.mark.parametrize("attention, input_feeding", DECODERS)
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_teacher_forced_and_stepped_training_read_the_same_held_masks(attention, input_feeding, cell):
    """Stepping with the gold token fed by a coin that always lands "gold" equals teacher forcing from the
    same seed: every locked, word and DropConnect mask is drawn before the first step and held. (Luong
    without input feeding runs its RNN once over all steps when teacher forced, once per step otherwise.)"""
    model = make_model(attention, cell, input_feeding=input_feeding, **ALL_ON)
    source, lengths, target_input, targets = make_batch()
    forced = seeded(model, source, lengths, target_input, targets=targets)
    stepped = seeded(model, source, lengths, target_input, targets=targets, teacher_forcing=1 - 1e-12)
    torch.testing.assert_close(stepped.logits, forced.logits, rtol=0, atol=1e-12)


def test_standard_dropout_draws_fresh_masks_at_every_step_so_the_two_ways_differ():
    model = make_model("bahdanau", dropout=0.4)
    source, lengths, target_input, targets = make_batch()
    forced = seeded(model, source, lengths, target_input, targets=targets)
    stepped = seeded(model, source, lengths, target_input, targets=targets, teacher_forcing=1 - 1e-12)
    assert not torch.allclose(stepped.logits, forced.logits)


def test_a_locked_mask_is_one_per_sentence_the_same_at_every_position():
    model = make_model("bahdanau", dropout=0.5, dropout_kind="locked")
    source, lengths, _, _ = make_batch()
    state = seeded(model.start, source, lengths)
    repeated = torch.full((2, 7), 4)  # one word at every position of both sentences
    embedded = model.decoder.embed(repeated, state)  # (2, 7, E)
    plain = model.decoder.embedding.weight[4]
    for sentence in range(2):
        assert torch.equal(embedded[sentence], embedded[sentence, :1].expand(7, -1))
        kept = embedded[sentence, 0] != 0
        torch.testing.assert_close(embedded[sentence, 0][kept], plain[kept] / 0.5, rtol=0, atol=1e-12)
    assert not torch.equal(embedded[0, 0], embedded[1, 0])  # each sentence draws its own
    torch.testing.assert_close(model.decoder.embed(repeated[:, 3], state), embedded[:, 3], rtol=0, atol=0)


def test_the_source_locked_mask_is_one_per_sentence_too():
    model = make_model("bahdanau", dropout=0.5, dropout_kind="locked")
    captured = []
    model.encoder.rnn.register_forward_hook(lambda module, inputs, output: captured.append(inputs[0]))
    source = torch.full((2, 6), 5)
    seeded(model.encoder, source, torch.tensor([6, 6]))
    embedded, _ = torch.nn.utils.rnn.pad_packed_sequence(captured[0], batch_first=True)  # (2, 6, E)
    for sentence in range(2):
        assert torch.equal(embedded[sentence], embedded[sentence, :1].expand(6, -1))


def test_word_dropout_drops_a_word_wherever_it_occurs_in_the_batch():
    p = 0.5
    model = make_model("bahdanau", word_dropout=p)
    source, lengths, _, _ = make_batch()
    state = seeded(model.start, source, lengths)
    words = torch.arange(TARGET_VOCAB).repeat(3, 1)  # every word three times
    embedded = model.decoder.embed(words, state)  # (3, V, E)
    weight = model.decoder.embedding.weight
    real = range(1, TARGET_VOCAB)  # padding (0) embeds as zeros anyway
    dropped = [word for word in real if bool((embedded[0, word] == 0).all())]
    assert 0 < len(dropped) < len(real)
    for word in real:
        expected = torch.zeros_like(weight[word]) if word in dropped else weight[word] / (1 - p)
        for row in range(3):
            torch.testing.assert_close(embedded[row, word], expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("attention", ["bahdanau", "luong-general"])
def test_every_decoder_step_reads_the_one_dropconnect_mask_of_its_batch(monkeypatch, attention):
    """Merity et al. 2018, §2: one mask per batch. A training pass equals an evaluation of the same
    model whose W_hh are replaced by the masked matrices drawn, each drawn once though the decoder
    runs its RNN once per step."""
    model = make_model(attention, weight_drop=0.5)
    drawn = []  # (parameter, its masked copy) in the order drawn

    def recording_drop_connect(weight, p, training):
        masked = torch.nn.functional.dropout(weight, p, training=training)
        drawn.append((weight, masked))
        return masked

    monkeypatch.setattr(recurrent, "drop_connect", recording_drop_connect)
    source, lengths, target_input, targets = make_batch()
    trained = seeded(model, source, lengths, target_input, targets=targets)
    names = {id(parameter): name for name, parameter in model.named_parameters()}
    drawn_names = [names[id(weight)] for weight, _ in drawn]
    assert sorted(drawn_names) == sorted(name for name in names.values() if "weight_hh" in name)  # each once
    frozen = copy.deepcopy(model).eval()
    with torch.no_grad():
        for (_, masked), name in zip(drawn, drawn_names):
            frozen.get_parameter(name).copy_(masked)
    torch.testing.assert_close(frozen(source, lengths, target_input).logits, trained.logits, rtol=0, atol=1e-12)


@pytest.mark.parametrize("attention", ["bahdanau", "luong-concat"])
def test_in_evaluation_the_variants_change_nothing(attention):
    source, lengths, target_input, targets = make_batch()
    plain = make_model(attention).eval()
    regularised = make_model(attention, **ALL_ON).eval()
    torch.testing.assert_close(regularised(source, lengths, target_input).logits,
                               plain(source, lengths, target_input).logits, rtol=0, atol=0)  # fmt: skip
    assert regularised.start(source, lengths).masks is None


@pytest.mark.parametrize("attention", ["bahdanau", "luong-general"])
def test_gradients_through_the_held_masks_pass_gradcheck(attention):
    model = make_model(attention, hidden_size=3, embedding_size=2, attention_size=2, **ALL_ON)
    source, lengths, target_input, targets = make_batch()
    names, values = zip(*model.named_parameters())

    def loss(*weights):  # the same masks at every evaluation: the seed is set inside
        arguments = (source, lengths, target_input, targets)
        return seeded(torch.func.functional_call, model, dict(zip(names, weights)), arguments).loss

    weights = tuple(value.detach().clone().requires_grad_(True) for value in values)
    assert torch.autograd.gradcheck(loss, weights, eps=1e-6, atol=1e-6, fast_mode=True)


@pytest.mark.parametrize(
    "setting, message",
    [({"dropout_kind": "zoned"}, "dropout_kind must be one of"), ({"word_dropout": 1.0}, "word_dropout must be in"),
     ({"weight_drop": -0.1}, "weight_drop must be in")],
)  # fmt: skip
def test_bad_dropout_settings_are_refused_by_name(setting, message):
    with pytest.raises(SeqlabError, match=message):
        Seq2SeqConfig(source_vocab_size=5, target_vocab_size=5, **setting)
