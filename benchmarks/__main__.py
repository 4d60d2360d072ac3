"""Command line: ``python -m benchmarks [--quick] [--threads 1,2] [--filter S] [--repeat N] [--json P] [--plot P]``
or ``python -m benchmarks --compare OLD.json NEW.json``. See benchmarks/README.md."""
from __future__ import annotations

import argparse
import os
import sys
import time


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks",
                                description="Micro-benchmarks of autodiff/nn against numpy, PyTorch and micrograd.")
    p.add_argument("--quick", action="store_true", help="short run (few repeats, short samples)")
    p.add_argument("--filter", metavar="SUBSTR", help="only rows whose name contains SUBSTR")
    p.add_argument("--exclude", metavar="SUBSTR", action="append", default=[],
                   help="leave out rows whose name contains SUBSTR (repeatable)")
    p.add_argument("--repeat", type=int, metavar="N", help="timed rounds per row (default 15, quick 3)")
    p.add_argument("--threads", metavar="N[,M...]",
                   help="threads for BLAS, torch and numba alike, for every side in both modes; a list (1,2) "
                        "runs the rows once per count and adds a summary of the model steps (default: "
                        "numpy's BLAS count)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--plot", metavar="PATH", help="bar chart of ratios (PNG/SVG/PDF)")
    p.add_argument("--compare", nargs=2, metavar=("OLD", "NEW"), help="compare two JSON runs and exit")
    p.add_argument("--list", action="store_true", help="list the registered rows and exit")
    args = p.parse_args(argv)

    counts = None
    if args.threads is not None:
        try:
            counts = [int(t) for t in str(args.threads).split(",") if t.strip()]
        except ValueError:
            p.error(f"--threads takes counts such as 1 or 1,2; got {args.threads!r}")
        if not counts or min(counts) < 1:
            p.error("--threads must be >= 1")
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
            os.environ[var] = str(max(counts))  # before numba/torch load their thread pools
    from benchmarks import harness, report

    if args.compare:
        old, new = (report.load_json(f) for f in args.compare)
        items = report.compare_rows(old["rows"], new["rows"])
        print(report.format_compare(items))
        return 1 if any(i["flag"] == "REGRESSION" for i in items) else 0
    if args.repeat is not None and args.repeat < 1:
        p.error("--repeat must be >= 1")
    if args.list:
        harness.discover()
        for reg in harness.registry().values():
            print(f"{reg.name}  ({reg.group}, {reg.module})")
        return 0

    argv_list = list(argv if argv is not None else sys.argv[1:])
    command = "python -m benchmarks " + " ".join(argv_list)
    t0 = time.perf_counter()
    runs, rows = [], []
    for k, count in enumerate(counts or [None]):
        threads = harness.set_threads(count)
        machine = harness.machine_info(threads)
        if k == 0:
            print(harness.machine_line(machine), flush=True)
        n = threads["target"]
        progress = (lambda name, n=n: print(f"  running {name} ({n} threads) ...", file=sys.stderr, flush=True))
        # isolated rows first: this process has then started no thread pool that could still be spinning
        part = harness.run_all(quick=args.quick, repeat=args.repeat, filter=args.filter, exclude=args.exclude,
                               progress=progress, threads=n, isolated=True)
        part += harness.run_all(quick=args.quick, repeat=args.repeat, filter=args.filter, exclude=args.exclude,
                                progress=progress, threads=n, isolated=False)
        order = {name: i for i, name in enumerate(harness.registry())}
        part.sort(key=lambda r: order.get(r["name"], len(order)))
        gemm = report.measure_gemm_floor(part, n)
        report.annotate_gemm_fraction(part)
        if len(counts or []) > 1:
            print(f"\n== {n} thread{'s' if n > 1 else ''} ==")
        print(report.format_table(part))
        runs.append({"threads": n, "thread_settings": threads, "gemm_gflops": gemm, "machine": machine})
        rows += part
    total = time.perf_counter() - t0
    if len(runs) > 1:
        print()
        print(report.format_steps_summary(rows, runs))
    print(f"{len(rows)} rows in {total:.1f} s; command: {command}")
    settings = {"quick": args.quick, "repeat": args.repeat, "filter": args.filter, "exclude": args.exclude,
                "total_seconds": total, "argv": argv_list, "threads": [r["threads"] for r in runs], "runs": runs}
    if args.json:
        report.write_json(args.json, rows, runs[0]["machine"], settings)
        print(f"wrote {args.json}")
    if args.plot:
        machine = runs[0]["machine"]
        title = (f"ours / reference: {machine['cpu']}, {machine['cores']} cores, numpy {machine['numpy']}, "
                 f"torch {machine.get('torch')}, {','.join(str(r['threads']) for r in runs)} threads")
        n = report.plot_ratios(rows, args.plot, title=title)
        print(f"wrote {args.plot} ({n} bars)")
    return 1 if any(r["status"] == "FAIL" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
