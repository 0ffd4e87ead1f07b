"""Firing (threshold, re-arming, refractory period), matching firings to triggers, and the scores, on hand-worked
cases, against brute force, and across chunkings of a stream."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from seqlab.tasks.trigger.events import EventCounts, FiringRule, event_scores, match_events, refractory_steps


@pytest.mark.parametrize(
    ("probabilities", "threshold", "refractory", "expected"),
    [
        ([], 0.5, 3, []),
        ([0.1, 0.2, 0.3], 0.5, 0, []),
        ([0.5], 0.5, 0, [0]),  # reaching the threshold fires
        ([0.9, 0.9, 0.9, 0.9, 0.9, 0.9], 0.5, 2, [0]),  # one stretch above fires once, however long
        ([0.9, 0.1, 0.9, 0.1, 0.9], 0.5, 0, [0, 2, 4]),  # no refractory period: each new stretch fires
        ([0.9, 0.1, 0.9, 0.1, 0.9], 0.5, 3, [0, 4]),  # step 2 is in the refractory period of step 0
        ([0.9, 0.1, 0.9, 0.9, 0.9, 0.9], 0.5, 3, [0, 3]),  # armed by the dip, it fires once the period has passed
        ([0.1, 0.9, 0.2, 0.9, 0.1, 0.6, 0.7], 0.5, 3, [1, 5]),
        ([0.6, 0.4, 0.6], 0.7, 0, []),
    ],
)
def test_the_firing_rule_on_hand_worked_outputs(probabilities, threshold, refractory, expected):
    assert FiringRule(threshold, refractory_steps=refractory)(probabilities) == expected


def brute_force_firings(probabilities, threshold, refractory):
    """The rule as its docstring states it, step by step."""
    fired, armed = [], True
    for step, p in enumerate(probabilities):
        if p < threshold:
            armed = True
        elif armed and (not fired or step - fired[-1] >= refractory):
            fired.append(step)
            armed = False
    return fired


def test_the_firing_rule_is_its_definition_and_a_stream_cut_anywhere_fires_at_the_same_steps():
    rng = np.random.default_rng(0)
    for _ in range(300):
        probabilities = rng.random(int(rng.integers(0, 40)))
        threshold, refractory = float(rng.choice([0.3, 0.5, 0.8])), int(rng.integers(0, 6))
        expected = brute_force_firings(probabilities, threshold, refractory)
        assert FiringRule(threshold, refractory_steps=refractory)(probabilities) == expected
        cuts = sorted(rng.integers(0, len(probabilities) + 1, size=int(rng.integers(0, 5))).tolist())
        stream = FiringRule(threshold, refractory_steps=refractory)
        pieces = np.split(probabilities, cuts)
        assert [step for piece in pieces for step in stream(piece)] == expected


@pytest.mark.parametrize(("refractory", "step", "expected"), [(0.5, 0.04, 13), (0.48, 0.04, 12), (0.0, 0.04, 0)])
def test_the_refractory_period_in_steps_is_rounded_up(refractory, step, expected):
    assert refractory_steps(refractory, step) == expected


@pytest.mark.parametrize(
    ("firings", "ends", "expected"),
    [
        ([], [], EventCounts(0, 0, 0)),
        ([], [1.0, 2.0], EventCounts(0, 0, 2)),
        ([5.0], [], EventCounts(0, 1, 0)),
        ([1.2], [1.0], EventCounts(1, 0, 0)),
        ([0.9], [1.0], EventCounts(1, 0, 0)),  # 0.1 s early: the window's first moment
        ([0.85], [1.0], EventCounts(0, 1, 1)),  # too early
        ([1.6], [1.0], EventCounts(1, 0, 0)),  # the window's last moment
        ([1.65], [1.0], EventCounts(0, 1, 1)),  # too late
        ([1.1, 1.3], [1.0], EventCounts(1, 1, 0)),  # a trigger is hit once: the second firing is a false alarm
        ([1.5], [1.0, 1.4], EventCounts(1, 0, 1)),  # both windows hold it: the earlier trigger takes it
        ([1.5, 1.55], [1.0, 1.4], EventCounts(2, 0, 0)),
        ([1.2, 3.0, 4.1], [1.0, 4.0, 6.0], EventCounts(2, 1, 1)),
    ],
)
def test_matching_firings_to_triggers_on_hand_worked_cases(firings, ends, expected):
    assert match_events(firings, ends, before=0.1, after=0.6) == expected


def maximum_matching(firings, ends, before, after) -> int:
    """The most firings that can be matched one to one to triggers whose window holds them, by trying all."""
    best = 0
    for order in itertools.permutations(range(len(ends))):
        pairs = sum(1 for firing, index in zip(firings, order) if ends[index] - before <= firing <= ends[index] + after)
        best = max(best, pairs)
    return best


def test_greedy_matching_hits_as_many_triggers_as_the_best_assignment():
    rng = np.random.default_rng(1)
    for _ in range(300):
        ends = np.round(rng.uniform(0, 3, size=int(rng.integers(0, 5))), 2).tolist()
        firings = np.round(rng.uniform(0, 3.5, size=int(rng.integers(0, 5))), 2).tolist()
        padded = firings + [99.0] * max(0, len(ends) - len(firings))  # firings that match nothing
        best = max(maximum_matching(list(chosen), ends, 0.1, 0.6)
                   for chosen in itertools.permutations(padded, len(ends))) if ends else 0  # fmt: skip
        counts = match_events(firings, ends, before=0.1, after=0.6)
        assert counts.hits == best
        assert counts.hits + counts.false_alarms == len(firings) and counts.hits + counts.misses == len(ends)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ((0, 0, 0, 0.0), {"precision": 0.0, "recall": 0.0, "f1": 0.0, "false_alarms_per_hour": 0.0, "miss_rate": 0.0}),
        (
            (9, 1, 1, 7200.0),
            {"precision": 0.9, "recall": 0.9, "f1": 0.9, "false_alarms_per_hour": 0.5, "miss_rate": 0.1},
        ),  # fmt: skip
        (
            (3, 0, 1, 1800.0),
            {"precision": 1.0, "recall": 0.75, "f1": 6 / 7, "false_alarms_per_hour": 0.0, "miss_rate": 0.25},
        ),  # fmt: skip
        (
            (0, 4, 2, 360.0),
            {"precision": 0.0, "recall": 0.0, "f1": 0.0, "false_alarms_per_hour": 40.0, "miss_rate": 1.0},
        ),  # fmt: skip
    ],
)
def test_event_scores_from_summed_counts(counts, expected):
    scores = event_scores(*counts)
    assert scores.keys() == expected.keys()
    for name, value in expected.items():
        assert scores[name] == pytest.approx(value, rel=0, abs=1e-12), name
