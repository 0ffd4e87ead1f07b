"""Subword units for translation: sentencepiece against HF tokenizers, BPE and unigram, side by side.

Each library trains BPE and unigram models (vocabulary 8,000 by default) on Multi30k's raw
(cased, untokenised) training text: one model per language (de, en) and one joint de+en model.
For each model this prints:

- training time with ``--threads`` threads (the faster of two runs) and with one thread;
- whether the two runs gave the same model (deterministic), and whether one thread gave the same
  model as ``--threads`` (independent of threads): the same pieces and scores for sentencepiece
  (whose file also records the thread count), the same JSON for tokenizers;
- encoding speed on the training text, sentences/s: one call per sentence (Python loop), and one
  batch call over all lines (``--threads`` threads); decoding speed, one call per sentence (each
  the best of ``--repeats`` runs);
- tokens per sentence on the training text of each language;
- exact round trips, ``decode(encode(s)) == s``, failures counted on every line of train, val and
  test_2016_flickr, with examples;
- a probe of characters that are not in the training text (Greek, an emoji, a ligature, "№"),
  with leading, double and trailing spaces and a tab: round trip and the number of unknown ids;
- the pieces of one example sentence (byte-level BPE shows "Ã¼" for "ü");
- the size of the model file, its format, and the time to load it from its bytes (neither
  library unpickles: sentencepiece's ``.model`` is a protobuf, tokenizers' ``tokenizer.json`` is
  JSON).

Settings: sentencepiece is configured for exact round trips (``normalization_rule_name=identity``,
``remove_extra_whitespaces=False``, ``byte_fallback=True``, ``character_coverage=1.0``, and
``hard_vocab_limit=False`` as its English unigram model without byte pieces stops short of 8,000);
its defaults (NFKC, spaces squeezed, no byte fallback) are also measured as "sentencepiece (defaults)". HF
tokenizers' BPE is byte-level (GPT-2's pre-tokeniser and decoder, all 256 bytes in the alphabet),
its unigram uses the Metaspace pre-tokeniser and decoder (sentencepiece's scheme); tokenizers'
trainers add no byte-fallback pieces, so its unigram maps unseen characters to ``<unk>``. Both
number the special pieces ``<pad>`` 0, ``<unk>`` 1, ``<s>`` 2, ``</s>`` 3.

Usage:
    python benchmarks/subwords.py                         # ~3 minutes on 2 cores
    python benchmarks/subwords.py --languages de --vocab-size 16000 --json out.json
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import platform
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "multi30k" / "raw"
SPLITS = ("train", "val", "test_2016_flickr")
SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]  # ids 0, 1, 2, 3 in every model
# Greek, a ligature, an emoji, "№", "«»" (none in Multi30k's training text), leading, double and trailing spaces, a tab
PROBE = " Ωμέγα ĳ 😀  №5\tStraße – «ok» "
EXAMPLE = "Zwei Männer überqueren die Straße."  # whose pieces are printed


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA, help="folder of {train,val,test_2016_flickr}.{de,en}")
    parser.add_argument("--vocab-size", type=int, default=8000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--languages", nargs="+", default=["de", "en", "de+en"], help="de+en: one joint model")
    parser.add_argument("--model-types", nargs="+", default=["bpe", "unigram"])
    parser.add_argument("--examples", type=int, default=2, help="round-trip failures shown per model")
    parser.add_argument("--repeats", type=int, default=3, help="speeds are the best of this many runs")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON")
    return parser.parse_args()


def read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 file, without their line breaks (a tab or a trailing space is kept)."""
    return path.read_text(encoding="utf-8").split("\n")[:-1]


@dataclass(frozen=True)
class Library:
    """One way of training and using subword models, as functions of the model's bytes."""

    name: str
    file_format: str
    train: Callable[[list[str], str, int, int], bytes]  # (lines, model type, vocab size, threads) -> model
    load: Callable[[bytes], object]
    encode: Callable[[object, str], list[int]]
    encode_batch: Callable[[object, list[str], int], list[list[int]]]
    decode: Callable[[object, list[int]], str]
    content: Callable[[bytes], object]  # what two models must share to be the same model
    size: Callable[[object], int]  # pieces in the model
    pieces: Callable[[object, str], list[str]]  # the pieces of a text, as strings
    unk_id: int = 1


