"""Which recorder runs: the compiled one when it was built (required where AUTODIFF_EXPECT_COMPILED is
set, as in .ci/run), the Python one under AUTODIFF_PURE_PYTHON=1."""
import os

import autodiff as ad
from autodiff import backward, function


def test_engine_in_use_matches_the_environment():
    if os.environ.get("AUTODIFF_PURE_PYTHON"):
        assert function.ENGINE == "python"
        assert ad.Function.apply.__func__ is function.record and backward._engine is None
        return
    if os.environ.get("AUTODIFF_EXPECT_COMPILED"):
        assert function.ENGINE == "compiled", "autodiff/_engine.c was not built (no C compiler?)"
    if function.ENGINE == "compiled":
        from autodiff import _engine
        assert ad.Function.apply.__func__ is _engine.apply and backward._engine is _engine
    else:
        assert ad.Function.apply.__func__ is function.record
