"""Recurrent layers and cells, drop-in for ``torch.nn``, with a fused and a per-step path.

Layers: :class:`RNN`, :class:`GRU`, :class:`LSTM`. Cells: :class:`RNNCell`, :class:`GRUCell`,
:class:`LSTMCell`. Helpers: :mod:`seqlab.nn.init` (initialisation schemes) and
:func:`clip_grad_norm_` / :func:`clip_grad_value_`.
"""

from seqlab.nn import init
from seqlab.nn.cells import GRUCell, LSTMCell, RNNCell
from seqlab.nn.clip import clip_grad_norm_, clip_grad_value_
from seqlab.nn.recurrent import GRU, LSTM, RNN

__all__ = ["RNN", "GRU", "LSTM", "RNNCell", "GRUCell", "LSTMCell", "clip_grad_norm_", "clip_grad_value_", "init"]
