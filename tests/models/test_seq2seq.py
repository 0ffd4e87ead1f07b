"""The encoder–decoder: one computation whether teacher forced or stepped, blind to padding, and the
equations of Bahdanau et al. 2015 and Luong et al. 2015 written out here step by step."""

from __future__ import annotations

import math

import pytest
import torch

from seqlab.errors import SeqlabError
from seqlab.models.seq2seq import Seq2Seq
from seqlab.models.seq2seq_configs import ATTENTIONS, Seq2SeqConfig
from seqlab.models.seq2seq_output import with_loss

SOURCE_VOCAB, TARGET_VOCAB = 11, 9
KINDS = [(attention, cell) for attention in ATTENTIONS for cell in ("gru", "lstm")]


def make_model(attention="bahdanau", cell="gru", **overrides) -> Seq2Seq:
    torch.manual_seed(0)
    settings = dict(
        source_vocab_size=SOURCE_VOCAB,
        target_vocab_size=TARGET_VOCAB,
        attention=attention,
        cell=cell,
        embedding_size=6,
        hidden_size=5,
        attention_size=4,
        bidirectional=attention != "luong-dot",
        dropout=0.0,
    )
    model = Seq2Seq(Seq2SeqConfig(**(settings | overrides))).double()
    return model.eval()


def make_batch():
    """Two sources of lengths 5 and 3 (padded with 0) and targets of lengths 4 and 2."""
    source = torch.tensor([[3, 4, 5, 6, 7], [8, 9, 10, 0, 0]])
    lengths = torch.tensor([5, 3])
    target_input = torch.tensor([[1, 3, 4, 5], [1, 6, 0, 0]])  # <bos>=1, then the target
    targets = torch.tensor([[3, 4, 5, 2], [6, 2, 0, 0]])  # the target, then <eos>=2
    return source, lengths, target_input, targets


@pytest.mark.parametrize("attention, cell", KINDS)
def test_teacher_forcing_scores_what_stepping_one_token_at_a_time_scores(attention, cell):
    model = make_model(attention, cell)
    source, lengths, target_input, _ = make_batch()
    out = model(source, lengths, target_input)
    state = model.start(source, lengths)
    for t in range(target_input.size(1)):
        log_probs, state = model.step(target_input[:, t], state, keep_attention=True)
        torch.testing.assert_close(log_probs, torch.log_softmax(out.logits[:, t], -1), rtol=0, atol=1e-12)
    if out.attention is None:
        assert attention == "none" and state.attention is None
    else:
        torch.testing.assert_close(state.attention, out.attention, rtol=0, atol=1e-12)


@pytest.mark.parametrize("attention, cell", KINDS)
def test_padding_is_never_read_and_a_batch_equals_its_sentences_alone(attention, cell):
    model = make_model(attention, cell)
    source, lengths, target_input, _ = make_batch()
    out = model(source, lengths, target_input)
    other_padding = source.clone()
    other_padding[1, 3:] = 7
    torch.testing.assert_close(model(other_padding, lengths, target_input).logits, out.logits, rtol=0, atol=1e-12)
    alone = model(source[1:, :3], lengths[1:], target_input[1:, :2])
    torch.testing.assert_close(alone.logits[0], out.logits[1, :2], rtol=0, atol=1e-12)
    if out.attention is not None:
        assert torch.all(out.attention[1, :, 3:] == 0)
        torch.testing.assert_close(out.attention.sum(-1), torch.ones(2, 4, dtype=torch.float64), rtol=0, atol=1e-12)


@pytest.mark.parametrize("attention", ["none", "bahdanau", "luong-general"])
def test_reordering_the_state_then_stepping_equals_stepping_then_reordering(attention):
    model = make_model(attention, "lstm")
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
        if single.attention is not None:
            torch.testing.assert_close(stepped.attention[row : row + 1], single.attention, rtol=0, atol=1e-12)


def test_the_model_reports_the_shared_loss_of_its_logits():
    model = make_model()
    source, lengths, target_input, targets = make_batch()
    out = model(source, lengths, target_input, targets=targets, label_smoothing=0.1)
    expected = with_loss(out.logits, out.attention, targets, padding_id=model.config.padding_id, label_smoothing=0.1)
    torch.testing.assert_close(out.loss, expected.loss, rtol=0, atol=0)
    torch.testing.assert_close(out.nll, expected.nll, rtol=0, atol=0)
    assert out.tokens == expected.tokens == int((targets != model.config.padding_id).sum())


