"""Speed of seqlab.audio's batched log-mel and MFCC features against librosa, side by side in one run.

A batch of utterances (by default 256: the first recordings of the Free Spoken Digit Dataset, 8 kHz,
0.14-2.28 s, about 0.45 s on average, found under ``--data``, ``$SEQLAB_DATA/fsdd/recordings`` or
``../shared/data/fsdd/recordings``; or, with ``--synthetic`` or if none is there, synthetic
utterances of similar lengths)
becomes features two ways:

* seqlab: the list of arrays padded into one (B, S) tensor, then ``LogMelSpectrogram`` on the whole
  batch (and ``mfcc`` of it); the padding is counted in its time;
* librosa: ``power_to_db(melspectrogram(y))`` (and ``feature.mfcc``) of each utterance in a loop,
  since librosa has no batch of unequal lengths.

Both use the defaults of ``LogMelSpectrogram``: 25 ms Hann windows every 10 ms (n_fft 256), 40 mels,
dB with top_db 80; 13 MFCCs. The outputs are checked to agree (to 1e-3 dB at bins within 60 dB of
each utterance's loudest) before timing. The steps run round-robin after two untimed rounds, so
that the machine's noise hits them alike; the script prints the median times and the ratio
``librosa time / seqlab time`` (10.0 = ten times faster). Target (issue 12): at least 10 for 256
utterances. Timings mean something only on an otherwise idle machine.

Usage:
    python benchmarks/audio_features.py                               # 256 utterances, 1 thread
    python benchmarks/audio_features.py --batch 512 --repeats 20 --threads 4
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import librosa
import numpy as np
import torch

from seqlab.audio.features import LogMelSpectrogram, mfcc
from seqlab.audio.wav import read_wav

RATE = 8000
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "fsdd" / "recordings"
LIBROSA_SETTINGS = dict(sr=RATE, n_fft=256, win_length=200, hop_length=80, n_mels=40)  # LogMelSpectrogram's defaults


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=256, help="utterances per batch")
    parser.add_argument("--data", type=Path, default=None, help="a folder of WAV files (default: FSDD if found)")
    parser.add_argument("--synthetic", action="store_true", help="synthetic utterances even if FSDD is found")
    parser.add_argument("--repeats", type=int, default=10, help="timed rounds (median taken)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (librosa's loop uses one)")
    parser.add_argument("--seed", type=int, default=0, help="for synthetic utterances")
    args = parser.parse_args()
    if args.data is not None and not any(args.data.glob("*.wav")):
        parser.error(f"--data {args.data}: no WAV files there")
    return args


def time_side_by_side(steps: dict[str, Callable[[], object]], repeats: int, warmup: int = 2) -> dict[str, float]:
    """Median seconds per call of each step, timed round-robin after ``warmup`` untimed rounds."""
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for round_index in range(repeats + warmup):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            if round_index >= warmup:
                samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def recordings_folder(given: Path | None) -> Path | None:
    """``given``, else FSDD's recordings under $SEQLAB_DATA or the shared data, else None."""
    if given is not None:
        return given
    candidates = []
    if os.environ.get("SEQLAB_DATA"):
        candidates.append(Path(os.environ["SEQLAB_DATA"]) / "fsdd" / "recordings")
    candidates.append(SHARED)
    return next((folder for folder in candidates if folder.is_dir() and any(folder.glob("*.wav"))), None)


def synthetic_utterances(count: int, seed: int) -> list[np.ndarray]:
    """Harmonic 'vowels' over noise, 0.14 to 2.28 s long with FSDD's mean of about 0.45 s, float32."""
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.lognormal(np.log(3500), 0.35, count), 1149, 18262).astype(int)
    utterances = []
    for length in lengths:
        t = np.arange(length) / RATE
        pitch = rng.uniform(90, 200)
        harmonics = np.arange(1, int(3800 // pitch))
        voiced = (np.sin(2 * np.pi * pitch * harmonics[:, None] * t) / harmonics[:, None]).sum(0)
        envelope = np.sin(np.pi * np.arange(length) / length)
        utterances.append((0.2 * envelope * voiced + 0.01 * rng.standard_normal(length)).astype(np.float32))
    return utterances


def padded(utterances: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """The utterances as one zero-padded batch (B, S) and their lengths (B,)."""
    lengths = torch.tensor([len(u) for u in utterances])
    batch = torch.zeros(len(utterances), int(lengths.max()))
    for row, utterance in zip(batch, utterances):
        row[: len(utterance)] = torch.from_numpy(utterance)
    return batch, lengths


def check_agreement(utterances: list[np.ndarray], features: torch.Tensor, frames: torch.Tensor) -> float:
    """The largest difference in dB from librosa at bins within 60 dB of each utterance's loudest."""
    worst = 0.0
    for i, y in enumerate(utterances):
        theirs = librosa.power_to_db(librosa.feature.melspectrogram(y=y, **LIBROSA_SETTINGS)).T  # (T_i, n_mels)
        ours = features[i, : frames[i]].numpy()
        assert ours.shape == theirs.shape, f"utterance {i}: {ours.shape} frames, librosa {theirs.shape}"
        loud = theirs >= theirs.max() - 60.0
        worst = max(worst, float(np.abs(ours - theirs)[loud].max()))
    assert worst < 1e-3, f"seqlab and librosa differ by {worst} dB"
    return worst


def main() -> None:
    args = parse_arguments()
    torch.set_num_threads(args.threads)
    folder = None if args.synthetic else recordings_folder(args.data)
    if folder is None:
        utterances, source = synthetic_utterances(args.batch, args.seed), "synthetic utterances"
    else:
        paths = sorted(folder.glob("*.wav"))[: args.batch]
        utterances, source = [read_wav(path, sample_rate=RATE).samples for path in paths], f"the first of {folder}"
    log_mel = LogMelSpectrogram(RATE)

    def ours_log_mel() -> tuple[torch.Tensor, torch.Tensor]:
        return log_mel(*padded(utterances))

    def ours_mfcc() -> torch.Tensor:
        return mfcc(ours_log_mel()[0], 13)

    def librosa_log_mel() -> list[np.ndarray]:
        return [librosa.power_to_db(librosa.feature.melspectrogram(y=y, **LIBROSA_SETTINGS)) for y in utterances]

    def librosa_mfcc() -> list[np.ndarray]:
        return [librosa.feature.mfcc(y=y, n_mfcc=13, **LIBROSA_SETTINGS) for y in utterances]

    worst = check_agreement(utterances, *ours_log_mel())
    seconds = sum(map(len, utterances)) / RATE
    machine = platform.processor() or platform.machine()
    print(
        f"# torch {torch.__version__}, librosa {librosa.__version__}, {machine}, {args.threads} torch threads, "
        f"{len(utterances)} utterances ({source}; {seconds:.1f} s of audio, longest "
        f"{max(map(len, utterances)) / RATE:.2f} s), median of {args.repeats}; agree to {worst:.1e} dB"
    )
    print("| features | librosa ms | seqlab ms | ratio |")
    print("|---|---|---|---|")
    for name, ours, theirs in (("log-mel", ours_log_mel, librosa_log_mel), ("MFCC", ours_mfcc, librosa_mfcc)):
        times = time_side_by_side({"librosa": theirs, "seqlab": ours}, args.repeats)
        print(
            f"| {name} | {times['librosa'] * 1e3:.1f} | {times['seqlab'] * 1e3:.1f} "
            f"| {times['librosa'] / times['seqlab']:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
