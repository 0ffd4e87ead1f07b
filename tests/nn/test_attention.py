"""seqlab.nn attention against its float64 NumPy oracle (seqlab.reference.attention), torch's
gradcheck, and the properties of the mask.

Tolerances: float64 values and every gradient equal the reference to 1e-10 absolute (the same sums
in another order); one step at a time equals all steps at once to 1e-14. Under bfloat16 autocast on
the CPU (8 significant bits, rounding by up to 2^-9 per operation), compared with float32 in norm per
tensor: context and weights within 2% (measured at most 0.8% over 20 seeds; the same for a bfloat16
module without autocast), gradients within 5% (at most 2.5%; the largest is the key bias's, a sum
Σ_j δe_j (1 - t_j²) v_a that nearly cancels because Σ_j δe_j = 0).
"""

import doctest

import numpy as np
import pytest
import torch

import seqlab.nn.attention
from seqlab import reference
from seqlab.errors import SeqlabError
from seqlab.nn import AdditiveAttention, MultiplicativeAttention

B, T, S, Q, K, A = 3, 4, 5, 6, 7, 8
MASK = torch.tensor(
    [
        [True, True, True, True, True],
        [True, True, True, False, False],
        [True, False, False, False, False],
    ]
)
TOLERANCE = dict(rtol=0, atol=1e-10)
BFLOAT16_VALUES, BFLOAT16_GRADIENTS = 0.02, 0.05

# id -> (builder from (query_size, key_size, hidden_size), reference score)
KINDS = {
    "additive": (lambda q, k, a, **kw: AdditiveAttention(q, k, a, **kw), "additive"),
    "additive_no_bias": (lambda q, k, a, **kw: AdditiveAttention(q, k, a, bias=False, **kw), "additive"),
    "dot": (lambda q, k, a, **kw: MultiplicativeAttention(k, k, score="dot", **kw), "dot"),
    "general": (lambda q, k, a, **kw: MultiplicativeAttention(q, k, score="general", **kw), "general"),
    "concat": (lambda q, k, a, **kw: MultiplicativeAttention(q, k, score="concat", hidden_size=a, **kw), "concat"),
}


def _module(kind, dtype=torch.float64, seed=0, sizes=(Q, K, A)):
    """A seeded module with its parameters doubled, so that the scores are of order 1."""
    torch.manual_seed(seed)
    module = KINDS[kind][0](*sizes, dtype=dtype)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.mul_(2.0)
    return module


def _inputs(module, *, steps=None, dtype=torch.float64, seed=1):
    generator = torch.Generator().manual_seed(seed)
    shape = (B, module.query_size) if steps is None else (B, steps, module.query_size)
    query = torch.randn(shape, generator=generator, dtype=dtype)
    keys = torch.randn(B, S, module.key_size, generator=generator, dtype=dtype)
    return query, keys


def _run(module, query, keys, mask, d_context, d_weights, **kwargs):
    """context, weights and the gradients of query, keys and every parameter of Σ dc⊙c + Σ dα⊙α."""
    query, keys = query.clone().requires_grad_(), keys.clone().requires_grad_()
    context, weights = module(query, keys, mask, **kwargs)
    loss = (d_context * context).sum() + (d_weights * weights).sum()
    names = [name for name, _ in module.named_parameters()]
    grads = torch.autograd.grad(loss, [query, keys, *module.parameters()])
    return context, weights, dict(zip(["query", "keys", *names], grads, strict=True))


def _reference(module, kind, query, keys, mask, d_context, d_weights):
    """The same from the NumPy reference, one decoder step at a time, parameter gradients summed."""
    params = {name: p.detach().numpy().copy() for name, p in module.state_dict().items()}
    query, keys, mask = query.numpy(), keys.numpy(), mask.numpy()
    d_context, d_weights = d_context.numpy(), d_weights.numpy()
    one_step = query.ndim == 2
    if one_step:
        query, d_context, d_weights = query[:, None], d_context[:, None], d_weights[:, None]
    contexts, weights, grads = [], [], {name: np.zeros_like(p) for name, p in params.items()}
    grads["keys"], grads["query"] = np.zeros_like(keys), np.zeros_like(query)
    for t in range(query.shape[1]):
        context, weight, cache = reference.attention_forward(params, query[:, t], keys, mask, score=KINDS[kind][1])
        step_grads = reference.attention_backward(cache, d_context[:, t], d_weights[:, t])
        contexts.append(context)
        weights.append(weight)
        grads["query"][:, t] = step_grads.pop("query")
        for name, grad in step_grads.items():
            grads[name] += grad
    if one_step:
        grads["query"] = grads["query"][:, 0]
        return contexts[0], weights[0], grads
    return np.stack(contexts, axis=1), np.stack(weights, axis=1), grads


