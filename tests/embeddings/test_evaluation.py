"""Analogy and word-pair evaluation give gensim 4.4's numbers, on gensim's own test sets."""

from __future__ import annotations

import itertools
import json
import re

import gensim.models.keyedvectors as gensim_keyedvectors
import numpy as np
import pytest
import scipy.stats as stats
from gensim.test.utils import datapath

from seqlab.embeddings.evaluation import (
    average_ranks,
    evaluate_analogies,
    evaluate_word_pairs,
    pearson,
    spearman,
)
from seqlab.embeddings.keyed_vectors import KeyedVectors
from seqlab.errors import SeqlabError

DIMS = 24
WORD_PAIR_FILES = ("wordsim353.tsv", "simlex999.txt")


def read_sections() -> dict[str, list[list[str]]]:
    """gensim's questions-words.txt as section name -> questions (4 words each, original case)."""
    sections: dict[str, list[list[str]]] = {}
    with open(datapath("questions-words.txt"), encoding="utf-8") as handle:
        for line in handle:
            if line.startswith(": "):
                questions = sections.setdefault(line[2:].strip(), [])
            else:
                questions.append(line.split())
    return sections


def pair_words() -> list[str]:
    words = []
    for name in WORD_PAIR_FILES:
        with open(datapath(name), encoding="utf-8") as handle:
            words += [word for line in handle if not line.startswith("#") for word in line.split("\t")[:2]]
    return words


