"""Hard debiasing (Bolukbasi et al. 2016) on synthetic vectors with a planted gender axis."""

import numpy as np
import pytest

from seqlab.embeddings import debias as debias_module
from seqlab.embeddings.debias import bias_direction, bias_projection, debias, equalize, neutralize
from seqlab.embeddings.gender_words import DEFINITIONAL_PAIRS, EQUALIZE_PAIRS, GENDER_SPECIFIC_WORDS
from seqlab.embeddings.keyed_vectors import KeyedVectors
from seqlab.errors import SeqlabError

D = 16
DEFINING = [("she", "he"), ("her", "his"), ("woman", "man"), ("girl", "boy"), ("mother", "father"), ("mary", "john")]
EQUALIZE = [("queen", "king"), ("aunt", "uncle"), ("Grandma", "grandpa")]  # case variants are tried
PAIRS_IN_VOCABULARY = [*DEFINING, ("queen", "king"), ("aunt", "uncle"), ("grandma", "grandpa")]
PAIRS_IN_VOCABULARY += [("actress", "actor"), ("Actress", "Actor")]
SPECIFIC = {word.lower() for pair in PAIRS_IN_VOCABULARY for word in pair}
# How far along the planted axis each neutral word leans: the stereotypes debiasing must remove.
LEANING = {"receptionist": 0.8, "nurse": 0.6, "programmer": -0.8, "engineer": -0.5}
TOLERANCE = 1e-6  # the vectors are stored as float32


def planted_axis() -> np.ndarray:
    axis = np.random.default_rng(1).normal(size=D)
    return axis / np.linalg.norm(axis)


def planted_vectors() -> KeyedVectors:
    """Pairs = shared meaning ± 1.5 · axis + noise; neutral words lean along the axis or not at all."""
    rng = np.random.default_rng(0)
    axis = planted_axis()
    keys, rows = [], []
    for first, second in PAIRS_IN_VOCABULARY:
        meaning = rng.normal(size=D)
        keys += [first, second]
        rows += [meaning + 1.5 * axis + 0.1 * rng.normal(size=D), meaning - 1.5 * axis + 0.1 * rng.normal(size=D)]
    for word, lean in LEANING.items():
        keys.append(word)
        rows.append(rng.normal(size=D) / np.sqrt(D) * 2 + lean * 2 * axis)
    for i in range(20):
        keys.append(f"thing{i}")
        rows.append(rng.normal(size=D) * rng.uniform(0.5, 3))
    return KeyedVectors(keys, np.array(rows), counts=np.arange(len(keys), 0, -1))


@pytest.fixture
def kv() -> KeyedVectors:
    return planted_vectors()


def unit(kv, word) -> np.ndarray:
    return kv.unit_vectors[kv.index(word)].astype(np.float64)


def run_debias(kv, **overrides):
    options = dict(definitional_pairs=DEFINING, equalize_pairs=EQUALIZE, gender_specific_words=SPECIFIC)
    return debias(kv, **(options | overrides))


# --- the direction ---------------------------------------------------------------------------


def test_the_direction_recovers_the_planted_axis_and_points_towards_the_first_word(kv):
    subspace = bias_direction(kv, DEFINING)
    assert abs(subspace.direction @ planted_axis()) > 0.9
    assert np.linalg.norm(subspace.direction) == pytest.approx(1, abs=1e-12)
    assert subspace.direction @ (unit(kv, "she") - unit(kv, "he")) > 0
    reversed_pairs = [(b, a) for a, b in DEFINING]
    np.testing.assert_allclose(bias_direction(kv, reversed_pairs).direction, -subspace.direction, atol=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_every_component_is_oriented_by_the_first_pair_whatever_the_svd_sign(seed):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(8)]
    kv = KeyedVectors(words, rng.normal(size=(8, D)))
    pairs = list(zip(words[::2], words[1::2]))
    for ordered in (pairs, [(b, a) for a, b in pairs]):
        (first, second), *_ = ordered
        components = bias_direction(kv, ordered, n_components=3).components
        assert np.all(components @ (unit(kv, first) - unit(kv, second)) > 0)


def test_the_first_component_explains_most_of_the_variance(kv):
    subspace = bias_direction(kv, DEFINING, n_components=4)
    ratios = subspace.explained_variance_ratio
    assert ratios.shape == (4,) and ratios[0] > 0.8 and np.all(np.diff(ratios) <= 0) and ratios.sum() <= 1 + 1e-12
    np.testing.assert_allclose(subspace.components @ subspace.components.T, np.eye(4), atol=1e-12)


