"""The machine's matrix-product ceiling: torch's default CPU matmul (MKL) against oneDNN, side by side.

Explains the layer benchmarks: ``nn.LSTM`` on CPU runs oneDNN's fused RNN primitive, while
``nn.GRU``, ``nn.RNN``, every hand-written cell, seqlab's per-step path and every ``nn.Linear``
multiply through torch's default library. Where the two libraries differ (AVX2 against AVX-512
kernels, say), no per-step loop can catch up with the fused LSTM.

For each shape (M×K times K×N) it times ``torch.mm`` and oneDNN's linear
(``torch._C._nn.mkldnn_linear`` on tensors already in oneDNN's layout, conversions untimed)
alternately, and prints the median GFLOP/s of each (2·M·K·N floating-point operations per product) and their ratio.

Usage:
    python benchmarks/matmul_ceiling.py                  # 1024³ and one LSTM step (20×650 @ 650×2600)
    python benchmarks/matmul_ceiling.py --shapes 64x1150x4600 --threads 1
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import torch


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", nargs="+", default=["1024x1024x1024", "20x650x2600"], help="MxKxN triples")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=21, help="timed rounds (median taken)")
    return parser.parse_args()


def seconds_per_call(product: Callable[[], torch.Tensor], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        product()
    return (time.perf_counter() - start) / calls


def gflops_of_both(m: int, k: int, n: int, repeats: int) -> tuple[float, float]:
    """Median GFLOP/s of torch.mm and of oneDNN's linear for one (m, k) @ (k, n) product."""
    a = torch.randn(m, k)
    b = torch.randn(k, n)
    onednn_a, onednn_weight = a.to_mkldnn(), b.t().contiguous().to_mkldnn()  # oneDNN's own layout

    def onednn_product() -> torch.Tensor:
        return torch._C._nn.mkldnn_linear(onednn_a, onednn_weight, None)

    torch.testing.assert_close(onednn_product().to_dense(), a @ b, rtol=1e-4, atol=1e-3)
    flops = 2.0 * m * k * n
    calls = max(1, int(2e9 / flops))  # about 10 ms of work per timed round at 200 GFLOP/s
    mkl, onednn = [], []
    for _ in range(2):  # warm-up
        seconds_per_call(lambda: torch.mm(a, b), calls)
        seconds_per_call(onednn_product, calls)
    for _ in range(repeats):
        mkl.append(seconds_per_call(lambda: torch.mm(a, b), calls))
        onednn.append(seconds_per_call(onednn_product, calls))
    return flops / statistics.median(mkl) / 1e9, flops / statistics.median(onednn) / 1e9


def main() -> None:
    arguments = parse_arguments()
    torch.set_num_threads(arguments.threads)
    print(
        f"# torch {torch.__version__}, {platform.machine()}, {arguments.threads} threads, "
        f"median of {arguments.repeats} rounds, fp32"
    )
    print("| M×K @ K×N | torch.mm GFLOP/s | oneDNN GFLOP/s | oneDNN / torch.mm |")
    print("|---|---|---|---|")
    for shape in arguments.shapes:
        m, k, n = (int(size) for size in shape.split("x"))
        mkl, onednn = gflops_of_both(m, k, n, arguments.repeats)
        print(f"| {m}×{k} @ {k}×{n} | {mkl:.0f} | {onednn:.0f} | {onednn / mkl:.2f} |")


if __name__ == "__main__":
    main()