def spm_train(lines: list[str], model_type: str, vocab_size: int, threads: int, *, exact: bool = True) -> bytes:
    import sentencepiece

    settings = (
        {"normalization_rule_name": "identity", "remove_extra_whitespaces": False, "byte_fallback": True}
        if exact
        else {}
    )
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        model_type=model_type,
        vocab_size=vocab_size,
        character_coverage=1.0,
        pad_id=0,
        unk_id=1,
        bos_id=2,
        eos_id=3,
        num_threads=threads,
        hard_vocab_limit=False,  # English unigram without byte pieces stops at 7,931 pieces
        minloglevel=2,
        **settings,
    )
    return model.getvalue()


def spm_library(*, exact: bool) -> Library:
    import sentencepiece

    return Library(
        name="sentencepiece" if exact else "sentencepiece (defaults)",
        file_format="protobuf (.model)",
        train=lambda lines, model_type, size, threads: spm_train(lines, model_type, size, threads, exact=exact),
        load=lambda data: sentencepiece.SentencePieceProcessor(model_proto=data),
        encode=lambda model, line: model.encode(line),
        encode_batch=lambda model, lines, threads: model.encode(lines, num_threads=threads),
        decode=lambda model, ids: model.decode(ids),
        content=spm_content,
        size=lambda model: model.get_piece_size(),
        pieces=lambda model, text: model.encode(text, out_type=str),
    )


def spm_content(data: bytes) -> list[tuple[str, float, bool]]:
    """Each piece with its score and kind (the file also records the trainer's settings, threads included)."""
    import sentencepiece

    model = sentencepiece.SentencePieceProcessor(model_proto=data)
    return [(model.id_to_piece(i), model.get_score(i), model.is_byte(i)) for i in range(model.get_piece_size())]


def hf_train(lines: list[str], model_type: str, vocab_size: int, threads: int) -> bytes:
    """tokenizers reads its thread count from RAYON_NUM_THREADS, set once in :func:`main`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    if model_type == "bpe":
        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=SPECIALS,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
    else:
        tokenizer = Tokenizer(models.Unigram())
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
        tokenizer.decoder = decoders.Metaspace()
        trainer = trainers.UnigramTrainer(
            vocab_size=vocab_size, special_tokens=SPECIALS, unk_token="<unk>", show_progress=False
        )
    tokenizer.train_from_iterator(lines, trainer)
    return tokenizer.to_str().encode("utf-8")


def hf_library() -> Library:
    from tokenizers import Tokenizer

    return Library(
        name="tokenizers",
        file_format="JSON (tokenizer.json)",
        train=hf_train,
        load=lambda data: Tokenizer.from_str(data.decode("utf-8")),
        encode=lambda model, line: model.encode(line, add_special_tokens=False).ids,
        encode_batch=lambda model, lines, threads: [
            encoding.ids for encoding in model.encode_batch(lines, add_special_tokens=False)
        ],
        decode=lambda model, ids: model.decode(ids, skip_special_tokens=False),
        content=lambda data: data,  # the JSON holds the pipeline and the model, nothing about the training run
        size=lambda model: model.get_vocab_size(),
        pieces=lambda model, text: model.encode(text, add_special_tokens=False).tokens,
    )


def timed(function: Callable, *args) -> tuple[float, object]:
    began = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - began, result


def measure_training(library: Library, lines: list[str], model_type: str, args: argparse.Namespace) -> dict:
    """Train twice with ``args.threads`` threads and once with one: times, determinism, the model's bytes."""
    first_seconds, first = timed(library.train, lines, model_type, args.vocab_size, args.threads)
    second_seconds, second = timed(library.train, lines, model_type, args.vocab_size, args.threads)
    one_seconds, one = train_in_one_thread(library.name, lines, model_type, args.vocab_size)
    return {
        "model": first,
        "train_seconds": min(first_seconds, second_seconds),
        "train_seconds_one_thread": one_seconds,
        "same_bytes": first == second,
        "deterministic": library.content(first) == library.content(second),
        "same_with_one_thread": library.content(one) == library.content(first),
    }


def _train_timed(name: str, lines: list[str], model_type: str, vocab_size: int) -> tuple[float, bytes]:
    library = LIBRARIES[name]()
    return timed(library.train, lines, model_type, vocab_size, 1)


def train_in_one_thread(name: str, lines: list[str], model_type: str, vocab_size: int) -> tuple[float, bytes]:
    """(seconds, model) of a training in a fresh process with one thread.

    tokenizers sizes its thread pool from RAYON_NUM_THREADS once per process, hence the new process.
    """
    context = multiprocessing.get_context("spawn")
    previous = os.environ.get("RAYON_NUM_THREADS")
    os.environ["RAYON_NUM_THREADS"] = "1"  # inherited by the child when it starts
    try:
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            return pool.submit(_train_timed, name, lines, model_type, vocab_size).result()
    finally:
        if previous is None:
            os.environ.pop("RAYON_NUM_THREADS")
        else:
            os.environ["RAYON_NUM_THREADS"] = previous