def test_the_direction_is_the_first_principal_component_of_the_centred_words(kv):
    centred = []
    for a, b in DEFINING:
        mean = (unit(kv, a) + unit(kv, b)) / 2
        centred += [unit(kv, a) - mean, unit(kv, b) - mean]
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(np.array(centred).T, bias=True))
    top = eigenvectors[:, -1]
    assert abs(top @ bias_direction(kv, DEFINING).direction) == pytest.approx(1, abs=1e-10)
    ratio = bias_direction(kv, DEFINING).explained_variance_ratio[0]
    assert ratio == pytest.approx(eigenvalues[-1] / eigenvalues.sum(), rel=1e-10)


def test_pairs_with_a_missing_word_are_skipped(kv):
    with_missing = [("nosuchword", "he"), *DEFINING, ("queenx", "kingx")]
    subspace = bias_direction(kv, with_missing)
    np.testing.assert_allclose(subspace.direction, bias_direction(kv, DEFINING).direction, atol=1e-12)
    assert subspace.missing_pairs == (("nosuchword", "he"), ("queenx", "kingx"))
    assert subspace.pairs == tuple(DEFINING)


def test_fewer_than_two_pairs_found_is_an_error_naming_the_missing_words(kv):
    with pytest.raises(SeqlabError, match=r"at least 2 definitional pairs .* found 1; missing words: kingx, queenx"):
        bias_direction(kv, [("she", "he"), ("queenx", "kingx")])


def test_words_are_looked_up_as_written_then_in_lowercase(kv):
    subspace = bias_direction(kv, [("Mary", "JOHN"), ("She", "he")])
    assert subspace.pairs == (("mary", "john"), ("she", "he"))


# --- neutralise and equalise against the paper's formulas, one word at a time ----------------


def test_neutralize_and_equalize_match_the_papers_formulas_word_by_word():
    rng = np.random.default_rng(3)
    g = rng.normal(size=D)
    g /= np.linalg.norm(g)
    words = rng.normal(size=(6, D))
    words /= np.linalg.norm(words, axis=1, keepdims=True)
    expected_neutral = []
    for w in words:
        w_b = (w @ g) * g
        expected_neutral.append((w - w_b) / np.linalg.norm(w - w_b))
    np.testing.assert_allclose(neutralize(words, g), expected_neutral, rtol=0, atol=1e-12)
    np.testing.assert_allclose(neutralize(words[0], 3 * g), expected_neutral[0], rtol=0, atol=1e-12)

    first, second = words[:3], words[3:]
    expected_first, expected_second = [], []
    for a, b in zip(first, second):
        mu = (a + b) / 2
        nu = mu - (mu @ g) * g
        scale = np.sqrt(1 - nu @ nu)
        expected_first.append(nu + scale * np.sign((a - mu) @ g) * g)
        expected_second.append(nu + scale * np.sign((b - mu) @ g) * g)
    new_first, new_second = equalize(first, second, g)
    np.testing.assert_allclose(new_first, expected_first, rtol=0, atol=1e-12)
    np.testing.assert_allclose(new_second, expected_second, rtol=0, atol=1e-12)


def test_equalize_normalises_its_inputs_first():
    rng = np.random.default_rng(4)
    g, a, b = rng.normal(size=(3, D))
    np.testing.assert_allclose(
        equalize(5 * a, 0.1 * b, g), equalize(a / np.linalg.norm(a), b / np.linalg.norm(b), g), atol=1e-12
    )


def test_a_bad_direction_is_refused():
    with pytest.raises(SeqlabError, match=r"shape \(4,\), got \(3,\)"):
        neutralize(np.ones((2, 4)), np.ones(3))
    with pytest.raises(SeqlabError, match="non-zero"):
        neutralize(np.ones((2, 4)), np.zeros(4))


# --- debias ----------------------------------------------------------------------------------


def test_neutral_words_lose_their_gender_component_and_stay_unit_length(kv):
    result = run_debias(kv)
    g = result.direction
    neutral = [*LEANING, *(f"thing{i}" for i in range(20))]
    assert result.neutralised == len(neutral)
    for word in neutral:
        vector = result.vectors[word].astype(np.float64)
        assert abs(vector @ g) < TOLERANCE
        assert np.linalg.norm(vector) == pytest.approx(1, abs=TOLERANCE)


