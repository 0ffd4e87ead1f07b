"""Batches of variable-length examples: the plan of an epoch, its share per process, padding, packing, masks."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
import torch

import seqlab.data.padded_batches
import seqlab.nn as snn
from seqlab.data import (
    BucketedBatches,
    masked_token_mean,
    pack,
    pad_sequences,
    padding_mask,
    unpack,
    unpad_sequences,
)
from seqlab.errors import SeqlabError

LIMITS = [
    {"batch_size": 32},
    {"max_tokens": 1024},
    {"batch_size": 32, "max_tokens": 1024},
]


def sentence_lengths(count: int = 10_000, seed: int = 0) -> list[int]:
    """Lengths drawn like sentence lengths in words: log-normal, median 20, mean about 23, 5%-95%: 8-49."""
    generator = np.random.default_rng(seed)
    lengths = np.rint(generator.lognormal(mean=math.log(20), sigma=0.55, size=count))
    return np.clip(lengths, 1, 250).astype(int).tolist()


def flattened(batches: list[list[int]]) -> list[int]:
    return [index for batch in batches for index in batch]


def padded_cost(batch: list[int], lengths: list[int]) -> int:
    return len(batch) * max(lengths[i] for i in batch)


def test_the_docstring_example_runs():
    result = doctest.testmod(seqlab.data.padded_batches, raise_on_error=False)
    assert result.attempted > 0 and result.failed == 0


# --- the plan of one epoch -------------------------------------------------------------------------


@pytest.mark.parametrize("limits", LIMITS)
@pytest.mark.parametrize("shuffle", [True, False])
def test_every_example_exactly_once_per_epoch(limits, shuffle):
    lengths = sentence_lengths(3000)
    plan = BucketedBatches(lengths, shuffle=shuffle, seed=3, **limits)
    for epoch in range(3):
        assert sorted(flattened(plan.epoch(epoch))) == list(range(len(lengths)))


def test_same_seed_and_epoch_give_the_same_plan_and_others_differ():
    lengths = sentence_lengths(2000)
    plan = BucketedBatches(lengths, batch_size=16, seed=7)
    again = BucketedBatches(lengths, batch_size=16, seed=7)
    assert plan.epoch(4) == again.epoch(4) == plan.epoch(4)
    assert plan.epoch(0) != plan.epoch(1)
    assert plan.epoch(0) != BucketedBatches(lengths, batch_size=16, seed=8).epoch(0)


def test_evaluation_plan_is_sorted_by_length_and_the_same_every_epoch():
    lengths = sentence_lengths(2000)
    plan = BucketedBatches(lengths, max_tokens=512, shuffle=False)
    batches = plan.epoch(0)
    assert plan.epoch(5) == batches
    in_order = [lengths[i] for i in flattened(batches)]
    assert in_order == sorted(lengths)


@pytest.mark.parametrize("limits", LIMITS)
def test_every_batch_keeps_its_limits(limits):
    lengths = sentence_lengths(3000)
    for shuffle in (True, False):
        for batch in BucketedBatches(lengths, shuffle=shuffle, **limits).epoch(0):
            assert len(batch) <= limits.get("batch_size", len(batch))
            assert padded_cost(batch, lengths) <= limits.get("max_tokens", padded_cost(batch, lengths))


def test_batches_are_cut_full_not_needlessly_small():
    # 100 examples sorted by length, 32 per batch: 32, 32, 32, 4.
    plan = BucketedBatches(sentence_lengths(100), batch_size=32, shuffle=False)
    assert [len(batch) for batch in plan.epoch(0)] == [32, 32, 32, 4]
    # Lengths 10 under a budget of 35 tokens: 3 per batch.
    plan = BucketedBatches([10] * 7, max_tokens=35, shuffle=False)
    assert [len(batch) for batch in plan.epoch(0)] == [3, 3, 1]


@pytest.mark.parametrize("shuffle", [True, False])
def test_an_example_longer_than_max_tokens_makes_a_batch_of_one(shuffle):
    lengths = [5, 6, 500, 4, 7, 5, 900, 6]
    plan = BucketedBatches(lengths, max_tokens=20, shuffle=shuffle, seed=1)
    batches = plan.epoch(0)
    assert [2] in batches and [6] in batches  # alone, neither dropped nor an error
    assert sorted(flattened(batches)) == list(range(len(lengths)))
    for batch in batches:
        assert padded_cost(batch, lengths) <= 20 or len(batch) == 1


def test_bucketing_wastes_much_less_padding_than_random_batching():
    # 10,000 sentence-like lengths (median 20, 5%-95%: 8-49), 32 per batch. One batch per bucket
    # is random batching: 63% of the tokens are padding. 50 batches per bucket, sorted: 6%.
    # The evaluation plan (everything sorted): under 1%.
    lengths = sentence_lengths(10_000)
    random_batches = BucketedBatches(lengths, batch_size=32, bucket_batches=1, seed=0)
    bucketed = BucketedBatches(lengths, batch_size=32, bucket_batches=50, seed=0)
    evaluation = BucketedBatches(lengths, batch_size=32, shuffle=False)
    for epoch in range(3):
        assert random_batches.padding_fraction(epoch) > 0.6
        assert bucketed.padding_fraction(epoch) < 0.07
    assert evaluation.padding_fraction(0) < 0.01
    # With a token budget (1024 padded tokens) the same: 38% against 3%, and half the batches.
    random_batches = BucketedBatches(lengths, max_tokens=1024, bucket_batches=1, seed=0)
    bucketed = BucketedBatches(lengths, max_tokens=1024, bucket_batches=50, seed=0)
    assert random_batches.padding_fraction(0) > 0.35
    assert bucketed.padding_fraction(0) < 0.04
    assert len(bucketed.epoch(0)) < 0.6 * len(random_batches.epoch(0))


def test_padding_fraction_counts_padded_tokens_over_all_tokens():
    plan = BucketedBatches([2, 4, 3, 3], batch_size=2, shuffle=False)  # batches [2 3] [3 4]
    assert plan.padding_fraction(0) == pytest.approx((1 + 1) / (6 + 8), abs=1e-15)
    assert BucketedBatches([0, 0], batch_size=2).padding_fraction(0) == 0.0


def test_lengths_may_be_a_tensor_or_an_array():
    as_list = BucketedBatches([3, 1, 2], batch_size=2, seed=2).epoch(1)
    assert BucketedBatches(torch.tensor([3, 1, 2]), batch_size=2, seed=2).epoch(1) == as_list
    assert BucketedBatches(np.array([3, 1, 2], dtype=np.int32), batch_size=2, seed=2).epoch(1) == as_list
    assert all(type(index) is int for index in flattened(as_list))


@pytest.mark.parametrize(
    "lengths, kwargs, message",
    [
        ([3, 4], {}, "batch_size, max_tokens or both"),
        ([3, 4], {"batch_size": 0}, "batch_size must be at least 1"),
        ([3, 4], {"max_tokens": -5}, "max_tokens must be at least 1"),
        ([3, 4], {"batch_size": 2, "bucket_batches": 0}, "bucket_batches must be at least 1"),
        ([3, 4], {"batch_size": 2, "seed": -1}, "seed must be non-negative"),
        ([], {"batch_size": 2}, "non-empty"),
        ([3, -1], {"batch_size": 2}, "non-negative, found -1 at index 1"),
        ([3.0, 4.5], {"batch_size": 2}, "integers"),
    ],
)
def test_bad_arguments_are_errors_that_say_what_is_wrong(lengths, kwargs, message):
    with pytest.raises(SeqlabError, match=message):
        BucketedBatches(lengths, **kwargs)


# --- shares of processes ---------------------------------------------------------------------------


@pytest.mark.parametrize("world_size", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("count", [1, 2, 9, 12, 13])
def test_for_process_deals_equal_counts_with_repeats_only_in_the_last_round(world_size, count):
    plan = BucketedBatches([5] * count, batch_size=1, seed=11)  # exactly `count` batches
    batches = plan.epoch(2)
    shares = [plan.for_process(2, rank, world_size) for rank in range(world_size)]
    rounds = math.ceil(count / world_size)
    assert [len(share) for share in shares] == [rounds] * world_size
    # Read round by round, the shares are the epoch then its first batches again.
    dealt = [shares[rank][k] for k in range(rounds) for rank in range(world_size)]
    assert dealt[:count] == batches
    repeats = dealt[count:]
    assert len(repeats) < world_size  # at most the last round
    assert repeats == [batches[k % count] for k in range(len(repeats))]


def test_for_process_with_one_process_is_the_epoch():
    plan = BucketedBatches(sentence_lengths(500), max_tokens=300, seed=5)
    assert plan.for_process(3, rank=0, world_size=1) == plan.epoch(3)


@pytest.mark.parametrize("world_size", [1, 2, 3])
def test_evaluation_share_covers_every_example_exactly_once(world_size):
    lengths = sentence_lengths(1001)
    plan = BucketedBatches(lengths, max_tokens=400, shuffle=False)
    shares = [plan.evaluation_share(rank, world_size) for rank in range(world_size)]
    assert sorted(flattened([batch for share in shares for batch in share])) == list(range(len(lengths)))
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


def test_evaluation_share_uses_the_sorted_plan_even_for_a_shuffled_planner():
    lengths = sentence_lengths(300)
    shuffled = BucketedBatches(lengths, batch_size=8, seed=1)
    assert shuffled.evaluation_share(0, 1) == BucketedBatches(lengths, batch_size=8, shuffle=False).epoch(0)


@pytest.mark.parametrize("rank, world_size", [(2, 2), (-1, 2), (0, 0)])
def test_a_rank_outside_the_world_is_an_error(rank, world_size):
    plan = BucketedBatches([1, 2, 3], batch_size=1)
    with pytest.raises(SeqlabError, match="not one of"):
        plan.for_process(0, rank, world_size)
    with pytest.raises(SeqlabError, match="not one of"):
        plan.evaluation_share(rank, world_size)


# --- tensors: padding, masks, packing --------------------------------------------------------------


def example_sequences(lengths, features=3, dtype=torch.float64):
    generator = torch.Generator().manual_seed(0)
    return [torch.randn(length, features, generator=generator, dtype=dtype) for length in lengths]


@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequences_gives_padded_tensor_and_cpu_int64_lengths(batch_first):
    sequences = example_sequences([3, 5, 1])
    padded, lengths = pad_sequences(sequences, padding_value=-7.0, batch_first=batch_first)
    assert padded.shape == ((3, 5, 3) if batch_first else (5, 3, 3))
    assert lengths.tolist() == [3, 5, 1]
    assert lengths.dtype == torch.int64 and lengths.device.type == "cpu"
    by_example = padded if batch_first else padded.transpose(0, 1)
    assert torch.all(by_example[0, 3:] == -7.0) and torch.all(by_example[2, 1:] == -7.0)
    for original, recovered in zip(sequences, unpad_sequences(padded, lengths, batch_first=batch_first)):
        assert torch.equal(original, recovered)


def test_pad_sequences_refuses_nothing_and_mismatched_features():
    with pytest.raises(SeqlabError, match="at least one"):
        pad_sequences([])
    with pytest.raises(SeqlabError, match="trailing shape"):
        pad_sequences([torch.zeros(3, 2), torch.zeros(4, 5)])


def test_padding_mask_marks_real_positions():
    lengths = torch.tensor([3, 1, 0, 4])
    mask = padding_mask(lengths)  # (T, B)
    assert mask.dtype == torch.bool and mask.shape == (4, 4)
    assert mask.sum(0).tolist() == [3, 1, 0, 4]
    assert mask[:, 0].tolist() == [True, True, True, False]
    assert torch.equal(padding_mask(lengths, batch_first=True), mask.t())
    assert padding_mask(lengths, max_length=6).shape == (6, 4)
    with pytest.raises(SeqlabError, match="shorter than the longest"):
        padding_mask(lengths, max_length=3)


def test_pack_refuses_empty_examples():
    padded, lengths = pad_sequences([torch.zeros(2, 1), torch.zeros(0, 1)])
    with pytest.raises(SeqlabError, match="at least 1"):
        pack(padded, lengths)


@pytest.mark.parametrize("layer_class", [snn.LSTM, torch.nn.LSTM])
@pytest.mark.parametrize("batch_first", [False, True])
def test_packed_batch_gives_each_example_what_it_gives_alone(layer_class, batch_first):
    # Unsorted lengths, two layers, both directions: padding must change nothing, in float64.
    torch.manual_seed(0)
    layer = layer_class(3, 4, num_layers=2, bidirectional=True, batch_first=batch_first, dtype=torch.float64)
    sequences = example_sequences([4, 7, 1, 5, 7, 2])
    padded, lengths = pad_sequences(sequences, padding_value=123.0, batch_first=batch_first)
    packed_output, (h_n, c_n) = layer(pack(padded, lengths, batch_first=batch_first))
    output, output_lengths = unpack(packed_output, batch_first=batch_first)
    assert torch.equal(output_lengths, lengths)
    mask = padding_mask(lengths, batch_first=batch_first)
    assert torch.all(output[~mask] == 0)
    for b, (sequence, alone) in enumerate(zip(sequences, unpad_sequences(output, lengths, batch_first=batch_first))):
        single = sequence.unsqueeze(0 if batch_first else 1)  # (1, L, I) or (L, 1, I)
        expected, (h_alone, c_alone) = layer(single)
        expected = expected.squeeze(0 if batch_first else 1)
        torch.testing.assert_close(alone, expected, rtol=0, atol=1e-10)
        torch.testing.assert_close(h_n[:, b], h_alone[:, 0], rtol=0, atol=1e-10)
        torch.testing.assert_close(c_n[:, b], c_alone[:, 0], rtol=0, atol=1e-10)


# --- per-token averages ----------------------------------------------------------------------------


@pytest.mark.parametrize("batch_first", [False, True])
def test_masked_token_mean_is_the_mean_over_the_real_tokens_only(batch_first):
    token_losses = example_sequences([4, 1, 6, 3], features=1)
    token_losses = [losses.squeeze(1) for losses in token_losses]
    padded, lengths = pad_sequences(token_losses, padding_value=float("nan"), batch_first=batch_first)
    padded.requires_grad_(True)
    mean, count = masked_token_mean(padded, padding_mask(lengths, batch_first=batch_first))
    torch.testing.assert_close(mean, torch.cat(token_losses).mean(), rtol=0, atol=1e-12)
    assert count == 14
    mean.backward()
    mask = padding_mask(lengths, batch_first=batch_first)
    assert torch.all(padded.grad[~mask] == 0)
    torch.testing.assert_close(padded.grad[mask], torch.full((14,), 1 / 14, dtype=torch.float64), rtol=0, atol=1e-15)


def test_masked_token_mean_of_nothing_is_zero_with_count_zero():
    mean, count = masked_token_mean(torch.ones(3, 2), torch.zeros(3, 2, dtype=torch.bool))
    assert mean.item() == 0.0 and count == 0


def test_masked_token_mean_wants_a_bool_mask_of_the_same_shape():
    with pytest.raises(SeqlabError, match="bool tensor"):
        masked_token_mean(torch.ones(3, 2), torch.ones(3, 2))
    with pytest.raises(SeqlabError, match="bool tensor"):
        masked_token_mean(torch.ones(3, 2), torch.ones(2, 3, dtype=torch.bool))
