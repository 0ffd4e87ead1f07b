"""SpecAugment's masks, tested by their properties: widths, counts, the p bound, lengths, seeds, eval mode."""

import pytest
import torch

from seqlab.audio.spec_augment import POLICIES, Masks, SpecAugment
from seqlab.errors import SeqlabError

LENGTHS = torch.tensor([120, 45, 80, 3, 0, 120])  # frames; one utterance too short for a mask, one empty
CHANNELS = 40


def batch(lengths=LENGTHS, channels=CHANNELS):
    """Features with no zero anywhere (so any 0 is a mask), 0 at padding as the features module leaves it."""
    features = torch.rand(len(lengths), int(lengths.max()), channels) + 1.0  # (B, T, F) in [1, 2)
    valid = torch.arange(features.shape[1]) < lengths[:, None]
    return features * valid[:, :, None], valid


def draws(augment, count=300, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [augment.draw(LENGTHS, CHANNELS, generator) for _ in range(count)]


def test_mask_widths_and_starts_stay_within_their_bounds_and_each_utterance():
    augment = SpecAugment(
        freq_mask_param=13, time_mask_param=30, num_freq_masks=2, num_time_masks=3, max_time_fraction=0.2
    )
    for masks in draws(augment):
        assert masks.freq_widths.shape == masks.freq_starts.shape == (len(LENGTHS), 2)
        assert masks.time_widths.shape == masks.time_starts.shape == (len(LENGTHS), 3)
        assert (masks.freq_widths >= 0).all() and (masks.freq_widths <= 13).all()
        assert (masks.freq_starts >= 0).all() and (masks.freq_starts + masks.freq_widths <= CHANNELS).all()
        bound = torch.minimum(torch.tensor(30), (0.2 * LENGTHS).floor().long())[:, None]  # min(T, ⌊p·τ⌋)
        assert (masks.time_widths >= 0).all() and (masks.time_widths <= bound).all()
        assert (masks.time_starts >= 0).all() and (masks.time_starts + masks.time_widths <= LENGTHS[:, None]).all()


def test_widths_and_starts_cover_their_whole_ranges_uniformly():
    augment = SpecAugment(freq_mask_param=5, time_mask_param=10)
    masks = draws(augment, count=2000)
    widths = torch.stack([m.freq_widths[0, 0] for m in masks])
    assert set(widths.tolist()) == set(range(6))  # {0, …, F}
    counts = torch.bincount(widths, minlength=6).double()
    assert (counts / counts.sum() - 1 / 6).abs().max() < 0.03
    time_widths = torch.stack([m.time_widths[1, 0] for m in masks])  # τ = 45, T = 10
    assert set(time_widths.tolist()) == set(range(11))
    full = [m for m in masks if m.freq_widths[0, 0] == 0]
    assert {m.freq_starts[0, 0].item() for m in full} == set(range(CHANNELS + 1))  # every start {0, …, ν − f}


def test_the_p_bound_holds_for_each_time_mask_so_the_masked_fraction_is_at_most_p_per_mask():
    augment = SpecAugment(freq_mask_param=0, time_mask_param=1000, num_freq_masks=0, max_time_fraction=0.25)
    features, valid = batch()
    generator = torch.Generator().manual_seed(3)
    widest = torch.zeros(len(LENGTHS), dtype=torch.long)
    for _ in range(200):
        out = augment(features, LENGTHS, generator=generator)
        masked_steps = ((out == 0).all(2) & valid).sum(1)  # (B,)
        assert (masked_steps <= (0.25 * LENGTHS).floor()).all()
        widest = torch.maximum(widest, masked_steps)
    assert widest.tolist() == (0.25 * LENGTHS).floor().long().tolist()  # the bound is reached, never passed


def test_masked_entries_are_exactly_the_drawn_intervals_and_padding_is_untouched():
    augment = SpecAugment(freq_mask_param=10, time_mask_param=20, num_freq_masks=2, num_time_masks=2, mask_value=-3.0)
    features, valid = batch()
    for seed in range(20):
        masks = augment.draw(LENGTHS, CHANNELS, torch.Generator().manual_seed(seed))
        out = augment(features, LENGTHS, generator=torch.Generator().manual_seed(seed))
        expected = torch.zeros_like(out, dtype=torch.bool)
        for b in range(len(LENGTHS)):
            for start, width in zip(masks.time_starts[b].tolist(), masks.time_widths[b].tolist()):
                expected[b, start : start + width, :] = True
            for start, width in zip(masks.freq_starts[b].tolist(), masks.freq_widths[b].tolist()):
                expected[b, : LENGTHS[b], start : start + width] = True
        assert torch.equal(out == -3.0, expected)
        assert torch.equal(out[~expected], features[~expected])
        assert not out[~valid].any()  # padding stays 0 even with a mask value of -3


def test_the_same_seed_gives_the_same_masks_and_another_seed_others():
    augment = SpecAugment(**POLICIES["SM"] | dict(freq_mask_param=8))
    features, _ = batch()
    first = augment(features, LENGTHS, generator=torch.Generator().manual_seed(7))
    again = augment(features, LENGTHS, generator=torch.Generator().manual_seed(7))
    other = augment(features, LENGTHS, generator=torch.Generator().manual_seed(8))
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert not torch.equal(first, features)


def test_utterances_of_a_batch_get_their_own_masks():
    augment = SpecAugment(freq_mask_param=20, time_mask_param=40)
    lengths = torch.full((8,), 100)
    features, _ = batch(lengths)
    out = augment(features, lengths, generator=torch.Generator().manual_seed(0))
    patterns = {tuple((row == 0).flatten().tolist()) for row in out}
    assert len(patterns) > 1


def test_eval_mode_and_zero_masks_are_the_identity():
    features, _ = batch()
    augment = SpecAugment(freq_mask_param=10, time_mask_param=10)
    augment.eval()
    assert augment(features, LENGTHS) is features
    none = SpecAugment(freq_mask_param=10, time_mask_param=10, num_freq_masks=0, num_time_masks=0)
    assert none(features, LENGTHS) is features


def test_zero_mask_parameters_mask_nothing():
    features, _ = batch()
    out = SpecAugment(freq_mask_param=0, time_mask_param=0, num_time_masks=3)(features, LENGTHS)
    assert torch.equal(out, features)


def test_without_a_generator_the_global_seed_decides():
    features, _ = batch()
    augment = SpecAugment(freq_mask_param=10, time_mask_param=10)
    torch.manual_seed(5)
    first = augment(features, LENGTHS)
    torch.manual_seed(5)
    assert torch.equal(augment(features, LENGTHS), first)


def test_the_papers_policies_are_table_1():
    assert POLICIES["LD"] == dict(freq_mask_param=27, num_freq_masks=2, time_mask_param=100, num_time_masks=2,
                                  max_time_fraction=1.0)  # fmt: skip
    assert POLICIES["SM"]["max_time_fraction"] == 0.2 and POLICIES["SM"]["freq_mask_param"] == 15
    for policy in POLICIES.values():
        SpecAugment(**policy)


def test_masks_apply_on_another_batch_of_the_same_shape():
    masks = Masks(torch.tensor([[1]]), torch.tensor([[2]]), torch.tensor([[0]]), torch.tensor([[1]]))
    out = masks.apply(torch.ones(1, 3, 4), torch.tensor([2]), value=9.0)
    assert out.tolist() == [[[9, 9, 9, 9], [1, 9, 9, 1], [1, 1, 1, 1]]]


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(freq_mask_param=-1, time_mask_param=1), "freq_mask_param must be an int >= 0"),
        (dict(freq_mask_param=1, time_mask_param=2.5), "time_mask_param must be an int >= 0"),
        (dict(freq_mask_param=1, time_mask_param=1, num_time_masks=-2), "num_time_masks must be an int >= 0"),
        (
            dict(freq_mask_param=1, time_mask_param=1, max_time_fraction=1.5),
            r"max_time_fraction \(p\) must be in \[0, 1\]",
        ),
    ],
)
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(SeqlabError, match=message):
        SpecAugment(**kwargs)


def test_bad_batches_are_named():
    augment = SpecAugment(freq_mask_param=1, time_mask_param=1)
    with pytest.raises(SeqlabError, match=r"need features \(B, T, F\) and lengths \(B,\)"):
        augment(torch.zeros(3, 4), torch.tensor([3]))
    with pytest.raises(SeqlabError, match=r"lengths must be in \[0, T=4\]"):
        augment(torch.zeros(1, 4, 2), torch.tensor([5]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_masks_drawn_on_the_cpu_apply_to_features_on_cuda():
    features, _ = batch()
    augment = SpecAugment(freq_mask_param=10, time_mask_param=10)
    cpu = augment(features, LENGTHS, generator=torch.Generator().manual_seed(0))
    gpu = augment(features.cuda(), LENGTHS.cuda(), generator=torch.Generator().manual_seed(0))
    assert torch.equal(gpu.cpu(), cpu)
