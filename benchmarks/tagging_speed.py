"""Tagging throughput of a trained tagger, in sentences and words per second, with seqlab's CRF and with pytorch-crf's.

A run written by ``seqlab tag train`` tags every sentence of a CoNLL file (its dev file unless
another is given) through :func:`seqlab.tasks.tag.tagging.tag_sentences`, the path of ``seqlab tag
predict``: encoding the words and characters, the BiLSTM, then Viterbi, and the tags written out
in the file's scheme. The same pass is then timed with the Viterbi of pytorch-crf (``torchcrf.CRF``)
in place of seqlab's, holding the same transition scores (the scheme's forbidden moves at -inf), so
the ratio ``pytorch-crf time / seqlab time`` is what the CRF changes in the whole job. Both must
choose the same tags for every sentence: the script checks that before it times anything.

The two versions run round-robin after one untimed round and the median of ``--repeats`` is
printed, for batches of 64 sentences (sorted by length, as ``predict`` tags them) and, with
``--batch 1``, one sentence at a time.

Usage:
    seqlab tag train --preset lample-conll2003 --out runs/ner
    python benchmarks/tagging_speed.py runs/ner                       # its dev file, batches of 64
    python benchmarks/tagging_speed.py runs/ner --batch 1 --threads 2 --repeats 3
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import torch
import torchcrf

from seqlab.data.conll import read_conll
from seqlab.models.sequence_tagger import SequenceTagger
from seqlab.tasks.tag.checkpoint import load_tagger
from seqlab.tasks.tag.tagging import BATCH_SIZE, TaggedWords, tag_sentences


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="a folder written by `seqlab tag train` (with its CRF output)")
    parser.add_argument("file", nargs="?", help="a CoNLL file in the run's scheme (default: the run's dev file)")
    parser.add_argument("--batch", type=int, default=BATCH_SIZE, help="sentences tagged at once")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes over the file (median taken)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    return parser.parse_args()


def pytorch_crf_decoder(model: SequenceTagger) -> Callable[[torch.Tensor, torch.Tensor], list[list[int]]]:
    """pytorch-crf's Viterbi over the model's transition scores, its forbidden moves at -inf."""
    if model.crf is None:
        raise SystemExit("the run has a softmax output: there is no CRF to compare")
    theirs = torchcrf.CRF(model.config.num_tags, batch_first=True)
    transitions, start, end = model.crf.constrained_scores()
    with torch.no_grad():
        theirs.transitions.copy_(transitions)
        theirs.start_transitions.copy_(start)
        theirs.end_transitions.copy_(end)
    return lambda emissions, mask: theirs.decode(emissions, mask)


def main() -> None:
    args = parse_arguments()
    torch.set_num_threads(args.threads)
    model, word_vocab, char_vocab, config = load_tagger(args.run)
    path = args.file or f"{config.corpus}/{config.files()[1]}"
    sentences = [list(sentence.words) for sentence in read_conll(path, config.files()[2])]
    words = sum(len(sentence) for sentence in sentences)
    ours = model.decode
    theirs = pytorch_crf_decoder(model)

    def tag_with(decoder: Callable) -> Callable[[], list[TaggedWords]]:
        def tag_all() -> list[TaggedWords]:
            model.decode = decoder
            return tag_sentences(model, word_vocab, char_vocab, config, sentences, batch_size=args.batch)

        return tag_all

    passes = {"pytorch-crf": tag_with(theirs), "seqlab": tag_with(ours)}
    assert passes["seqlab"]() == passes["pytorch-crf"](), "the two decoders chose different tags"
    samples: dict[str, list[float]] = {name: [] for name in passes}
    for _ in range(args.repeats):
        for name, tag_all in passes.items():
            start = time.perf_counter()
            tag_all()
            samples[name].append(time.perf_counter() - start)
    seconds = {name: statistics.median(values) for name, values in samples.items()}
    machine = platform.processor() or platform.machine()
    print(
        f"# torch {torch.__version__}, pytorch-crf {torchcrf.__version__}, {machine}, {args.threads} threads; "
        f"{path}: {len(sentences)} sentences, {words} words; batches of {args.batch}; median of {args.repeats}"
    )
    print("| decoder | seconds | sentences/s | words/s |")
    print("|---|---|---|---|")
    for name, time_taken in seconds.items():
        print(f"| {name} | {time_taken:.2f} | {len(sentences) / time_taken:,.0f} | {words / time_taken:,.0f} |")
    print(f"ratio (pytorch-crf time / seqlab time): {seconds['pytorch-crf'] / seconds['seqlab']:.2f}")


if __name__ == "__main__":
    main()
