"""The "predicted -> verified" table of a verified pick, and the headline lines that quote it.

Each row is one quantity: what the search predicted (on its validation crops, from its block
table or device model), what verification got (on the whole test split, after fine-tuning; the
exported files timed end to end), the error of the prediction, and how each side was obtained
(`measured`, `predicted`, `modelled`). Drops carry their standard errors over the paired images,
timings their interquartile ranges. Torch-free: the report reads it from verify.json.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

HEAD = ["quantity", "predicted", "verified", "error of the prediction", "predicted on", "verified on"]


def _db(d: Mapping[str, Any] | None, key: str = "psnr_drop") -> str:
    if not d or d.get(key) is None:
        return "n/a"
    se = d.get(f"{key}_se")
    return f"{d[key]:.3f} dB" + (f" ± {se:.3f}" if se is not None else "")


def _ms(fig: Mapping[str, Any] | None) -> str:
    if not fig or fig.get("latency_ms") is None:
        return "n/a"
    iqr = fig.get("iqr_ms")
    return f"{fig['latency_ms']:.2f} ms" + (f" (IQR {iqr:.2f})" if iqr is not None else "")


def _pct(predicted: float | None, verified: float | None) -> str:
    if predicted is None or not verified:
        return "n/a"
    return f"{100 * (predicted - verified) / verified:+.1f} %"


def _shipped(record: Mapping[str, Any]) -> str:
    """The file that ships: the mixed-precision graph when the search chose precisions, else the float one."""
    return "pick_qdq" if "pick_qdq" in record["latency"]["networks"] else "pick"


def speedup(record: Mapping[str, Any], key: str | None = None) -> Mapping[str, Any]:
    return record["latency"]["speedups"].get(key or _shipped(record)) or {}


def _speed_text(s: Mapping[str, Any]) -> str:
    if s.get("median") is None:
        return "n/a"
    spread = f" (IQR {s['q25']:.2f}-{s['q75']:.2f})" if s.get("q25") is not None else ""
    return f"{s['median']:.2f}x{spread}"


def build_table(record: Mapping[str, Any]) -> list[dict[str, str]]:
    """The rows of the table (each a dict over HEAD)."""
    pred, drops, lat = record["predicted"], record["drops"], record["latency"]
    nets = lat["networks"]
    shipped = _shipped(record)
    quant = shipped == "pick_qdq"
    scored = record["scores"]["teacher"]["on"]
    timed = f"{lat['label']}: {lat['how']}, {lat['input'][2]}x{lat['input'][3]}"
    predicted_on, lat_label = pred["on"], f"{pred['latency_label']}: {pred['latency_how']}"
    drop_after = drops["qdq"] if quant else drops["after"]
    rows = [
        _row(
            "PSNR drop vs teacher, as shipped",
            _db(pred),
            _db(drop_after),
            _diff(pred, drop_after),
            f"predicted: {predicted_on}",
            f"measured: {scored}",
        ),
        _row(
            "PSNR drop vs teacher, not fine-tuned (float)",
            _db(pred),
            _db(drops["before"]),
            _diff(pred, drops["before"]),
            f"predicted: {predicted_on}",
            f"measured: {scored}",
        ),
    ]
    if quant:
        rows.append(
            _row(
                "PSNR drop vs teacher, fine-tuned (float)", "n/a", _db(drops["after"]), "n/a", "", f"measured: {scored}"
            )
        )
        rows.append(
            _row(
                "PSNR drop of the QDQ graph, fake-quantized -> ONNX Runtime",
                _db(drops["fake_quant"]),
                _db(drops["qdq"]),
                _diff(drops["fake_quant"], drops["qdq"]),
                f"predicted (fake quantization in torch): {scored}",
                f"measured: {scored}",
            )
        )
    rows += [
        _row(
            "teacher latency",
            _ms({"latency_ms": pred["teacher_latency_ms"]}),
            _ms(nets["teacher"]),
            _pct(pred["teacher_latency_ms"], nets["teacher"]["latency_ms"]),
            lat_label,
            timed,
        ),
        _row(
            "pick latency, as shipped",
            _ms({"latency_ms": pred["latency_ms"]}),
            _ms(nets[shipped]),
            _pct(pred["latency_ms"], nets[shipped]["latency_ms"]),
            lat_label,
            timed,
        ),
        _row(
            "speed-up vs the FP32 teacher, as shipped",
            _ratio(pred),
            _speed_text(speedup(record)),
            _pct(_ratio_value(pred), speedup(record).get("median")),
            lat_label,
            timed,
        ),
    ]
    if quant:
        rows.append(
            _row(
                "speed-up vs the FP32 teacher, fine-tuned float pick",
                "n/a",
                _speed_text(speedup(record, "pick")),
                "n/a",
                "",
                timed,
            )
        )
    return rows


def _row(*cells: str) -> dict[str, str]:
    return dict(zip(HEAD, cells, strict=True))


def _diff(pred: Mapping[str, Any], got: Mapping[str, Any]) -> str:
    if pred.get("psnr_drop") is None or got.get("psnr_drop") is None:
        return "n/a"
    return f"{got['psnr_drop'] - pred['psnr_drop']:+.3f} dB (verified - predicted)"


def _ratio_value(pred: Mapping[str, Any]) -> float | None:
    if not pred.get("teacher_latency_ms") or not pred.get("latency_ms"):
        return None
    return float(pred["teacher_latency_ms"] / pred["latency_ms"])


def _ratio(pred: Mapping[str, Any]) -> str:
    r = _ratio_value(pred)
    return "n/a" if r is None else f"{r:.2f}x"


def headline(record: Mapping[str, Any]) -> list[str]:
    """The report's first lines on the verified pick: verified figures first, each labelled."""
    lat, pred = record["latency"], record["predicted"]
    shipped = _shipped(record)
    d = record["drops"]["qdq" if shipped == "pick_qdq" else "after"]
    ft = record["finetune"]
    s = speedup(record)
    teacher = record["scores"]["teacher"]
    what = "its mixed-precision QDQ graph" if shipped == "pick_qdq" else "its ONNX"
    tuned = f"after {ft['steps']} fine-tuning steps ({recipe_text(ft)})" if ft.get("steps") else "without fine-tuning"
    return [
        f"Verified: `{record['network']['canonical']}` ({record['network']['pick']}), {what}, is "
        f"**{_speed_text(s)}** faster than the teacher's FP32 ONNX (**{lat['label']}**: {lat['how']}, "
        f"input {lat['input'][2]}x{lat['input'][3]}; teacher {_ms(lat['networks']['teacher'])}, pick "
        f"{_ms(lat['networks'][shipped])}); predicted {_ratio(pred)} ({pred['latency_label']}).",
        f"PSNR drop **{_db(d)}** against the teacher's {teacher['psnr']:.3f} dB, **measured** on "
        f"{teacher['on']}, {tuned}; predicted {_db(pred)} ({pred['on']}, teacher {_f(pred['teacher_psnr'])} dB).",
    ]


def _f(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def rows_text(record: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The table as (head, rows of strings) for the report."""
    return HEAD, [[r[h] for h in HEAD] for r in record["table"]]


def recipe_text(finetune: dict[str, Any]) -> str:
    """How a verify record's pick was fine-tuned: its loss, and whether its quantized slots rounded
    while it trained."""
    aware = "; quantization-aware: its quantized slots rounded while it trained" if finetune.get("in_precision") else ""
    return f"{finetune['loss_text']}{aware}"
