"""batchify and BPTT windows: one stream cut into B columns, then into row windows."""

from __future__ import annotations

import pytest
import torch

from seqlab.data import batchify, get_window, num_windows
from seqlab.errors import SeqlabError


def test_batchify_lays_contiguous_stretches_side_by_side():
    # The example drawn in batchify's docstring: 25 tokens, 4 streams, the last one dropped.
    streams = batchify(torch.arange(25), 4)
    assert streams.shape == (6, 4)
    assert streams[:, 0].tolist() == [0, 1, 2, 3, 4, 5]
    assert streams[:, 1].tolist() == [6, 7, 8, 9, 10, 11]
    assert streams[0].tolist() == [0, 6, 12, 18]
    assert 24 not in streams
    assert streams.is_contiguous()


def test_batchify_needs_two_tokens_per_stream():
    assert batchify(torch.arange(8), 4).shape == (2, 4)
    with pytest.raises(SeqlabError, match="too few"):
        batchify(torch.arange(7), 4)


def test_windows_pair_each_input_with_the_next_token():
    streams = batchify(torch.arange(40), 2)  # (20, 2): columns 0..19 and 20..39
    inputs, targets = get_window(streams, 0, bptt=5)
    assert inputs.shape == targets.shape == (5, 2)
    assert inputs[:, 0].tolist() == [0, 1, 2, 3, 4]
    assert targets[:, 0].tolist() == [1, 2, 3, 4, 5]
    assert targets[:, 1].tolist() == [21, 22, 23, 24, 25]


def test_windows_tile_the_streams_and_the_last_one_is_shorter():
    streams = batchify(torch.arange(40), 2)  # (20, 2): 19 positions have a target
    assert num_windows(streams, bptt=5) == 4
    lengths = [get_window(streams, index, 5)[0].size(0) for index in range(4)]
    assert lengths == [5, 5, 5, 4]
    inputs = torch.cat([get_window(streams, index, 5)[0] for index in range(4)])
    targets = torch.cat([get_window(streams, index, 5)[1] for index in range(4)])
    assert torch.equal(inputs, streams[:-1])
    assert torch.equal(targets, streams[1:])


def test_window_past_the_end_is_an_index_error():
    streams = batchify(torch.arange(40), 2)
    with pytest.raises(IndexError):
        get_window(streams, 4, bptt=5)
