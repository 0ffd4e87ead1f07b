"""Pictures of a trigger detector: its output over a recording, and misses against false alarms per hour."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqlab.atomic_file import atomic_path
from seqlab.tasks.trigger.detecting import Detection


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: str | Path) -> Path:
    figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=100)
    _pyplot().close(figure)
    return Path(path)


def plot_detector_output(detection: Detection, path: str | Path, samples: np.ndarray | None = None) -> Path:
    """Draw the output per step over time, the threshold, and a line at each firing (the waveform above, if given)."""
    plt = _pyplot()
    rows = 2 if samples is not None else 1
    width = min(max(6.0, 1.0 + 0.8 * detection.seconds), 30.0)
    figure, axes = plt.subplots(rows, 1, figsize=(width, 2.2 * rows + 0.6), sharex=True, squeeze=False)
    axes = axes[:, 0]
    if samples is not None:
        axes[0].plot(np.arange(len(samples)) / (len(samples) / detection.seconds), samples, lw=0.4, color="0.3")
        axes[0].set_ylabel("waveform")
    times = (np.arange(len(detection.probabilities)) + 1) * detection.step_seconds
    axes[-1].plot(times, detection.probabilities, color="tab:blue", lw=1.2, label="detector output")
    axes[-1].axhline(detection.threshold, color="tab:red", ls="--", lw=0.8, label=f"threshold {detection.threshold:g}")
    for axis in axes:
        for time in detection.times:
            axis.axvline(time, color="tab:orange", lw=1.0)
    axes[-1].set_ylim(-0.02, 1.02)
    axes[-1].set_xlim(0.0, detection.seconds)
    axes[-1].set_xlabel("seconds")
    axes[-1].set_ylabel("p(trigger just ended)")
    axes[-1].legend(loc="upper right", fontsize=8)
    axes[0].set_title(f"{Path(detection.file).name}: heard {len(detection.times)} time(s)", fontsize=10)
    return _save(figure, path)


def plot_miss_false_alarms(curves: dict[str, list[dict[str, float]]], path: str | Path, *,
                           threshold: float) -> Path:  # fmt: skip
    """Draw each curve's miss rate against false alarms per hour, one point per threshold, the chosen one marked."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6.0, 4.5))
    for name, points in curves.items():
        false_alarms = [point["false_alarms_per_hour"] for point in points]
        misses = [100 * point["miss_rate"] for point in points]
        axis.plot(false_alarms, misses, marker=".", label=name)
        chosen = [point for point in points if point["threshold"] == threshold]
        if chosen:
            axis.plot(chosen[0]["false_alarms_per_hour"], 100 * chosen[0]["miss_rate"], "o", mfc="none", ms=10,
                      color=axis.lines[-1].get_color())  # fmt: skip
    axis.set_xscale("symlog", linthresh=1.0)
    axis.axvline(1.0, color="0.6", ls=":", lw=0.8)
    axis.set_xlabel("false alarms per hour")
    axis.set_ylabel("misses (%)")
    axis.set_title(f"held-out clips: misses against false alarms (threshold {threshold:g} circled)", fontsize=10)
    axis.legend()
    return _save(figure, path)
