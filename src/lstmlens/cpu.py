"""What the CPU that Numba compiles for offers, and how the kernels ask LLVM to use it.

LLVM compiles for Intel CPUs with AVX-512 (Skylake-X, Ice Lake, Sapphire Rapids, ...) as if
their vector registers were 256 bits wide: it prefers AVX2-width code there, to stay clear of
the lower clock that wide instructions once cost. For the kernels that is the wrong trade:
their register tiles were sized for 32 registers of 16 float32 (:mod:`lstmlens.tiles`), and
in 256-bit registers the 4 x 64 sums of a tile need all 32 registers, so they spill. A tile
loop alone on one thread of a Sapphire Rapids vCPU measured 75-86 GFLOP/s with 256-bit and
116-177 GFLOP/s with 512-bit vectors. :func:`wide_vectors`, called at the top of a compiled
function, lifts the preference for that function only: nothing else compiled by Numba in the
process changes.
"""

from __future__ import annotations

from typing import Any

import llvmlite.binding as llvm
import numba
from numba import types
from numba.extending import intrinsic

#: The LLVM function attribute that overrides the CPU's preferred vector width (in bits).
#: On a CPU without AVX-512 LLVM caps it at the widest registers there are.
_PREFER_WIDE = '"prefer-vector-width"="512"'


def has_avx512() -> bool:
    """Whether the CPU Numba compiles for has AVX-512 (32 vector registers of 16 float32).

    That is the machine's CPU unless ``NUMBA_CPU_FEATURES`` names the features to compile
    for (e.g. for machine code cached on one machine and run on others).
    """
    if numba.config.CPU_FEATURES:
        return "+avx512f" in numba.config.CPU_FEATURES.split(",")
    try:
        return bool(llvm.get_host_cpu_features().get("avx512f", False))
    except (RuntimeError, AttributeError):  # features unknown: assume the wide registers
        return True


@intrinsic
def wide_vectors(typingctx: Any) -> Any:
    """Let LLVM use the widest vector registers in the compiled function that calls this.

    It marks the enclosing LLVM function (intrinsics are generated in place, so
    ``builder.function`` is the caller) with ``"prefer-vector-width"="512"``. Every kernel
    with tile loops calls it first, including the compiled functions it calls: code inlined
    from a wide function into a narrow one would be split back into 256-bit halves.
    """

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        # llvmlite checks function attributes against a list of plain keywords; a string
        # attribute with a value is valid LLVM IR, so it is added to the set directly.
        set.add(builder.function.attributes, _PREFER_WIDE)
        return context.get_dummy_value()

    return types.none(), codegen
