"""The loss every sequence-to-sequence model reports: real target tokens only, label smoothing as written."""

from __future__ import annotations

import torch

from seqlab.models.seq2seq_output import with_loss

PAD = 0


def test_the_loss_is_a_mean_over_real_target_tokens_and_smoothing_is_as_written():
    logits = torch.randn(2, 4, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    targets = torch.tensor([[3, 4, 5, 2], [6, 2, PAD, PAD]])
    out = with_loss(logits, None, targets, padding_id=PAD, label_smoothing=0.1)
    real = targets != PAD
    log_probs = torch.log_softmax(logits, -1)  # (B, T, V)
    gold = log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    nll = -(gold[real]).sum() / real.sum()
    # Szegedy et al. 2016, §7: q' = (1 - ε) δ_y + ε / V, cross-entropy against q'
    smoothed = -((1 - 0.1) * gold + 0.1 * log_probs.mean(-1))[real].sum() / real.sum()
    assert out.tokens == 6
    torch.testing.assert_close(out.nll, nll, rtol=0, atol=1e-12)
    torch.testing.assert_close(out.loss, smoothed, rtol=0, atol=1e-12)
    plain = with_loss(logits, None, targets, padding_id=PAD)
    torch.testing.assert_close(plain.loss, plain.nll, rtol=0, atol=0)
