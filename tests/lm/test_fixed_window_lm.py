"""FixedWindowLanguageModel: Bengio et al. (2003), y = b + W x + U tanh(d + H x), over windows of tokens."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from seqlab.data import batchify, get_window, num_windows
from seqlab.errors import SeqlabError
from seqlab.models.fixed_window_lm import FixedWindowLanguageModel, FixedWindowLMConfig
from seqlab.models.output import LanguageModelOutput

V = 7  # vocabulary size of the small models; the padding id is V


def make_model(**overrides) -> FixedWindowLanguageModel:
    torch.manual_seed(0)
    settings = {"vocab_size": V, "context_size": 4, "embedding_size": 3, "hidden_size": 5} | overrides
    return FixedWindowLanguageModel(FixedWindowLMConfig(**settings)).double().eval()


def windowed_logits(model: FixedWindowLanguageModel, tokens: torch.Tensor, cuts: list[int]) -> torch.Tensor:
    """The logits of ``tokens`` ``(T, B)`` fed as consecutive windows split at ``cuts``, state carried."""
    state, pieces = None, []
    for start, stop in zip([0, *cuts], [*cuts, tokens.size(0)]):
        out = model(tokens[start:stop], state)
        pieces.append(out.logits)
        state = out.state
    return torch.cat(pieces)  # (T, B, V)


def reference_logits(model: FixedWindowLanguageModel, tokens: torch.Tensor, state: torch.Tensor | None) -> torch.Tensor:
    """Eq. 1 of the paper, one position and stream at a time: y = b + W x + U tanh(d + H x)."""
    k = model.config.context_size
    C = model.embedding.weight
    H, d = model.hidden.weight, model.hidden.bias
    U, b = model.head.weight, model.head.bias
    W = model.direct.weight if model.direct is not None else None
    history = torch.full((k - 1, tokens.size(1)), V) if state is None else state
    sequence = torch.cat([history, tokens])  # row t + k - 1 holds tokens[t]
    logits = torch.empty(*tokens.shape, V, dtype=C.dtype)
    for t in range(tokens.size(0)):
        for j in range(tokens.size(1)):
            x = torch.cat([C[sequence[t + i, j]] for i in range(k)])  # tokens[t-k+1 .. t], oldest first
            y = b + U @ torch.tanh(d + H @ x)
            logits[t, j] = y if W is None else y + W @ x
    return logits


# What it returns


def test_output_shapes_and_the_state_is_the_last_context_size_minus_1_tokens():
    model = make_model()
    tokens = torch.randint(V, (6, 2))  # (T, B)
    out = model(tokens)
    assert isinstance(out, LanguageModelOutput)
    assert out.logits.shape == (6, 2, V)
    assert out.features.shape == (6, 2, 5)
    assert out.loss is None and out.cross_entropy is None
    assert out.state.shape == (3, 2) and out.state.dtype == torch.int64
    assert not out.state.requires_grad and out.state.grad_fn is None
    torch.testing.assert_close(out.state, tokens[-3:], rtol=0, atol=0)


def test_a_window_shorter_than_the_context_keeps_older_tokens_in_the_state():
    model = make_model()
    out = model(torch.tensor([[1], [2]]))
    torch.testing.assert_close(out.state, torch.tensor([[V], [1], [2]]), rtol=0, atol=0)  # padding first
    out = model(torch.tensor([[3]]), out.state)
    torch.testing.assert_close(out.state, torch.tensor([[1], [2], [3]]), rtol=0, atol=0)


def test_no_state_is_an_all_padding_history():
    model = make_model()
    tokens = torch.randint(V, (5, 3))
    padding = torch.full((3, 3), V)
    torch.testing.assert_close(model(tokens).logits, model(tokens, padding).logits, rtol=0, atol=0)
    torch.testing.assert_close(model.initial_state(3), padding, rtol=0, atol=0)


def test_loss_and_cross_entropy_are_the_mean_cross_entropy_over_all_positions():
    model = make_model(dropout=0.3).train()
    tokens, targets = torch.randint(V, (5, 3)), torch.randint(V, (5, 3))
    out = model(tokens, targets=targets)
    expected = F.cross_entropy(out.logits.reshape(-1, V), targets.reshape(-1))
    torch.testing.assert_close(out.cross_entropy, expected, rtol=0, atol=1e-12)
    torch.testing.assert_close(out.loss, out.cross_entropy, rtol=0, atol=0)  # no penalties, even in training


def test_a_state_of_the_wrong_shape_is_rejected():
    model = make_model()
    with pytest.raises(SeqlabError, match="state"):
        model(torch.randint(V, (5, 2)), torch.full((2, 2), V))


# Windows: the state makes truncated windows invisible


@pytest.mark.parametrize("cuts", [[5], [1, 2, 3], [2, 4, 9], [10]])
def test_carrying_the_state_across_windows_equals_one_call_on_the_whole_streams(cuts):
    model = make_model()
    tokens = torch.randint(V, (11, 3))
    whole = model(tokens).logits
    torch.testing.assert_close(windowed_logits(model, tokens, cuts), whole, rtol=0, atol=1e-12)


def test_carrying_the_state_through_bptt_windows_equals_one_call_in_float32():
    model = make_model().float()
    streams = batchify(torch.randint(V, (60,)), batch_size=3)  # (20, 3)
    state, pieces = None, []
    for index in range(num_windows(streams, bptt=3)):
        inputs, _ = get_window(streams, index, bptt=3)
        out = model(inputs, state)
        pieces.append(out.logits)
        state = out.state
    torch.testing.assert_close(torch.cat(pieces), model(streams[:-1]).logits, rtol=0, atol=1e-6)


def test_the_prediction_at_t_depends_on_exactly_tokens_t_minus_context_size_plus_1_to_t():
    model = make_model()  # context_size 4
    tokens = torch.randint(V, (12, 2))
    cuts = [3, 6, 7]  # windows shorter than the context, so the context crosses several windows
    before = windowed_logits(model, tokens, cuts)
    for changed in range(12):
        edited = tokens.clone()
        edited[changed, 0] = (edited[changed, 0] + 1) % V
        after = windowed_logits(model, edited, cuts)
        differs = (after - before).abs().amax(dim=-1) > 1e-9  # (T, B)
        expected = torch.zeros(12, 2, dtype=torch.bool)
        expected[changed : changed + 4, 0] = True  # the positions whose window holds the changed token
        assert torch.equal(differs, expected), f"changing token {changed}"


def test_context_size_1_is_a_bigram_model_with_an_empty_state():
    model = make_model(context_size=1)
    tokens = torch.randint(V, (6, 2))
    out = model(tokens)
    assert out.state.shape == (0, 2)
    torch.testing.assert_close(windowed_logits(model, tokens, [2, 3]), out.logits, rtol=0, atol=1e-12)
    same_token = model(tokens[:1].expand(6, 2).contiguous()).logits
    torch.testing.assert_close(same_token, same_token[:1].expand(6, 2, V), rtol=0, atol=0)


# The equation


@pytest.mark.parametrize("direct_connections", [True, False])
def test_forward_equals_a_loop_over_positions_of_y_equals_b_plus_Wx_plus_U_tanh_d_plus_Hx(direct_connections):
    model = make_model(direct_connections=direct_connections)
    with torch.no_grad():
        model.head.bias.uniform_(-1, 1)  # zero at initialisation: give b a part to play
    tokens = torch.randint(V, (5, 2))
    state = torch.tensor([[V, 2], [V, 0], [4, 6]])  # one stream just started, one in full flow
    out = model(tokens, state)
    torch.testing.assert_close(out.logits, reference_logits(model, tokens, state), rtol=0, atol=1e-12)
    first = model(tokens[:2]).logits
    torch.testing.assert_close(first, reference_logits(model, tokens[:2], None), rtol=0, atol=1e-12)


def test_features_are_the_tanh_hidden_layer_before_dropout():
    model = make_model()
    tokens = torch.randint(V, (4, 2))
    out = model(tokens)
    x = model.embedding(torch.cat([model.initial_state(2), tokens]).unfold(0, 4, 1)).flatten(2)  # (T, B, 4 * E)
    torch.testing.assert_close(out.features, torch.tanh(model.hidden(x)), rtol=0, atol=1e-12)


def test_gradients_match_finite_differences_in_float64():
    torch.manual_seed(0)
    config = FixedWindowLMConfig(vocab_size=3, context_size=3, embedding_size=2, hidden_size=2)
    model = FixedWindowLanguageModel(config).double()
    names = [name for name, _ in model.named_parameters()]
    tokens, targets = torch.randint(3, (4, 2)), torch.randint(3, (4, 2))
    state = torch.tensor([[3, 1], [2, 0]])  # stream 0 begins with padding

    def loss(*parameters: torch.Tensor) -> torch.Tensor:
        values = dict(zip(names, parameters))
        # The padding row is constant: rebuild it so finite differences do not move it.
        real = values["embedding.weight"]
        values["embedding.weight"] = torch.cat([real, torch.zeros_like(real[:1])])
        return functional_call(model, values, (tokens, state, targets)).loss

    inputs = [parameter.detach().clone().requires_grad_() for name, parameter in model.named_parameters()]
    embedding = names.index("embedding.weight")
    inputs[embedding] = inputs[embedding][:3].detach().requires_grad_()
    assert torch.autograd.gradcheck(loss, tuple(inputs), eps=1e-6, atol=1e-8)


# Parameters


def test_the_padding_row_stays_zero_and_gets_no_gradient():
    model = make_model()
    assert model.padding_idx == V and model.embedding.padding_idx == V
    assert torch.count_nonzero(model.embedding.weight[V]) == 0
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    tokens, targets = torch.randint(V, (3, 2)), torch.randint(V, (3, 2))  # every position reads padding
    for _ in range(3):
        optimizer.zero_grad()
        model(tokens, targets=targets).loss.backward()
        assert torch.count_nonzero(model.embedding.weight.grad[V]) == 0
        assert torch.count_nonzero(model.embedding.weight.grad[tokens.unique()]) > 0
        optimizer.step()
    assert torch.count_nonzero(model.embedding.weight[V]) == 0


def test_num_parameters_is_the_papers_count():
    config = FixedWindowLMConfig(vocab_size=50, context_size=5, embedding_size=6, hidden_size=7)
    n, m, h = config.context_size + 1, config.embedding_size, config.hidden_size
    assert FixedWindowLanguageModel(config).num_parameters() == 50 * (1 + n * m + h) + h * (1 + (n - 1) * m)


def test_without_direct_connections_there_is_no_W_and_it_still_works():
    direct = make_model()
    model = make_model(direct_connections=False)
    assert model.direct is None
    assert "direct.weight" not in model.state_dict()
    assert direct.num_parameters() - model.num_parameters() == V * 4 * 3
    tokens = torch.randint(V, (5, 2))
    out = model(tokens, targets=tokens)
    assert out.logits.shape == (5, 2, V) and torch.isfinite(out.loss)
    out.loss.backward()
    with torch.no_grad():
        direct.direct.weight.zero_()  # W = 0 is the same model as no W
    model.load_state_dict({key: value for key, value in direct.state_dict().items() if key != "direct.weight"})
    torch.testing.assert_close(model(tokens).logits, direct(tokens).logits, rtol=0, atol=1e-12)


def test_initial_weights_are_uniform_within_init_range():
    model = make_model(init_range=0.05, embedding_size=20, hidden_size=30)
    for weight in (model.embedding.weight, model.head.weight, model.direct.weight):
        assert weight.abs().max() <= 0.05
    assert torch.count_nonzero(model.head.bias) == 0


# Training


@pytest.fixture
def one_thread():
    # Tiny tensors gain nothing from threads, and on a busy machine their barriers cost seconds.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_it_learns_a_repeating_sequence_whose_period_fits_in_the_context(one_thread):
    # After a 0 comes 1 or 2 depending on the token before it: one token of context is not enough.
    torch.manual_seed(0)
    streams = batchify(torch.tensor([0, 1, 0, 2] * 48), batch_size=4)  # (48, 4), every stream starts at 0
    model = FixedWindowLanguageModel(
        FixedWindowLMConfig(vocab_size=3, context_size=4, embedding_size=8, hidden_size=16)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
    for _ in range(40):  # epochs of 6 windows: 240 steps
        state = None
        for index in range(num_windows(streams, bptt=8)):
            inputs, targets = get_window(streams, index, bptt=8)
            out = model(inputs, state, targets)
            optimizer.zero_grad()
            out.loss.backward()
            optimizer.step()
            state = out.state
    model.eval()
    with torch.no_grad():
        loss = model(streams[:-1], targets=streams[1:]).loss
    assert loss < 0.01


# Dropout and configuration


def test_dropout_is_off_in_eval_mode_and_on_in_training():
    model = make_model(dropout=0.5)
    tokens = torch.randint(V, (6, 3))
    torch.testing.assert_close(model(tokens).logits, model(tokens).logits, rtol=0, atol=0)
    model.train()
    assert not torch.equal(model(tokens).logits, model(tokens).logits)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("vocab_size", 0),
        ("context_size", 0),
        ("embedding_size", 0),
        ("hidden_size", 0),
        ("direct_connections", 1),
        ("dropout", -0.1),
        ("dropout", 1.0),
        ("init_range", 0.0),
        ("init_range", -0.1),
    ],
)
def test_bad_configs_are_rejected_naming_the_field(field, value):
    settings = {"vocab_size": V, field: value}
    with pytest.raises(SeqlabError, match=field):
        FixedWindowLMConfig(**settings)
