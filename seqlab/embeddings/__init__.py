"""Word embeddings: word2vec and GloVe, and the tools to use and share the vectors.

Training (a trainer owns its weights; the vectors it hands out are frozen):

    configs                              the settings of word2vec and GloVe (no numpy, no numba)
    vocabulary, corpus, encoded_corpus   counting words, streaming text, text as index arrays
    huffman, sampling                    the Huffman code, subsampling and noise distributions
    word2vec, word2vec_jobs, word2vec_kernels   skip-gram and CBOW with negative sampling,
                                         hierarchical or full softmax; threads and compiled loops
    cooccurrence, glove                  GloVe's streamed co-occurrence counts and its training
    prefetch                             a cache prefetch hint for the compiled loops

Using vectors:

    keyed_vectors   KeyedVectors: lookup, similarity, most-similar, analogies (3CosAdd, 3CosMul)
    evaluation      the Google analogy set and word-similarity sets, as gensim scores them
    formats         word2vec text and binary, GloVe text
    projection, plot   PCA and t-SNE to 2-D, a labelled PNG
    debias          Bolukbasi et al. 2016: bias direction, neutralise, equalise
    transfer        a task vocabulary's embedding matrix from pretrained vectors (lower-case fallback)

Example:
    >>> from seqlab.embeddings import Word2Vec, Word2VecConfig
    >>> sentences = [["the", "cat", "sat"], ["the", "dog", "sat"]] * 50
    >>> model = Word2Vec.from_sentences(sentences, Word2VecConfig(dim=16, min_count=1, threads=1))
    >>> report = model.train_sentences(sentences)
    >>> kv = model.keyed_vectors()
    >>> len(kv.most_similar("cat", topn=2))
    2
"""

from __future__ import annotations

from seqlab.lazy_exports import lazy_exports

_EXPORTS = {
    "GloVeConfig": "seqlab.embeddings.configs",
    "KeyedVectors": "seqlab.embeddings.keyed_vectors",
    "Vocabulary": "seqlab.embeddings.vocabulary",
    "Word2Vec": "seqlab.embeddings.word2vec",
    "Word2VecConfig": "seqlab.embeddings.configs",
    "evaluate_analogies": "seqlab.embeddings.evaluation",
    "evaluate_word_pairs": "seqlab.embeddings.evaluation",
    "load_vectors": "seqlab.embeddings.formats",
    "plot_words": "seqlab.embeddings.plot",
    "pretrained_matrix": "seqlab.embeddings.transfer",
    "rekeyed": "seqlab.embeddings.transfer",
    "save_vectors": "seqlab.embeddings.formats",
    "train_glove": "seqlab.embeddings.glove",
    "train_word2vec": "seqlab.embeddings.word2vec",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
