"""Search states keep the encoder's outputs once per source sentence: rows are grouped by source
exactly when the order allows it, and every model steps a grouped state as it steps each row alone."""

from __future__ import annotations

import doctest

import pytest
import torch

from seqlab.models import source_groups
from seqlab.models.source_groups import regroup
from tests.models.test_seq2seq import make_batch
from tests.models.test_seq2seq import make_model as make_rnn
from tests.models.test_transformer_seq2seq import make_model as make_transformer


@pytest.mark.parametrize(
    "order, rows_per_group, groups, expected_index, expected_rows",
    [
        ([0, 0, 0, 1, 1, 1], 1, 2, None, 3),  # expansion into beams: the sources stay as they are
        ([2, 0, 1, 5, 5, 3], 3, 2, None, 3),  # beams permuted within their sentence
        ([3, 2, 5, 5], 2, 3, [1, 2], 2),  # sentence 0 dropped
        ([2, 3, 0, 1], 2, 2, [1, 0], 2),  # the sentences swapped
        ([0, 0, 1, 1, 1], 1, 2, [0, 0, 1, 1, 1], 1),  # runs of unequal length: one group per row
        ([1, 1, 0], 1, 2, [1, 1, 0], 1),
        ([0, 0, 0, 0], 2, 2, [0], 4),  # sentence 1 dropped, sentence 0 read by twice its rows
    ],
)
def test_rows_are_grouped_by_source_only_where_the_runs_are_equal(
    order, rows_per_group, groups, expected_index, expected_rows
):
    index, rows = regroup(torch.tensor(order), rows_per_group, groups)
    assert rows == expected_rows
    assert (None if index is None else index.tolist()) == expected_index
    # Whatever the grouping, each new row reads the source its old row read.
    old_source = torch.arange(groups).repeat_interleave(rows_per_group)
    new_index = torch.arange(groups) if index is None else index
    assert new_index.repeat_interleave(rows).tolist() == old_source[torch.tensor(order)].tolist()


ORDER_SEQUENCES = {
    "expand, permute beams, drop a sentence": [[0, 0, 0, 1, 1, 1], [2, 0, 1, 5, 5, 3], [3, 5, 4]],
    "expand, swap the sentences, regroup unevenly": [[0, 0, 1, 1], [3, 2, 1, 0], [0, 0, 1, 3, 2]],
    "one row per group": [[1, 1, 0], [2, 0, 1]],
}
MODELS = {"bahdanau": lambda: make_rnn("bahdanau", "lstm"), "luong": lambda: make_rnn("luong-concat", "gru"),
          "none": lambda: make_rnn("none", "gru"), "transformer": make_transformer}  # fmt: skip


@pytest.mark.parametrize("orders", ORDER_SEQUENCES.values(), ids=ORDER_SEQUENCES.keys())
@pytest.mark.parametrize("make_model", MODELS.values(), ids=MODELS.keys())
def test_a_grouped_state_steps_every_row_as_that_row_alone(make_model, orders):
    model = make_model()
    source, lengths, _, _ = make_batch()
    state = model.start(source, lengths)
    _, state = model.step(torch.tensor([1, 1]), state, keep_attention=True)
    alone = [model.reorder(state, torch.tensor([row])) for row in range(2)]  # each row's own state
    for step, order in enumerate(orders):
        tokens = (torch.arange(len(order)) + step) % 6 + 3  # words of the target vocabulary of 9
        log_probs, state = model.step(tokens, model.reorder(state, torch.tensor(order)), keep_attention=True)
        alone = [alone[row] for row in order]
        for row, single in enumerate(alone):
            expected, alone[row] = model.step(tokens[row : row + 1], single, keep_attention=True)
            torch.testing.assert_close(log_probs[row : row + 1], expected, rtol=0, atol=1e-12)
            if state.attention is not None:  # None without attention
                torch.testing.assert_close(state.attention[row : row + 1], alone[row].attention, rtol=0, atol=1e-12)


def test_docstring_examples():
    assert doctest.testmod(source_groups).failed == 0
