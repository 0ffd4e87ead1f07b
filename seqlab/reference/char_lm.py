"""A character-level language model in NumPy, small enough to read in one sitting.

The model of Karpathy's min-char-rnn, built from the reference cells. For each position t
of a window of characters c_0 c_1 ... c_T::

    x_t      = onehot(c_t)                  (B, V)   the input is the character itself
    s_t      = cell(x_t, s_{t-1})           h_t = s_t[0]: (B, H)
    logits_t = h_t W_hyᵀ + b_y              (B, V)
    L        = mean_t -log softmax(logits_t)[c_{t+1}]

A model that has learnt nothing gives every character probability 1/V, a loss of log V nats
per character: the number to watch the loss fall below.

Training reads the text in consecutive windows of ``seq_length`` characters::

    text      h e l l o ␣ w o r l d ...
    window 1  inputs  h e l l      targets  e l l o
    window 2  inputs  o ␣ w o      targets  ␣ w o r
    ...

The state at the end of one window starts the next, so the model remembers across
windows, but the gradient stops at the window's start: the state enters as a constant
array, the NumPy counterpart of ``h.detach()`` in torch. Within a window the gradient is
full BPTT. At the end of the text the state goes back to zeros and a new epoch starts.

Example:
    >>> import numpy as np
    >>> text = "hello world! " * 20
    >>> vocab = CharVocabulary.from_text(text)
    >>> model = CharLM(vocab, cell="rnn", hidden_size=32, rng=np.random.default_rng(0))
    >>> steps = list(train_char_lm(model, vocab.encode(text), steps=300, seq_length=13,
    ...                            learning_rate=0.5))
    >>> bool(steps[-1].loss < 0.5 < np.log(vocab.size))
    True
    >>> model.sample("h", 11, rng=np.random.default_rng(0), temperature=0.1)
    'ello world!'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import numpy as np

from seqlab.errors import SeqlabError
from seqlab.reference.bptt import backward_full, forward_sequence
from seqlab.reference.gru import gru_step_backward, gru_step_forward
from seqlab.reference.loss import softmax, softmax_cross_entropy
from seqlab.reference.lstm import lstm_step_backward, lstm_step_forward
from seqlab.reference.optim import sgd_step
from seqlab.reference.parameters import init_params
from seqlab.reference.projection import output_projection, output_projection_backward
from seqlab.reference.rnn import rnn_step_backward, rnn_step_forward


class CellSteps(NamedTuple):
    """What the model needs of a cell: its two step functions and its state's size."""

    forward: Callable
    backward: Callable
    state_size: int  # arrays in the state: 1 for (h,), 2 for (h, c)


CELLS = {
    "rnn": CellSteps(partial(rnn_step_forward, nonlinearity="tanh"), rnn_step_backward, 1),
    "gru": CellSteps(gru_step_forward, gru_step_backward, 1),
    "lstm": CellSteps(lstm_step_forward, lstm_step_backward, 2),
}


@dataclass(frozen=True)
class CharVocabulary:
    """The distinct characters of a text; a character's id is its place in sorted order.

    Attributes:
        chars: the characters, sorted.
    """

    chars: tuple[str, ...]

    @classmethod
    def from_text(cls, text: str) -> CharVocabulary:
        """The vocabulary of every character in ``text``."""
        if not text:
            raise SeqlabError("cannot build a vocabulary from empty text")
        return cls(tuple(sorted(set(text))))

    @property
    def size(self) -> int:
        """V, the number of characters."""
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """The ids of the characters of ``text``, shape (len(text),)."""
        ids = {char: index for index, char in enumerate(self.chars)}
        unknown = sorted(set(text) - ids.keys())
        if unknown:
            raise SeqlabError(f"characters not in the vocabulary: {''.join(unknown)!r}")
        return np.array([ids[char] for char in text], dtype=np.int64)

    def decode(self, ids) -> str:
        """The text spelled by a sequence of ids; ``decode(encode(text)) == text``."""
        return "".join(self.chars[index] for index in ids)