def planted_vectors(sections: dict[str, list[list[str]]], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Lower-cased question words -> vectors with ``b - a`` close to one offset per section.

    Least squares pulls every pair (a, b) and (c, d) of a section towards that section's offset
    while staying near random starting points; noise then spoils about a quarter of the analogies.
    """
    pairs = sorted(
        {(name, q[i].lower(), q[i + 1].lower()) for name, qs in sections.items() for q in qs for i in (0, 2)}
    )
    words = list(dict.fromkeys(word for _, a, b in pairs for word in (a, b)))
    row = {word: i for i, word in enumerate(words)}
    offsets = {name: rng.standard_normal(DIMS) for name in sections}
    incidence = np.zeros((len(pairs), len(words)))  # (P, W): +1 at b, -1 at a
    for p, (_, a, b) in enumerate(pairs):
        incidence[p, row[a]], incidence[p, row[b]] = -1, 1
    targets = np.array([offsets[name] for name, _, _ in pairs])  # (P, D)
    start = rng.standard_normal((len(words), DIMS))
    pull = 0.3
    vectors = np.linalg.solve(incidence.T @ incidence + pull * np.eye(len(words)), incidence.T @ targets + pull * start)
    vectors += 0.3 * rng.standard_normal(vectors.shape)
    return dict(zip(words, vectors))


def to_gensim(kv: KeyedVectors):
    model = gensim_keyedvectors.KeyedVectors(kv.vector_size)
    model.add_vectors(kv.index_to_key, kv.vectors)
    return model


@pytest.fixture(scope="module")
def sections():
    return read_sections()


@pytest.fixture(scope="module")
def questions_file(sections, tmp_path_factory):
    """Every 7th question of each section of questions-words.txt (gensim is slow on all 19,544)."""
    path = tmp_path_factory.mktemp("analogies") / "questions.txt"
    lines = [line for name, qs in sections.items() for line in [f": {name}"] + [" ".join(q) for q in qs[::7]]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def random_kv(sections):
    """Lower-cased words of all three test sets plus fillers, in random order, random vectors; 15% left out."""
    rng = np.random.default_rng(0)
    words = [w.lower() for qs in sections.values() for q in qs for w in q] + [w.lower() for w in pair_words()]
    words = list(dict.fromkeys(words)) + [f"filler{i}" for i in range(300)]
    rng.shuffle(words)
    words = words[: int(0.85 * len(words))]
    return KeyedVectors(words, rng.standard_normal((len(words), DIMS)))


@pytest.fixture(scope="module")
def planted_kv(sections):
    """Planted analogies (about three quarters answered right), then the word-pair words, random."""
    rng = np.random.default_rng(1)
    planted = planted_vectors(sections, rng)
    others = [w for w in dict.fromkeys(w.lower() for w in pair_words()) if w not in planted]
    vectors = np.concatenate([np.array(list(planted.values())), rng.standard_normal((len(others), DIMS))])
    return KeyedVectors(list(planted) + others, vectors)


@pytest.fixture(scope="module")
def mixed_case_kv(planted_kv):
    """Each planted word in up to four spellings (athens, Athens, ATHENS, aTHENS) with almost equal vectors.

    The spellings crowd the top of every search, so gensim's rule of scanning the best five for
    one that is not a question word decides many answers; which spelling comes first is random.
    """
    rng = np.random.default_rng(2)
    keys, vectors = [], []
    for word, vector in zip(planted_kv.index_to_key, planted_kv.vectors):
        spellings = list(dict.fromkeys([word, word.title(), word.upper(), word.title().swapcase()]))
        for spelling in spellings[: rng.integers(1, len(spellings) + 1)]:
            keys.append(spelling)
            vectors.append(vector + 0.02 * rng.standard_normal(DIMS))
    order = rng.permutation(len(keys))
    return KeyedVectors([keys[i] for i in order], np.array(vectors)[order])


def gensim_analogy_table(model, path, restrict_vocab, case_insensitive):
    """gensim's (section, correct, total, oov) rows and its overall score."""
    score, asked = model.evaluate_word_analogies(path, restrict_vocab=restrict_vocab, case_insensitive=case_insensitive)
    _, everything = model.evaluate_word_analogies(
        path, restrict_vocab=restrict_vocab, case_insensitive=case_insensitive, dummy4unknown=True
    )
    rows = []
    for section, with_oov in zip(asked, everything):
        total = len(section["correct"]) + len(section["incorrect"])
        oov = len(with_oov["correct"]) + len(with_oov["incorrect"]) - total
        rows.append((section["section"], len(section["correct"]), total, oov))
    return rows, score


@pytest.mark.parametrize(
    ("vectors", "restrict_vocab", "case_insensitive"),
    [
        ("random_kv", 300_000, True),
        ("random_kv", 900, False),
        ("planted_kv", 300_000, True),
        ("planted_kv", 700, True),
        ("mixed_case_kv", 300_000, True),
        ("mixed_case_kv", 1500, True),
        ("mixed_case_kv", None, False),
    ],
)
def test_analogies_give_gensims_numbers(request, questions_file, vectors, restrict_vocab, case_insensitive):
    kv = request.getfixturevalue(vectors)
    result = evaluate_analogies(kv, questions_file, restrict_vocab=restrict_vocab, case_insensitive=case_insensitive)
    expected_rows, expected_score = gensim_analogy_table(
        to_gensim(kv), questions_file, restrict_vocab, case_insensitive
    )
    rows = [(s.name, s.correct, s.total, s.oov) for s in [*result.sections, result.total]]
    assert rows == expected_rows
    assert result.accuracy == expected_score
    assert result.oov_ratio == result.total.oov / result.questions


@pytest.mark.parametrize("restrict_vocab", [None, 13, 6])
def test_questions_answered_by_their_own_words_follow_gensims_scan(tmp_path, restrict_vocab):
    """When the best five are all spellings of the question's words, gensim keeps the last one it
    looked at, so "a b c d" with d among a, b, c can still count as right."""
    rng = np.random.default_rng(4)
    keys, vectors = [], []
    for word in ["man", "king", "woman", "queen", "apple", "river"]:
        vector = rng.standard_normal(DIMS)
        for spelling in [word, word.upper(), word.title(), word.title().swapcase()]:
            keys.append(spelling)
            vectors.append(vector + 0.01 * rng.standard_normal(DIMS))
    kv = KeyedVectors(keys, np.array(vectors))
    questions = [f"{a} {b} {c} {c}" for a, b, c in itertools.product(["man", "KING", "Woman", "queen"], repeat=3)]
    path = tmp_path / "own-words.txt"
    path.write_text(": own words\n" + "\n".join(questions) + "\n", encoding="utf-8")

    result = evaluate_analogies(kv, path, restrict_vocab=restrict_vocab)

    expected_rows, _ = gensim_analogy_table(to_gensim(kv), path, restrict_vocab, True)
    assert [(s.name, s.correct, s.total, s.oov) for s in [*result.sections, result.total]] == expected_rows
    assert 0 < result.total.correct < result.total.total


def test_planted_vectors_answer_most_analogies_and_random_ones_almost_none(questions_file, planted_kv, random_kv):
    assert evaluate_analogies(planted_kv, questions_file).accuracy > 0.5
    assert evaluate_analogies(random_kv, questions_file).accuracy < 0.02


def test_semantic_and_syntactic_split_on_the_gram_prefix(questions_file, planted_kv):
    result = evaluate_analogies(planted_kv, questions_file)
    syntactic = [s for s in result.sections if s.name.startswith("gram")]
    assert len(syntactic) == 9
    assert result.syntactic.correct == sum(s.correct for s in syntactic)
    assert result.syntactic.total == sum(s.total for s in syntactic)
    assert result.semantic.correct + result.syntactic.correct == result.total.correct
    assert result.semantic.total + result.syntactic.total == result.total.total


@pytest.mark.parametrize("method", ["add", "mul"])
def test_batched_answers_equal_one_search_per_question(tmp_path, sections, planted_kv, method):
    """Restricted vocabulary, both methods: the batched evaluation counts what a loop over searches finds."""
    path = tmp_path / "questions.txt"
    lines = [line for name, qs in sections.items() for line in [f": {name}"] + [" ".join(q).lower() for q in qs[::9]]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    restrict_vocab = 600
    search = planted_kv.most_similar if method == "add" else planted_kv.most_similar_cosmul
    known = set(planted_kv.index_to_key[:restrict_vocab])
    expected = []
    for name, qs in sections.items():
        asked = [q for q in (tuple(w.lower() for w in q) for q in qs[::9]) if set(q) <= known]
        correct = sum(search([b, c], [a], topn=1, restrict_vocab=restrict_vocab)[0][0] == d for a, b, c, d in asked)
        expected.append((name, correct, len(asked), len(qs[::9]) - len(asked)))

    result = evaluate_analogies(planted_kv, path, restrict_vocab=restrict_vocab, case_insensitive=False, method=method)

    assert [(s.name, s.correct, s.total, s.oov) for s in result.sections] == expected
    assert result.accuracy > 0.2  # the planted structure survives the restriction


@pytest.mark.parametrize("name", WORD_PAIR_FILES)
@pytest.mark.parametrize(
    ("vectors", "restrict_vocab", "case_insensitive"),
    [
        ("random_kv", 300_000, True),
        ("planted_kv", 1000, True),
        ("mixed_case_kv", 300_000, True),
        ("mixed_case_kv", 2000, False),
    ],
)
def test_word_pairs_give_gensims_numbers(request, name, vectors, restrict_vocab, case_insensitive):
    kv = request.getfixturevalue(vectors)
    result = evaluate_word_pairs(kv, datapath(name), restrict_vocab=restrict_vocab, case_insensitive=case_insensitive)
    gensim_pearson, gensim_spearman, gensim_oov_percent = to_gensim(kv).evaluate_word_pairs(
        datapath(name), restrict_vocab=restrict_vocab, case_insensitive=case_insensitive
    )
    # the cosines are float32 (as gensim's); Pearson and Spearman are taken in float64
    assert result.pearson == pytest.approx(gensim_pearson[0], abs=1e-6)
    assert result.spearman == pytest.approx(gensim_spearman[0], abs=1e-6)
    assert 100 * result.oov_ratio == pytest.approx(gensim_oov_percent, abs=1e-12)
    assert result.pairs + result.oov_pairs == sum(1 for line in open(datapath(name)) if not line.startswith("#"))


def test_spearman_gives_tied_values_their_average_rank():
    assert average_ranks(np.array([10.0, 20.0, 10.0, 5.0, 20.0, 20.0])).tolist() == [2.5, 5.0, 2.5, 1.0, 5.0, 5.0]
    rng = np.random.default_rng(3)
    x = rng.integers(0, 6, size=200).astype(float)  # many ties
    y = x + rng.integers(0, 4, size=200)
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert pearson(x, y) == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)
    assert np.isnan(pearson(np.ones(5), np.arange(5.0)))


def test_results_convert_to_json_and_a_table(questions_file, planted_kv):
    analogies = evaluate_analogies(planted_kv, questions_file, method="mul")
    pairs = evaluate_word_pairs(planted_kv, datapath("wordsim353.tsv"))
    analogies_json = json.loads(json.dumps(analogies.to_dict()))
    pairs_json = json.loads(json.dumps(pairs.to_dict()))
    assert analogies_json["method"] == "mul"
    assert analogies_json["accuracy"] == analogies.accuracy
    assert [s["name"] for s in analogies_json["sections"]][:2] == ["capital-common-countries", "capital-world"]
    assert pairs_json["spearman"] == pairs.spearman and pairs_json["pairs"] == pairs.pairs
    table = str(analogies)
    assert "gram9-plural-verbs" in table and "Total accuracy" in table and "Syntactic" in table
    assert f"{100 * analogies.accuracy:.2f}%" in table
    assert f"{pairs.spearman:.4f}" in str(pairs)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("king queen man woman\n", ", line 1: a question before the first ': section name' line"),
        (": family\nking queen man\n", ", line 2: expected 4 words"),
        (": family\n# a comment\n\nking queen man woman extra\n", ", line 4: expected 4 words"),
        ("\n# only a comment\n", ": no ': section name' line and no questions"),
    ],
)
def test_malformed_analogy_files_are_refused_naming_the_line(tmp_path, planted_kv, text, message):
    path = tmp_path / "bad-questions.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SeqlabError, match=re.escape(f"bad-questions.txt{message}")):
        evaluate_analogies(planted_kv, path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# comment\nking\tqueen\n", "line 2: expected 'word1\tword2\tscore'"),
        ("king\tqueen\tvery\n", "line 1: the score 'very' is not a number"),
        ("king queen 8.5\n", "line 1: expected"),
    ],
)
def test_malformed_word_pair_files_are_refused_naming_the_line(tmp_path, planted_kv, text, message):
    path = tmp_path / "bad-pairs.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SeqlabError, match=f"bad-pairs.tsv, {message}"):
        evaluate_word_pairs(planted_kv, path)


def test_unreadable_evaluation_files_are_refused(tmp_path, planted_kv):
    bad_utf8 = tmp_path / "latin1.tsv"
    bad_utf8.write_bytes(b"king\tqueen\t8\ncaf\xe9\ttea\t5\n")
    with pytest.raises(SeqlabError, match="latin1.tsv, line 2: not valid UTF-8"):
        evaluate_word_pairs(planted_kv, bad_utf8)
    with pytest.raises(SeqlabError, match="missing.txt: no such file"):
        evaluate_analogies(planted_kv, tmp_path / "missing.txt")
    unknown = tmp_path / "unknown.tsv"
    unknown.write_text("zyzzyva\tquux\t3\n", encoding="utf-8")
    with pytest.raises(SeqlabError, match="unknown.tsv: none of its 1 pairs"):
        evaluate_word_pairs(planted_kv, unknown)
    with pytest.raises(SeqlabError, match="unknown analogy method 'sub'"):
        evaluate_analogies(planted_kv, datapath("questions-words.txt"), method="sub")
