"""An embedding lookup is a one-hot row vector times the embedding matrix, forwards and backwards."""

from __future__ import annotations

import torch


def test_embedding_lookup_equals_one_hot_times_matrix_in_values_and_gradients():
    torch.manual_seed(0)
    vocabulary, dims = 11, 5
    embedding = torch.nn.Embedding(vocabulary, dims, dtype=torch.float64)
    matrix = embedding.weight.detach().clone().requires_grad_(True)  # (V, D)
    tokens = torch.tensor([[3, 0, 7], [7, 7, 10]])  # (B, T), with repeats so gradients add up
    upstream = torch.randn(2, 3, dims, dtype=torch.float64)  # (B, T, D), an arbitrary loss gradient

    looked_up = embedding(tokens)  # (B, T, D)
    one_hot = torch.nn.functional.one_hot(tokens, vocabulary).to(torch.float64)  # (B, T, V)
    multiplied = one_hot @ matrix  # (B, T, D)
    (looked_up * upstream).sum().backward()
    (multiplied * upstream).sum().backward()

    torch.testing.assert_close(looked_up, multiplied, rtol=0, atol=0)
    torch.testing.assert_close(embedding.weight.grad, matrix.grad, rtol=0, atol=1e-15)
    # rows of words not looked up get no gradient; a word seen three times gets the sum of three
    assert embedding.weight.grad[[1, 2, 4, 5, 6, 8, 9]].abs().sum() == 0
    torch.testing.assert_close(embedding.weight.grad[7], upstream[0, 2] + upstream[1, 0] + upstream[1, 1])
