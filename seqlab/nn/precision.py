"""What ``torch.autocast`` changes for the per-step path, in one place.

Under autocast, matrix products run in autocast's lower-precision dtype (bfloat16 on CPU,
float16 or bfloat16 on CUDA) and pointwise ops in the widest dtype of their operands. The
per-step recurrence mixes both: a gate computed from a bfloat16 product meets a float32
state. Most pointwise ops promote on their own; ``torch.lerp`` does not, hence :func:`lerp`.
The tape (:mod:`seqlab.nn.recurrent_product`) casts its operands itself, using
:func:`autocast_dtype` and :func:`autocast_off`, where ``torch.amp.custom_fwd`` /
``custom_bwd`` would need the device type fixed in advance.
"""

from __future__ import annotations

import contextlib

import torch
from torch import Tensor


def autocast_dtype(tensor: Tensor) -> torch.dtype | None:
    """The dtype autocast runs a matrix product of ``tensor`` in, or None where it leaves it alone.

    Autocast casts floating-point tensors other than float64, on the device type it is
    enabled for (as ATen's ``is_eligible`` does).
    """
    device = tensor.device.type
    if not tensor.is_floating_point() or tensor.dtype == torch.float64 or not torch.is_autocast_enabled(device):
        return None
    return torch.get_autocast_dtype(device)


def autocast_off(tensor: Tensor) -> contextlib.AbstractContextManager:
    """A context with autocast disabled for ``tensor``'s device type (a no-op where it is off).

    A custom backward that saved its operands in the dtypes it computed in runs under this,
    so that a ``backward()`` called inside an autocast region cannot lower its precision
    (what ``torch.amp.custom_bwd`` does for functions whose forward cast their inputs).
    """
    device = tensor.device.type
    return torch.autocast(device, enabled=False) if torch.is_autocast_enabled(device) else contextlib.nullcontext()


def lerp(start: Tensor, end: Tensor, weight: Tensor | float) -> Tensor:
    """``start + weight ⊙ (end - start)`` (``torch.lerp``), in the widest dtype of the tensors.

    ``torch.lerp`` wants one dtype; under autocast a bfloat16 gate or candidate meets a
    float32 state, and the result keeps the wider one, as ``start + weight * (end - start)``
    would.
    """
    weight_dtype = weight.dtype if isinstance(weight, Tensor) else start.dtype
    if start.dtype == end.dtype == weight_dtype:  # always, outside autocast
        return torch.lerp(start, end, weight)
    dtype = torch.promote_types(torch.promote_types(start.dtype, end.dtype), weight_dtype)
    weight = weight.to(dtype) if isinstance(weight, Tensor) else weight
    return torch.lerp(start.to(dtype), end.to(dtype), weight)
