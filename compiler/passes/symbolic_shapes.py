"""symbolic_shapes: every tensor of the exported graph gets its shape, with named dynamic sizes.

Changes no node and no number: it only writes `value_info` (ONNX Runtime's symbolic shape
inference, run on the graph with its dynamic batch / height / width axes kept). Why it is a
pass: ONNX Runtime's CPU graph optimizer moves convolutions into its blocked NCHWc layout, and
keeps an element-wise Add or Mul in that layout only when it can prove both inputs have the
same shape. Without shapes it cannot for a dynamic-size graph, so every residual Add is done on
reshaped blocks instead of being fused into the conv before it, and every gate Mul is wrapped in
ReorderOutput / ReorderInput; with the shapes named (a 3x3 "same" conv keeps `height`), the Adds
fuse into the convs (`Conv(..., Sum)`) and the Muls stay blocked. Count the Reorder nodes in the
graph ONNX Runtime saves (`SessionOptions.optimized_model_filepath`) to see it.
"""

from __future__ import annotations

import contextlib
import io
import logging
from typing import Any

from .base import Pass


def symbolic_shapes(model: Any) -> Any:
    """`model` (an onnx ModelProto) with every intermediate shape inferred symbolically."""
    from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference

    log = logging.getLogger("onnxruntime.tools.symbolic_shape_infer")
    level = log.level
    log.setLevel(logging.ERROR)  # "unable to determine if height <= pad..." is expected, not news
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return SymbolicShapeInference.infer_shapes(model, auto_merge=True)
    finally:
        log.setLevel(level)


PASS = Pass("symbolic_shapes", symbolic_shapes, ("onnx",),
            "name every dynamic size in the graph (ONNX Runtime keeps its blocked layout)", stage="onnx")
