"""``python -m autodiff.viz``: the ``autodiff-draw`` command (see :mod:`autodiff.viz.cli`)."""
import sys

from .cli import main

sys.exit(main())
