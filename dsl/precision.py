"""The numeric precisions a network, a graph or a searched slot runs in: names, aliases and defaults.

- `fp32`: a network as trained and an exported graph as traced (the default of every export and of
  every measured graph); ONNX Runtime's x86 CPU provider measures an `fp16` slot as this graph.
- `fp16`: every searched slot's original, the float precision of a phone NPU (which has no FP32
  arithmetic); a precision search gives it index 0.
- `w8a8` (alias `int8`) and `w8a16`: static QDQ quantization, int8 weights and 8- or 16-bit
  activations (compiler/quantize.py lowers a graph to them, runtime/network/quantsim.py simulates them).

Torch-free, so the language's checks, the compiler and the runtime all read the names from here.
"""

from __future__ import annotations

TRACED = "fp32"  # an exported graph as traced, and every graph's default
ORIGINAL = "fp16"  # every searched slot's precision in the original network
QUANTIZED = ("w8a8", "w8a16")
ALIASES = {"int8": "w8a8"}
ACTIVATION_BITS = {"w8a8": 8, "w8a16": 16}

SLOT = (ORIGINAL, *QUANTIZED)  # what a searched slot may run in, its original first
GRAPH = (TRACED, ORIGINAL, *QUANTIZED)  # what an exported graph can be lowered to
NAMES = (*GRAPH, *ALIASES)  # what a command line accepts


def canonical(name: str) -> str:
    """`int8` -> `w8a8`; every other name as it is."""
    return ALIASES.get(name, name)


def is_quantized(name: str) -> bool:
    return canonical(name) in QUANTIZED
