"""Training word2vec end to end: schedule, threads, seeds, quality on planted structure, saving,
growing the vocabulary."""

import numpy as np
import pytest

from seqlab.embeddings import word2vec_jobs
from seqlab.embeddings.word2vec import Word2Vec, Word2VecConfig
from seqlab.errors import SeqlabError


def topic_sentences(seed=0, sentences=600):
    """Sentences that each use words of one topic only: animals or vehicles, plus shared glue words."""
    rng = np.random.default_rng(seed)
    topics = [[f"animal{i}" for i in range(8)], [f"vehicle{i}" for i in range(8)]]
    glue = ["the", "a", "and"]
    result = []
    for _ in range(sentences):
        topic = topics[rng.integers(2)]
        result.append([str(rng.choice(topic)) if rng.random() < 0.7 else str(rng.choice(glue)) for _ in range(12)])
    return result


def trained(config, sentences=None):
    sentences = topic_sentences() if sentences is None else sentences
    model = Word2Vec.from_sentences(sentences, config)
    return model, model.train_sentences(sentences)


def small_config(**changes):
    settings = {"dim": 16, "window": 3, "min_count": 1, "epochs": 3, "threads": 1, "sample": 0.0}
    return Word2VecConfig(**{**settings, **changes})


def topic_separation(model):
    """Mean within-topic cosine minus mean cross-topic cosine."""
    kv = model.keyed_vectors()
    unit = kv.unit_vectors
    animals = unit[[kv.index(f"animal{i}") for i in range(8)]]
    vehicles = unit[[kv.index(f"vehicle{i}") for i in range(8)]]
    within = (np.mean(animals @ animals.T) + np.mean(vehicles @ vehicles.T)) / 2
    return within - np.mean(animals @ vehicles.T)


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
@pytest.mark.parametrize("loss", ["negative", "hierarchical", "softmax"])
def test_every_variant_learns_the_planted_topics_and_lowers_its_loss(architecture, loss):
    model, report = trained(small_config(architecture=architecture, loss=loss))
    losses = [epoch.loss for epoch in report.epochs]
    assert losses[-1] < losses[0]
    assert topic_separation(model) > 0.3


def test_a_run_with_one_thread_is_reproducible_and_the_seed_matters():
    first, _ = trained(small_config(seed=5))
    second, _ = trained(small_config(seed=5))
    other, _ = trained(small_config(seed=6))
    assert np.array_equal(first.input_vectors, second.input_vectors)
    assert not np.allclose(first.input_vectors, other.input_vectors)


def test_two_threads_train_as_well_as_one():
    model, report = trained(small_config(threads=2, epochs=3), topic_sentences(sentences=3000))
    assert np.isfinite(model.input_vectors).all()
    assert topic_separation(model) > 0.3
    assert report.epochs[0].trained_words == 3000 * 12


def test_the_learning_rate_falls_linearly_over_all_epochs(monkeypatch):
    seen = []

    def record(model, corpus, first, last, alpha_start, alpha_end, seed):
        seen.append((alpha_start, alpha_end, tuple(seed)))
        return np.zeros(3)

    monkeypatch.setattr(word2vec_jobs, "_run_job", record)
    monkeypatch.setattr(word2vec_jobs, "JOB_WORDS", 1000)
    sentences = topic_sentences(sentences=500)  # 6000 words: 6 jobs per epoch
    model = Word2Vec.from_sentences(sentences, small_config(alpha=0.04, min_alpha=0.001, epochs=2))
    model.train_sentences(sentences)
    starts, ends, seeds = zip(*seen)
    assert len(seen) == 12 and starts[0] == pytest.approx(0.04) and ends[-1] == pytest.approx(0.001)
    np.testing.assert_allclose(starts[1:], ends[:-1])  # each job continues where the last ended
    sentence_ends = np.cumsum([len(s) for s in sentences])
    job_starts = np.concatenate([[0], sentence_ends])[word2vec_jobs.job_boundaries(sentence_ends, 1000)[:-1]]
    words_before_job = np.concatenate([job_starts, 6000 + job_starts])
    np.testing.assert_allclose(starts, 0.04 - (0.04 - 0.001) * words_before_job / 12_000)
    assert len(set(seeds)) == 12  # every job draws its own random numbers