@pytest.mark.parametrize("steps", [None, T], ids=["one_step", "all_steps"])
@pytest.mark.parametrize("kind", KINDS)
def test_values_and_every_gradient_equal_the_reference(kind, steps):
    module = _module(kind)
    query, keys = _inputs(module, steps=steps)
    generator = torch.Generator().manual_seed(2)
    d_context = torch.randn(*query.shape[:-1], K, generator=generator, dtype=torch.float64)
    d_weights = torch.randn(*query.shape[:-1], S, generator=generator, dtype=torch.float64)

    context, weights, grads = _run(module, query, keys, MASK, d_context, d_weights)

    expected_context, expected_weights, expected_grads = _reference(
        module, kind, query, keys, MASK, d_context, d_weights
    )
    torch.testing.assert_close(context, torch.from_numpy(expected_context), **TOLERANCE)
    torch.testing.assert_close(weights, torch.from_numpy(expected_weights), **TOLERANCE)
    assert set(grads) == set(expected_grads)
    for name, grad in grads.items():
        torch.testing.assert_close(grad, torch.from_numpy(expected_grads[name]), **TOLERANCE, msg=name)


@pytest.mark.parametrize("kind", KINDS)
def test_torch_gradcheck(kind):
    # Small, since the numerical Jacobian costs four calls per input entry: B = 2, T = 2, S = 3.
    module = _module(kind, sizes=(3, 2, 2))
    generator = torch.Generator().manual_seed(3)
    query = torch.randn(2, 2, module.query_size, generator=generator, dtype=torch.float64)
    keys = torch.randn(2, 3, module.key_size, generator=generator, dtype=torch.float64)
    mask = torch.tensor([[True, True, True], [True, True, False]])
    names = [name for name, _ in module.named_parameters()]

    def attend(query, keys, *params):
        return torch.func.functional_call(module, dict(zip(names, params, strict=True)), (query, keys, mask))

    inputs = [
        query.requires_grad_(),
        keys.requires_grad_(),
        *(p.detach().clone().requires_grad_() for p in module.parameters()),
    ]
    assert torch.autograd.gradcheck(attend, inputs, eps=1e-6, atol=1e-8, rtol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_one_step_at_a_time_equals_all_steps_at_once(kind):
    module = _module(kind)
    query, keys = _inputs(module, steps=T)

    context, weights = module(query, keys, MASK)

    projected = module.project_keys(keys)
    for t in range(T):
        step_context, step_weights = module(query[:, t], keys, MASK, projected_keys=projected)
        torch.testing.assert_close(step_context, context[:, t], rtol=0, atol=1e-14)
        torch.testing.assert_close(step_weights, weights[:, t], rtol=0, atol=1e-14)


@pytest.mark.parametrize("kind", KINDS)
def test_precomputed_keys_leave_a_step_only_the_query_projection(kind):
    module = _module(kind)
    query, keys = _inputs(module)
    projected = module.project_keys(keys)
    calls = []
    if hasattr(module, "key_proj"):
        module.key_proj.register_forward_hook(lambda *_: calls.append("key_proj"))

    with_projection = module(query, keys, MASK, projected_keys=projected)
    assert calls == []
    without = module(query, keys, MASK)

    assert calls == ([] if kind == "dot" else ["key_proj"])
    torch.testing.assert_close(with_projection, without, rtol=0, atol=0)


@pytest.mark.parametrize("steps", [None, T], ids=["one_step", "all_steps"])
@pytest.mark.parametrize("kind", KINDS)
def test_padding_gets_zero_weight_and_no_gradient_and_weights_sum_to_one(kind, steps):
    module = _module(kind)
    query, keys = _inputs(module, steps=steps)
    d_context = torch.randn(*query.shape[:-1], K, dtype=torch.float64)
    d_weights = torch.randn(*query.shape[:-1], S, dtype=torch.float64)

    _, weights, grads = _run(module, query, keys, MASK, d_context, d_weights)

    padding = ~MASK if steps is None else ~MASK[:, None, :].expand(B, T, S)
    assert torch.all(weights[padding] == 0.0)
    assert torch.all(weights[~padding] > 0.0)
    assert torch.all(grads["keys"][~MASK] == 0.0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:-1], dtype=torch.float64), rtol=0, atol=1e-15)