class CharLM:
    """A one-layer recurrent language model over characters (see the module docstring).

    Args:
        vocab: the characters the model reads and writes.
        cell: ``"rnn"`` (tanh), ``"gru"`` or ``"lstm"``.
        hidden_size: H.
        rng: draws the initial parameters, all from uniform(-1/√H, 1/√H) as in torch.

    Attributes:
        params: one dict holding the cell's ``weight_ih`` (G*H, V), ``weight_hh`` (G*H, H),
            ``bias_ih``, ``bias_hh`` (G*H,) and the output layer's ``weight_hy`` (V, H)
            and ``bias_y`` (V,).
    """

    def __init__(
        self,
        vocab: CharVocabulary,
        *,
        cell: str = "rnn",
        hidden_size: int = 100,
        rng: np.random.Generator,
    ) -> None:
        if cell not in CELLS:
            raise SeqlabError(f"unknown cell {cell!r}; expected one of {sorted(CELLS)}")
        self.vocab = vocab
        self.cell = cell
        self.hidden_size = hidden_size
        bound = 1.0 / np.sqrt(hidden_size)
        self.params = {
            **init_params(cell, vocab.size, hidden_size, rng),
            "weight_hy": rng.uniform(-bound, bound, size=(vocab.size, hidden_size)),
            "bias_y": rng.uniform(-bound, bound, size=vocab.size),
        }

    def initial_state(self, batch_size: int = 1) -> tuple[np.ndarray, ...]:
        """The all-zero state that starts a text, a tuple of (B, H) arrays."""
        shape = (batch_size, self.hidden_size)
        return tuple(np.zeros(shape) for _ in range(CELLS[self.cell].state_size))

    def predict(
        self, input_ids: np.ndarray, state: tuple[np.ndarray, ...]
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """Scores for the character after each input character.

        Shape:
            input_ids (T, B), state entries (B, H) -> logits (T, B, V).

        Returns:
            ``(logits, final_state)``.
        """
        logits, final_state, _ = self._forward(input_ids, state)
        return logits, final_state

    def loss_and_grads(
        self, input_ids: np.ndarray, target_ids: np.ndarray, state: tuple[np.ndarray, ...]
    ) -> tuple[float, dict[str, np.ndarray], tuple[np.ndarray, ...]]:
        """The mean cross-entropy of predicting ``target_ids``, and its gradients.

        Args:
            input_ids: the characters read.
            target_ids: the character that follows each one.
            state: the state before the first character; no gradient flows into it.

        Shape:
            input_ids and target_ids (T, B), state entries (B, H).

        Returns:
            ``(loss, grads, final_state)``: grads has the keys of ``params``, and the
            final state is what the next window should start from.
        """
        logits, final_state, (outputs, cache) = self._forward(input_ids, state)
        loss, d_logits = softmax_cross_entropy(logits, target_ids)  # d_logits: (T, B, V)
        d_outputs, d_weight_hy, d_bias_y = output_projection_backward(d_logits, outputs, self.params["weight_hy"])
        d_cell, _, _ = backward_full(CELLS[self.cell].backward, cache, d_outputs)
        grads = {**d_cell, "weight_hy": d_weight_hy, "bias_y": d_bias_y}
        return loss, grads, final_state

    def sample(self, prime: str, length: int, *, rng: np.random.Generator, temperature: float = 1.0) -> str:
        """Generate ``length`` characters that follow ``prime``.

        Each next character is drawn from softmax(logits / temperature): a temperature
        below 1 sharpens the distribution towards the likeliest character, above 1
        flattens it towards uniform.

        Args:
            prime: one or more characters to read first.
            length: how many characters to generate.
            rng: draws the characters.
            temperature: > 0.

        Returns:
            The generated characters, without the prime.
        """
        if temperature <= 0:
            raise SeqlabError(f"temperature must be > 0, got {temperature}")
        if not prime:
            raise SeqlabError("sampling needs a prime of at least one character")
        logits, state = self.predict(self.vocab.encode(prime)[:, None], self.initial_state())
        generated = []
        for _ in range(length):
            probs = softmax(logits[-1, 0] / temperature)  # (V,)
            next_id = int(rng.choice(self.vocab.size, p=probs))
            generated.append(next_id)
            logits, state = self.predict(np.array([[next_id]]), state)
        return self.vocab.decode(generated)

    def _forward(self, input_ids, state):
        inputs = np.eye(self.vocab.size)[input_ids]  # one-hot: (T, B, V)
        outputs, final_state, cache = forward_sequence(
            CELLS[self.cell].forward, self.params, inputs, state
        )  # outputs: (T, B, H)
        logits = output_projection(outputs, self.params["weight_hy"], self.params["bias_y"])
        return logits, final_state, (outputs, cache)


class TrainingStep(NamedTuple):
    """What one step of :func:`train_char_lm` reports."""

    step: int  # SGD steps taken so far, from 1
    epoch: int  # the pass over the text this step belongs to, from 1
    loss: float  # mean cross-entropy of this step's window, nats per character
    grad_norm: float  # global gradient norm before clipping


def train_char_lm(
    model: CharLM,
    ids: np.ndarray,
    *,
    steps: int,
    seq_length: int = 25,
    learning_rate: float = 0.1,
    max_grad_norm: float | None = 5.0,
) -> Iterator[TrainingStep]:
    """Train ``model`` on a text by truncated BPTT over consecutive windows, with SGD.

    A generator: it takes one SGD step each time it is advanced and reports on it, so the
    caller decides what to print and when to sample. The windows and the state are
    described in the module docstring.

    Args:
        model: the model, trained in place.
        ids: the text as character ids (from ``model.vocab.encode``), at least 2 long.
        steps: how many SGD steps to take.
        seq_length: characters per window.
        learning_rate: the SGD step size.
        max_grad_norm: clip the global gradient norm to this; None: no clipping.

    Shape:
        ids (N,).

    Yields:
        One :class:`TrainingStep` per SGD step.

    Raises:
        SeqlabError: the text is too short, or the loss stops being finite.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) < 2:
        raise SeqlabError("training needs a text of at least 2 characters")
    if seq_length < 1:
        raise SeqlabError(f"seq_length must be >= 1, got {seq_length}")
    position, epoch, state = 0, 1, model.initial_state()
    for step in range(1, steps + 1):
        if position >= len(ids) - 1:  # no next character left to predict
            position, epoch, state = 0, epoch + 1, model.initial_state()
        end = min(position + seq_length, len(ids) - 1)
        inputs = ids[position:end, None]  # (T, 1)
        targets = ids[position + 1 : end + 1, None]  # (T, 1)
        loss, grads, state = model.loss_and_grads(inputs, targets, state)
        if not np.isfinite(loss):
            raise SeqlabError(
                f"training diverged: the loss is {loss} at step {step}; "
                "lower the learning rate or the gradient-norm limit"
            )
        norm = sgd_step(model.params, grads, learning_rate, max_grad_norm=max_grad_norm)
        position = end
        yield TrainingStep(step, epoch, loss, norm)
