"""seqlab: recurrent sequence models on PyTorch.

Subpackages:
    seqlab.nn         drop-in RNN/GRU/LSTM layers and cells (fused and per-step paths)
    seqlab.reference  NumPy float64 reference with hand-written BPTT (imports no torch)
    seqlab.data       vocabularies, corpora, batching
    seqlab.models     models built from seqlab.nn
    seqlab.training   training loop, checkpoints
    seqlab.decode     sampling and search
    seqlab.embeddings word2vec, GloVe, and using, evaluating, plotting and debiasing word vectors
"""

__version__ = "0.1.0"
