"""The Transformer encoder–decoder: one computation whether teacher forced or stepped from its cache, blind
to padding and to the future, and Vaswani et al. 2017's embedding scale written out here (its layers are
tested in tests/nn/test_transformer.py)."""

from __future__ import annotations

import doctest
import math
import subprocess
import sys

import pytest
import torch

from seqlab.errors import SeqlabError
from seqlab.models import transformer_configs, transformer_seq2seq
from seqlab.models.seq2seq_output import with_loss
from seqlab.models.transformer_configs import TransformerConfig
from seqlab.models.transformer_seq2seq import TransformerSeq2Seq
from seqlab.nn.transformer import sinusoidal_positions

SOURCE_VOCAB, TARGET_VOCAB = 11, 9
NORMS = [True, False]  # pre-norm, post-norm


def make_model(**overrides) -> TransformerSeq2Seq:
    torch.manual_seed(0)
    settings = dict(
        source_vocab_size=SOURCE_VOCAB,
        target_vocab_size=TARGET_VOCAB,
        d_model=8,
        nhead=2,
        num_encoder_layers=2,
        num_decoder_layers=2,
        dim_feedforward=12,
        dropout=0.0,
    )
    model = TransformerSeq2Seq(TransformerConfig(**(settings | overrides))).double()
    return model.eval()


def make_batch():
    """Two sources of lengths 5 and 3 (padded with 0) and targets of lengths 4 and 2."""
    source = torch.tensor([[3, 4, 5, 6, 7], [8, 9, 10, 0, 0]])
    lengths = torch.tensor([5, 3])
    target_input = torch.tensor([[1, 3, 4, 5], [1, 6, 0, 0]])  # <bos>=1, then the target
    targets = torch.tensor([[3, 4, 5, 2], [6, 2, 0, 0]])  # the target, then <eos>=2
    return source, lengths, target_input, targets


@pytest.mark.parametrize("norm_first", NORMS)
def test_teacher_forcing_scores_what_stepping_from_the_cache_scores(norm_first):
    model = make_model(norm_first=norm_first)
    source, lengths, target_input, _ = make_batch()
    out = model(source, lengths, target_input)
    state = model.start(source, lengths)
    for t in range(target_input.size(1)):
        log_probs, state = model.step(target_input[:, t], state, keep_attention=True)
        assert state.steps == t + 1  # one position cached per step: the prefix is never run again
        torch.testing.assert_close(log_probs, torch.log_softmax(out.logits[:, t], -1), rtol=0, atol=1e-10)
    torch.testing.assert_close(state.attention, out.attention, rtol=0, atol=1e-10)
    _, state = model.step(target_input[:, 0], state)
    assert state.attention is None


@pytest.mark.parametrize("norm_first", NORMS)
def test_padding_is_never_read_and_a_batch_equals_its_sentences_alone(norm_first):
    model = make_model(norm_first=norm_first)
    source, lengths, target_input, _ = make_batch()
    out = model(source, lengths, target_input)
    other_padding = source.clone()
    other_padding[1, 3:] = 7
    torch.testing.assert_close(model(other_padding, lengths, target_input).logits, out.logits, rtol=0, atol=1e-12)
    alone = model(source[1:, :3], lengths[1:], target_input[1:, :2])
    torch.testing.assert_close(alone.logits[0], out.logits[1, :2], rtol=0, atol=1e-12)
    torch.testing.assert_close(alone.attention[0], out.attention[1, :2, :3], rtol=0, atol=1e-12)
    assert torch.all(out.attention[1, :, 3:] == 0)
    torch.testing.assert_close(out.attention.sum(-1), torch.ones(2, 4, dtype=torch.float64), rtol=0, atol=1e-12)


