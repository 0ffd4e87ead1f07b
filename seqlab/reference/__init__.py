"""A NumPy float64 reference of the RNN, GRU, LSTM and attention, with hand-written backpropagation.

Written to be read, and the oracle that the fast torch modules of ``seqlab.nn`` are tested
against. It imports no torch. Conventions match ``torch.nn`` so that weights copy over:

* parameters in a plain dict: ``weight_ih`` (G*H, I), ``weight_hh`` (G*H, H),
  ``bias_ih`` and ``bias_hh`` (G*H,), with G = 1 (RNN), 3 (GRU, gates r, z, n),
  4 (LSTM, gates i, f, g, o);
* time-major arrays: inputs (T, B, I), states (B, H), outputs (T, B, H).

Modules, in reading order:

    activations   σ, tanh, relu and their derivatives
    parameters    initialisation and the affine terms every cell starts from
    rnn, gru, lstm  one step forward and one step backward per cell, with the equations
    attention     additive and multiplicative attention for one decoder step, forward and backward
    crf           a linear-chain CRF: path score, forward-backward, the NLL's gradient, Viterbi, top-k Viterbi
    ctc           connectionist temporal classification: the loss by forward-backward, its gradient, the best path
    bptt          the loops over time: forward, full BPTT, truncated BPTT(k)
    loss, projection, optim  softmax cross-entropy, logits = h W_hyᵀ + b_y, SGD + clipping
    gradcheck     central differences against the hand-written gradients
    char_lm       a character-level language model to train and sample from
"""

from seqlab.reference.activations import (
    NONLINEARITIES,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    tanh,
    tanh_grad,
)
from seqlab.reference.attention import (
    ATTENTION_SCORES,
    AttentionCache,
    attention_backward,
    attention_forward,
    attention_param_shapes,
    attention_scores,
    init_attention_params,
    masked_softmax,
    masked_softmax_backward,
)
from seqlab.reference.bptt import (
    SequenceCache,
    backward_full,
    backward_truncated,
    forward_sequence,
)
from seqlab.reference.char_lm import CharLM, CharVocabulary, TrainingStep, train_char_lm
from seqlab.reference.crf import (
    CRF_PARAM_NAMES,
    crf_backward_algorithm,
    crf_forward_algorithm,
    crf_marginals,
    crf_nll,
    crf_nll_backward,
    crf_path_score,
    crf_viterbi,
    crf_viterbi_topk,
    init_crf_params,
    logadd,
)
from seqlab.reference.ctc import (
    CTCForwardBackward,
    ctc_backward,
    ctc_best_path,
    ctc_collapse,
    ctc_extended_labels,
    ctc_forward,
    ctc_forward_backward,
    ctc_min_frames,
)
from seqlab.reference.gradcheck import gradient_check, numerical_gradient, relative_error
from seqlab.reference.gru import (
    gru_backward,
    gru_backward_truncated,
    gru_forward,
    gru_step_backward,
    gru_step_forward,
)
from seqlab.reference.loss import log_softmax, softmax, softmax_cross_entropy
from seqlab.reference.lstm import (
    lstm_backward,
    lstm_backward_truncated,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
)
from seqlab.reference.optim import clip_grad_norm, global_grad_norm, sgd_step
from seqlab.reference.parameters import (
    NUM_GATES,
    PARAM_NAMES,
    init_params,
    params_from_state_dict,
)
from seqlab.reference.projection import output_projection, output_projection_backward
from seqlab.reference.rnn import (
    rnn_backward,
    rnn_backward_truncated,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
)
from seqlab.text_file import read_text_file

__all__ = [
    "ATTENTION_SCORES",
    "AttentionCache",
    "attention_backward",
    "attention_forward",
    "attention_param_shapes",
    "attention_scores",
    "init_attention_params",
    "masked_softmax",
    "masked_softmax_backward",
    "CRF_PARAM_NAMES",
    "crf_backward_algorithm",
    "crf_forward_algorithm",
    "crf_marginals",
    "crf_nll",
    "crf_nll_backward",
    "crf_path_score",
    "crf_viterbi",
    "crf_viterbi_topk",
    "init_crf_params",
    "logadd",
    "CTCForwardBackward",
    "ctc_backward",
    "ctc_best_path",
    "ctc_collapse",
    "ctc_extended_labels",
    "ctc_forward",
    "ctc_forward_backward",
    "ctc_min_frames",
    "NONLINEARITIES",
    "NUM_GATES",
    "PARAM_NAMES",
    "CharLM",
    "CharVocabulary",
    "SequenceCache",
    "TrainingStep",
    "backward_full",
    "backward_truncated",
    "clip_grad_norm",
    "forward_sequence",
    "global_grad_norm",
    "gradient_check",
    "gru_backward",
    "gru_backward_truncated",
    "gru_forward",
    "gru_step_backward",
    "gru_step_forward",
    "init_params",
    "log_softmax",
    "lstm_backward",
    "lstm_backward_truncated",
    "lstm_forward",
    "lstm_step_backward",
    "lstm_step_forward",
    "numerical_gradient",
    "output_projection",
    "output_projection_backward",
    "params_from_state_dict",
    "read_text_file",
    "relative_error",
    "relu",
    "relu_grad",
    "rnn_backward",
    "rnn_backward_truncated",
    "rnn_forward",
    "rnn_step_backward",
    "rnn_step_forward",
    "sgd_step",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "softmax_cross_entropy",
    "tanh",
    "tanh_grad",
    "train_char_lm",
]
