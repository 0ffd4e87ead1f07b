"""Training speed of seqlab's Bahdanau encoder–decoder against the same model written as the tutorials write it.

Issue 10's target: target tokens per second of a training step of
:class:`~seqlab.models.seq2seq.Seq2Seq` (``attention="bahdanau"``) at least 1.5× those of the
reference, side by side in one run. The reference is written the way the common PyTorch tutorials
write this model (bentrevett/pytorch-seq2seq, notebook 3 "Neural Machine Translation by Jointly
Learning to Align and Translate", and the PyTorch "NLP From Scratch: Translation with a Sequence to
Sequence Network and Attention" tutorial), in our own code:

* encoder: a bidirectional ``nn.GRU`` over the padded, unpacked source ``(S, B, E)``; the decoder's
  first state is ``tanh(Linear([h→_S; h←_1]))``;
* attention: the decoder state repeated ``S`` times, concatenated with every encoder output, and
  ``Linear + tanh + Linear`` over ``(B, S, 2H + H)`` at every step (padding masked to -1e10);
* decoder: ``nn.GRU`` called for one step at a time inside a Python loop, the output ``Linear``
  over ``[s_i; c_i; E y_{i-1}]`` at every step, the steps' logits stacked from a list as the PyTorch
  tutorial collects them (``--preallocated``: written into a zero ``(T, B, V)`` tensor as bentrevett's);
* loss: cross-entropy ignoring padding, mean over real target tokens.

Both models have the same sizes (embedding, hidden, attention, vocabularies) and the same layers
except the first-state bridge (seqlab reads ``h←_1`` alone as Bahdanau et al. A.2.2 does, ``H²``
fewer weights; both counts are printed) and seqlab's dropout before the output layer, which the
tutorial does not have. Both are teacher forced at every step (the tutorial's default coin of 0.5
would make the reference step on its own guesses half the time, which costs the same). A training
step is forward, loss, backward, ``clip_grad_norm_`` and an Adam step. Freed memory is kept in the
process as seqlab's training runs keep it (:func:`~seqlab.training.cpu_memory.keep_freed_memory`,
for both models, the setting being process-wide); ``--malloc-default`` leaves glibc's default.

Data: real Multi30k sentence pairs (de→en) when ``$SEQLAB_DATA/multi30k`` or
``/work/shared/data/multi30k`` holds ``tok/train.lc.norm.tok.{de,en}``: word vocabularies by
counting (min count 2), batches of 128 pairs sorted by length within buckets
(:class:`~seqlab.data.BucketedBatches`, seed 0, epoch 0, the first ``--batches``). Otherwise random
tokens with Multi30k's vocabulary sizes and sentence lengths. Both models train on the same
batches, round-robin batch by batch (every other round in reverse order), after ``--warmup``
untimed rounds; each round's tokens/s is its target tokens over its time, and the median of
``--repeats`` rounds is printed, with the median of the rounds' own ratios. The multiply-adds of
both models' matrix products are counted too: their ratio is the speed-up to expect when both run
their products equally fast, the attention being the only product that differs.

Usage:
    python benchmarks/translate_speed.py              # E 256, H 512, A 512 as bentrevett (about 1 min on 2 cores)
    python benchmarks/translate_speed.py --quick      # E 64, H 128, A 128: the output layer dominates both
    python benchmarks/translate_speed.py --cell lstm --threads 1
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from seqlab.data import BucketedBatches, pad_sequences
from seqlab.models.seq2seq import Seq2Seq
from seqlab.models.seq2seq_configs import Seq2SeqConfig
from seqlab.training.cpu_memory import keep_freed_memory

PAD, UNK, BOS, EOS = 0, 1, 2, 3
SPECIALS = ("<pad>", "<unk>", "<bos>", "<eos>")
# Multi30k's tokenised training set (de, en): words seen at least twice, and sentence lengths.
MULTI30K_VOCAB = (7855 + len(SPECIALS), 5917 + len(SPECIALS))
MULTI30K_SOURCE_LENGTH = (12.4, 4.2)  # German sentences: mean and standard deviation of tokens
MULTI30K_TARGET_LENGTH = (0.83, 2.7, 2.0)  # English given German: slope, intercept, residual deviation
RECURRENT = {"gru": nn.GRU, "lstm": nn.LSTM}


class Batch(NamedTuple):
    """One batch in both layouts: seqlab reads batch first, the tutorial model time first."""

    source: torch.Tensor  # (B, S) source ids then <eos>, padded
    lengths: torch.Tensor  # (B,) real source tokens
    target_input: torch.Tensor  # (B, T) <bos> then the target
    targets: torch.Tensor  # (B, T) the target then <eos>, padded
    tokens: int  # real target tokens (the <eos> included)


# The reference, written as the tutorials write it.


class TutorialEncoder(nn.Module):
    """Embedding, a bidirectional RNN over the padded batch, and the bridge to the decoder's first state."""

    def __init__(self, vocab: int, embedding: int, hidden: int, dropout: float, cell: str):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embedding)
        self.rnn = RECURRENT[cell](embedding, hidden, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, hidden)
        self.dropout = nn.Dropout(dropout)

    def forward(self, source: torch.Tensor):
        embedded = self.dropout(self.embedding(source))  # (S, B, E)
        outputs, hidden = self.rnn(embedded)  # (S, B, 2H)
        h = hidden[0] if isinstance(hidden, tuple) else hidden  # (2, B, H)
        first = torch.tanh(self.fc(torch.cat([h[-2], h[-1]], dim=1)))  # (B, H)
        return outputs, first