def measure_speed(library: Library, model: object, lines: list[str], args: argparse.Namespace) -> dict:
    """Sentences/s encoding one at a time, in one batch call, and decoding one at a time: the best of repeats."""
    loop, batch, decode = [], [], []
    for _ in range(args.repeats):
        seconds, encoded = timed(lambda: [library.encode(model, line) for line in lines])
        loop.append(seconds)
        seconds, batched = timed(library.encode_batch, model, lines, args.threads)
        batch.append(seconds)
        if batched != encoded:
            raise RuntimeError(f"{library.name}: batch encoding differs from one sentence at a time")
        decode.append(timed(lambda encoded=encoded: [library.decode(model, ids) for ids in encoded])[0])
    return {
        "encode_loop_per_second": len(lines) / min(loop),
        "encode_batch_per_second": len(lines) / min(batch),
        "decode_loop_per_second": len(lines) / min(decode),
    }


def measure_model(library: Library, data: bytes, texts: dict[str, dict[str, list[str]]], args) -> dict:
    """Speeds, tokens per sentence, round trips and the unknown-character probe of one trained model."""
    load_seconds, model = timed(library.load, data)
    failures: dict[str, int] = {}
    examples: list[tuple[str, str]] = []
    for language, splits in texts.items():
        for split, lines in splits.items():
            wrong = [
                (line, decoded)
                for line in lines
                if (decoded := library.decode(model, library.encode(model, line))) != line
            ]
            failures[f"{split}.{language}"] = len(wrong)
            examples.extend(wrong[: args.examples - len(examples)] if len(examples) < args.examples else [])
    probe_ids = library.encode(model, PROBE)
    tokens = {
        language: sum(map(len, library.encode_batch(model, splits["train"], args.threads))) / len(splits["train"])
        for language, splits in texts.items()
    }
    return {
        "pieces": library.size(model),
        "model_bytes": len(data),
        "load_seconds": load_seconds,
        **measure_speed(library, model, [line for language in texts for line in texts[language]["train"]], args),
        "tokens_per_sentence": tokens,
        "example_pieces": library.pieces(model, EXAMPLE),
        "round_trip_failures": failures,
        "failure_examples": examples,
        "probe_round_trip": library.decode(model, probe_ids) == PROBE,
        "probe_decoded": library.decode(model, probe_ids),
        "probe_unknown_ids": probe_ids.count(library.unk_id),
    }


LIBRARIES: dict[str, Callable[[], Library]] = {
    "sentencepiece": lambda: spm_library(exact=True),
    "sentencepiece (defaults)": lambda: spm_library(exact=False),
    "tokenizers": hf_library,
}


def unseen_characters(texts: dict[str, dict[str, list[str]]]) -> dict[str, str]:
    """Per language, the characters of val and test that its training text lacks."""
    unseen = {}
    for language, splits in texts.items():
        known = set("".join(splits["train"]))
        held_out = set("".join(line for split, lines in splits.items() if split != "train" for line in lines))
        unseen[language] = "".join(sorted(held_out - known))
    return unseen


def print_table(results: list[dict], threads: int) -> None:
    print(
        f"| library | type | model | train s ({threads} thr) | train s (1 thr) | same twice | same at 1 thr "
        "| encode sent/s (loop) | encode sent/s (batch) | decode sent/s | tokens/sent de | tokens/sent en "
        "| round-trip failures train/val/test | unseen-char probe | pieces | model KB | load ms |"
    )
    print("|---|---|---|---:|---:|---|---|---:|---:|---:|---:|---:|---|---|---:|---:|---:|")
    for row in results:
        failures = [
            sum(n for key, n in row["round_trip_failures"].items() if key.startswith(f"{split}.")) for split in SPLITS
        ]
        tokens = {
            lang: f"{row['tokens_per_sentence'][lang]:.1f}" if lang in row["tokens_per_sentence"] else "–"
            for lang in ("de", "en")
        }
        same = [_yes(row[key]) for key in ("deterministic", "same_with_one_thread")]
        probe = "exact" if row["probe_round_trip"] else f"lost ({row['probe_unknown_ids']} unk)"
        print(
            f"| {row['library']} | {row['model_type']} | {row['languages']} | {row['train_seconds']:.2f} "
            f"| {row['train_seconds_one_thread']:.2f} | {same[0]} | {same[1]} "
            f"| {row['encode_loop_per_second']:,.0f} | {row['encode_batch_per_second']:,.0f} "
            f"| {row['decode_loop_per_second']:,.0f} | {tokens['de']} | {tokens['en']} "
            f"| {'/'.join(map(str, failures))} | {probe} | {row['pieces']} "
            f"| {row['model_bytes'] / 1024:.0f} | {row['load_seconds'] * 1000:.1f} |"
        )


