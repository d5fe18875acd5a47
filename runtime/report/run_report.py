"""The run report: `RUN/report.html` (self-contained, PNGs inline) and `RUN/report.md`.

Every figure and statement is read from the run's JSON files (saliency.json, latency.json, eval.json,
distill.json, search.json, export.json, crops.json, run.json). It opens with a headline (device and
whether its latencies are measured or modelled, the chosen network, its speed-up and PSNR drop, the
teacher against the blurred input), the labelled before/after crops and the Pareto plot; the
details follow, figures before tables, tables longer than `FOLD_ROWS` rows folded.
"""

from __future__ import annotations

import base64
import difflib
import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from attrs import field, frozen

from archc.compiler.files import write_text_atomic
from archc.dsl.precision import TRACED

FOLD_ROWS = 10


@frozen
class Section:
    title: str
    text: list[str] = field(factory=list)
    bullets: list[str] = field(factory=list)
    key: str = ""  # the HTML id (the headline's is "headline")
    tables: list[tuple[list[str], list[list[str]]]] = field(factory=list)
    images: list[tuple[str, Path]] = field(factory=list)  # (caption, file)
    code: list[str] = field(factory=list)


def _load(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _f(x: Any, digits: int = 3) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return f"{x:.{digits}g}" if abs(x) >= 1e4 or (x != 0 and abs(x) < 1e-3) else f"{x:.{digits}f}"
    return str(x)


# ---------------------------------------------------------------- the headline
def _measured_or_modelled(search: dict[str, Any]) -> str:
    if search.get("latency_proxy"):
        return "a proxy, not a latency"
    return "modelled" if search.get("latency_source") == "modelled" else "measured"


def _unit(search: dict[str, Any]) -> str:
    """The search's latency unit: ms, or a proxy's count (`runtime/profile/proxy.py`)."""
    return str(search.get("latency_unit", "ms"))


def _device_line(search: dict[str, Any]) -> str:
    kind = _measured_or_modelled(search)
    how = ("an op-level cost model of the device, not a measurement" if kind == "modelled"
           else search.get("latency_source", "measured"))
    if search.get("latency_proxy"):
        return f"Latency proxy `{search['latency_proxy']}`: **{kind}** ({how}; unit: {_unit(search)})."
    return f"Device `{search['device']}`: latencies **{kind}** ({how})."


def _choice_lines(exp: dict[str, Any], search: dict[str, Any]) -> list[str]:
    got, base = exp["objectives"], (search.get("baseline") or {}).get("objectives", {})
    speed = base["latency_ms"] / got["latency_ms"] if base.get("latency_ms") and got.get("latency_ms") else None
    # the search's latencies are the block table's sums (or the device model's), never the network timed
    kind = "modelled" if _measured_or_modelled(search) == "modelled" else "predicted"
    lines = [f"Chosen network ({exp['pick']}): `{exp['canonical']}`.",
             f"Speed-up **{_f(speed, 2)}x** ({_f(base.get('latency_ms'))} {_unit(search)} to "
             f"{_f(got.get('latency_ms'))} {_unit(search)}, "
             f"{kind}); PSNR drop **{_f(got.get('psnr_drop'))} dB** (predicted: teacher "
             f"{_f(search.get('teacher_psnr'))} dB, assembled network {_f(got.get('psnr'))} dB on "
             f"{_validation_text(search)})."]
    flag = (search.get("beats_teacher") or {}).get(str(exp.get("index")))
    if flag:
        lines.append(f"**Warning:** the chosen network {flag['reason']}.")
    return lines


def _validation_text(search: dict[str, Any]) -> str:
    val = search.get("validation") or {}
    return f"the search's {len(val.get('images', []))} validation crops of {val.get('crop', '?')} px"


def _teacher_line(search: dict[str, Any]) -> list[str]:
    tc = search.get("teacher_check")
    if not tc:
        return []
    size = f"{tc['crop']} px centre crops" if tc.get("crop") else "whole images"
    line = (f"Teacher: **{_f(tc['teacher_psnr'], 2)} dB** against {_f(tc['input_psnr'], 2)} dB for the blurred input "
            f"(**{tc['gain_db']:+.2f} dB**) on {tc['images']} validation images ({size}).")
    if not tc.get("passed", True):
        line += (f" **Warning:** below +{tc['min_gain_db']} dB, the teacher does not restore; every PSNR drop here "
                 "is measured against a network that does not deblur (run allowed by --allow-weak-teacher).")
    return [line]


def _crops_caption(run: Path) -> str:
    data = _load(run / "export" / "crops.json") or {}
    means = data.get("mean_psnr") or {}
    figures = ", ".join(f"{k} {_f(v, 2)} dB" for k, v in means.items())
    return ("Before / after: blurred | teacher | found network | sharp, each labelled with its PSNR against the "
            "sharp crop" + (f" (means: {figures})" if figures else ""))


def _speedup_lines(search: dict[str, Any]) -> list[str]:
    """The best speed-up the search found within 0.1, 0.2 and 0.5 dB of the teacher."""
    within = search.get("speedup_within") or {}
    parts = [f"{d} dB: " + ("none found" if w is None else f"**{w['speedup']:.2f}x** ({w['psnr_drop']:.3f} dB, "
                                                          f"#{w['index']})")
             for d, w in within.items() if d in ("0.1", "0.2", "0.5")]
    if not parts:
        return []
    return [f"Best speed-up within {'; '.join(parts)} (latencies {search.get('latency_source', 'measured')}; drops "
            "on the search's validation crops)."]


def _verified_lines(run: Path) -> list[str]:
    from archc.runtime.verify.table import headline

    record = _load(run / "verify" / "verify.json")
    return headline(record) if record else []


def _headline_section(run: Path, search: dict[str, Any], exp: dict[str, Any] | None) -> Section:
    bullets = [_device_line(search), *_verified_lines(run),
               *(_choice_lines(exp, search) if exp else ["No network exported yet."]),
               *_speedup_lines(search), *_teacher_line(search)]
    flags = search.get("beats_teacher") or {}
    if flags:
        bullets.append(f"{len(flags)} of {len(search['evaluations'])} networks beat the teacher by more than the "
                       "validation noise (see Search).")
    sec = Section("Headline", bullets=bullets, key="headline")
    sec.images.append((_crops_caption(run), run / "export" / "crops.png"))
    sec.images.append(("Pareto front: all networks, front, baseline (star) and knee (diamond)",
                       run / "search" / "front.png"))
    return sec


# ---------------------------------------------------------------- sections
def _spec_section(search: dict[str, Any]) -> Section:
    return Section("Spec", [f"`{search['spec']}`"], code=[search.get("spec_text", "")])


def _saliency_section(run: Path, sal: dict[str, Any], search: dict[str, Any] | None) -> Section:
    metrics = list(sal.get("metrics", {}))
    head = ["slot", "block", "params", "MACs", *metrics, "ablation drop (dB)"]
    rows = [[s["name"], s["block"], f"{s['params']:,}", _f(float(s["macs"]) / 1e6) + " M",
             *[_f((s["scores"].get(m) or {}).get("sum")) for m in metrics], _f(s.get("drop"))]
            for s in sal.get("slots", [])]
    sec = Section("Saliency", tables=[(head, rows)])
    spear = ((sal.get("ablation") or {}).get("spearman") or {}).get("slots") or {}
    if spear:
        norms = sorted({n for v in spear.values() for n in v})
        sec.tables.append((["metric (Spearman rho vs ablation drop)", *norms],
                           [[m, *[_f((v.get(n) or {}).get("rho")) for n in norms]] for m, v in spear.items()]))
    excluded = (search or {}).get("space", {}).get("excluded", [])
    sec.text.append("Slots kept at their original block: " + (", ".join(f"`{e}`" for e in excluded) or "none")
                    + " (static `exclude` lines and resolved `exclude top K by METRIC` rules).")
    if (run / "saliency" / "saliency.png").is_file():
        sec.images.append(("Per-slot saliency; excluded slots marked", run / "saliency" / "saliency.png"))
    return sec


def _distill_section(dist: dict[str, Any]) -> Section:
    rows = [[r["slot"], r["candidate"], str(r.get("steps", "")), _f(r.get("fit_nmse")), _f(r.get("plug_in_drop"))]
            for r in dist.get("surrogates", [])]
    means = [[k, _f(v)] for k, v in dist.get("mean_drop_by_candidate", {}).items()]
    return Section("Surrogates", [f"Feature loss: {dist.get('feature_loss', '')}. Teacher PSNR "
                                  f"{_f(dist.get('teacher', {}).get('psnr'))} dB on the validation images."],
                   tables=[(["slot", "candidate", "steps", "feature fit (NMSE)", "plug-in PSNR drop (dB)"], rows),
                           (["candidate", "mean plug-in drop (dB)"], means)])


def _latency_section(lat: dict[str, Any]) -> Section:
    label = lat.get("label", "measured")
    device = lat.get("device", {})
    rows = [[b["slot"], b["candidate"], _f(b.get("latency_ms")), _f(b.get("net_ms"))] for b in lat.get("blocks", [])]
    text = [f"Device `{device.get('name')}` ({device.get('description', '')}); every figure here is **{label}**. "
            f"Input {lat.get('input_size')}. Baseline {_f((lat.get('baseline') or {}).get('latency_ms'))} ms, "
            f"fixed part {_f((lat.get('fixed') or {}).get('latency_ms'))} ms, correction "
            f"{_f((lat.get('correction') or {}).get('overhead_ms'))} ms."]
    val = lat.get("validation")
    if val:
        text.append(f"Prediction vs measurement on {val['n']} networks: {100 * val['within_10pct']:.0f} % within "
                    f"±10 %, RMSPE {_f(val['rmspe_pct'])} %.")
    return Section(f"Latency ({label})", text, tables=[(["slot", "candidate", f"block ms ({label})",
                                                        "contribution ms"], rows)])


def _flag_note(search: dict[str, Any], i: int) -> str:
    flag = search.get("beats_teacher", {}).get(str(i))
    return f"beats the teacher by {_f(flag['gain_db'])} dB (noise {_f(flag['noise_db'])} dB)" if flag else ""


def _flags_text(search: dict[str, Any]) -> list[str]:
    flags = search.get("beats_teacher")
    if flags is None:
        return []
    if not flags:
        return ["No network beats the teacher by more than the validation noise (twice the standard error of the "
                "per-image PSNR differences between network and teacher)."]
    i, first = next(iter(flags.items()))
    return [f"**{len(flags)} of {len(search['evaluations'])} networks beat the teacher** by more than the validation "
            f"noise (twice the standard error of the per-image PSNR differences between network and teacher). "
            f"Network #{i} {first['reason']}."]


def _search_section(run: Path, search: dict[str, Any]) -> Section:
    ev = search["evaluations"]
    rows = [[str(i), _f(ev[i]["objectives"]["latency_ms"]), _f(ev[i]["objectives"]["psnr_drop"]), ev[i]["canonical"],
             _flag_note(search, i)] for i in search["pareto"]]
    ref = search["reference_point"]
    sec = Section("Search", [f"Strategy `{search['strategy']}`, {len(ev)} networks of {search['space']['size']:,}; "
                             f"latency {search['latency_source']} on `{search['device']}`. Hypervolume reference "
                             f"point: PSNR drop {_f(ref['psnr_drop'])} dB, latency {_f(ref['latency_ms'])} "
                             f"{_unit(search)}; final "
                             f"hypervolume {_f(search['hypervolume_trace'][-1])}.", *_flags_text(search)],
                  tables=[(["#", f"latency {_unit(search)}", "PSNR drop dB", "network", "note"], rows)])
    trace = run / "search" / "hypervolume.png"
    _plot_trace(search["hypervolume_trace"], trace)
    sec.images.append(("Hypervolume after each evaluation", trace))
    return sec


def _export_section(run: Path, exp: dict[str, Any], search: dict[str, Any]) -> Section:
    base = search.get("baseline") or {}
    got = exp["objectives"]
    bo = base.get("objectives", {})
    speed = (bo.get("latency_ms") or 0) / got["latency_ms"] if got.get("latency_ms") else None
    rows = [["baseline (teacher)", _f(search.get("teacher_psnr")), _f(bo.get("ssim")), _f(bo.get("latency_ms"))],
            [f"exported ({exp['pick']})", _f(got.get("psnr")), _f(got.get("ssim")), _f(got.get("latency_ms"))]]
    exported = Path(exp["spec"]).read_text() if Path(exp["spec"]).is_file() else ""
    diff = "\n".join(difflib.unified_diff(search.get("spec_text", "").splitlines(), exported.splitlines(),
                                          "baseline.arch", Path(exp["spec"]).name, lineterm=""))
    sec = Section("Exported network", [f"`{exp['canonical']}`: PSNR drop {_f(got['psnr_drop'])} dB, "
                                       f"{_f(speed)}x the baseline's speed ({search['latency_source']}). The exported "
                                       f"spec rebuilt from its files scores {_f(exp.get('reproduced_psnr'))} dB "
                                       f"(search reported {_f(exp.get('reported_psnr'))} dB)."],
                  tables=[(["network", "PSNR dB", "SSIM", f"latency {_unit(search)}"], rows)], code=[diff])
    return sec


def _verify_section(record: dict[str, Any]) -> Section:
    from archc.runtime.verify.table import recipe_text, rows_text

    ft = record["finetune"]
    text = [f"What the search predicted for the exported pick, against the pick fine-tuned for {ft['steps']} steps "
            f"({recipe_text(ft)}) and scored on the whole test split, and its exported ONNX timed end to end. "
            "Drops: mean ± standard error over the paired images; timings: median (interquartile range)."]
    if record.get("qdq"):
        q = record["qdq"]
        text.append(f"Precisions: {', '.join(f'{k} {v}' for k, v in q['precisions'].items())}; QDQ graph calibrated on "
                    f"{q['calibration']}.")
    tables = [rows_text(record)]
    probes = record.get("probes")
    if probes:
        fresh = sum(not p.get("reused") for p in probes["made"])
        text.append(f"The pick is the fastest network of the search's front found within {_f(probes['within_db'])} dB "
                    f"once fine-tuned: the front bisected with {fresh} of at most "
                    f"{probes['allowed']} fine-tunings, each scored on the whole test split (probes in order; "
                    "`reused`: fine-tuned and scored before in this run folder).")
        tables.append(_probes_table(probes["made"]))
    return Section("Predicted -> verified", text, tables=tables)


def _probes_table(made: Sequence[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    head = ["probe", "network", "predicted drop dB", "predicted speed-up", "verified drop dB", "holds"]
    rows = [[str(i + 1), f"`{p['canonical']}` ({p['index']})", _f(p["predicted_drop"]),
             f"{_f(p['predicted_speedup'])}x" if p.get("predicted_speedup") else "n/a",
             f"{_f(p['drop'])} ± {_f(p['drop_se'])}",
             ("yes" if p["holds"] else "no") + (" (reused)" if p.get("reused") else "")] for i, p in enumerate(made)]
    return head, rows


def _precision_section(records: list[dict[str, Any]]) -> Section | None:
    """PSNR of each precision `archc eval --precision ... --save RUN/eval.json` scored (None without any)."""
    rows = [r for r in records if r.get("precision") not in (None, "torch")]
    if not rows:
        return None
    ref = {r["dataset"]: r["psnr"] for r in rows if r["precision"] == TRACED}
    table = [[r["precision"], r["dataset"], str(r["count"]), _f(r["psnr"]),
              _f(r["psnr"] - ref[r["dataset"]]) if r["dataset"] in ref else "n/a"] for r in rows]
    return Section("PSNR per precision", ["The exported ONNX of each precision, run by ONNX Runtime on the CPU."],
                   tables=[(["precision", "dataset", "images", "PSNR dB", "vs fp32 dB"], table)])


def _timing_section(log: dict[str, Any]) -> Section:
    rows = [[k, _f(v.get("seconds")), v.get("status", ""), "yes" if v.get("skipped_last_run") else ""]
            for k, v in log.items()]
    return Section("Stages", tables=[(["stage", "seconds", "status", "skipped in last run"], rows)])


def _plot_trace(trace: Sequence[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from archc.compiler.files import write_png_atomic

    fig, ax = plt.subplots(figsize=(6, 3), dpi=110)
    ax.plot(range(1, len(trace) + 1), trace, "-", c="#1f6feb")
    ax.set_xlabel("evaluations")
    ax.set_ylabel("hypervolume")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    write_png_atomic(path, fig)


def sections(run: Path) -> list[Section]:
    search = _load(run / "search" / "search.json")
    out = []
    if search:
        out += [_headline_section(run, search, _load(run / "export" / "export.json")), _spec_section(search)]
    for name, build in (("saliency/saliency.json", lambda d: _saliency_section(run, d, search)),
                        ("distill/distill.json", _distill_section), ("profile/latency.json", _latency_section)):
        data = _load(run / name)
        if data:
            out.append(build(data))
    if search:
        out.append(_search_section(run, search))
        exp = _load(run / "export" / "export.json")
        if exp:
            out.append(_export_section(run, exp, search))
        verified = _load(run / "verify" / "verify.json")
        if verified:
            out.append(_verify_section(verified))
    scores = json.loads((run / "eval.json").read_text()) if (run / "eval.json").is_file() else []
    precision = _precision_section(scores) if isinstance(scores, list) else None
    if precision:
        out.append(precision)
    log = _load(run / "run.json")
    if log:
        out.append(_timing_section(log))
    return out


# ---------------------------------------------------------------- renderers
def _md_table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def _fold_summary(head: list[str], rows: list[list[str]]) -> str:
    return f"{len(rows)} rows: {', '.join(head)} (click to show)"


def _md_folded(head: list[str], rows: list[list[str]]) -> str:
    table = _md_table(head, rows)
    if len(rows) <= FOLD_ROWS:
        return f"\n{table}\n"
    return f"\n<details><summary>{html.escape(_fold_summary(head, rows))}</summary>\n\n{table}\n\n</details>\n"


def to_markdown(title: str, secs: list[Section], run: Path) -> str:
    out = [f"# {title}"]
    for s in secs:
        out.append(f"\n## {s.title}\n")
        out += s.text
        out += [f"- {b}" for b in s.bullets]
        out += [f"\n![{cap}]({p.relative_to(run)})\n" for cap, p in s.images if p.is_file()]
        out += [_md_folded(h, r) for h, r in s.tables]
        out += [f"\n```\n{c}\n```\n" for c in s.code if c]
    return "\n".join(out) + "\n"


_CSS = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#1f2328}"
        "table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #d0d7de;padding:4px 8px}"
        "th{background:#f6f8fa}pre{background:#f6f8fa;padding:1em;overflow:auto}img{max-width:100%}"
        "figcaption{color:#656d76;font-size:13px}summary{cursor:pointer;color:#0969da}"
        "#headline{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:0.5em 1.5em}")
_CHECK = ("<script>window.addEventListener('load',function(){var i=[].slice.call(document.images);"
          "document.body.setAttribute('data-images-loaded',i.filter(function(x){return x.complete&&x.naturalWidth>0})"
          ".length+'/'+i.length);});</script>")


def _inline(text: str) -> str:
    """`code` and **bold** of the Markdown text as HTML."""
    parts = html.escape(text).split("`")
    coded = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
    return "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(coded.split("**")))


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    table = ("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>" + "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows) + "</table>")
    if len(rows) <= FOLD_ROWS:
        return table
    return f"<details><summary>{html.escape(_fold_summary(head, rows))}</summary>{table}</details>"


def _html_figure(cap: str, path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return (f"<figure><img alt='{html.escape(cap)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{html.escape(cap)}</figcaption></figure>")


def _html_section(s: Section) -> list[str]:
    out = [f"<section id='{s.key}'>" if s.key else "<section>", f"<h2>{html.escape(s.title)}</h2>"]
    out += [f"<p>{_inline(t)}</p>" for t in s.text]
    if s.bullets:
        out.append("<ul>" + "".join(f"<li>{_inline(b)}</li>" for b in s.bullets) + "</ul>")
    out += [_html_figure(cap, p) for cap, p in s.images if p.is_file()]
    out += [_html_table(h, r) for h, r in s.tables]
    out += [f"<pre>{html.escape(c)}</pre>" for c in s.code if c]
    return [*out, "</section>"]


def to_html(title: str, secs: list[Section]) -> str:
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
           f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"]
    for s in secs:
        out += _html_section(s)
    out.append(f"{_CHECK}</body></html>")
    return "\n".join(out) + "\n"


def write(run: Path, title: str) -> None:
    secs = sections(run)
    write_text_atomic(run / "report.md", to_markdown(title, secs, run))
    write_text_atomic(run / "report.html", to_html(title, secs))
