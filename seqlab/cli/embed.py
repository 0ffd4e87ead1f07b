"""``seqlab embed``: train word vectors (word2vec, GloVe) and use them.

Sub-commands: ``train``, ``evaluate``, ``similar``, ``analogy``, ``plot``, ``debias``, ``convert``.
Vector files are read and written in the word2vec text (``.txt``) and binary (``.bin``) formats
and GloVe's text format, so gensim and the original tools read ours and we read theirs.

The numba kernels and the rest of :mod:`seqlab.embeddings` are imported inside the commands,
so that ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict
from pathlib import Path

from seqlab.embeddings.configs import ARCHITECTURES, LOSSES, VECTOR_FORMATS, GloVeConfig, Word2VecConfig
from seqlab.errors import SeqlabError

EVALUATION_FILES = {"analogies": "questions-words.txt", "word_pairs": ("wordsim353.tsv", "simlex999.txt")}
SHOWN_BIAS_WORDS = ("receptionist", "nurse", "engineer", "programmer", "homemaker", "doctor", "babysitter")

# `embed train` flags -> the config fields they set. All but --threads have no argparse default (None):
# a flag left out takes the config's default, and a flag given is told apart from one left out, which
# --continue-from needs to refuse the settings a saved model keeps.
WORD2VEC_FLAGS = {
    "method": "architecture",
    "loss": "loss",
    "dim": "dim",
    "window": "window",
    "negative": "negative",
    "min_count": "min_count",
    "max_vocab_size": "max_vocab_size",
    "sample": "sample",
    "learning_rate": "alpha",
    "min_learning_rate": "min_alpha",
    "epochs": "epochs",
    "threads": "threads",
    "seed": "seed",
}
GLOVE_FLAGS = {
    "dim": "dim",
    "window": "window",
    "min_count": "min_count",
    "x_max": "x_max",
    "weighting_exponent": "alpha",
    "learning_rate": "learning_rate",
    "memory_mb": "memory_limit_mb",
    "epochs": "epochs",
    "threads": "threads",
    "seed": "seed",
}
CONTINUABLE_FLAGS = ("epochs", "threads")  # the settings a continued word2vec model takes anew


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``embed`` command group and its sub-commands to ``subparsers``."""
    group = subparsers.add_parser(
        "embed",
        help="word vectors: train word2vec or GloVe, evaluate, query, plot, debias, convert",
        description="Word embeddings: word2vec (skip-gram, CBOW) and GloVe, and the tools to use them.",
    )
    commands = group.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _register_train(commands)
    _register_evaluate(commands)
    _register_queries(commands)
    _register_plot(commands)
    _register_debias(commands)
    _register_convert(commands)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each flag's default, except None: such a flag's help says what leaving it out does."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return action.help if action.default is None else super()._get_help_string(action)


def _command(commands, name: str, help: str, func) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        name, help=help, description=help[0].upper() + help[1:] + ".", formatter_class=_HelpFormatter
    )
    parser.set_defaults(func=func)
    return parser