@pytest.mark.parametrize("norm_first", NORMS)
def test_a_later_target_token_never_changes_the_scores_of_earlier_positions(norm_first):
    model = make_model(norm_first=norm_first)
    source, lengths, target_input, _ = make_batch()
    out = model(source, lengths, target_input)
    changed = target_input.clone()
    changed[0, 2] = 7
    other = model(source, lengths, changed)
    torch.testing.assert_close(other.logits[:, :2], out.logits[:, :2], rtol=0, atol=1e-12)
    assert (other.logits[0, 2:] - out.logits[0, 2:]).abs().max() > 1e-3  # the changed position and after do change


def test_reordering_the_state_then_stepping_equals_stepping_then_reordering():
    model = make_model()
    source, lengths, target_input, _ = make_batch()
    state = model.start(source, lengths)
    _, state = model.step(target_input[:, 0], state, keep_attention=True)
    order = torch.tensor([1, 1, 0])  # a beam expansion: row 1 twice, then row 0
    tokens = torch.tensor([4, 5, 6])
    log_probs, stepped = model.step(tokens, model.reorder(state, order), keep_attention=True)
    for row, source_row in enumerate(order.tolist()):
        single = model.reorder(state, torch.tensor([source_row]))
        expected, single = model.step(tokens[row : row + 1], single, keep_attention=True)
        torch.testing.assert_close(log_probs[row : row + 1], expected, rtol=0, atol=1e-12)
        torch.testing.assert_close(stepped.attention[row : row + 1], single.attention, rtol=0, atol=1e-12)


def test_the_model_reports_the_shared_loss_of_its_logits():
    model = make_model()
    source, lengths, target_input, targets = make_batch()
    out = model(source, lengths, target_input, targets=targets, label_smoothing=0.1)
    expected = with_loss(out.logits, out.attention, targets, padding_id=model.config.padding_id, label_smoothing=0.1)
    torch.testing.assert_close(out.loss, expected.loss, rtol=0, atol=0)
    torch.testing.assert_close(out.nll, expected.nll, rtol=0, atol=0)
    assert out.tokens == expected.tokens == int((targets != model.config.padding_id).sum())


def test_the_model_is_searched_by_its_step_interface_and_scores_what_search_found():
    from seqlab.decode import BeamSearch, GreedySearch, search, sequence_log_probs

    model = make_model()
    source, lengths, _, _ = make_batch()
    settings = dict(bos=1, eos=2, max_lengths=torch.tensor([6, 4]), banned_ids=(0, 1))
    greedy = search(model, model.start(source, lengths), GreedySearch(), **settings)
    beam_1 = search(model, model.start(source, lengths), BeamSearch(1), **settings)
    beam_4 = search(model, model.start(source, lengths), BeamSearch(4), nbest=2, **settings)
    assert [h[0].tokens for h in greedy] == [h[0].tokens for h in beam_1]
    for sentence, hypotheses in enumerate(beam_4):
        assert hypotheses[0].log_prob >= greedy[sentence][0].log_prob - 1e-12
        best = hypotheses[0]
        one = torch.tensor([sentence])
        rescored = sequence_log_probs(model, model.start(source[one], lengths[one]), [best.tokens], bos=1, eos=2,
                                      ended=[best.finished])  # fmt: skip
        torch.testing.assert_close(rescored[0].item(), best.log_prob, rtol=0, atol=1e-9)


@pytest.mark.parametrize("norm_first", NORMS)
def test_gradients_of_the_whole_model_pass_gradcheck(norm_first):
    model = make_model(norm_first=norm_first, d_model=4, dim_feedforward=4, num_encoder_layers=1)
    source, lengths, target_input, targets = make_batch()
    names, values = zip(*model.named_parameters())  # the tied output matrix is the target embedding, once

    def loss(flat):  # over real target positions: the padding embedding's gradient is zero by design
        weights = [part.view_as(value) for part, value in zip(flat.split([v.numel() for v in values]), values)]
        arguments = (source, lengths, target_input, targets)
        return torch.func.functional_call(model, dict(zip(names, weights)), arguments).loss

    # One input of every weight: fast mode compares the gradient along one random direction of all of them.
    flat = torch.cat([value.detach().flatten() for value in values]).requires_grad_(True)
    assert torch.autograd.gradcheck(loss, (flat,), eps=1e-6, atol=1e-6, fast_mode=True)


