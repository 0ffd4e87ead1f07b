"""What the recurrent layers share (:class:`RecurrentBase`); the layers themselves, drop-in replacements for
``torch.nn.RNN``, ``GRU`` and ``LSTM``, are in :mod:`seqlab.nn.recurrent_layers`.

Same constructor arguments, ``forward(input, hx)`` signature, shapes, returns, parameter
names, gate order and initialisation as ``torch.nn``, so::

    ours = seqlab.nn.LSTM(10, 20, num_layers=2)
    ours.load_state_dict(torch.nn.LSTM(10, 20, num_layers=2).state_dict())

gives the same outputs and gradients. Two execution paths sit behind one interface:

* **fused**: PyTorch's own multi-layer kernels (cuDNN, oneDNN), used whenever the
  configuration is one torch can compute;
* **per-step**: a step rule (:mod:`seqlab.nn.rules`) applied over time in autograd
  (:mod:`seqlab.nn.per_step`), which every cell variant plugs into: here ``layer_norm``
  and LSTM ``peephole``.

``implementation="auto"`` picks fused when it can, except for training passes on the CPU where
the per-step path measured faster (:mod:`seqlab.nn.implementation_choice`); ``"per_step"``
forces the loop, and ``"fused"`` insists on the kernel (and refuses configurations it cannot
compute).

Under ``torch.autocast`` the per-step path runs its matrix products in autocast's dtype,
layer norm in float32, and returns gradients in the parameters' dtype
(:mod:`seqlab.nn.precision`); the fused path is torch's kernel, with torch's own autocast
support for it. The per-step path supports double backward (``create_graph=True``, e.g. a
gradient penalty); on the fused path that is up to torch's kernel (cuDNN's has none).
"""

from __future__ import annotations

import contextlib
import numbers
import warnings
from collections.abc import Iterator

import torch
from torch import Tensor
from torch.nn import Module
from torch.nn.utils.rnn import PackedSequence

from seqlab.errors import SeqlabError
from seqlab.nn import parameters
from seqlab.nn.dropout import drop_connect
from seqlab.nn.fused import run_fused
from seqlab.nn.implementation_choice import auto_runs_per_step
from seqlab.nn.per_step import run_stack
from seqlab.nn.rules import RecurrentRule, State
from seqlab.nn.step_noise import StepNoise

IMPLEMENTATIONS = ("auto", "fused", "per_step")