@pytest.mark.parametrize("kind", KINDS)
def test_changing_padded_keys_changes_nothing(kind):
    module = _module(kind)
    query, keys = _inputs(module, steps=T)
    other_keys = keys.clone()
    other_keys[~MASK] = torch.randn(int((~MASK).sum()), K, dtype=torch.float64) * 100.0
    d_context, d_weights = torch.randn(B, T, K, dtype=torch.float64), torch.randn(B, T, S, dtype=torch.float64)

    context, weights, grads = _run(module, query, keys, MASK, d_context, d_weights)
    other_context, other_weights, other_grads = _run(module, query, other_keys, MASK, d_context, d_weights)

    torch.testing.assert_close(other_context, context, rtol=0, atol=0)
    torch.testing.assert_close(other_weights, weights, rtol=0, atol=0)
    for name in grads:
        torch.testing.assert_close(other_grads[name], grads[name], rtol=0, atol=1e-14, msg=name)


@pytest.mark.parametrize("kind", KINDS)
def test_no_mask_means_every_position_is_real(kind):
    module = _module(kind)
    query, keys = _inputs(module, steps=T)

    unmasked = module(query, keys)
    all_real = module(query, keys, torch.ones(B, S, dtype=torch.bool))

    torch.testing.assert_close(unmasked, all_real, rtol=0, atol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_a_source_without_real_positions_gets_zeros_not_nan(kind):
    module = _module(kind)
    query, keys = _inputs(module, steps=T)
    mask = MASK.clone()
    mask[1] = False
    d_context, d_weights = torch.randn(B, T, K, dtype=torch.float64), torch.randn(B, T, S, dtype=torch.float64)

    context, weights, grads = _run(module, query, keys, mask, d_context, d_weights)

    assert torch.all(context[1] == 0.0) and torch.all(weights[1] == 0.0)
    assert torch.all(grads["query"][1] == 0.0) and torch.all(grads["keys"][1] == 0.0)
    assert all(torch.isfinite(grad).all() for grad in grads.values())
    expected_context, expected_weights, _ = _reference(module, kind, query, keys, mask, d_context, d_weights)
    torch.testing.assert_close(context, torch.from_numpy(expected_context), **TOLERANCE)
    torch.testing.assert_close(weights, torch.from_numpy(expected_weights), **TOLERANCE)


@pytest.mark.parametrize("kind", KINDS)
def test_bfloat16_autocast_on_the_cpu_stays_close_to_float32(kind):
    module = _module(kind, dtype=torch.float32)
    query, keys = _inputs(module, steps=T, dtype=torch.float32)
    d_context, d_weights = torch.randn(B, T, K), torch.randn(B, T, S)

    expected = _run(module, query, keys, MASK, d_context, d_weights)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        actual = _run(module, query, keys, MASK, d_context, d_weights)

    context, weights, grads = actual
    assert weights.dtype == torch.float32  # the softmax is taken in float32
    assert torch.all(weights[~MASK[:, None, :].expand(B, T, S)] == 0.0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(B, T), rtol=0, atol=1e-6)
    assert all(grad.dtype == torch.float32 for grad in grads.values())  # gradients in the parameters' dtype
    pairs = {"context": (context, expected[0]), "weights": (weights, expected[1])}
    pairs |= {name: (grads[name], expected[2][name]) for name in grads}
    for name, (a, e) in pairs.items():
        error = (a.float() - e).norm() / e.norm()
        tolerance = BFLOAT16_VALUES if name in ("context", "weights") else BFLOAT16_GRADIENTS
        assert error <= tolerance, f"{name}: relative error {error:.4f}"


@pytest.mark.parametrize("kind", KINDS)
def test_a_bfloat16_module_without_autocast_runs_and_stays_close(kind):
    module = _module(kind, dtype=torch.float32)
    query, keys = _inputs(module, steps=T, dtype=torch.float32)
    expected_context, expected_weights = module(query, keys, MASK)

    context, weights = module.to(torch.bfloat16)(query.bfloat16(), keys.bfloat16(), MASK)

    assert context.dtype == torch.bfloat16 and weights.dtype == torch.float32
    for name, a, e in [("context", context, expected_context), ("weights", weights, expected_weights)]:
        error = (a.float() - e).norm() / e.norm()
        assert error <= BFLOAT16_VALUES, f"{name}: relative error {error:.4f}"


@pytest.mark.parametrize("score", ["dot", "general"])
def test_scaled_scores_are_the_papers_scores_divided_by_the_square_root_of_the_query_size(score):
    """qᵀ W_a h_j / √Q: the reference's general score with W_a / √Q, or its dot score of q / √Q."""
    sizes = (K, K, A) if score == "dot" else (Q, K, A)
    torch.manual_seed(0)
    scaled = MultiplicativeAttention(sizes[0], sizes[1], score=score, scaled=True, dtype=torch.float64)
    query, keys = _inputs(scaled, steps=T)
    generator = torch.Generator().manual_seed(2)
    d_context = torch.randn(B, T, K, generator=generator, dtype=torch.float64)
    d_weights = torch.randn(B, T, S, generator=generator, dtype=torch.float64)
    context, weights, grads = _run(scaled, query, keys, MASK, d_context, d_weights)
    root = sizes[0] ** 0.5
    unscaled = MultiplicativeAttention(sizes[0], sizes[1], score=score, dtype=torch.float64)
    if score == "general":
        unscaled.load_state_dict({"key_proj.weight": scaled.key_proj.weight.detach() / root})
        query_factor, reference_query = 1.0, query
    else:
        query_factor, reference_query = 1.0 / root, query / root
    ref_context, ref_weights, ref_grads = _reference(unscaled, score, reference_query, keys, MASK, d_context, d_weights)
    np.testing.assert_allclose(context.detach().numpy(), ref_context, **TOLERANCE)
    np.testing.assert_allclose(weights.detach().numpy(), ref_weights, **TOLERANCE)
    np.testing.assert_allclose(grads["query"].numpy(), ref_grads["query"] * query_factor, **TOLERANCE)
    np.testing.assert_allclose(grads["keys"].numpy(), ref_grads["keys"], **TOLERANCE)
    if score == "general":  # e = qᵀ (W/√Q) h: δW = δ(W/√Q) / √Q
        np.testing.assert_allclose(grads["key_proj.weight"].numpy(), ref_grads["key_proj.weight"] / root, **TOLERANCE)
    assert "scaled=True" in repr(scaled)


def test_concat_scores_cannot_be_scaled():
    with pytest.raises(SeqlabError, match="scaled is only for dot and general"):
        MultiplicativeAttention(Q, K, score="concat", scaled=True)


def test_parameters_are_named_for_what_they_are_and_drawn_like_linear():
    shapes = {
        kind: {name: tuple(p.shape) for name, p in KINDS[kind][0](Q, K, A).named_parameters()}
        for kind in ("additive", "dot", "general", "concat")
    }

    assert shapes == {
        "additive": {"v": (A,), "query_proj.weight": (A, Q), "key_proj.weight": (A, K), "key_proj.bias": (A,)},
        "dot": {},
        "general": {"key_proj.weight": (Q, K)},
        "concat": {"v": (A,), "query_proj.weight": (A, Q), "key_proj.weight": (A, K)},
    }
    torch.manual_seed(0)
    module = AdditiveAttention(50, 60, 400)
    for name, bound in [("query_proj.weight", 50**-0.5), ("key_proj.weight", 60**-0.5), ("v", 400**-0.5)]:
        parameter = module.get_parameter(name)
        assert parameter.abs().max() <= bound and parameter.abs().max() > 0.9 * bound, name
    assert MultiplicativeAttention(5, 7, score="concat").hidden_size == 5  # concat's A defaults to Q


def test_bad_input_is_a_clear_error():
    module = MultiplicativeAttention(Q, K)
    query, keys = torch.randn(B, Q), torch.randn(B, S, K)
    with pytest.raises(SeqlabError, match="dot attention needs query_size == key_size, got 6 and 7"):
        MultiplicativeAttention(Q, K, score="dot")
    with pytest.raises(SeqlabError, match="unknown attention score 'additive'"):
        MultiplicativeAttention(Q, K, score="additive")
    with pytest.raises(SeqlabError, match="hidden_size is only for concat"):
        MultiplicativeAttention(Q, K, score="general", hidden_size=A)
    with pytest.raises(SeqlabError, match="the mask must be boolean"):
        module(query, keys, MASK.long())
    with pytest.raises(SeqlabError, match=r"mask has shape \(3, 4\), expected \(3, 5\)"):
        module(query, keys, MASK[:, :4])
    with pytest.raises(SeqlabError, match=r"query must be \(B, 6\) or \(B, T, 6\), got \(3, 5\)"):
        module(query[:, :5], keys)
    with pytest.raises(SeqlabError, match=r"keys must be \(3, S, 7\), got \(2, 5, 7\)"):
        module(query, keys[:2])
    with pytest.raises(SeqlabError, match="projected_keys has shape"):
        AdditiveAttention(Q, K, A)(query, keys, projected_keys=torch.randn(B, S, A + 1))
    with pytest.raises(SeqlabError, match="dot attention has no key projection"):
        MultiplicativeAttention(K, K, score="dot")(torch.randn(B, K), keys, projected_keys=keys)


def test_docstring_examples():
    result = doctest.testmod(seqlab.nn.attention)

    assert result.attempted > 0 and result.failed == 0