def _register_train(commands) -> None:
    train = _command(commands, "train", "train word vectors on a text file (one sentence per line)", run_train)
    train.add_argument(
        "corpus", type=Path, help="UTF-8 text, words separated by whitespace; or a folder with train.txt"
    )
    train.add_argument("--out", type=Path, required=True, help="vector file to write: .bin (word2vec binary) or .txt")
    w2v, glove = Word2VecConfig, GloVeConfig  # the defaults a flag left out takes
    train.add_argument("--method", choices=(*ARCHITECTURES, "glove"), help=f"the model (default: {w2v.architecture})")
    train.add_argument("--loss", choices=LOSSES, help=f"word2vec's output layer (default: {w2v.loss})")
    train.add_argument("--dim", type=int, help=f"vector dimensions (default: {w2v.dim})")
    train.add_argument(
        "--window", type=int, help=f"context words on each side (default: {w2v.window}; GloVe {glove.window})"
    )
    train.add_argument(
        "--negative", type=int, help=f"noise words per prediction (negative sampling) (default: {w2v.negative})"
    )
    train.add_argument("--min-count", type=int, help=f"drop words seen fewer times (default: {w2v.min_count})")
    train.add_argument("--max-vocab-size", type=int, help="keep only this many of the most frequent words (word2vec)")
    train.add_argument("--epochs", type=int, help=f"passes over the text (default: {w2v.epochs}; GloVe {glove.epochs})")
    train.add_argument(
        "--sample", type=float, help=f"subsampling threshold of frequent words; 0: off (default: {w2v.sample})"
    )
    train.add_argument(
        "--learning-rate",
        type=float,
        help=f"initial learning rate (default: word2vec 0.025 skip-gram, 0.05 CBOW; GloVe {glove.learning_rate})",
    )
    train.add_argument("--min-learning-rate", type=float, help=f"word2vec's rate at the end (default: {w2v.min_alpha})")
    train.add_argument("--x-max", type=float, help=f"GloVe: f(X) = 1 from X = x_max (default: {glove.x_max})")
    train.add_argument(
        "--weighting-exponent", type=float, help=f"GloVe: f(X) = (X / x_max)^this (default: {glove.alpha})"
    )
    train.add_argument(
        "--memory-mb", type=float, help=f"GloVe: memory for counting before spilling (default: {glove.memory_limit_mb})"
    )
    train.add_argument("--threads", type=int, default=2, help="worker threads (1 is reproducible)")
    train.add_argument("--seed", type=int, help=f"random seed (default: {w2v.seed})")
    train.add_argument("--save-model", type=Path, help="also save the whole word2vec model here, to continue later")
    train.add_argument(
        "--continue-from",
        type=Path,
        help="a folder written by --save-model: train it further on CORPUS, adding its new words; the model keeps "
        "its settings, so of the settings flags only --epochs and --threads may be given",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")


def run_train(args: argparse.Namespace) -> int:
    """Train word2vec or GloVe, write the vectors, print per-epoch losses."""
    from tqdm import tqdm

    from seqlab.embeddings.formats import save_vectors
    from seqlab.embeddings.word2vec import Word2Vec, train_word2vec

    if args.method == "glove":
        if args.continue_from or args.save_model:
            raise SeqlabError("--continue-from and --save-model are for word2vec; GloVe retrains from its counts")
        return _train_glove(args)
    if args.continue_from:
        model = Word2Vec.load(args.continue_from)
        _refuse_changed_settings(args, model.config)
        config = model.config  # the saved settings, but for how long and on how many threads
        config.epochs = args.epochs or config.epochs
        config.threads = args.threads
    else:
        model = None
        config = Word2VecConfig(**_given_settings(args, WORD2VEC_FLAGS))
    _check_output_path(args.out)
    with tqdm(unit="word", unit_scale=True, disable=args.quiet or None, desc=f"{config.architecture}") as bar:
        model, report = train_word2vec(args.corpus, config, model=model, progress=bar.update)
    for number, epoch in enumerate(report.epochs, start=1):
        print(
            f"epoch {number:>3}  loss {epoch.loss:.4f} nats/prediction  "
            f"{epoch.words_per_second:,.0f} words/s  {epoch.seconds:.1f} s"
        )
    save_vectors(model.keyed_vectors(), args.out)
    if args.save_model:
        model.save(args.save_model)
    print(f"{len(model.vocabulary)} words x {config.dim} dimensions -> {args.out}")
    return 0


def _given_settings(args: argparse.Namespace, flags: dict[str, str]) -> dict:
    """Config field -> value of each flag of ``flags`` that was given."""
    return {field: getattr(args, flag) for flag, field in flags.items() if getattr(args, flag) is not None}


def _refuse_changed_settings(args: argparse.Namespace, saved: Word2VecConfig) -> None:
    """A continued model keeps its settings: a flag asking for another value is an error, not ignored.

    Flags that repeat the saved value are accepted, so a command can be rerun with --continue-from added.
    """
    values = asdict(saved) | {"alpha": saved.initial_alpha}

    def shown(value) -> str:
        return "none" if value is None else str(value)

    changed = [
        f"--{flag.replace('_', '-')} {shown(value)} (the model's: {shown(values[field])})"
        for flag, field in WORD2VEC_FLAGS.items()
        if flag not in CONTINUABLE_FLAGS and (value := getattr(args, flag)) is not None and value != values[field]
    ]
    glove_only = [flag for flag in GLOVE_FLAGS if flag not in WORD2VEC_FLAGS]
    changed += [f"--{flag.replace('_', '-')} (GloVe's)" for flag in glove_only if getattr(args, flag) is not None]
    if changed:
        raise SeqlabError(
            f"--continue-from trains the saved model with its own settings, so it cannot take {', '.join(changed)}; "
            "only --epochs, --threads, the corpus and the output files can change"
        )


def _train_glove(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from seqlab.embeddings.formats import save_vectors
    from seqlab.embeddings.glove import train_glove

    config = GloVeConfig(**_given_settings(args, GLOVE_FLAGS))
    _check_output_path(args.out)
    with tqdm(total=config.epochs, unit="epoch", disable=args.quiet or None, desc="glove") as bar:

        def report(epoch) -> None:
            bar.update(1)
            bar.set_postfix(cost=f"{epoch.cost:.4f}")

        result = train_glove(args.corpus, config, progress=report)
    print(f"counted {result.nonzeros:,} co-occurring pairs in {result.counting_seconds:.1f} s")
    for number, (cost, seconds) in enumerate(zip(result.losses, result.epoch_seconds), start=1):
        print(f"epoch {number:>3}  cost {cost:.4f}  {seconds:.1f} s")
    save_vectors(result.vectors, args.out)
    print(
        f"{len(result.vectors)} words x {config.dim} dimensions -> {args.out} "
        f"(peak memory {result.peak_memory_bytes / 2**20:.0f} MiB)"
    )
    return 0


def _check_output_path(path: Path) -> None:
    """Refuse an output whose format is unclear before hours of training, not after."""
    if path.suffix not in (".bin", ".txt", ".vec"):
        raise SeqlabError(f"{path}: name the output .bin (word2vec binary) or .txt (word2vec text)")


def _register_evaluate(commands) -> None:
    evaluate = _command(commands, "evaluate", "score vectors on analogy and word-similarity sets", run_evaluate)
    evaluate.add_argument("vectors", type=Path, help="vector file (word2vec .bin/.txt or GloVe .txt)")
    evaluate.add_argument("--analogies", type=Path, help="analogy questions (questions-words.txt format)")
    evaluate.add_argument("--word-pairs", type=Path, nargs="+", help="similarity sets: word1 TAB word2 TAB score")
    evaluate.add_argument(
        "--data",
        type=Path,
        help="folder with questions-words.txt, wordsim353.tsv, simlex999.txt, used when no file is named "
        "(default: $SEQLAB_EMBEDDING_EVAL, else $SEQLAB_DATA/embedding-eval, else the copies gensim ships "
        "if gensim is installed)",
    )
    evaluate.add_argument(
        "--restrict-vocab",
        type=int,
        default=300_000,
        help="only the most frequent N words answer and are asked (gensim's rule)",
    )
    evaluate.add_argument("--method", choices=("add", "mul"), default="add", help="3CosAdd or 3CosMul analogies")
    evaluate.add_argument("--case-sensitive", action="store_true", help="do not compare words upper-cased")
    evaluate.add_argument("--json", action="store_true", help="print the results as JSON")
    _add_format_flag(evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    from seqlab.embeddings.evaluation import evaluate_analogies, evaluate_word_pairs
    from seqlab.embeddings.formats import load_vectors

    analogy_file, pair_files = _evaluation_files(args)
    kv = load_vectors(args.vectors, format=args.format)
    options = {"restrict_vocab": args.restrict_vocab, "case_insensitive": not args.case_sensitive}
    results = []
    if analogy_file:
        results.append(evaluate_analogies(kv, analogy_file, method=args.method, **options))
    results += [evaluate_word_pairs(kv, path, **options) for path in pair_files]
    if args.json:
        print(json.dumps([result.to_dict() for result in results], indent=2))
    else:
        print("\n\n".join(result.format() for result in results))
    return 0


def _evaluation_files(args: argparse.Namespace) -> tuple[Path | None, list[Path]]:
    if args.analogies or args.word_pairs:
        return args.analogies, list(args.word_pairs or [])
    folder = args.data or default_evaluation_folder()
    if folder is None:
        raise SeqlabError("name --analogies and/or --word-pairs files, or a --data folder that holds them")
    analogy_file = folder / EVALUATION_FILES["analogies"]
    pair_files = [folder / name for name in EVALUATION_FILES["word_pairs"] if (folder / name).is_file()]
    if not analogy_file.is_file() and not pair_files:
        raise SeqlabError(f"{folder}: holds none of questions-words.txt, wordsim353.tsv, simlex999.txt")
    return (analogy_file if analogy_file.is_file() else None), pair_files


def default_evaluation_folder() -> Path | None:
    """Where the standard evaluation sets are when no file is named, or None if nowhere known."""
    for variable, inside in (("SEQLAB_EMBEDDING_EVAL", ""), ("SEQLAB_DATA", "embedding-eval")):
        if os.environ.get(variable) and (Path(os.environ[variable]) / inside).is_dir():
            return Path(os.environ[variable]) / inside
    try:  # gensim ships the three sets as its test data; it is optional, not a dependency
        from gensim.test.utils import datapath
    except ImportError:
        return None
    return Path(datapath(EVALUATION_FILES["analogies"])).parent


def _register_queries(commands) -> None:
    similar = _command(commands, "similar", "the words nearest to a word (cosine similarity)", run_similar)
    similar.add_argument("vectors", type=Path, help="vector file")
    similar.add_argument("word", nargs="+", help="word(s) whose mean direction to search around")
    similar.add_argument("--minus", nargs="+", default=[], help="words to subtract")
    similar.add_argument("--topn", type=int, default=10, help="how many neighbours")
    _add_format_flag(similar)
    analogy = _command(commands, "analogy", "solve 'A is to B as C is to ?'", run_analogy)
    analogy.add_argument("vectors", type=Path, help="vector file")
    analogy.add_argument("a")
    analogy.add_argument("b")
    analogy.add_argument("c")
    analogy.add_argument("--method", choices=("add", "mul"), default="add", help="3CosAdd or 3CosMul")
    analogy.add_argument("--topn", type=int, default=5, help="how many answers")
    _add_format_flag(analogy)


def run_similar(args: argparse.Namespace) -> int:
    from seqlab.embeddings.formats import load_vectors

    kv = load_vectors(args.vectors, format=args.format)
    _print_ranking(kv.most_similar(positive=args.word, negative=args.minus, topn=args.topn))
    return 0


def run_analogy(args: argparse.Namespace) -> int:
    from seqlab.embeddings.formats import load_vectors

    kv = load_vectors(args.vectors, format=args.format)
    print(f"{args.a} : {args.b} :: {args.c} : ?")
    _print_ranking(kv.analogy(args.a, args.b, args.c, method=args.method, topn=args.topn))
    return 0


def _print_ranking(ranking: list[tuple[str, float]]) -> None:
    width = max((len(word) for word, _ in ranking), default=0)
    for word, score in ranking:
        print(f"{word:<{width}}  {score:.4f}")


def _register_plot(commands) -> None:
    plot = _command(commands, "plot", "draw chosen words in 2-D (PCA or t-SNE) as a PNG", run_plot)
    plot.add_argument("vectors", type=Path, help="vector file")
    plot.add_argument("words", nargs="+", help="the words to draw")
    plot.add_argument("--out", type=Path, required=True, help="PNG file to write")
    plot.add_argument("--method", choices=("pca", "tsne"), default="pca", help="the projection")
    plot.add_argument("--skip-missing", action="store_true", help="leave out unknown words instead of failing")
    plot.add_argument("--seed", type=int, default=0, help="t-SNE seed")
    _add_format_flag(plot)


def run_plot(args: argparse.Namespace) -> int:
    from seqlab.embeddings.formats import load_vectors
    from seqlab.embeddings.plot import plot_words

    kv = load_vectors(args.vectors, format=args.format)
    drawn = plot_words(kv, args.words, args.out, method=args.method, seed=args.seed, skip_missing=args.skip_missing)
    if drawn.skipped:
        print(f"not in the vocabulary, left out: {' '.join(drawn.skipped)}")
    print(f"{len(drawn.words)} words -> {drawn.path}")
    return 0


def _register_debias(commands) -> None:
    debias_parser = _command(commands, "debias", "remove a gender direction (Bolukbasi et al. 2016)", run_debias)
    debias_parser.add_argument("vectors", type=Path, help="vector file")
    debias_parser.add_argument("--out", type=Path, required=True, help="debiased vector file to write")
    debias_parser.add_argument("--definitional", type=Path, help="pairs defining the direction, two words a line")
    debias_parser.add_argument("--equalize", type=Path, help="pairs to make equidistant, two words a line")
    debias_parser.add_argument("--gender-specific", type=Path, help="words to leave alone, one a line")
    debias_parser.add_argument(
        "--show",
        nargs="*",
        default=list(SHOWN_BIAS_WORDS),
        help="words whose projection on the direction is printed before and after",
    )
    _add_format_flag(debias_parser)


def run_debias(args: argparse.Namespace) -> int:
    from seqlab.embeddings.debias import bias_projection, debias
    from seqlab.embeddings.formats import load_vectors, save_vectors

    kv = load_vectors(args.vectors, format=args.format)
    options = {}
    if args.definitional:
        options["definitional_pairs"] = _read_word_pairs(args.definitional)
    if args.equalize:
        options["equalize_pairs"] = _read_word_pairs(args.equalize)
    if args.gender_specific:
        options["gender_specific_words"] = frozenset(_read_word_list(args.gender_specific))
    result = debias(kv, **options)
    shown = [word for word in args.show if word in kv]
    before = bias_projection(kv, shown, result.direction)
    after = bias_projection(result.vectors, shown, result.direction)
    print(f"neutralised {result.neutralised} words, equalised {len(result.equalised_pairs)} pairs")
    for word in shown:
        print(f"{word:<14} cosine with the direction {before[word]:+.4f} -> {after[word]:+.4f}")
    save_vectors(result.vectors, args.out)
    print(f"-> {args.out}")
    return 0


def _read_word_list(path: Path) -> list[str]:
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as error:
        raise SeqlabError(f"{path}: cannot read: {error}") from None


def _read_word_pairs(path: Path) -> list[tuple[str, str]]:
    pairs = []
    for number, line in enumerate(_read_word_list(path), start=1):
        words = line.split()
        if len(words) != 2:
            raise SeqlabError(f"{path}, line {number}: expected two words, got {len(words)}: {line!r}")
        pairs.append((words[0], words[1]))
    return pairs


def _register_convert(commands) -> None:
    convert = _command(commands, "convert", "convert between word2vec text, word2vec binary and GloVe", run_convert)
    convert.add_argument("source", type=Path, help="vector file to read")
    convert.add_argument("target", type=Path, help="vector file to write")
    convert.add_argument("--format", choices=VECTOR_FORMATS, help="the target's format (default: by its extension)")
    convert.add_argument("--from-format", choices=VECTOR_FORMATS, help="the source's format (default: detected)")
    convert.add_argument("--limit", type=int, help="keep only the first N words")


def run_convert(args: argparse.Namespace) -> int:
    from seqlab.embeddings.formats import load_vectors, save_vectors

    kv = load_vectors(args.source, format=args.from_format, limit=args.limit)
    save_vectors(kv, args.target, format=args.format)
    print(f"{len(kv)} words x {kv.vector_size} dimensions -> {args.target}")
    return 0


def _add_format_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=VECTOR_FORMATS, help="the vector file's format (default: detected)")
