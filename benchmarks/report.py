"""Reporting for benchmark rows: terminal table, JSON file, ratio plot, run-to-run compare.

Rows are the dicts returned by :func:`benchmarks.harness.run_case`.
"""
from __future__ import annotations

import datetime
import json
import math

__all__ = ["annotate_gemm_fraction", "measure_gemm_floor", "fmt_value", "format_table", "format_steps_summary",
           "mode_note", "write_json", "load_json", "compare_rows", "format_compare", "plot_ratios"]

JSON_VERSION = 1


def fmt_value(x: float, unit: str = "s") -> str:
    """Human form of a measurement: seconds as ns/us/ms/s, bytes-like units as given."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if unit == "s":
        a = abs(x)
        if a < 1e-6:
            return f"{x * 1e9:.0f} ns"
        if a < 1e-3:
            return f"{x * 1e6:.3g} us"
        if a < 1:
            return f"{x * 1e3:.3g} ms"
        return f"{x:.3g} s"
    return f"{x:.3g} {unit}"


def annotate_gemm_fraction(rows: list[dict]) -> float | None:
    """Add ``frac_of_best`` (GFLOP/s over the best GFLOP/s of any side of any row) to rows with flops.

    Returns the best rate measured in this run (the machine's best GEMM rate when the run
    includes the matmul rows), or None when no row declared flops.
    """
    rates = [side["gflops"] for r in rows if r.get("status") == "ok"
             for side in r.get("sides", {}).values() if side.get("gflops")]
    if not rates:
        return None
    best = max(rates)
    for r in rows:
        for side in r.get("sides", {}).values():
            if side.get("gflops"):
                side["frac_of_best"] = side["gflops"] / best
    return best


def measure_gemm_floor(rows: list[dict], threads: int, rate: float | None = None) -> float | None:
    """Add ``floor_x`` = time / (FLOPs / best GEMM rate) to every side of the model-step rows (isolated
    rows that declare FLOPs).

    The rate is the best float32 GEMM rate at ``threads`` threads, measured in a fresh process
    (:func:`benchmarks.isolated.gemm_rate`) unless given. Returns it (GFLOP/s), or None without such rows.
    """
    with_flops = [r for r in rows if r.get("status") == "ok" and r.get("flops") and r.get("mode") == "isolated"]
    if not with_flops:
        return None
    if rate is None:
        from benchmarks.isolated import gemm_rate

        rate = gemm_rate(threads)["gflops"]
    for r in with_flops:
        r["gemm_floor_gflops"] = rate
        floor = r["flops"] / (rate * 1e9)
        r["floor_seconds"] = floor
        for side in r["sides"].values():
            if side.get("status") == "ok" and side.get("median"):
                side["floor_x"] = side["median"] / floor
    return rate


def mode_note(row: dict) -> str:
    """Footnote text saying how a row was measured."""
    if row.get("mode") == "isolated":
        k = row.get("processes", 1)
        return (f"isolated: each side alone in {k} fresh process{'es' if k > 1 else ''} (alternating between the "
                f"sides), warm-up in each, {row.get('threads')} thread(s) for BLAS, Numba and torch; "
                "figure = median of the per-process medians")
    if row.get("kind") == "value":
        return "measured by the row itself (fresh processes or memory probes), rounds interleaved"
    return "in-process: every side in this process, interleaved rounds in rotating order"


def _spread_pct(side: dict) -> str:
    med = side["median"]
    if not med:
        return ""
    return f" ±{50 * (side['q3'] - side['q1']) / abs(med):.0f}%"


PREFERRED_COLUMNS = ("numpy", "torch", "micrograd")


def _columns(rows: list[dict]) -> list[str]:
    """Reference columns: numpy, torch, micrograd first (when present), then others by first appearance."""
    seen: list[str] = []
    for row in rows:
        for name in row.get("sides", {}):
            if name != "ours" and name not in seen:
                seen.append(name)
    return [c for c in PREFERRED_COLUMNS if c in seen] + [c for c in seen if c not in PREFERRED_COLUMNS]


def format_table(rows: list[dict], machine_line: str | None = None) -> str:
    """Fixed-width table: one line per row, footnotes for skip reasons, errors and notes.

    Columns: ``ours`` = median ±half the interquartile range in percent of the median,
    ``compile`` = first call minus median (JIT compilation etc.), then each reference as
    ``median (ours/ref ratio)``. A ratio below 1.0 means ours is faster (or smaller).
    """
    refs = _columns(rows)
    notes: list[str] = []

    def note(text: str) -> str:
        if text not in notes:
            notes.append(text)
        return f"[{notes.index(text) + 1}]"

    header = ["benchmark", "ours", "compile"] + [f"{r} (ratio)" for r in refs]
    lines = []
    for row in rows:
        name = row["name"]
        if row["status"] != "ok":
            tag = "skipped" if row["status"] == "skipped" else "FAIL"
            lines.append([name, f"{tag} ({row['reason']})"])
            continue
        unit = row.get("unit", "s")
        sides = row["sides"]
        ours = sides["ours"]
        cell = fmt_value(ours["median"], unit) + _spread_pct(ours)
        if row.get("flops") and "gflops" in ours:
            cell += f" {ours['gflops']:.1f}GF/s"
            if "frac_of_best" in ours:
                cell += f" ({100 * ours['frac_of_best']:.0f}% of best)"
        if "floor_x" in ours:
            cell += f" {row['flops'] / 1e9:.2f} GFLOP {ours['floor_x']:.1f}x floor"
        if row.get("notes"):
            cell += " " + note(row["notes"])
        cell += " " + note(mode_note(row))
        comp = fmt_value(ours["compile"], "s") if "compile" in ours else "-"
        cells = [name, cell, comp]
        for ref in refs:
            side = sides.get(ref)
            if side is None:
                cells.append("")
            elif side.get("status") == "ok":
                c = fmt_value(side["median"], unit) + _spread_pct(side)
                if "ratio" in side:
                    c += f" ({side['ratio']:.2f}x)"
                if "floor_x" in side:
                    c += f" {side['floor_x']:.1f}x floor"
                cells.append(c)
            else:
                cells.append(f"{side['status']} {note(f'{ref}: ' + side['reason'])}")
        lines.append(cells)
    widths = [len(h) for h in header]
    for cells in lines:
        if len(cells) == len(header):
            widths = [max(w, len(c)) for w, c in zip(widths, cells)]
    out = []
    if machine_line:
        out.append(machine_line)
    out.append("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
    out.append("  ".join("-" * w for w in widths))
    for cells in lines:
        if len(cells) == len(header):
            out.append("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip())
        else:  # whole-row skip / FAIL: name then the reason across the rest
            out.append(cells[0].ljust(widths[0]) + "  " + cells[1])
    out.append("ratio = ours / reference (median); below 1.00x ours is faster (memory rows: smaller). "
               "±x% = half the interquartile range over repeats.")
    best = max((side.get("gflops", 0) for r in rows if r.get("status") == "ok"
                for side in r.get("sides", {}).values()), default=0)
    if best:
        out.append(f"GF/s = GFLOP/s of ours; % of best = share of the best rate any side reached "
                   f"in this run ({best:.1f} GFLOP/s)")
    floors = sorted({r["gemm_floor_gflops"] for r in rows if r.get("gemm_floor_gflops")})
    if floors:
        out.append("x floor = time / (the step's FLOPs / the best float32 GEMM rate measured in this run: "
                   + ", ".join(f"{f:.0f}" for f in floors) + " GFLOP/s); 1.0x would be all GEMMs at peak")
    for i, text in enumerate(notes, 1):
        out.append(f"[{i}] {text}")
    return "\n".join(out)


def format_steps_summary(rows: list[dict], runs: list[dict]) -> str:
    """The model-step rows (isolated) at every thread count of the run, one line each.

    Columns: torch's time per thread count, ours / torch per thread count, the step's GFLOP and how
    many times its GEMM floor ours and torch take, per thread count.
    """
    counts = [r["threads"] for r in runs]
    names = []
    for r in rows:
        if r.get("mode") == "isolated" and r["name"] not in names:
            names.append(r["name"])
    by = {(r["name"], r.get("threads")): r for r in rows}
    tc = " / ".join(f"{c} thr" for c in counts)
    header = ["step", f"torch alone, {tc}"] + [f"ours / torch, {c} thr" for c in counts] + \
        ["GFLOP", f"x of GEMM floor ours, {tc}", f"torch, {tc}"]
    lines = []
    for name in names:
        cells = [name]
        got = [by.get((name, c)) for c in counts]
        ok = [g if g is not None and g.get("status") == "ok" else None for g in got]

        def side(g, key, fmt, who="torch"):
            s = (g or {}).get("sides", {}).get(who, {})
            return fmt(s[key]) if key in s else "-"

        cells.append(" / ".join(side(g, "median", fmt_value) for g in ok))
        cells += [side(g, "ratio", lambda v: f"{v:.2f}x") for g in ok]
        flops = next((g["flops"] for g in ok if g and g.get("flops")), None)
        cells.append(f"{flops / 1e9:.3f}" if flops else "-")
        cells.append(" / ".join(side(g, "floor_x", lambda v: f"{v:.1f}x", "ours") for g in ok) if flops else "-")
        cells.append(" / ".join(side(g, "floor_x", lambda v: f"{v:.1f}x") for g in ok) if flops else "-")
        lines.append(cells)
    widths = [max(len(h), *(len(c[i]) for c in lines)) if lines else len(h) for i, h in enumerate(header)]
    out = ["model steps, each side alone in its own processes: " + ", ".join(
        f"{r['threads']} thread(s): GEMM floor {r['gemm_gflops']:.0f} GFLOP/s" if r.get("gemm_gflops") else
        f"{r['threads']} thread(s)" for r in runs),
        "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(),
        "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip() for cells in lines]
    return "\n".join(out)


def write_json(path: str, rows: list[dict], machine: dict, settings: dict) -> None:
    """Write a run to ``path`` (tracebacks included for FAIL rows)."""
    doc = {"version": JSON_VERSION,
           "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "machine": machine, "settings": settings, "rows": rows}
    with open(path, "w") as fh:
        json.dump(doc, fh, indent=1, default=float)


def load_json(path: str) -> dict:
    with open(path) as fh:
        doc = json.load(fh)
    if "rows" not in doc:
        raise ValueError(f"{path}: not a benchmark JSON file (no 'rows')")
    return doc


def compare_rows(old_rows: list[dict], new_rows: list[dict]) -> list[dict]:
    """Per row: change of our median and whether it lies beyond the measured spread.

    A row is a ``regression`` when the new lower quartile is above the old upper quartile
    (the two interquartile ranges do not overlap and the new one is slower/larger), an
    ``improvement`` in the mirror case, else ``same``. Rows missing or not ok on one side
    are reported with their status.
    """
    def key(r, rows):
        multi = len({x.get("threads") for x in rows}) > 1
        return f"{r['name']}@{r.get('threads')}t" if multi else r["name"]

    old = {key(r, old_rows): r for r in old_rows}
    new = {key(r, new_rows): r for r in new_rows}
    out = []
    for name in list(old) + [n for n in new if n not in old]:
        o, n = old.get(name), new.get(name)
        item = {"name": name}
        if o is None or n is None:
            item["flag"] = "new row" if o is None else "removed"
        elif o["status"] != "ok" or n["status"] != "ok":
            item["flag"] = f"{o['status']} -> {n['status']}"
        else:
            a, b = o["sides"]["ours"], n["sides"]["ours"]
            item.update(old=a["median"], new=b["median"], unit=n.get("unit", "s"),
                        change=(b["median"] - a["median"]) / a["median"] if a["median"] else float("nan"))
            for ref, side in n["sides"].items():  # first reference present in both runs
                if "ratio" in side and "ratio" in o["sides"].get(ref, {}):
                    item.update(ref=ref, old_ratio=o["sides"][ref]["ratio"], new_ratio=side["ratio"])
                    break
            if b["q1"] > a["q3"]:
                item["flag"] = "REGRESSION"
            elif b["q3"] < a["q1"]:
                item["flag"] = "improvement"
            else:
                item["flag"] = "same"
        out.append(item)
    return out


def format_compare(items: list[dict]) -> str:
    w = max([len(i["name"]) for i in items] + [9])
    lines = [f"{'benchmark'.ljust(w)}  {'old':>10}  {'new':>10}  {'change':>8}  {'flag':<11}  ratio vs ref old -> new",
             "-" * (w + 70)]
    for i in items:
        if "old" in i:
            ratio = (f"{i['ref']}: {i['old_ratio']:.2f}x -> {i['new_ratio']:.2f}x" if "ref" in i else "")
            lines.append(f"{i['name'].ljust(w)}  {fmt_value(i['old'], i['unit']):>10}  "
                         f"{fmt_value(i['new'], i['unit']):>10}  {100 * i['change']:+7.1f}%  {i['flag']:<11}  {ratio}")
        else:
            lines.append(f"{i['name'].ljust(w)}  {'':>10}  {'':>10}  {'':>8}  {i['flag']}")
    n_reg = sum(i["flag"] == "REGRESSION" for i in items)
    lines.append(f"{n_reg} regression(s) beyond the measured spread (interquartile ranges of our times do not "
                 "overlap). The ratio column (interleaved with the reference) shows whether the machine, "
                 "not the code, changed.")
    return "\n".join(lines)


def plot_ratios(rows: list[dict], path: str, title: str = "") -> int:
    """Horizontal bar chart of ours/ref ratios on a log axis with a line at 1.0; returns bars drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    refs = _columns(rows)
    labels, values, colors = [], [], []
    palette = {"numpy": "tab:blue", "torch": "tab:orange", "micrograd": "tab:green"}
    for row in rows:
        if row["status"] != "ok":
            continue
        for ref in refs:
            side = row["sides"].get(ref)
            if side and "ratio" in side and side["ratio"] > 0:
                labels.append(f"{row['name']} vs {ref}")
                values.append(side["ratio"])
                colors.append(palette.get(ref, "tab:gray"))
    fig, ax = plt.subplots(figsize=(9, 0.3 * max(len(values), 4) + 1.2))
    ys = range(len(values))
    ax.barh(list(ys), values, color=colors)
    ax.set_yticks(list(ys), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xlabel("ours / reference (log scale; left of 1.0 = ours faster, or smaller for memory)")
    from matplotlib.patches import Patch

    used = [r for r in refs if any(lbl.endswith(f" vs {r}") for lbl in labels)]
    ax.legend(handles=[Patch(color=palette.get(r, "tab:gray"), label=r) for r in used], loc="best", fontsize=8)
    ax.set_title(title or "benchmarks: ratio ours / reference", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return len(values)