class RecurrentBase(Module):
    """Shared machinery of :class:`RNN`, :class:`GRU` and :class:`LSTM`.

    Attributes:
        mode: torch's name of the kernel: 'LSTM', 'GRU', 'RNN_TANH' or 'RNN_RELU'.
        rule: the step rule the per-step path applies.
        uses_fused_kernel: whether ``forward`` may run the fused kernel (with ``auto``, a CPU
            training pass may still run per-step; :mod:`seqlab.nn.implementation_choice`).
    """

    def __init__(
        self,
        mode: str,
        rule: RecurrentRule,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        bias: bool,
        batch_first: bool,
        dropout: float,
        bidirectional: bool,
        proj_size: int,
        implementation: str,
        factory: dict,
        weight_drop: float = 0.0,
    ) -> None:
        super().__init__()
        _check_sizes(input_size, hidden_size, num_layers, proj_size, dropout, bias, batch_first)
        if implementation not in IMPLEMENTATIONS:
            raise ValueError(f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}")
        if implementation == "fused" and not rule.is_plain:
            raise ValueError("implementation='fused' cannot run layer_norm, peephole or regularised cells")
        self.mode, self.rule = mode, rule
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        self.implementation = implementation
        self.weight_drop = _check_weight_drop(weight_drop)
        self._held_parameters: dict[str, Tensor] | None = None  # set inside one_weight_drop_mask()
        self.uses_fused_kernel = rule.is_plain and implementation != "per_step"
        self._register_parameters(factory)
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def state_size(self) -> int:
        """P: the size of h (``proj_size`` if set, else ``hidden_size``)."""
        return self.proj_size or self.hidden_size

    def _suffix(self, index: int) -> str:
        layer, direction = divmod(index, self.num_directions)
        return f"_l{layer}" + ("_reverse" if direction else "")

    def _register_parameters(self, factory: dict) -> None:
        count = self.num_layers * self.num_directions
        self._flat_weights_names: list[str] = []
        for index in range(count):
            layer_input = self.input_size if index < self.num_directions else self.state_size * self.num_directions
            shapes = parameters.torch_shapes(self.rule, layer_input, self.hidden_size, self.proj_size, self.bias)
            self._flat_weights_names += parameters.register(self, shapes, self._suffix(index), **factory)
        extra = parameters.extra_shapes(self.rule, self.hidden_size)
        self._extra_names = [
            name for index in range(count) for name in parameters.register(self, extra, self._suffix(index), **factory)
        ]

    def reset_parameters(self) -> None:
        """Re-draws every parameter as ``torch.nn`` does (same draws for the same seed)."""
        parameters.initialise(self, self._flat_weights_names + self._extra_names, self.hidden_size)

    @property
    def _flat_weights(self) -> list[Tensor]:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Tensor]]:
        """torch.nn's view: the parameters of each layer-direction, in torch's order."""
        per_index = len(self._flat_weights_names) // (self.num_layers * self.num_directions)
        flat = self._flat_weights
        return [flat[i : i + per_index] for i in range(0, len(flat), per_index)]

    def flatten_parameters(self) -> None:
        """Packs the weights into the one buffer cuDNN wants (CUDA only; a no-op elsewhere).

        Mirrors ``torch.nn.RNNBase.flatten_parameters``; without it cuDNN copies the weights
        on every call and warns that they are "not part of single contiguous chunk".
        """
        weights = self._flat_weights
        first = weights[0]
        if not all(w.is_cuda and w.dtype == first.dtype and torch.backends.cudnn.is_acceptable(w) for w in weights):
            return
        if len({w.data_ptr() for w in weights}) != len(weights) or not torch._use_cudnn_rnn_flatten_weight():
            return
        from torch.backends.cudnn import rnn as cudnn_rnn

        num_weights = (4 if self.bias else 2) + (1 if self.proj_size else 0)
        with torch.cuda.device_of(first), torch.no_grad():
            torch._cudnn_rnn_flatten_weight(
                weights,
                num_weights,
                self.input_size,
                cudnn_rnn.get_cudnn_mode(self.mode),
                self.hidden_size,
                self.proj_size,
                self.num_layers,
                self.batch_first,
                self.bidirectional,
            )

    def _apply(self, fn, recurse=True):
        result = super()._apply(fn, recurse)
        if self.uses_fused_kernel:
            self.flatten_parameters()
        return result

    def forward(self, input: Tensor | PackedSequence, hx: Tensor | State | None = None):
        """See the class docstring of :class:`LSTM` for shapes; same as ``torch.nn``."""
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        name = type(self).__name__
        if not isinstance(input, Tensor) or input.dim() not in (2, 3):
            got = f"{input.dim()}-D" if isinstance(input, Tensor) else type(input).__name__
            raise SeqlabError(f"{name}: expected a 2-D (unbatched) or 3-D input, got {got}")
        batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if not batched:
            input = input.unsqueeze(batch_dim)
        self._check_input(input)
        state = self._initial_state(hx, input, input.size(batch_dim), batched)
        output, final = self._run(input, None, state)
        if not batched:
            output = output.squeeze(batch_dim)
            final = tuple(s.squeeze(1) for s in final)
        return output, self._pack_state(final)

    def _forward_packed(self, packed: PackedSequence, hx):
        data, batch_sizes, sorted_indices, unsorted_indices = packed
        if data.dim() != 2:
            raise SeqlabError(f"{type(self).__name__}: packed data must be 2-D (N, input_size), got {data.dim()}-D")
        self._check_input(data)
        state = self._initial_state(hx, data, int(batch_sizes[0]), True)
        if sorted_indices is not None:
            state = tuple(s.index_select(1, sorted_indices) for s in state)
        output, final = self._run(data, batch_sizes, state)
        if unsorted_indices is not None:
            final = tuple(s.index_select(1, unsorted_indices) for s in final)
        return PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices), self._pack_state(final)

    def _run(self, input: Tensor, batch_sizes: Tensor | None, state: State) -> tuple[Tensor, State]:
        """Dispatches to the fused kernel or the per-step loop; same layouts in and out."""
        options = dict(
            num_layers=self.num_layers, dropout=self.dropout, training=self.training, bidirectional=self.bidirectional
        )
        current = self._held_parameters if self._held_parameters is not None else self._parameters_for_this_pass()
        if self.uses_fused_kernel and not auto_runs_per_step(self, input, batch_sizes):
            return run_fused(
                self.mode,
                input,
                batch_sizes,
                state,
                [current[name] for name in self._flat_weights_names],
                bias=self.bias,
                batch_first=self.batch_first,
                masked_weights=self.weight_drop > 0 and self.training,
                **options,
            )
        weights = [
            parameters.gather(current.get, self._suffix(i)) for i in range(self.num_layers * self.num_directions)
        ]
        if batch_sizes is not None:
            return run_stack(self.rule, input, batch_sizes.tolist(), state, weights, **options)
        steps = input.transpose(0, 1) if self.batch_first else input  # (T, B, I)
        length, batch = steps.shape[:2]
        output, final = run_stack(
            self.rule, steps.reshape(length * batch, -1), [batch] * length, state, weights, **options
        )
        output = output.view(length, batch, -1)
        return (output.transpose(0, 1) if self.batch_first else output), final

    def step_from_input_product(self, product: Tensor, state: State) -> tuple[Tensor, State]:
        """One time step of the whole stack in evaluation, given the first layer's ``W_ih x`` (no bias).

        For a caller that can form ``W_ih x`` more cheaply than as one product: an attention
        decoder whose input holds the context ``c = Σ_j α_j h_j`` has ``W_ih c = Σ_j α_j (W_ih h_j)``,
        and ``W_ih h_j`` can be computed once per source sentence rather than once per beam and
        step. The first layer adds its input bias as its rule's ``project_input`` would; the layers
        above project their input as usual. Only for a unidirectional stack whose cells take the
        input linearly (no layer norm), outside training; in-step regularisation acts as the
        per-step path applies it in evaluation.

        Shape:
            product ``(N, G*H)``; state: each ``(L, N, ·)`` (h, and c for an LSTM) → the top layer's
            output ``(N, P)`` and the new state, each ``(L, N, ·)``.
        """
        if self.bidirectional or self.training or self.rule.layer_norm:
            raise SeqlabError(f"{type(self).__name__}: step_from_input_product needs a unidirectional layer without "
                              "layer norm, in evaluation mode")  # fmt: skip
        current = dict(self.named_parameters(recurse=False))
        noise = StepNoise.draw(self.rule.regularisation, state[0][0], False)
        output, finals = product, []
        for layer in range(self.num_layers):
            weights = parameters.gather(current.get, self._suffix(layer))
            if layer == 0:
                bias = self.rule.input_bias(weights)
                projected = product if bias is None else product + bias
            else:
                projected = self.rule.project_input(output, weights)
            output, final = self.rule.step(projected, tuple(part[layer] for part in state), weights, noise)
            finals.append(final)
        return output, tuple(torch.stack(parts) for parts in zip(*finals))

    @contextlib.contextmanager
    def one_weight_drop_mask(self) -> Iterator[None]:
        """Inside this block every forward pass reuses one DropConnect mask of ``W_hh``.

        Merity et al. (2018, §2) draw one mask per sequence. A layer called once per sequence does
        that by itself; a decoder that calls it once per target token wraps the whole sequence in
        this block. Outside training, or with ``weight_drop=0``, the block changes nothing. A block
        inside another draws its own mask and gives the outer one back when it ends.
        """
        outer, self._held_parameters = self._held_parameters, self._parameters_for_this_pass()
        try:
            yield
        finally:
            self._held_parameters = outer

    def _parameters_for_this_pass(self) -> dict[str, Tensor]:
        """Every parameter by name, with ``W_hh`` DropConnect-masked when training with weight_drop.

        One mask per forward pass, shared by all time steps (Merity et al. 2017). The masked
        matrices are new tensors passed to the kernel; the parameters themselves are untouched.
        """
        current = dict(self.named_parameters(recurse=False))
        if self.weight_drop > 0 and self.training:
            for name in self._flat_weights_names:
                if name.startswith("weight_hh"):
                    current[name] = drop_connect(current[name], self.weight_drop, True)
        return current

    def _check_input(self, input: Tensor) -> None:
        name = type(self).__name__
        if input.size(-1) != self.input_size:
            raise SeqlabError(f"{name}: input has {input.size(-1)} features, expected input_size={self.input_size}")
        dtype = self._flat_weights[0].dtype
        # torch.is_autocast_enabled() without a device type asks about CUDA only.
        if input.dtype != dtype and not torch.is_autocast_enabled(input.device.type):
            raise SeqlabError(f"{name}: input dtype {input.dtype} does not match the weights' dtype {dtype}")

    def _state_shapes(self, batch: int) -> list[tuple[int, int, int]]:
        """Expected shapes of h0 (and c0 for LSTM): ``(L*D, B, P)`` and ``(L*D, B, H)``."""
        layers = self.num_layers * self.num_directions
        shapes = [(layers, batch, self.state_size)]
        if self.rule.state_size == 2:
            shapes.append((layers, batch, self.hidden_size))
        return shapes

    def _initial_state(self, hx, input: Tensor, batch: int, batched: bool) -> State:
        """Zeros when ``hx`` is None, else ``hx`` checked against the expected shapes."""
        shapes = self._state_shapes(batch)
        if hx is None:
            return tuple(input.new_zeros(shape) for shape in shapes)
        given = (hx,) if isinstance(hx, Tensor) else tuple(hx)
        labels = ("h0", "c0")[: len(shapes)]
        name = type(self).__name__
        if len(given) != len(shapes) or not all(isinstance(t, Tensor) for t in given):
            raise SeqlabError(f"{name}: the initial state must be {' and '.join(labels)}, got {len(given)} item(s)")
        if not batched:
            if any(t.dim() != 2 for t in given):
                raise SeqlabError(f"{name}: for unbatched 2-D input the initial state must be 2-D")
            given = tuple(t.unsqueeze(1) for t in given)
        for label, tensor, shape in zip(labels, given, shapes):
            if tuple(tensor.shape) != shape:
                raise SeqlabError(
                    f"{name}: initial state {label} has shape {tuple(tensor.shape)}, expected "
                    f"(num_layers * num_directions, batch, size) = {shape}"
                )
        return given

    def _pack_state(self, final: State):
        return final if self.rule.state_size == 2 else final[0]

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        defaults = dict(proj_size=0, num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False)
        for key, default in defaults.items():
            if getattr(self, key) != default:
                text += f", {key}={getattr(self, key)}"
        for key in ("layer_norm", "peephole"):
            if getattr(self.rule, key, False):
                text += f", {key}=True"
        if self.weight_drop:
            text += f", weight_drop={self.weight_drop}"
        for key, value in vars(self.rule.regularisation).items():
            if value:
                text += f", {key}={value}"
        if self.implementation != "auto":
            text += f", implementation={self.implementation!r}"
        return text


def _check_weight_drop(weight_drop: float) -> float:
    if isinstance(weight_drop, bool) or not isinstance(weight_drop, (int, float)) or not 0 <= weight_drop < 1:
        raise ValueError(f"weight_drop must be a probability in [0, 1), got {weight_drop!r}")
    return float(weight_drop)


def _check_sizes(input_size, hidden_size, num_layers, proj_size, dropout, bias, batch_first) -> None:
    """The constructor checks of ``torch.nn.RNNBase``, with the offending value named."""
    for label, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{label} must be a positive int, got {value!r}")
    if not isinstance(proj_size, int) or not 0 <= proj_size < hidden_size:
        raise ValueError(f"proj_size must be an int in [0, hidden_size={hidden_size}), got {proj_size!r}")
    if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
        raise ValueError(f"dropout must be a probability in [0, 1], got {dropout!r}")
    for label, value in (("bias", bias), ("batch_first", batch_first)):
        if not isinstance(value, bool):
            raise TypeError(f"{label} must be a bool, got {type(value).__name__}")
    if dropout > 0 and num_layers == 1:
        warnings.warn(
            f"dropout={dropout} acts between stacked layers, so it does nothing with num_layers=1",
            stacklevel=4,
        )