def _yes(value: bool) -> str:
    return "yes" if value else "NO"


def print_examples(results: list[dict]) -> None:
    print(f"\nPieces of {EXAMPLE!r}:")
    for row in results:
        print(f"- {row['library']} {row['model_type']} {row['languages']}: {' '.join(row['example_pieces'])}")
    print("\nRound-trip failures (first examples):")
    for row in results:
        if row["failure_examples"] or not row["probe_round_trip"]:
            print(f"- {row['library']} {row['model_type']} {row['languages']}:")
            for line, decoded in row["failure_examples"]:
                print(f"    {line!r}\n    -> {decoded!r}")
            if not row["probe_round_trip"]:
                print(f"    probe {PROBE!r}\n    -> {row['probe_decoded']!r}")


def conclude(results: list[dict]) -> None:
    """What the measurements say, worded from them (not written in advance)."""
    exact = {
        (r["library"], r["model_type"])
        for r in results
        if r["probe_round_trip"] and not any(r["round_trip_failures"].values())
    }
    print(f"- exact round trip on every line and on unseen characters: {sorted(exact) or 'none'}")
    same = {(r["library"], r["model_type"]) for r in results if r["deterministic"] and r["same_with_one_thread"]}
    print(f"- the same model twice and with one thread: {sorted(same) or 'none'}")
    by_model = {(r["library"], r["model_type"], r["languages"]): r for r in results}
    for model_type in sorted({r["model_type"] for r in results}):
        pairs = [
            (by_model[("sentencepiece", model_type, languages)], row)
            for (library, kind, languages), row in by_model.items()
            if library == "tokenizers" and kind == model_type and ("sentencepiece", kind, languages) in by_model
        ]
        for key, label in (
            ("train_seconds", "trains"),
            ("encode_loop_per_second", "encodes one at a time"),
            ("encode_batch_per_second", "encodes a batch"),
        ):
            ratios = [hf[key] / spm[key] if key == "train_seconds" else spm[key] / hf[key] for spm, hf in pairs]
            if ratios:
                print(
                    f"- {model_type}: sentencepiece {label} {min(ratios):.1f}-{max(ratios):.1f}x as fast as tokenizers"
                )
    for row in results:
        alone = {lang: by_model.get((row["library"], row["model_type"], lang)) for lang in row["languages"].split("+")}
        if len(alone) > 1 and all(alone.values()):
            print(
                f"- {row['library']} {row['model_type']} joint {row['languages']}: tokens/sentence "
                + ", ".join(
                    f"{lang} {row['tokens_per_sentence'][lang]:.1f} (alone {other['tokens_per_sentence'][lang]:.1f})"
                    for lang, other in alone.items()
                )
            )


def main() -> None:
    args = parse_arguments()
    os.environ["RAYON_NUM_THREADS"] = str(args.threads)  # before tokenizers starts its thread pool
    import sentencepiece
    import tokenizers

    languages = sorted({language for spec in args.languages for language in spec.split("+")})
    texts = {
        language: {split: read_lines(args.data / f"{split}.{language}") for split in SPLITS} for language in languages
    }
    print(
        f"# sentencepiece {sentencepiece.__version__}, tokenizers {tokenizers.__version__}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {args.threads} threads, "
        f"vocabulary {args.vocab_size}, data {args.data}"
    )
    print(f"# characters of val/test unseen in train: {unseen_characters(texts)}")
    results = []
    for spec in args.languages:
        model_texts = {language: texts[language] for language in spec.split("+")}
        train = [line for language in model_texts for line in model_texts[language]["train"]]
        for name, make in LIBRARIES.items():
            library = make()
            for model_type in args.model_types:
                row = {"library": name, "model_type": model_type, "languages": spec, "format": library.file_format}
                row |= measure_training(library, train, model_type, args)
                row |= measure_model(library, row.pop("model"), model_texts, args)
                results.append(row)
                print(f"  {name} {model_type} {spec}: trained in {row['train_seconds']:.2f} s", flush=True)
    print()
    print_table(results, args.threads)
    print(
        "\nModel files: "
        + "; ".join(f"{name}: {make().file_format}" for name, make in LIBRARIES.items())
        + ", both loaded from bytes, nothing unpickled."
    )
    print_examples(results)
    print("\nConclusion:")
    conclude(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