class TutorialAttention(nn.Module):
    """``v · tanh(W [s; h_j])`` over the repeated decoder state and every encoder output."""

    def __init__(self, encoder_size: int, hidden: int, attention: int):
        super().__init__()
        self.attn = nn.Linear(encoder_size + hidden, attention)
        self.v = nn.Linear(attention, 1, bias=False)

    def forward(self, hidden: torch.Tensor, encoder_outputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        source_length = encoder_outputs.size(0)
        hidden = hidden.unsqueeze(1).repeat(1, source_length, 1)  # (B, S, H)
        encoder_outputs = encoder_outputs.permute(1, 0, 2)  # (B, S, 2H)
        energy = torch.tanh(self.attn(torch.cat([hidden, encoder_outputs], dim=2)))  # (B, S, A)
        scores = self.v(energy).squeeze(2).masked_fill(~mask, -1e10)  # (B, S)
        return F.softmax(scores, dim=1)


class TutorialDecoder(nn.Module):
    """One step: attend with the previous state, step the RNN on ``[E y; c]``, predict from ``[s; c; E y]``."""

    def __init__(self, vocab: int, embedding: int, hidden: int, attention: int, dropout: float, cell: str):
        super().__init__()
        self.attention = TutorialAttention(2 * hidden, hidden, attention)
        self.embedding = nn.Embedding(vocab, embedding)
        self.rnn = RECURRENT[cell](2 * hidden + embedding, hidden)
        self.fc_out = nn.Linear(2 * hidden + hidden + embedding, vocab)
        self.dropout = nn.Dropout(dropout)

    def forward(self, tokens, hidden, encoder_outputs, mask):
        embedded = self.dropout(self.embedding(tokens.unsqueeze(0)))  # (1, B, E)
        h = hidden[0] if isinstance(hidden, tuple) else hidden  # (1, B, H)
        weights = self.attention(h[0], encoder_outputs, mask).unsqueeze(1)  # (B, 1, S)
        weighted = torch.bmm(weights, encoder_outputs.permute(1, 0, 2)).permute(1, 0, 2)  # (1, B, 2H)
        output, hidden = self.rnn(torch.cat([embedded, weighted], dim=2), hidden)  # (1, B, H)
        features = torch.cat([output.squeeze(0), weighted.squeeze(0), embedded.squeeze(0)], dim=1)
        return self.fc_out(features), hidden  # (B, V)


class TutorialSeq2Seq(nn.Module):
    """The encoder once, then the decoder step by step in a Python loop (teacher forced).

    Shape:
        source ``(S, B)``, target_input ``(T, B)`` time first -> logits ``(T, B, V)``.
    """

    def __init__(self, config: Seq2SeqConfig, *, preallocated: bool = False):
        super().__init__()
        self.preallocated = preallocated
        e, h, a, dropout, cell = (config.embedding_size, config.hidden_size, config.attention_size,
                                  config.dropout, config.cell)  # fmt: skip
        self.cell = cell
        self.encoder = TutorialEncoder(config.source_vocab_size, e, h, dropout, cell)
        self.decoder = TutorialDecoder(config.target_vocab_size, e, h, a, dropout, cell)

    def forward(self, source: torch.Tensor, target_input: torch.Tensor) -> torch.Tensor:
        encoder_outputs, first = self.encoder(source)  # (S, B, 2H), (B, H)
        mask = (source != PAD).permute(1, 0)  # (B, S)
        hidden = first.unsqueeze(0)  # (1, B, H)
        if self.cell == "lstm":
            hidden = (hidden, torch.zeros_like(hidden))
        if self.preallocated:
            steps, batch = target_input.shape
            outputs = torch.zeros(steps, batch, self.decoder.fc_out.out_features)  # (T, B, V)
            for t in range(steps):
                outputs[t], hidden = self.decoder(target_input[t], hidden, encoder_outputs, mask)
            return outputs
        logits = []
        for tokens in target_input:
            step_logits, hidden = self.decoder(tokens, hidden, encoder_outputs, mask)
            logits.append(step_logits)
        return torch.stack(logits)  # (T, B, V)


# Training steps: forward, loss, backward, clip, Adam.


def tutorial_step(model: TutorialSeq2Seq, optimizer, batch: Batch, clip: float) -> float:
    optimizer.zero_grad(set_to_none=True)
    logits = model(batch.source.t(), batch.target_input.t())  # (T, B, V)
    loss = F.cross_entropy(logits.flatten(0, 1), batch.targets.t().flatten(), ignore_index=PAD)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return float(loss.detach())


def seqlab_step(model: Seq2Seq, optimizer, batch: Batch, clip: float) -> float:
    optimizer.zero_grad(set_to_none=True)
    loss = model(batch.source, batch.lengths, batch.target_input, batch.targets).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return float(loss.detach())


# Data.


def multi30k_folder() -> Path | None:
    """The Multi30k folder of ``$SEQLAB_DATA`` or the shared data folder, if its tokenised train files exist."""
    candidates = [Path(os.environ["SEQLAB_DATA"], "multi30k")] if os.environ.get("SEQLAB_DATA") else []
    candidates.append(Path("/work/shared/data/multi30k"))
    for folder in candidates:
        if all((folder / "tok" / f"train.lc.norm.tok.{language}").is_file() for language in ("de", "en")):
            return folder
    return None


def word_ids(sentences: list[list[str]], min_count: int = 2) -> dict[str, int]:
    """Specials first, then every word seen at least ``min_count`` times, most frequent first."""
    counts = Counter(word for sentence in sentences for word in sentence)
    frequent = sorted((word for word, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
    return {word: index for index, word in enumerate([*SPECIALS, *frequent])}


def make_batch(source_ids: list[list[int]], target_ids: list[list[int]]) -> Batch:
    """Pads one batch: source + <eos>; <bos> + target as input; target + <eos> as labels."""
    source, lengths = pad_sequences([torch.tensor([*s, EOS]) for s in source_ids], padding_value=PAD, batch_first=True)
    target_input, _ = pad_sequences([torch.tensor([BOS, *t]) for t in target_ids], padding_value=PAD, batch_first=True)
    targets, _ = pad_sequences([torch.tensor([*t, EOS]) for t in target_ids], padding_value=PAD, batch_first=True)
    return Batch(source, lengths, target_input, targets, int((targets != PAD).sum()))


def multi30k_batches(folder: Path, batch_size: int, count: int) -> tuple[list[Batch], tuple[int, int]]:
    """The first ``count`` length-bucketed batches of Multi30k de→en, and the two vocabulary sizes."""
    pairs = [
        (folder / "tok" / f"train.lc.norm.tok.{language}").read_text(encoding="utf-8").splitlines()
        for language in ("de", "en")
    ]
    source, target = ([line.split() for line in lines] for lines in pairs)
    vocabularies = word_ids(source), word_ids(target)
    plan = BucketedBatches([len(s) + 1 for s in source], batch_size=batch_size, seed=0).epoch(0)[:count]
    batches = []
    for indices in plan:
        ids = [[[vocab.get(w, UNK) for w in side[i]] for i in indices] for side, vocab in
               zip((source, target), vocabularies)]  # fmt: skip
        batches.append(make_batch(*ids))
    return batches, (len(vocabularies[0]), len(vocabularies[1]))


def random_batches(batch_size: int, count: int, generator: torch.Generator) -> list[Batch]:
    """Random words with Multi30k's vocabulary sizes and length statistics, bucketed the same way."""
    mean, deviation = MULTI30K_SOURCE_LENGTH
    slope, intercept, residual = MULTI30K_TARGET_LENGTH
    source = torch.randn(50 * batch_size, generator=generator) * deviation + mean
    target = slope * source + intercept + residual * torch.randn(source.shape, generator=generator)
    lengths = [side.round().clamp(2, 40).long().tolist() for side in (source, target)]
    plan = BucketedBatches([n + 1 for n in lengths[0]], batch_size=batch_size, seed=0).epoch(0)[:count]
    batches = []
    for indices in plan:
        ids = [[torch.randint(len(SPECIALS), vocab, (side[i],), generator=generator).tolist() for i in indices]
               for side, vocab in zip(lengths, MULTI30K_VOCAB)]  # fmt: skip
        batches.append(make_batch(*ids))
    return batches


# Timing.


def tokens_per_second(
    steps: dict[str, Callable[[Batch], float]], batches: list[Batch], *, repeats: int, warmup: int
) -> tuple[dict[str, float], list[float]]:
    """Median over rounds of target tokens/s; in a round every batch is trained on by each model in turn.

    Returns the medians, and each timed round's ratio of the first model's rate to the second's.

    Batch by batch round-robin, the order reversed every other round, so that neither model always
    runs first and both see the same slow and fast moments of a shared machine.
    """
    tokens = sum(batch.tokens for batch in batches)
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for round_index in range(warmup + repeats):
        order = list(steps.items())
        if round_index % 2:
            order.reverse()
        spent = dict.fromkeys(steps, 0.0)
        for batch in batches:
            for name, step in order:
                start = time.perf_counter()
                step(batch)
                spent[name] += time.perf_counter() - start
        if round_index >= warmup:
            for name in steps:
                samples[name].append(tokens / spent[name])
        rates = "  ".join(f"{name} {tokens / spent[name]:,.0f}" for name in steps)
        print(f"# round {round_index + 1}{' (warm-up)' if round_index < warmup else ''}: {rates} tokens/s", flush=True)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    ratios = [first / second for first, second in zip(*samples.values())]
    return medians, ratios


def load_batches(args: argparse.Namespace) -> tuple[list[Batch], tuple[int, int], str]:
    """Multi30k's batches when it is there (and not ``--random-data``), else random ones; vocabulary sizes; a label."""
    folder = None if args.random_data else multi30k_folder()
    if folder is not None:
        batches, vocab_sizes = multi30k_batches(folder, args.batch_size, args.batches)
        return batches, vocab_sizes, f"Multi30k de-en from {folder}"
    batches = random_batches(args.batch_size, args.batches, torch.Generator().manual_seed(0))
    return batches, MULTI30K_VOCAB, "random tokens of Multi30k-like lengths"


def multiply_adds(config: Seq2SeqConfig, batch: Batch) -> dict[str, int]:
    """Multiply-adds of each model's matrix products in a forward pass over ``batch`` (backward is about twice).

    Everything but the attention is the same product in both: the encoder RNN (seqlab's packed over
    real tokens, the tutorial's over padding too), the decoder RNN, the output layer. The attention
    differs: seqlab projects the keys once and the query at each step; the tutorial multiplies the
    concatenated ``[s; h_j]`` (B, S, 3H) by its (3H, A) weight at every step.
    """
    e, h, a, v = config.embedding_size, config.hidden_size, config.attention_size, config.target_vocab_size
    gates = 3 if config.cell == "gru" else 4
    b, s = batch.source.shape
    t = batch.targets.size(1)
    real_source = int(batch.lengths.sum())
    decoder = b * t * ((e + 2 * h) + h) * gates * h + b * t * (3 * h + e) * v  # RNN and output layer
    reading = b * t * s * (a + 2 * h)  # the scores' v·tanh and the context c = Σ α h
    encoder = 2 * (e + h) * gates * h
    seqlab = real_source * encoder + decoder + reading + b * s * 2 * h * a + b * t * h * a
    tutorial = b * s * encoder + decoder + reading + b * t * s * 3 * h * a
    return {"seqlab": seqlab, "tutorial": tutorial}


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=3, help="batches per round (the same for both models)")
    parser.add_argument("--batch-size", type=int, default=128, help="sentence pairs per batch")
    parser.add_argument("--embedding", type=int, default=256, help="source and target embedding size")
    parser.add_argument("--hidden", type=int, default=512, help="encoder (each direction) and decoder hidden size")
    parser.add_argument("--attention", type=int, default=512, help="hidden units of the additive score")
    parser.add_argument("--cell", choices=sorted(RECURRENT), default="gru")
    parser.add_argument("--dropout", type=float, default=0.5, help="bentrevett's 0.5, for both models")
    parser.add_argument("--clip", type=float, default=1.0, help="gradient norm clipping, as bentrevett's")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds (median taken)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--preallocated", action="store_true",
                        help="the tutorial writes each step into a preallocated (T, B, V) tensor as bentrevett does, "
                        "instead of stacking a list as the PyTorch tutorial does")  # fmt: skip
    parser.add_argument("--random-data", action="store_true", help="random tokens even when Multi30k is there")
    parser.add_argument("--malloc-default", action="store_true",
                        help="glibc's malloc returns freed blocks to the OS (seqlab's runs keep them)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="E 64, H 128, A 128")
    args = parser.parse_args()
    if args.repeats < 1 or args.warmup < 0 or args.batches < 1:
        parser.error("--repeats and --batches must be at least 1, --warmup at least 0")
    if args.quick:
        args.embedding, args.hidden, args.attention = 64, 128, 128
    return args


def main() -> None:
    args = parse_arguments()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    kept = False if args.malloc_default else keep_freed_memory()
    batches, vocab_sizes, data = load_batches(args)
    config = Seq2SeqConfig(source_vocab_size=vocab_sizes[0], target_vocab_size=vocab_sizes[1], attention="bahdanau",
                           cell=args.cell, embedding_size=args.embedding, hidden_size=args.hidden,
                           attention_size=args.attention, dropout=args.dropout, padding_id=PAD)  # fmt: skip
    models = {"seqlab": Seq2Seq(config), "tutorial": TutorialSeq2Seq(config, preallocated=args.preallocated)}
    optimizers = {name: torch.optim.Adam(model.parameters()) for name, model in models.items()}
    runs = {"seqlab": seqlab_step, "tutorial": tutorial_step}
    steps = {name: (lambda batch, name=name: runs[name](models[name], optimizers[name], batch, args.clip))
             for name in models}  # fmt: skip
    shapes = ", ".join(f"{tuple(b.source.shape)}->{tuple(b.targets.shape)}" for b in batches)
    memory = "kept (as seqlab's training runs keep it)" if kept else "returned to the OS (malloc's default)"
    print(f"# torch {torch.__version__}, {platform.processor() or platform.machine()}, {args.threads} threads; {data}; "
          f"freed memory {memory}")  # fmt: skip
    print(f"# {args.cell.upper()} E {args.embedding}, H {args.hidden}, A {args.attention}, vocabularies "
          f"{vocab_sizes[0]}/{vocab_sizes[1]}, dropout {args.dropout}; batches (B, S)->(B, T): {shapes}")  # fmt: skip
    print("# parameters: " + ", ".join(f"{name} {parameter_count(model):,}" for name, model in models.items()))
    work = [multiply_adds(config, batch) for batch in batches]
    total = {name: sum(w[name] for w in work) for name in models}
    print(f"# matrix-product multiply-adds per round: seqlab {total['seqlab'] / 1e9:.1f} G, tutorial "
          f"{total['tutorial'] / 1e9:.1f} G: a ratio of {total['tutorial'] / total['seqlab']:.2f}x, the speed-up "
          "if both ran their products equally fast")  # fmt: skip
    rates, ratios = tokens_per_second(steps, batches, repeats=args.repeats, warmup=args.warmup)
    print(f"# median of {args.repeats} rounds after {args.warmup} warm-up round(s), {args.batches} batches each")
    print("| model | target tokens/s |")
    print("|---|---|")
    for name, rate in rates.items():
        print(f"| {name} | {rate:,.0f} |")
    print(f"| seqlab / tutorial | {rates['seqlab'] / rates['tutorial']:.2f}x (target >= 1.5x) |")
    print(f"# median of the rounds' own ratios (each round times both models on the same batches, interleaved): "
          f"{statistics.median(ratios):.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
