"""An ONNX graph at a fixed input shape -> one `OpProfile` per node: what a cost model needs.

Each node gets a cost class (dense / depthwise / pointwise conv, element-wise, or free) and,
where it belongs to a pattern known to be slow on phone NPUs, a penalty tag:

- `layernorm`: the channel LayerNorm decomposition ReduceMean(axis 1) -> Sub -> Pow ->
  ReduceMean -> Add -> Sqrt -> Div (or a fused LayerNormalization node);
- `global_pool`: global pooling (GlobalAveragePool, ReduceMean over H and W, the statistics chain
  that follows it) and the channel-attention multiply that broadcasts a 1x1 map back;
- `split`: channel split (Slice, Split), e.g. NAFNet's SimpleGate;
- `depth_to_space`: DepthToSpace / SpaceToDepth (PixelShuffle).

Attention (Restormer's MDTA) brings ops a conv network lacks; each is costed as what it does on
an NPU, still as a modelled figure:

- tensors in token layout (`b x heads x c/heads x h*w`: a feature map's space flattened, and what
  MatMul, Softmax and the normalisation make of them) carry no channel axis to pad to the granule:
  their axis 1 is the head count, so they are counted unpadded;
- a Reshape that moves a feature map into token layout or back is a copy (element-wise), not free:
  on an NPU that keeps feature maps channel-last in tiles, it relays the data out;
- MatMul of two activations (q kᵀ, attention x v) is a pointwise-class op by its MACs;
  Softmax is element-wise;
- L2 normalisation over the spatial axis (ReduceL2, then Clip, Expand, Div) is a spatial statistic
  per channel, the pattern `global_pool` names.

Each attention op also carries a tag of its own, so a device model can price it beyond its MACs
or elements, fitted to published transformer networks (`calibnets/transformers.py`):
`attention` (MatMul of two activations), `softmax`, and `relayout` (a Transpose, or a Reshape
between feature-map and token layout, that is no part of a LayerNorm).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from attrs import frozen

Shape = tuple[int, ...]

FREE_OPS = frozenset(
    {
        "Identity",
        "Reshape",
        "Flatten",
        "Squeeze",
        "Unsqueeze",
        "Constant",
        "Shape",
        "ConstantOfShape",
        "Dropout",
        "Cast",
    }
)
CONV_OPS = frozenset({"Conv", "ConvTranspose"})
MATMUL_OPS = frozenset({"MatMul", "Gemm"})
# the ops a LayerNorm / spatial-statistics decomposition is made of, after its anchor ReduceMean
_CHAIN_OPS = frozenset(
    {"Sub", "Pow", "Mul", "ReduceMean", "ReduceSum", "Add", "Sqrt", "Div", "Reciprocal", "Clip", "Expand"}
)
_CHAIN_END = frozenset({"Div", "Reciprocal"})
_PENALTY_BY_OP = {
    "Split": "split",
    "DepthToSpace": "depth_to_space",
    "SpaceToDepth": "depth_to_space",
    "GlobalAveragePool": "global_pool",
    "GlobalMaxPool": "global_pool",
    "LayerNormalization": "layernorm",
}
PENALTIES = ("layernorm", "global_pool", "split", "depth_to_space", "attention", "softmax", "relayout")
CLASSES = ("dense", "depthwise", "pointwise", "elementwise")


@frozen
class OpProfile:
    """One node. `inputs`/`outputs` are activation shapes (weights and constants excluded);
    `weights` counts constant elements read; `conv` is (cin, cout, kh, kw, groups) for convs,
    (m, k, n) for matmuls; `out_pixels` the output's spatial size (convs)."""

    name: str
    op_type: str
    cls: str  # dense | depthwise | pointwise | elementwise | free
    penalty: str | None
    inputs: tuple[Shape, ...]
    outputs: tuple[Shape, ...]
    weights: int
    conv: tuple[int, ...] | None = None
    out_pixels: int = 0
    window: int = 1  # elements read per output element for pooling
    tokens: bool = False  # its activations are in token layout (attention): no channel axis to pad

    def granule(self, granule: int) -> int:
        """The channel granule that applies to this node's tensors (1 in token layout)."""
        return 1 if self.tokens else granule

    def macs(self, granule: int = 1) -> int:
        """Multiply-accumulates with channels rounded up to multiples of `granule`."""
        if self.conv is None:
            return 0
        if self.op_type in MATMUL_OPS:
            m, k, n = self.conv
            return m * k * n
        cin, cout, kh, kw, groups = self.conv
        if self.cls == "depthwise":
            return self.out_pixels * pad(cout, granule) * kh * kw
        return self.out_pixels * pad(cout, granule) * pad(cin, granule) // groups * kh * kw

    def elements(self, granule: int = 1) -> int:
        """The largest activation tensor this node touches (channels padded)."""
        g = self.granule(granule)
        return max((numel(s, g) for s in (*self.inputs, *self.outputs)), default=0)


