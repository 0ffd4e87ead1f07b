"""BLEU on Multi30k's lower-cased tokenised text ("tok" BLEU, as the papers report Multi30k) of a system
that writes raw, cased, detokenised text (a subword model trained on ``raw/``).

The ``tok/`` files of Multi30k were made with the Moses scripts: lower-casing, punctuation
normalisation, then the tokeniser with its entity escapes (``&quot;``, ``&apos;``). sacremoses
(a benchmark dependency: ``pip install sacremoses``) does the same: applied to ``raw/test_2016_flickr``
it gives the ``tok/`` file line for line, in both languages (1,013 of val's 1,014 German lines). The
script says how many lines of the reference it remakes, so that a different pipeline shows. The
hypothesis is processed the same way and scored against the ``tok/`` reference with
``tokenize="none"``, so the figure is comparable with a word-level model trained on ``tok/``.

Usage:
    python benchmarks/moses_bleu.py HYPOTHESES RAW_REFERENCE TOK_REFERENCE --lang de
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sacremoses import MosesPunctNormalizer, MosesTokenizer

from seqlab.metrics.bleu import corpus_bleu


def moses_tok(lines: list[str], lang: str) -> list[str]:
    """Lower-cased, normalised, Moses-tokenised lines, as Multi30k's ``tok/`` files are made."""
    tokenizer, normalizer = MosesTokenizer(lang=lang), MosesPunctNormalizer(lang=lang)
    return [tokenizer.tokenize(normalizer.normalize(line.lower()), escape=True, return_str=True) for line in lines]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("hypotheses", type=Path, help="the system's detokenised output, one sentence per line")
    parser.add_argument("raw_reference", type=Path, help="the raw/ reference the tok/ one was made from")
    parser.add_argument("tok_reference", type=Path, help="the tok/ reference scored against")
    parser.add_argument("--lang", required=True, help="the target language (Moses' rules differ by language)")
    args = parser.parse_args()
    raw = args.raw_reference.read_text(encoding="utf-8").splitlines()
    tok = args.tok_reference.read_text(encoding="utf-8").splitlines()
    remade = sum(a == b for a, b in zip(moses_tok(raw, args.lang), tok))
    hypotheses = moses_tok(args.hypotheses.read_text(encoding="utf-8").splitlines(), args.lang)
    score = corpus_bleu(hypotheses, [tok], tokenize="none")
    print(f"tok BLEU {score.score:.2f} ({args.hypotheses}; the reference remade {remade}/{len(tok)} lines)")


if __name__ == "__main__":
    main()
