"""The English text of ../shared/data in one file, for word vectors that classification and tagging start from.

Issue 11's transfer experiment trains word vectors with ``seqlab embed`` on all the English
training text the project has, and only that: wikitext-2's and the Penn Treebank's training
files, the training sentences of the Sentiment Treebank and of CoNLL-2003 (their held-out files
are left out, so nothing is learnt from the text the taggers and classifiers are scored on).
One sentence or line per output line, words apart by single spaces, as the files tokenise them
(wikitext-2 and CoNLL-2003 keep case; the Penn Treebank is lower-cased with numbers as ``N``; the
treebank writes brackets as ``-LRB-``).

Usage:
    python benchmarks/transfer_corpus.py --out english.txt
    seqlab embed train english.txt --method skipgram --dim 100 --window 5 --min-count 2 --epochs 10 --out vec100.bin
    seqlab tag train --preset lample-conll2003 --vectors vec100.bin --out runs/ner
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from pathlib import Path

from seqlab.data.conll import read_conll
from seqlab.data.sentiment_trees import read_sentiment_trees

DATA = Path(os.environ.get("SEQLAB_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def english_lines(data: Path) -> Iterator[str]:
    """The training text of wikitext-2, the Penn Treebank, SST and CoNLL-2003, a line at a time."""
    for path in (data / "wikitext-2" / "train.txt", data / "ptb" / "ptb.train.txt"):
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                words = line.split()
                if words and not (words[0] == "=" and words[-1] == "="):  # wikitext's section titles
                    yield " ".join(words)
    for tree in read_sentiment_trees(data / "sst" / "train.txt"):
        yield " ".join(word.replace("\xa0", "_") for word in tree.words)
    for sentence in read_conll(data / "conll2003" / "eng.train", "IOB1"):
        yield " ".join(sentence.words)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder (default: %(default)s)")
    parser.add_argument("--out", type=Path, required=True, help="the text file to write")
    args = parser.parse_args()
    lines = words = 0
    with args.out.open("w", encoding="utf-8") as out:
        for line in english_lines(args.data):
            out.write(line + "\n")
            lines, words = lines + 1, words + line.count(" ") + 1
    print(f"{args.out}: {lines:,} lines, {words:,} words")


if __name__ == "__main__":
    main()