def pad(channels: int, granule: int) -> int:
    return -(-channels // granule) * granule if granule > 1 else channels


def numel(shape: Shape, granule: int = 1) -> int:
    """Elements of a tensor whose axis 1 (channels, for 4-D activations) is padded to `granule`."""
    if len(shape) == 4:
        return shape[0] * pad(shape[1], granule) * shape[2] * shape[3]
    return math.prod(shape)


def _shapes(model: Any) -> dict[str, Shape]:
    g = model.graph
    out: dict[str, Shape] = {}
    for vi in (*g.input, *g.value_info, *g.output):
        dims = vi.type.tensor_type.shape.dim
        if dims and all(d.HasField("dim_value") for d in dims):
            out[vi.name] = tuple(int(d.dim_value) for d in dims)
    for init in g.initializer:
        out[init.name] = tuple(int(d) for d in init.dims)
    return out


def _constants(model: Any) -> set[str]:
    """Tensors that do not depend on the graph input (initializers and what folds from them)."""
    g = model.graph
    const = {i.name for i in g.initializer}
    for node in g.node:
        if all(not i or i in const for i in node.input):
            const.update(node.output)
    return const


def _attr(node: Any, name: str, default: Any) -> Any:
    import onnx

    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _conv_class(op_type: str, conv: tuple[int, ...]) -> str:
    cin, cout, kh, kw, groups = conv
    if groups > 1 and groups == cin and op_type == "Conv":
        return "depthwise"
    if kh == kw == 1 and groups == 1:
        return "pointwise"
    return "dense"


def _conv(node: Any, shapes: Mapping[str, Shape]) -> tuple[tuple[int, ...], int] | None:
    w = shapes.get(node.input[1])
    x = shapes.get(node.input[0])
    y = shapes.get(node.output[0])
    if w is None or x is None or y is None or len(w) != 4:
        return None
    groups = int(_attr(node, "group", 1))
    if node.op_type == "ConvTranspose":  # weight: cin x cout/groups x kh x kw; MACs over input pixels
        return (w[0], w[1] * groups, w[2], w[3], groups), x[2] * x[3]
    return (w[1] * groups, w[0], w[2], w[3], groups), y[2] * y[3]


def _matmul(node: Any, shapes: Mapping[str, Shape]) -> tuple[int, ...] | None:
    a, b = shapes.get(node.input[0]), shapes.get(node.input[1])
    if a is None or b is None or len(b) < 2:
        return None
    k = b[-2] if node.op_type == "MatMul" or not _attr(node, "transB", 0) else b[-1]
    n = b[-1] if node.op_type == "MatMul" or not _attr(node, "transB", 0) else b[-2]
    return (math.prod(a) // max(a[-1], 1), k, n)


def _reduce_axes(node: Any, shapes: Mapping[str, Shape], const_values: Mapping[str, Sequence[int]]) -> tuple[int, ...]:
    axes = _attr(node, "axes", None)
    if axes is None and len(node.input) > 1:
        axes = const_values.get(node.input[1])
    rank = len(shapes.get(node.input[0], ()))
    if axes is None:
        return tuple(range(rank))
    return tuple(sorted(int(a) % rank for a in axes)) if rank else tuple(int(a) for a in axes)


def _const_ints(model: Any) -> dict[str, Sequence[int]]:
    from onnx import numpy_helper

    out: dict[str, Sequence[int]] = {}
    for init in model.graph.initializer:
        if init.data_type in (6, 7) and math.prod(init.dims) <= 8:  # int32/int64 axes
            out[init.name] = [int(v) for v in numpy_helper.to_array(init).ravel()]
    return out


def _anchor(node: Any, shapes: Mapping[str, Shape], ints: Mapping[str, Sequence[int]],
            tokens: frozenset[str] = frozenset()) -> str | None:
    """The penalty a ReduceMean starts: channel statistics (LayerNorm) or spatial (global pool); a
    ReduceL2 over the last axis of a token-layout tensor (`c x h*w` per head) is spatial too."""
    if node.op_type == "ReduceL2" and node.input[0] in tokens:
        rank = len(shapes.get(node.input[0], ()))
        return "global_pool" if _reduce_axes(node, shapes, ints) == (rank - 1,) else None
    if node.op_type not in ("ReduceMean", "ReduceSum"):
        return None
    axes = _reduce_axes(node, shapes, ints)
    if axes == (1,):
        return "layernorm"
    if axes in ((2, 3), (1, 2, 3)):
        return "global_pool"
    return None


def _is_broadcast_scale(node: Any, shapes: Mapping[str, Shape], const: set[str]) -> bool:
    """A Mul of a feature map by an N x C x 1 x 1 map computed from it (channel attention)."""
    if node.op_type != "Mul" or len(node.input) != 2:
        return False
    ins = [shapes.get(i) for i in node.input]
    if any(s is None or len(s) != 4 for s in ins) or any(i in const for i in node.input):
        return False
    small = [s for s in ins if s is not None and s[2] * s[3] == 1]
    big = [s for s in ins if s is not None and s[2] * s[3] > 1]
    return bool(small) and bool(big)


def _node_id(node: Any) -> str:
    return str(node.name or node.output[0])


def _slice_tag(node: Any, shapes: Mapping[str, Shape]) -> str | None:
    """A Slice that cuts channels is a channel split; a spatial crop is an ordinary copy."""
    if node.op_type != "Slice":
        return None
    x, y = shapes.get(node.input[0]), shapes.get(node.output[0])
    if x is None or y is None or len(x) < 2 or len(y) < 2:
        return None
    return "split" if x[1] != y[1] else None


def _attention_tag(node: Any, const: set[str], relayout: bool) -> str | None:
    """`attention` for a MatMul of two activations, `softmax`, `relayout` for data movement."""
    if node.op_type == "MatMul" and len(node.input) == 2 and not any(i in const for i in node.input):
        return "attention"
    if node.op_type == "Softmax":
        return "softmax"
    if node.op_type == "Transpose" or relayout:
        return "relayout"
    return None


def _tag_layout(model: Any, tags: dict[str, str]) -> None:
    """Transposes into or out of a fused LayerNormalization belong to the LayerNorm (NCHW -> NHWC)."""
    ln_in = {n.input[0] for n in model.graph.node if n.op_type == "LayerNormalization"}
    ln_out = {o for n in model.graph.node if n.op_type == "LayerNormalization" for o in n.output}
    for node in model.graph.node:
        if node.op_type == "Transpose" and (set(node.output) & ln_in or set(node.input) & ln_out):
            tags[_node_id(node)] = "layernorm"


def _flattens_space(x: Shape | None, y: Shape | None, from_tokens: bool) -> bool:
    """A Reshape into token layout: a feature map's h x w flattened into its last axis, or (from
    tokens) a shape that keeps that last axis."""
    if x is None or y is None:
        return False
    if from_tokens:
        return y[-1] == x[-1]
    return len(x) == 4 and x[2] * x[3] > 1 and y[-1] == x[2] * x[3]


def token_tensors(model: Any, shapes: Mapping[str, Shape], const: set[str]) -> frozenset[str]:
    """Activations in token layout: a Reshape that flattens a feature map's space into its last
    axis, and whatever is computed from it until a Reshape brings it back to a feature map."""
    tokens: set[str] = set()
    for node in model.graph.node:
        acts = [i for i in node.input if i and i not in const]
        from_tokens = any(i in tokens for i in acts)
        if node.op_type == "Reshape":
            if acts and _flattens_space(shapes.get(acts[0]), shapes.get(node.output[0]), from_tokens):
                tokens.update(node.output)
        elif from_tokens:
            tokens.update(node.output)
    return frozenset(tokens)


def _tag_penalties(model: Any, shapes: Mapping[str, Shape], const: set[str],
                   tokens: frozenset[str] = frozenset()) -> dict[str, str]:
    """node name -> penalty tag, following statistics chains forward from their anchors."""
    ints = _const_ints(model)
    tags: dict[str, str] = {}
    tagged_tensors: dict[str, str] = {}
    for node in model.graph.node:
        tag = (_PENALTY_BY_OP.get(node.op_type) or _anchor(node, shapes, ints, tokens)
               or _slice_tag(node, shapes))
        if tag is None and node.op_type in _CHAIN_OPS:
            tag = next((tagged_tensors[i] for i in node.input if i in tagged_tensors), None)
        if tag is None and _is_broadcast_scale(node, shapes, const):
            tag = "global_pool"
        if tag is None:
            tag = _attention_tag(node, const, _is_relayout(node, const, tokens))
        if tag is None:
            continue
        tags[_node_id(node)] = tag
        chains = tag in ("layernorm", "global_pool") and node.op_type not in _CHAIN_END
        if chains and node.op_type not in ("GlobalAveragePool", "GlobalMaxPool", "Mul"):
            tagged_tensors.update((o, tag) for o in node.output)
    _tag_layout(model, tags)
    return tags


def _is_relayout(node: Any, const: set[str], tokens: frozenset[str]) -> bool:
    """A Reshape that moves a tensor between feature-map and token layout."""
    acts = [i for i in node.input if i and i not in const]
    return (node.op_type == "Reshape" and bool(acts)
            and any(i in tokens for i in acts) != any(o in tokens for o in node.output))


def _op_class(node: Any, conv: tuple[int, ...] | None, acts: tuple[Shape, ...], outs: tuple[Shape, ...],
              relayout: bool = False) -> str:
    if relayout:
        return "elementwise"  # a Reshape between feature-map and token layout: a copy
    if node.op_type in FREE_OPS:
        return "free"
    if node.op_type == "Slice" and acts and outs and acts[0] == outs[0]:
        return "free"  # a crop that keeps everything
    if node.op_type in CONV_OPS and conv is not None:
        return _conv_class(node.op_type, conv)
    if node.op_type in MATMUL_OPS and conv is not None:
        return "pointwise"
    return "elementwise"


def _window(node: Any) -> int:
    kernel = _attr(node, "kernel_shape", None)
    return math.prod(kernel) if node.op_type in ("MaxPool", "AveragePool") and kernel else 1


def _profile(node: Any, shapes: Mapping[str, Shape], const: set[str], tag: str | None,
             tokens: frozenset[str] = frozenset()) -> OpProfile:
    conv, pixels = None, 0
    if node.op_type in CONV_OPS:
        found = _conv(node, shapes)
        conv, pixels = (found[0], found[1]) if found else (None, 0)
    elif node.op_type in MATMUL_OPS:
        conv = _matmul(node, shapes)
    acts = tuple(shapes[i] for i in node.input if i and i not in const and i in shapes)
    outs = tuple(shapes[o] for o in node.output if o in shapes)
    weights = sum(math.prod(shapes[i]) for i in node.input if i and i in const and i in shapes)
    in_tokens = any(i in tokens for i in node.input if i)
    out_tokens = any(o in tokens for o in node.output)
    cls = _op_class(node, conv, acts, outs, _is_relayout(node, const, tokens))
    return OpProfile(
        _node_id(node),
        node.op_type,
        cls,
        tag if cls != "free" else None,
        acts,
        outs,
        weights,
        conv,
        pixels,
        _window(node),
        in_tokens or out_tokens,
    )


def profile_graph(model: Any) -> list[OpProfile]:
    """One profile per node of a shape-inferred ONNX model (see `workload.freeze_shape`).

    Nodes that only compute constants (shape arithmetic) are left out: a runtime folds them.
    """
    shapes = _shapes(model)
    const = _constants(model)
    tokens = token_tensors(model, shapes, const)
    tags = _tag_penalties(model, shapes, const, tokens)
    out = []
    for node in model.graph.node:
        if node.output and all(o in const for o in node.output):
            continue
        out.append(_profile(node, shapes, const, tags.get(_node_id(node)), tokens))
    return out


def summarize(ops: Iterable[OpProfile]) -> dict[str, Any]:
    """Counts per op type and penalty tag, and MACs (for reports and tests)."""
    by_type: dict[str, int] = {}
    by_tag: dict[str, int] = {}
    macs = 0
    for op in ops:
        by_type[op.op_type] = by_type.get(op.op_type, 0) + 1
        if op.penalty:
            by_tag[op.penalty] = by_tag.get(op.penalty, 0) + 1
        macs += op.macs()
    return {"ops": dict(sorted(by_type.items())), "penalised": dict(sorted(by_tag.items())), "macs": macs}
