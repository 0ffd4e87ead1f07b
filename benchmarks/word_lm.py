"""Speed of a training step of seqlab's word language model, side by side with its references.

Two comparisons, each timed round-robin in one run (median of ``--repeats`` rounds):

1. **seqlab vs plain torch.nn** (issue 3 target: time ratio <= 1.05). The pytorch/examples
   word language model shape: embedding 650, 2 LSTM layers of 650, dropout 0.5, vocabulary
   10,000, batch 20, bptt 35, SGD with gradient clipping. The torch.nn model is written the
   way that example writes it (``nn.Embedding``, ``nn.LSTM(650, 650, 2, dropout=0.5)``,
   ``nn.Linear``) and trained with ``torch.nn.utils.clip_grad_norm_``; seqlab's is
   :class:`~seqlab.models.RNNLanguageModel` trained by the engine's step
   (:func:`~seqlab.training.step.train_step` on the language-model task), as ``seqlab lm train`` trains it.
2. **The full AWD-LSTM recipe vs none** (target: overhead <= 1.3x). The ``awd-lstm-ptb``
   model (400/1150/1150/400, tied, batch 20, bptt 70) with every regulariser on (embedding
   dropout, locked dropout on input, between layers and output, DropConnect on every
   ``W_hh``, AR and TAR) against the same model with all of them off.

A step is forward, loss, backward, clipping and the optimiser update, on random token ids.

Usage:
    python benchmarks/word_lm.py                  # both comparisons (about 3 minutes on 2 cores)
    python benchmarks/word_lm.py --only examples  # or --only awd
"""

from __future__ import annotations

import argparse
import platform

import torch
import torch.nn.functional as F
from layers import time_side_by_side
from torch import nn

from seqlab.data import WordVocab
from seqlab.models import RNNLanguageModel, RNNLMConfig
from seqlab.tasks.lm.config import DataConfig
from seqlab.tasks.lm.data import LanguageModelData
from seqlab.tasks.lm.presets import get_preset
from seqlab.tasks.lm.task import LanguageModelTask
from seqlab.training.step import train_step

VOCAB = 10_000


class TorchWordLM(nn.Module):
    """pytorch/examples' RNNModel (LSTM, untied), in the few lines it takes there."""

    def __init__(self, vocab: int, size: int, layers: int, dropout: float):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(vocab, size)
        self.rnn = nn.LSTM(size, size, layers, dropout=dropout)
        self.decoder = nn.Linear(size, vocab)

    def forward(self, tokens: torch.Tensor, hidden):
        embedded = self.drop(self.encoder(tokens))  # (T, B, E)
        output, hidden = self.rnn(embedded, hidden)  # (T, B, H)
        return self.decoder(self.drop(output)), hidden  # (T, B, V)


def torch_step(model: TorchWordLM, optimizer, inputs, targets, hidden, clip: float):
    logits, hidden = model(inputs, hidden)
    loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return tuple(part.detach() for part in hidden)


def make_batch(bptt: int, batch: int, device: str):
    tokens = torch.randint(VOCAB, (bptt + 1, batch), device=device)
    return tokens[:-1], tokens[1:]


def language_model_task(bptt: int, batch: int, device: str) -> LanguageModelTask:
    """The task ``seqlab lm train`` trains with, on random tokens of a 10k-word vocabulary."""
    vocab = WordVocab([f"w{index}" for index in range(VOCAB - 2)])
    tokens = torch.randint(VOCAB, (2 * (bptt + 1) * batch,))
    data = LanguageModelData(vocab, tokens, tokens, None, "random tokens", {})
    return LanguageModelTask(data, DataConfig(batch_size=batch, bptt=bptt), torch.device(device))


def compare_with_torch_nn(args) -> None:
    torch.manual_seed(0)
    inputs, targets = make_batch(35, 20, args.device)
    reference = TorchWordLM(VOCAB, 650, 2, 0.5).to(args.device)
    config = RNNLMConfig(vocab_size=VOCAB, embedding_size=650, hidden_size=650, num_layers=2,
                         dropout=0.5, dropout_input=0.5, dropout_between=0.5)  # fmt: skip
    ours = RNNLanguageModel(config).to(args.device)
    optimizers = {name: torch.optim.SGD(model.parameters(), lr=20.0) for name, model in
                  (("torch", reference), ("seqlab", ours))}  # fmt: skip
    carried = {"torch": None, "seqlab": None}
    task = language_model_task(35, 20, args.device)

    def step_torch():
        carried["torch"] = torch_step(reference, optimizers["torch"], inputs, targets, carried["torch"], 0.25)

    def step_seqlab():
        carried["seqlab"] = train_step(task, ours, optimizers["seqlab"], (inputs, targets), carried["seqlab"],
                                       grad_clip=0.25).carry  # fmt: skip

    times = time_side_by_side({"torch": step_torch, "seqlab": step_seqlab}, args.repeats, args.device)
    ratio = times["seqlab"] / times["torch"]
    print(f"| word LM 2x650, B20, bptt 35, V10k: seqlab vs torch.nn | {times['torch'] * 1e3:.1f} "
          f"| {times['seqlab'] * 1e3:.1f} | {ratio:.3f} (<= 1.05) |", flush=True)  # fmt: skip


def compare_awd_recipe(args) -> None:
    preset = get_preset("awd-lstm-ptb")
    regularised = RNNLMConfig(vocab_size=VOCAB, **preset.model)
    off = {"dropout": 0.0, "dropout_input": 0.0, "dropout_between": 0.0, "dropout_embedding": 0.0,
           "weight_drop": 0.0, "activation_penalty": 0.0, "temporal_penalty": 0.0}  # fmt: skip
    plain = RNNLMConfig(vocab_size=VOCAB, **{**preset.model, **off})
    torch.manual_seed(0)
    inputs, targets = make_batch(preset.data.bptt, preset.data.batch_size, args.device)
    task = language_model_task(preset.data.bptt, preset.data.batch_size, args.device)
    models = {"plain": RNNLanguageModel(plain).to(args.device), "awd": RNNLanguageModel(regularised).to(args.device)}
    optimizers = {name: torch.optim.SGD(model.parameters(), lr=30.0, weight_decay=1.2e-6)
                  for name, model in models.items()}  # fmt: skip
    carried = dict.fromkeys(models)

    def stepper(name):
        def step():
            carried[name] = train_step(task, models[name], optimizers[name], (inputs, targets), carried[name],
                                       grad_clip=0.25).carry  # fmt: skip

        return step

    times = time_side_by_side({name: stepper(name) for name in models}, args.repeats, args.device)
    print(f"| AWD-LSTM 400/1150x3 tied, B20, bptt 70: all regularisers vs none | {times['plain'] * 1e3:.1f} "
          f"| {times['awd'] * 1e3:.1f} | {times['awd'] / times['plain']:.3f} (<= 1.3) |", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["examples", "awd"])
    parser.add_argument("--repeats", type=int, default=15, help="timed rounds (median taken)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# torch {torch.__version__}, {platform.processor() or platform.machine()}, {args.threads} threads, "
          f"device {args.device}, median of {args.repeats} rounds after 2 warm-up rounds")  # fmt: skip
    print("| comparison | reference ms | seqlab ms | time ratio (target) |")
    print("|---|---|---|---|")
    if args.only != "awd":
        compare_with_torch_nn(args)
    if args.only != "examples":
        compare_awd_recipe(args)


if __name__ == "__main__":
    main()
