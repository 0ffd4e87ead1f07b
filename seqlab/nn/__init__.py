"""Recurrent layers and cells, drop-in for ``torch.nn``, with a fused and a per-step path.

Layers: :class:`RNN`, :class:`GRU`, :class:`LSTM` (``weight_drop=p`` for DropConnect on
``W_hh``). Cells: :class:`RNNCell`, :class:`GRUCell`, :class:`LSTMCell`. Regularisers:
:class:`LockedDropout` (:func:`locked_dropout`), :func:`embedding_dropout`, :func:`drop_connect`, and the AR/TAR
penalties :func:`activation_penalty`, :func:`temporal_activation_penalty`. Helpers:
:mod:`seqlab.nn.init` (initialisation schemes) and :func:`clip_grad_norm_` / :func:`clip_grad_value_`.
Attention: :class:`AdditiveAttention` (Bahdanau) and :class:`MultiplicativeAttention` (Luong: dot,
general, concat), masked over padding. Transformer (:mod:`seqlab.nn.transformer`): :class:`MultiheadAttention`,
:class:`EncoderLayer`, :class:`DecoderLayer`, :class:`TransformerEncoder`, :class:`TransformerDecoder`
(which caches self-attention keys and values per step) and :func:`sinusoidal_positions`.
Tagging: :class:`LinearChainCRF` (Lample et al. 2016), the NLL of tag paths, Viterbi and top-k decoding, constraints.
"""

from seqlab.nn import init
from seqlab.nn.activation_penalties import activation_penalty, temporal_activation_penalty
from seqlab.nn.attention import AdditiveAttention, MultiplicativeAttention
from seqlab.nn.cells import GRUCell, LSTMCell, RNNCell
from seqlab.nn.clip import clip_grad_norm_, clip_grad_value_
from seqlab.nn.crf import LinearChainCRF
from seqlab.nn.dropout import LockedDropout, drop_connect, embedding_dropout, locked_dropout
from seqlab.nn.recurrent_layers import GRU, LSTM, RNN
from seqlab.nn.transformer import (
    DecoderLayer,
    EncoderLayer,
    MultiheadAttention,
    TransformerDecoder,
    TransformerEncoder,
    sinusoidal_positions,
)

__all__ = [
    "RNN",
    "GRU",
    "LSTM",
    "RNNCell",
    "GRUCell",
    "LSTMCell",
    "LockedDropout",
    "locked_dropout",
    "embedding_dropout",
    "drop_connect",
    "activation_penalty",
    "temporal_activation_penalty",
    "clip_grad_norm_",
    "clip_grad_value_",
    "AdditiveAttention",
    "MultiplicativeAttention",
    "MultiheadAttention",
    "EncoderLayer",
    "DecoderLayer",
    "TransformerEncoder",
    "TransformerDecoder",
    "sinusoidal_positions",
    "LinearChainCRF",
    "init",
]
