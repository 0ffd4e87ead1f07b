"""Detections as events: when the detector fires, which firings hit a trigger, and the scores of the counts.

**Firing** (:class:`FiringRule`). The detector's output p_j per output step j (time t_j = (j + 1)·Δ)
fires at step j when all three hold:

1. p_j ≥ threshold;
2. it is armed: no firing yet, or p has been below the threshold at some step since the last one
   (one stretch above the threshold fires once, however long it lasts);
3. the refractory period has passed: j − (the last firing's step) ≥ ⌈refractory / Δ⌉.

The rule keeps its state between chunks, so a stream fires at the steps a whole file does.

**Matching** (:func:`match_events`). A trigger ending at e accepts firings at times in
[e − before, e + after]. Firings are taken in time order; each hits the unmatched trigger whose
window holds it and ends first (all windows are equally long: the earliest such trigger), or is
a false alarm. Each trigger is hit once at most; one never hit is a miss. Taking windows by their
end is the classic greedy that matches as many points to intervals as any assignment can.

**Scores** (:func:`event_scores`): precision = H / (H + FA), recall = H / (H + M), F1 = 2H / (2H +
FA + M), false alarms per hour = FA / (seconds / 3600), miss rate = M / (H + M); 0 where a
denominator is 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

# thresholds at which the evaluation counts hits, false alarms and misses, for the miss / false-alarm curve
CURVE_THRESHOLDS = (0.01, 0.02, 0.05, *(round(0.1 * i, 1) for i in range(1, 10)), 0.95, 0.98, 0.99, 0.995, 0.999)


class EventCounts(NamedTuple):
    hits: int
    false_alarms: int
    misses: int


class FiringRule:
    """Which output steps fire (module docstring), step by step over a stream.

    Example:
        >>> FiringRule(0.5, refractory_steps=3)([0.1, 0.9, 0.2, 0.9, 0.1, 0.6, 0.7])
        [1, 5]
    """

    def __init__(self, threshold: float, *, refractory_steps: int):
        self.threshold, self.refractory_steps = threshold, refractory_steps
        self.steps_seen = 0  # the stream's steps before the next chunk
        self.last_fired: int | None = None  # the step of the last firing
        self.armed = True  # whether the output has been below the threshold since the last firing

    def __call__(self, probabilities: Sequence[float] | np.ndarray) -> list[int]:
        """The steps (counted from the stream's start) at which the chunk's outputs fire."""
        probabilities = np.asarray(probabilities, dtype=np.float64)
        fired = []
        above = np.flatnonzero(probabilities >= self.threshold) + self.steps_seen
        previous = self.steps_seen - 1 if not self.armed else None  # a step above the threshold, or None
        for step in above.tolist():
            if previous is not None and step > previous + 1:
                self.armed = True  # a step below the threshold lay between
            late = self.last_fired is None or step - self.last_fired >= self.refractory_steps
            if self.armed and late:
                fired.append(step)
                self.last_fired, self.armed = step, False
            previous = step
        if len(probabilities) and probabilities[-1] < self.threshold:
            self.armed = True
        self.steps_seen += len(probabilities)
        return fired


def refractory_steps(refractory: float, step_seconds: float) -> int:
    """The refractory period in output steps: ⌈refractory / Δ⌉."""
    return max(math.ceil(refractory / step_seconds - 1e-9), 0)


def match_events(firings: Sequence[float], trigger_ends: Sequence[float], *, before: float,
                 after: float) -> EventCounts:  # fmt: skip
    """Hits, false alarms and misses of firing times against trigger end times (seconds; module docstring)."""
    ends = sorted(trigger_ends)
    matched = [False] * len(ends)
    hits = 0
    for time in sorted(firings):
        for index, end in enumerate(ends):  # the earliest unmatched trigger whose window holds the firing
            if not matched[index] and end - before <= time <= end + after:
                matched[index] = True
                hits += 1
                break
    return EventCounts(hits, len(firings) - hits, len(ends) - hits)


def event_scores(hits: float, false_alarms: float, misses: float, seconds: float) -> dict[str, float]:
    """Precision, recall, F1, false alarms per hour and miss rate of summed counts (module docstring)."""

    def ratio(numerator: float, denominator: float) -> float:
        return numerator / denominator if denominator else 0.0

    return {"precision": ratio(hits, hits + false_alarms), "recall": ratio(hits, hits + misses),
            "f1": ratio(2 * hits, 2 * hits + false_alarms + misses),
            "false_alarms_per_hour": ratio(false_alarms, seconds / 3600),
            "miss_rate": ratio(misses, hits + misses)}  # fmt: skip
