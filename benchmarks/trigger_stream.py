"""Real-time factor of the streaming trigger detector on one thread, side by side with whole-file inference.

A long recording (``--minutes`` of pink noise with a tone burst every couple of seconds, or a WAV
given with ``--wav``) is run through a trigger detector two ways, on one torch thread:

- **stream**: :class:`seqlab.tasks.trigger.detecting.StreamingDetector`, chunks of ``--chunk-seconds``
  pushed one after another (causal features, convolution context and GRU states carried, the
  firing rule), as a microphone would feed it;
- **whole**: :func:`seqlab.tasks.trigger.detecting.whole_file_probabilities`, the recording at once.

It prints, for each, seconds of compute and the real-time factor: seconds of audio per second of
compute (100 means the detector keeps up with 100 streams, or needs 1% of a core), and the largest
difference between the two outputs (the stream equals the file to rounding). The detector is a
trained run's (``--checkpoint DIR``) or, by default, an untrained one of the ``digits-trigger``
preset's size: the cost does not depend on the weights.

Usage:
    python benchmarks/trigger_stream.py                                  # 10 minutes, chunks of 0.1, 0.5, 2 s
    python benchmarks/trigger_stream.py --minutes 60 --chunk-seconds 0.04 0.25
    python benchmarks/trigger_stream.py --checkpoint runs/seven --wav long.wav
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch

from seqlab.audio.mixing import coloured_noise
from seqlab.audio.wav import read_wav
from seqlab.data.spoken_digits import SAMPLE_RATE
from seqlab.models.trigger_configs import TriggerConfig
from seqlab.models.trigger_detector import TriggerDetector
from seqlab.tasks.trigger.config import DataConfig
from seqlab.tasks.trigger.detecting import StreamingDetector, whole_file_probabilities
from seqlab.tasks.trigger.presets import DEFAULT_PRESET, PRESETS


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the synthetic recording")
    parser.add_argument("--wav", type=Path, help="a recording to run over instead (read at 8 kHz, mono)")
    parser.add_argument("--checkpoint", type=Path, help="a trained run (default: an untrained preset-sized model)")
    parser.add_argument("--chunk-seconds", type=float, nargs="+", default=[0.1, 0.5, 2.0], help="stream chunk sizes")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def synthetic_recording(minutes: float, seed: int) -> np.ndarray:
    """Pink noise with a 0.3 s tone burst every 2-3 s, float32 at 8 kHz."""
    rng = np.random.default_rng(seed)
    samples = 0.05 * coloured_noise(round(minutes * 60 * SAMPLE_RATE), 1.0, rng)
    burst = np.arange(round(0.3 * SAMPLE_RATE)) / SAMPLE_RATE
    start = 0
    while start + len(burst) < len(samples):
        pitch = rng.uniform(200, 2000)
        samples[start : start + len(burst)] += 0.3 * np.sin(np.pi * burst / 0.3) * np.sin(2 * np.pi * pitch * burst)
        start += int(rng.uniform(2, 3) * SAMPLE_RATE)
    return samples.astype(np.float32)


def detector(checkpoint: Path | None) -> tuple[TriggerDetector, DataConfig]:
    if checkpoint is not None:
        from seqlab.tasks.trigger.checkpoint import load_detector

        return load_detector(checkpoint)
    preset = PRESETS[DEFAULT_PRESET]
    torch.manual_seed(0)
    model = TriggerDetector(TriggerConfig(**preset.model, input_size=preset.data.n_mels))
    model.set_normalisation(torch.full((preset.data.n_mels,), -30.0), torch.full((preset.data.n_mels,), 15.0))
    return model.eval(), preset.data


def stream(model: TriggerDetector, config: DataConfig, samples: np.ndarray, chunk: int) -> np.ndarray:
    streaming = StreamingDetector(model, config)
    for start in range(0, len(samples), chunk):
        streaming.push(samples[start : start + chunk])
    return streaming.probabilities


def main() -> None:
    args = parse_arguments()
    torch.set_num_threads(args.threads)
    samples = read_wav(args.wav, sample_rate=SAMPLE_RATE).samples if args.wav else synthetic_recording(args.minutes, 0)
    model, config = detector(args.checkpoint)
    audio = len(samples) / SAMPLE_RATE
    parameters = sum(p.numel() for p in model.parameters())
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, {torch.get_num_threads()} "
          f"thread(s); {audio / 60:.1f} min of audio; detector {model.config} ({parameters:,} parameters)")  # fmt: skip
    stream(model, config, samples[: SAMPLE_RATE * 5], SAMPLE_RATE // 2)  # warm up
    started = time.perf_counter()
    whole = whole_file_probabilities(model, config, samples)
    elapsed = time.perf_counter() - started
    print(f"{'whole file':>18}: {elapsed:8.2f} s, real-time factor {audio / elapsed:8.1f}")
    for chunk_seconds in args.chunk_seconds:
        started = time.perf_counter()
        streamed = stream(model, config, samples, round(chunk_seconds * SAMPLE_RATE))
        elapsed = time.perf_counter() - started
        difference = float(np.abs(streamed - whole).max())
        print(f"{f'stream {chunk_seconds:g} s chunks':>18}: {elapsed:8.2f} s, real-time factor {audio / elapsed:8.1f}"
              f"  (max |stream - whole| {difference:.1e}, {len(streamed):,} steps)")  # fmt: skip


if __name__ == "__main__":
    main()
