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

Symbolic inference cannot prove that the padded size (rounded up to a multiple of 2^levels) and
the cropped output size differ, and merges them; so the graph's declared inputs and outputs are
kept as exported, and tensors from the output crop (`Slice`) onwards get no annotation.
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
            inferred = SymbolicShapeInference.infer_shapes(model, auto_merge=True)
    finally:
        log.setLevel(level)
    return _keep_declared(model, inferred)


def _after_crops(graph: Any) -> set[str]:
    """The outputs of the Slice chain that ends the graph (the crop back to the input size)."""
    producer = {o: n for n in graph.node for o in n.output}
    out: set[str] = set()
    frontier = [o.name for o in graph.output]
    while frontier:
        node = producer.get(frontier.pop())
        if node is not None and node.op_type == "Slice":
            out.update(node.output)
            frontier.append(node.input[0])
    return out


def _keep_declared(original: Any, inferred: Any) -> Any:
    graph = inferred.graph
    for field in ("input", "output"):
        del getattr(graph, field)[:]
        getattr(graph, field).extend(getattr(original.graph, field))
    drop = _after_crops(graph)
    kept = [vi for vi in graph.value_info if vi.name not in drop]
    del graph.value_info[:]
    graph.value_info.extend(kept)
    return inferred


PASS = Pass("symbolic_shapes", symbolic_shapes, ("onnx",),
            "name every dynamic size in the graph (ONNX Runtime keeps its blocked layout)", stage="onnx")
