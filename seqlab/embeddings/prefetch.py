"""A cache prefetch hint callable from numba-compiled code.

word2vec and GloVe touch rows of large matrices in random order, so most of their time goes
waiting for memory. Asking for a row some work ahead of its use hides part of that wait.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

_CACHE_LINE_BYTES = 64


@intrinsic
def prefetch_row(typingctx, matrix, row):
    """Start loading row ``row`` of a C-contiguous 2-D array into the cache (a hint: no effect on results)."""

    def codegen(context, builder, signature, args):
        matrix_type, row_type = signature.args
        array = context.make_array(matrix_type)(context, builder, args[0])
        index = context.cast(builder, args[1], row_type, types.intp)
        zero = context.get_constant(types.intp, 0)
        start = builder.bitcast(
            cgutils.get_item_pointer(context, builder, matrix_type, array, [index, zero]), ir.IntType(8).as_pointer()
        )
        i32 = ir.IntType(32)
        llvm_prefetch = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [start.type, i32, i32, i32]), "llvm.prefetch.p0"
        )
        row_bytes = builder.extract_value(array.strides, 0)
        step = ir.Constant(row_bytes.type, _CACHE_LINE_BYTES)
        with cgutils.for_range_slice(builder, ir.Constant(row_bytes.type, 0), row_bytes, step) as (offset, _):
            # read access (0), keep in all cache levels (3), data cache (1)
            builder.call(llvm_prefetch, [builder.gep(start, [offset]), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(matrix, row), codegen