@pytest.mark.parametrize("attention", ["bahdanau", "luong-concat"])
def test_feeding_the_gold_tokens_by_coin_at_rate_one_equals_teacher_forcing(attention):
    model = make_model(attention)
    source, lengths, target_input, targets = make_batch()
    forced = model(source, lengths, target_input, targets=targets)
    coins = model(source, lengths, target_input, targets=targets, teacher_forcing=1 - 1e-12)
    torch.testing.assert_close(coins.logits, forced.logits, rtol=0, atol=1e-12)
    torch.testing.assert_close(coins.attention, forced.attention, rtol=0, atol=1e-12)


def test_without_teacher_forcing_the_model_reads_its_own_greedy_choices():
    model = make_model("luong-general")
    source, lengths, target_input, _ = make_batch()
    free = model(source, lengths, target_input, teacher_forcing=0.0)
    state, previous = model.start(source, lengths), target_input[:, 0]
    for t in range(target_input.size(1)):
        log_probs, state = model.step(previous, state)
        torch.testing.assert_close(torch.log_softmax(free.logits[:, t], -1), log_probs, rtol=0, atol=1e-12)
        previous = log_probs.argmax(-1)


@pytest.mark.parametrize("attention", ["none", "bahdanau", "luong-dot", "luong-general", "luong-concat"])
def test_gradients_of_the_whole_model_pass_gradcheck(attention):
    model = make_model(attention, hidden_size=3, embedding_size=2, attention_size=2)
    source, lengths, target_input, targets = make_batch()
    names, values = zip(*model.named_parameters())

    def loss(*weights):  # over real target positions: the padding embedding's gradient is zero by design
        arguments = (source, lengths, target_input, targets)
        return torch.func.functional_call(model, dict(zip(names, weights)), arguments).loss

    weights = tuple(value.detach().clone().requires_grad_(True) for value in values)
    assert torch.autograd.gradcheck(loss, weights, eps=1e-6, atol=1e-6, fast_mode=True)


def test_tied_embeddings_share_the_target_embedding_matrix():
    model = make_model(tie_embeddings=True)
    assert model.decoder.output.embedding.weight is model.decoder.embedding.weight
    source, lengths, target_input, targets = make_batch()
    model(source, lengths, target_input, targets=targets).loss.backward()
    assert model.decoder.embedding.weight.grad is not None


@pytest.mark.parametrize("tied", [False, True])
def test_an_untrained_model_starts_near_the_uniform_distribution_tied_or_not(tied):
    """Its first loss is about log V: a tied matrix started as torch's N(0, 1) embeddings would begin
    near 2 log V (16 nats on Multi30k's 8,000 pieces), which training spends its first steps undoing."""
    vocab, embedding = 2000, 256
    torch.manual_seed(0)
    config = Seq2SeqConfig(source_vocab_size=50, target_vocab_size=vocab, embedding_size=embedding, hidden_size=32,
                           attention_size=16, dropout=0.0, tie_embeddings=tied)  # fmt: skip
    model = Seq2Seq(config)
    assert not model.decoder.embedding.weight[config.padding_id].any()
    source, target = torch.randint(1, 50, (8, 10)), torch.randint(1, vocab, (8, 10))
    with torch.no_grad():
        loss = model(source, torch.full((8,), 10), target, targets=target).loss
    assert abs(float(loss) - math.log(vocab)) < 0.5


def test_dot_attention_refuses_encoder_states_of_another_width():
    with pytest.raises(SeqlabError, match="luong-dot"):
        Seq2SeqConfig(source_vocab_size=5, target_vocab_size=5, attention="luong-dot", bidirectional=True)


@pytest.mark.parametrize("attention", ["none", "bahdanau", "luong-concat"])
def test_scaled_scores_are_refused_where_the_score_is_not_a_product(attention):
    with pytest.raises(SeqlabError, match="scaled_scores is for luong-dot and luong-general"):
        Seq2SeqConfig(source_vocab_size=5, target_vocab_size=5, attention=attention, scaled_scores=True)