def test_jobs_cut_between_sentences_near_every_multiple_of_the_job_size():
    ends = np.cumsum([4, 4, 4, 4, 4, 100, 3]).astype(np.int64)
    # ends 4 8 12 16 20 120 123: the marks 10, 20 and 30..120 end sentences 3, 5 and 6
    assert word2vec_jobs.job_boundaries(ends, job_words=10).tolist() == [0, 3, 5, 6, 7]


def test_the_reported_loss_is_the_exact_loss_of_the_vectors_it_was_computed_with():
    """With a learning rate of (almost) zero nothing moves. Output vectors start at zero, so under
    hierarchical softmax every node on a target's path costs exactly log 2, and with a window of 1
    each word is predicted once from each neighbour."""
    sentences = topic_sentences(sentences=50)
    config = small_config(loss="hierarchical", window=1, alpha=1e-12, min_alpha=0.0, epochs=1)
    model = Word2Vec.from_sentences(sentences, config)
    report = model.train_sentences(sentences)
    depth = model.huffman.lengths
    index = model.vocabulary.index
    expected_nodes = sum(
        depth[index[word]] * ((i > 0) + (i < len(sentence) - 1))
        for sentence in sentences
        for i, word in enumerate(sentence)
    )
    epoch = report.epochs[0]
    assert epoch.predictions == sum(2 * len(sentence) - 2 for sentence in sentences)
    assert epoch.loss * epoch.predictions == pytest.approx(expected_nodes * np.log(2), rel=1e-9)


def test_save_and_load_give_back_the_same_model(tmp_path):
    model, _ = trained(small_config(loss="hierarchical"))
    model.save(tmp_path / "model")
    loaded = Word2Vec.load(tmp_path / "model")
    assert loaded.config == model.config and loaded.vocabulary.words == model.vocabulary.words
    assert np.array_equal(loaded.input_vectors, model.input_vectors)
    assert np.array_equal(loaded.output_vectors, model.output_vectors)
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == [
        "checksums.json",
        "config.json",
        "vocabulary.json",
        "weights.safetensors",
    ]


def test_loading_something_else_names_the_problem(tmp_path):
    with pytest.raises(SeqlabError, match="config.json: no such file"):
        Word2Vec.load(tmp_path)
    (tmp_path / "config.json").write_text('{"format": "other"}')
    with pytest.raises(SeqlabError, match="not a seqlab word2vec model"):
        Word2Vec.load(tmp_path)


@pytest.mark.parametrize("loss", ["negative", "hierarchical"])
def test_training_continues_on_new_text_with_new_words(loss):
    model, _ = trained(small_config(loss=loss))
    old_vectors = model.input_vectors.copy()
    new_text = [["animal0", "zebra", "animal1", "zebra", "the"]] * 40
    added = model.grow_vocabulary({"zebra": 80, "animal0": 40, "animal1": 40, "the": 40})
    assert added == 1 and model.vocabulary.words[-1] == "zebra"
    assert np.array_equal(model.input_vectors[: len(old_vectors)], old_vectors)  # nothing moved yet
    assert model.vocabulary.counts[model.vocabulary.index["animal0"]] > 40
    report = model.train_sentences(new_text, epochs=2)
    assert np.isfinite(report.epochs[-1].loss)
    kv = model.keyed_vectors()
    assert "zebra" in kv and not np.allclose(kv["zebra"], model.input_vectors[-1] * 0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"architecture": "glove"}, "architecture must be one of"),
        ({"loss": "nce"}, "loss must be one of"),
        ({"dim": 0}, "dim must be at least 1"),
        ({"negative": 0}, "negative sampling needs negative >= 1"),
        ({"sample": -1.0}, "sample must be >= 0"),
        ({"alpha": 0.01, "min_alpha": 0.1}, "min_alpha must be in"),
    ],
)
def test_bad_settings_are_refused_by_name(changes, message):
    with pytest.raises(SeqlabError, match=message):
        Word2VecConfig(**changes)


def test_a_corpus_without_known_words_is_refused():
    model = Word2Vec.from_sentences(topic_sentences(sentences=20), small_config())
    with pytest.raises(SeqlabError, match="no words of the vocabulary"):
        model.train_sentences([["unknown", "words"]])
