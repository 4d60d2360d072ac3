"""``python -m nn.demos [NAME] [--out DIR] [--epochs N] [--limit N] ...``; ``--help`` lists demos."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from nn.demos import DEFAULT_DEMO, DEMOS


def build_parser() -> argparse.ArgumentParser:
    listing = "\n".join(f"  {name:<12} {desc}" for name, (_, desc) in DEMOS.items())
    parser = argparse.ArgumentParser(
        prog="python -m nn.demos",
        description="Run a demo of the autodiff/nn course.",
        epilog=f"demos:\n{listing}\n\nexample: python -m nn.demos lenet --limit 6000 --out demo_output",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", nargs="?", default=DEFAULT_DEMO, choices=list(DEMOS),
                        metavar="NAME", help=f"which demo (default: {DEFAULT_DEMO}); see the list below")
    parser.add_argument("--out", default="demo_output", help="output directory (default ./demo_output)")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (demo default if omitted)")
    parser.add_argument("--limit", type=int, default=None,
                        help="train on the first N samples only (quick runs)")
    parser.add_argument("--test-limit", type=int, default=None, help="evaluate on the first N test samples")
    parser.add_argument("--batch-size", type=int, default=None, help="mini-batch size")
    parser.add_argument("--lr", type=float, default=None, help="learning rate")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--data", default=None,
                        help="directory with MNIST/Fashion-MNIST IDX files (default $AUTODIFF_DATA_DIR "
                             "or /usr/share/datasets/fashion-mnist)")
    parser.add_argument("--text", default=None, help="text file for word2vec/charrnn (default: fortunes)")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument("--no-graph", action="store_true", help="skip rendering graph pictures")
    parser.add_argument("--seconds", type=float, default=None, help="gpt: training time budget (default 300)")
    parser.add_argument("--compare-charrnn", action="store_true",
                        help="gpt: also train the charrnn demo's LSTM for the same time and compare")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    module_name, _ = DEMOS[args.name]
    module = importlib.import_module(module_name)
    os.makedirs(args.out, exist_ok=True)
    module.run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