def test_equalised_pairs_are_equidistant_from_every_neutral_word_and_symmetric(kv):
    result = run_debias(kv)
    g = result.direction
    assert result.equalised_pairs == (("queen", "king"), ("aunt", "uncle"), ("grandma", "grandpa"))
    neutral = [*LEANING, *(f"thing{i}" for i in range(20))]
    for first, second in result.equalised_pairs:
        a, b = result.vectors[first].astype(np.float64), result.vectors[second].astype(np.float64)
        assert np.linalg.norm(a) == pytest.approx(1, abs=TOLERANCE) and np.linalg.norm(b) == pytest.approx(
            1, abs=TOLERANCE
        )
        np.testing.assert_allclose(a - (a @ g) * g, b - (b @ g) * g, atol=TOLERANCE)  # same neutral part
        assert a @ g == pytest.approx(-(b @ g), abs=TOLERANCE) and a @ g > 0.1  # mirrored, feminine side kept
        for word in neutral:
            n = result.vectors[word].astype(np.float64)
            assert np.linalg.norm(a - n) == pytest.approx(np.linalg.norm(b - n), abs=TOLERANCE)


def test_gender_specific_words_are_only_normalised(kv):
    result = run_debias(kv)
    for word in ["actress", "actor", "Actress", "Actor", "she", "he", "mary"]:
        np.testing.assert_allclose(result.vectors[word], unit(kv, word), atol=TOLERANCE)


def test_an_equalised_word_keeps_its_side_even_when_not_listed_as_gender_specific(kv):
    result = run_debias(kv, equalize_pairs=[("king", "queen")], gender_specific_words=set())
    assert result.equalised_pairs == (("king", "queen"),)
    assert result.vectors["king"].astype(np.float64) @ result.direction < -0.1
    assert result.neutralised == len(kv) - 2


def test_neutralising_in_chunks_changes_nothing(kv, monkeypatch):
    whole = run_debias(kv).vectors.vectors
    monkeypatch.setattr(debias_module, "CHUNK_ROWS", 5)
    np.testing.assert_array_equal(run_debias(kv).vectors.vectors, whole)


def test_the_input_vectors_are_not_modified(kv):
    before = kv.vectors.copy()
    result = run_debias(kv)
    np.testing.assert_array_equal(kv.vectors, before)
    assert result.vectors is not kv
    assert result.vectors.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(result.vectors.counts, kv.counts)


def test_only_the_given_neutral_words_are_neutralised(kv):
    result = run_debias(kv, neutral_words=["Receptionist", "nurse", "notaword"])
    assert result.neutralised == 2
    after = bias_projection(result.vectors, ["receptionist", "nurse", "programmer"], result.direction)
    assert abs(after["receptionist"]) < TOLERANCE and abs(after["nurse"]) < TOLERANCE
    np.testing.assert_allclose(result.vectors["programmer"], unit(kv, "programmer"), atol=TOLERANCE)


def test_bias_projection_shows_the_stereotype_before_and_not_after(kv):
    result = run_debias(kv)
    before = bias_projection(kv, list(LEANING), result.direction)
    after = bias_projection(result.vectors, list(LEANING), result.direction)
    assert before["receptionist"] > 0.3 and before["programmer"] < -0.3
    assert all(abs(cosine) < TOLERANCE for cosine in after.values())
    with pytest.raises(SeqlabError, match=r"not in the vocabulary \(2 words\): ghost, phantom"):
        bias_projection(kv, ["she", "ghost", "phantom"], result.direction)


def test_the_default_word_lists_drive_debias(kv):
    result = debias(kv)
    assert set(result.equalised_pairs) == {("she", "he"), ("her", "his"), ("woman", "man"), ("girl", "boy")} | {
        ("mother", "father"),
        ("queen", "king"),
        ("aunt", "uncle"),
        ("grandma", "grandpa"),
        ("actress", "actor"),
        ("Actress", "Actor"),
    }
    assert result.neutralised == len(LEANING) + 20
    np.testing.assert_allclose(result.vectors["mary"], unit(kv, "mary"), atol=TOLERANCE)


def test_the_default_lists_are_lowercase_pairs_of_distinct_gender_specific_words():
    assert len(DEFINITIONAL_PAIRS) == 10 and ("she", "he") == DEFINITIONAL_PAIRS[0]
    words = [word for pair in EQUALIZE_PAIRS for word in pair]
    assert len(words) == len(set(words))
    assert all(word == word.lower() for word in GENDER_SPECIFIC_WORDS)
    assert set(words) <= GENDER_SPECIFIC_WORDS and len(GENDER_SPECIFIC_WORDS) > 200
