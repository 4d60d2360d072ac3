"""Command line: ``python -m benchmarks [--quick] [--filter S] [--repeat N] [--json P] [--plot P]``
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
    p.add_argument("--threads", type=int, metavar="N",
                   help="threads for BLAS, torch and numba alike (default: numpy's BLAS count)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--plot", metavar="PATH", help="bar chart of ratios (PNG/SVG/PDF)")
    p.add_argument("--compare", nargs=2, metavar=("OLD", "NEW"), help="compare two JSON runs and exit")
    p.add_argument("--list", action="store_true", help="list the registered rows and exit")
    args = p.parse_args(argv)

    if args.threads is not None:
        if args.threads < 1:
            p.error("--threads must be >= 1")
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
            os.environ[var] = str(args.threads)  # before numba/torch load their thread pools
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

    threads = harness.set_threads(args.threads)
    machine = harness.machine_info(threads)
    line = harness.machine_line(machine)
    print(line, flush=True)
    t0 = time.perf_counter()
    rows = harness.run_all(quick=args.quick, repeat=args.repeat, filter=args.filter, exclude=args.exclude,
                           progress=lambda n: print(f"  running {n} ...", file=sys.stderr, flush=True))
    total = time.perf_counter() - t0
    report.annotate_gemm_fraction(rows)
    print(report.format_table(rows))
    print(f"{len(rows)} rows in {total:.1f} s; command: python -m benchmarks {' '.join(argv if argv is not None else sys.argv[1:])}")
    settings = {"quick": args.quick, "repeat": args.repeat, "filter": args.filter, "exclude": args.exclude, "total_seconds": total,
                "argv": list(argv if argv is not None else sys.argv[1:])}
    if args.json:
        report.write_json(args.json, rows, machine, settings)
        print(f"wrote {args.json}")
    if args.plot:
        title = (f"ours / reference: {machine['cpu']}, {machine['cores']} cores, numpy {machine['numpy']}, "
                 f"torch {machine.get('torch')}, {threads.get('target')} threads")
        n = report.plot_ratios(rows, args.plot, title=title)
        print(f"wrote {args.plot} ({n} bars)")
    return 1 if any(r["status"] == "FAIL" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