def test_both_stacks_read_the_embeddings_times_root_d_plus_the_positions():
    model = make_model()
    source, lengths, target_input, _ = make_batch()
    seen = {}
    for side, stack in [("source", model.encoder), ("target", model.decoder)]:
        stack.layers[0].register_forward_pre_hook(lambda module, args, side=side: seen.update({side: args[0]}))
    model(source, lengths, target_input)
    for side, tokens, embedding in [
        ("source", source, model.source_embedding),
        ("target", target_input, model.target_embedding),
    ]:
        positions = sinusoidal_positions(torch.arange(tokens.size(1)), 8, dtype=torch.float64)  # tested in tests/nn
        expected = embedding.weight[tokens] * math.sqrt(8) + positions  # §3.4: embeddings scaled by √d_model
        torch.testing.assert_close(seen[side], expected, rtol=0, atol=1e-12)


def test_tied_and_shared_embeddings_are_one_matrix():
    tied = make_model()
    for name, value in make_model().state_dict().items():  # the same seed initialises the same weights
        assert torch.equal(value, tied.state_dict()[name]), name
    assert tied.output.weight is tied.target_embedding.weight
    assert tied.source_embedding is not tied.target_embedding
    untied = make_model(tie_embeddings=False)
    assert untied.output.weight is not untied.target_embedding.weight
    shared = make_model(source_vocab_size=11, target_vocab_size=11, share_source_target_embeddings=True)
    assert shared.source_embedding is shared.target_embedding
    assert shared.output.weight is shared.source_embedding.weight
    source, lengths, target_input, targets = make_batch()
    shared(source, lengths, target_input, targets=targets).loss.backward()
    assert shared.source_embedding.weight.grad[3:11].abs().sum(1).min() > 0  # source and target words both train it


def test_what_the_transformer_cannot_do_is_refused_in_one_line():
    model = make_model(max_positions=4)
    source, lengths, target_input, _ = make_batch()
    with pytest.raises(SeqlabError, match="always teacher forced"):
        model(source[:, :4], lengths.clamp(max=4), target_input, teacher_forcing=0.5)
    with pytest.raises(SeqlabError, match="longer than max_positions 4"):
        model(source, lengths, target_input)
    state = model.start(source[:, :4], lengths.clamp(max=4))
    for t in range(4):
        _, state = model.step(target_input[:, t], state)
    with pytest.raises(SeqlabError, match="longer than max_positions 4"):
        model.step(target_input[:, 0], state)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"d_model": 10, "nhead": 4}, "divisible by nhead"),
        ({"dropout": 1.0}, "dropout must be in"),
        ({"num_decoder_layers": 0}, "num_decoder_layers must be at least 1"),
        ({"share_source_target_embeddings": True}, "one joint vocabulary"),
        ({"padding_id": 9}, "padding_id 9 is outside target_vocab_size"),
    ],
)
def test_the_config_refuses_impossible_shapes(overrides, message):
    with pytest.raises(SeqlabError, match=message):
        TransformerConfig(source_vocab_size=11, target_vocab_size=9, **overrides)


def test_the_config_imports_no_torch():
    code = "import sys, seqlab.models.transformer_configs; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("module", [transformer_configs, transformer_seq2seq])
def test_docstring_examples(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_a_pruned_beam_steps_uneven_rows_and_each_hypothesis_scores_what_the_model_scores():
    from seqlab.decode import BeamSearch, search, sequence_log_probs
    from tests.models.test_seq2seq import assert_pruned_search_is_consistent

    model = make_model()
    source, lengths, _, _ = make_batch()
    policy = BeamSearch(4, absolute_threshold=0.2)
    assert_pruned_search_is_consistent(model, source, lengths, policy, search, sequence_log_probs)