def encoder_states_by_torch(model: Seq2Seq, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One unpadded sentence (S,) through torch.nn.GRU with the encoder's weights: states (S, 2H), h←_1 (H,)."""
    encoder = model.encoder
    reference = torch.nn.GRU(encoder.rnn.input_size, encoder.rnn.hidden_size, bidirectional=True).double()
    reference.load_state_dict(encoder.rnn.state_dict())
    states, final = reference(encoder.embedding(tokens).unsqueeze(1))  # (S, 1, 2H), (2, 1, H)
    return states[:, 0], final[1, 0]


def gru_cell_by_torch(model: Seq2Seq) -> torch.nn.GRUCell:
    rnn = model.decoder.rnn
    cell = torch.nn.GRUCell(rnn.input_size, rnn.hidden_size).double()
    cell.load_state_dict({name.removesuffix("_l0"): value for name, value in rnn.state_dict().items()})
    return cell


@pytest.mark.parametrize("sentence", [0, 1])
def test_bahdanau_decoder_follows_the_papers_equations(sentence):
    model = make_model("bahdanau", "gru")
    source, lengths, target_input, _ = make_batch()
    logits = model(source, lengths, target_input).logits[sentence]
    h, backward_first = encoder_states_by_torch(model, source[sentence, : lengths[sentence]])
    decoder, attention = model.decoder, model.decoder.attention
    cell = gru_cell_by_torch(model)
    s = torch.tanh(decoder.bridge.weight @ backward_first + decoder.bridge.bias)  # s_0 = tanh(W_s h←_1)
    for i, previous in enumerate(target_input[sentence]):
        if previous == 0:
            break
        e = torch.stack([  # e_ij = v_aᵀ tanh(W_a s_{i-1} + U_a h_j)   (A.1.2)
            attention.v @ torch.tanh(attention.query_proj.weight @ s + attention.key_proj.weight @ h_j
                                     + attention.key_proj.bias)
            for h_j in h
        ])  # fmt: skip
        alpha = torch.exp(e) / torch.exp(e).sum()  # eq. 6
        c = (alpha[:, None] * h).sum(0)  # eq. 5
        y = decoder.embedding.weight[previous]
        s = cell(torch.cat([y, c])[None], s[None])[0]  # s_i = f(s_{i-1}, y_{i-1}, c_i)
        expected = decoder.output.projection.weight @ torch.cat([s, c, y]) + decoder.output.projection.bias
        torch.testing.assert_close(logits[i], expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("input_feeding", "scaled"), [(True, False), (False, False), (True, True)])
def test_luong_decoder_follows_the_papers_equations(input_feeding, scaled):
    """Eqs. 5-8; ``scaled_scores`` divides the general score by √H (Vaswani et al. 2017, §3.2.1)."""
    model = make_model("luong-general", "gru", input_feeding=input_feeding, scaled_scores=scaled)
    source, lengths, target_input, _ = make_batch()
    logits = model(source, lengths, target_input).logits[0]
    h_bar, _ = encoder_states_by_torch(model, source[0])
    decoder, cell = model.decoder, gru_cell_by_torch(model)
    forward_last, backward_first = h_bar[-1, :5], h_bar[0, 5:]
    h = torch.tanh(decoder.bridge(torch.cat([forward_last, backward_first])))
    attentional = torch.zeros(5, dtype=torch.float64)  # h̃_0
    for t, previous in enumerate(target_input[0]):
        y = decoder.embedding.weight[previous]
        h = cell((torch.cat([y, attentional]) if input_feeding else y)[None], h[None])[0]
        score = torch.stack([h @ decoder.attention.key_proj.weight @ h_s for h_s in h_bar])  # general, eq. 8
        score = score / 5**0.5 if scaled else score  # H = 5
        a = torch.softmax(score, 0)  # eq. 7
        c = (a[:, None] * h_bar).sum(0)
        attentional = torch.tanh(decoder.combine.weight @ torch.cat([c, h]))  # eq. 5
        expected = decoder.output.projection.weight @ attentional + decoder.output.projection.bias  # eq. 6
        torch.testing.assert_close(logits[t], expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("attention", ["none", "bahdanau", "luong-general"])
def test_the_model_is_searched_by_its_step_interface_and_scores_what_search_found(attention):
    from seqlab.decode import BeamSearch, GreedySearch, search, sequence_log_probs

    model = make_model(attention, "lstm")
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


@pytest.mark.parametrize("attention", ["none", "bahdanau"])
@pytest.mark.parametrize("cell, layers, tied", [("gru", 1, False), ("gru", 2, True), ("lstm", 2, False)])
def test_beam_steps_from_the_memory_products_give_the_plain_steps_logits(attention, cell, layers, tied):
    # W c_i = Σ_j α_ij (W h_j): with beams, the context decoder's search state holds the products W h_j per source
    model = make_model(attention, cell, decoder_layers=layers, tie_embeddings=tied)
    source, lengths, _, _ = make_batch()
    fast, plain = model.start(source, lengths), model.decoder.start(model.encoder(source, lengths))
    assert fast.for_search and not plain.for_search
    beams = torch.tensor([0, 0, 0, 1, 1, 1])  # three beams per sentence read their sentence's products once
    fast, plain = model.reorder(fast, beams), model.reorder(plain, beams)
    for tokens in ([1, 1, 1, 1, 1, 1], [3, 4, 5, 6, 7, 8], [2, 3, 4, 5, 6, 7]):
        fast_log_probs, fast = model.step(torch.tensor(tokens), fast, keep_attention=True)
        plain_log_probs, plain = model.step(torch.tensor(tokens), plain, keep_attention=True)
        assert fast.memory_products.size(0) == 2 and plain.memory_products is None
        torch.testing.assert_close(fast_log_probs, plain_log_probs, rtol=0, atol=1e-12)
        for fast_part, plain_part in zip(fast.hidden, plain.hidden, strict=True):
            torch.testing.assert_close(fast_part, plain_part, rtol=0, atol=1e-12)
    if attention != "none":
        torch.testing.assert_close(fast.attention, plain.attention, rtol=0, atol=1e-12)
    dropped = torch.tensor([3, 4, 5])  # the first sentence ends: its products leave with its rows
    fast, plain = model.reorder(fast, dropped), model.reorder(plain, dropped)
    fast_log_probs, fast = model.step(torch.tensor([4, 5, 6]), fast)
    plain_log_probs, _ = model.step(torch.tensor([4, 5, 6]), plain)
    assert fast.memory_products.size(0) == 1
    torch.testing.assert_close(fast_log_probs, plain_log_probs, rtol=0, atol=1e-12)


def test_beam_steps_under_autocast_give_the_plain_steps_logits_to_bfloat16_rounding():
    model = make_model(decoder_layers=2, tie_embeddings=True).float()
    source, lengths, _, _ = make_batch()
    beams = torch.tensor([0, 0, 1, 1])
    fast, plain = model.start(source, lengths), model.decoder.start(model.encoder(source, lengths))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        fast_log_probs, fast = model.step(torch.tensor([1, 1, 1, 1]), model.reorder(fast, beams))
        plain_log_probs, _ = model.step(torch.tensor([1, 1, 1, 1]), model.reorder(plain, beams))
    assert fast.memory_products is not None
    torch.testing.assert_close(fast_log_probs, plain_log_probs, rtol=0, atol=0.05)


def test_greedy_search_and_a_model_in_training_step_as_in_training():
    source, lengths, _, _ = make_batch()
    model = make_model()
    _, greedy = model.step(torch.tensor([1, 1]), model.start(source, lengths))  # one row per source: R = 1
    assert greedy.memory_products is None
    training = model.train().start(source, lengths)
    _, beams = model.step(torch.tensor([1, 1, 1, 1]), model.reorder(training, torch.tensor([0, 0, 1, 1])))
    assert not training.for_search and beams.memory_products is None
    searching = model.eval().start(source, lengths)
    _, beams = model.train().step(torch.tensor([1, 1, 1, 1]), model.reorder(searching, torch.tensor([0, 0, 1, 1])))
    assert searching.for_search and beams.memory_products is None  # trained on after the search began: no products


# The untrained models' next-token distributions are nearly flat, so the threshold is small enough to bind.
@pytest.mark.parametrize("attention, threshold", [("none", 0.3), ("bahdanau", 0.3), ("luong-general", 0.05)])
def test_a_pruned_beam_steps_uneven_rows_and_each_hypothesis_scores_what_the_model_scores(attention, threshold):
    from seqlab.decode import BeamSearch, search, sequence_log_probs

    model = make_model(attention, "gru")
    source, lengths, _, _ = make_batch()
    policy = BeamSearch(4, absolute_threshold=threshold)
    assert_pruned_search_is_consistent(model, source, lengths, policy, search, sequence_log_probs)


def assert_pruned_search_is_consistent(model, source, lengths, policy, search, sequence_log_probs):
    """Pruning leaves the sentences of a batch with different numbers of rows; the state must follow them."""
    rows, step = [], model.step
    model.step = lambda tokens, state, **kw: rows.append(len(tokens)) or step(tokens, state, **kw)
    settings = dict(bos=1, eos=2, banned_ids=(0, 1), nbest=3)
    limits, minimum = torch.tensor([6, 4]), torch.tensor([3, 2])
    batched = search(model, model.start(source, lengths), policy, max_lengths=limits, min_lengths=minimum, **settings)
    assert any(n % 2 for n in rows[1:])  # some step held an odd number of rows for the two sentences
    for sentence in range(2):
        one = torch.tensor([sentence])
        alone = search(model, model.start(source[one], lengths[one]), policy, max_lengths=limits[one],
                       min_lengths=minimum[one], **settings)  # fmt: skip
        assert [(h.tokens, h.finished) for h in alone[0]] == [(h.tokens, h.finished) for h in batched[sentence]]
        for hypothesis in batched[sentence]:
            rescored = sequence_log_probs(model, model.start(source[one], lengths[one]), [hypothesis.tokens], bos=1,
                                          eos=2, ended=[hypothesis.finished])  # fmt: skip
            torch.testing.assert_close(rescored[0].item(), hypothesis.log_prob, rtol=0, atol=1e-9)
