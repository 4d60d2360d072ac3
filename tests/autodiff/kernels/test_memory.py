"""retain_freed_memory: freed array memory is reused by the next allocation instead of being mapped again
(counted as minor page faults, Linux/glibc only), and the environment opt-outs are respected."""
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt, Linux page-fault counts")

_SCRIPT = textwrap.dedent("""
    import resource, numpy as np
    from autodiff.kernels.memory import retain_freed_memory
    applied = retain_freed_memory()
    for _ in range(3):                       # warm up: the heap grows once
        a = np.empty(250_000, np.float32); a[:] = 1.0; del a
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(40):                      # 1 MB (below numpy's huge-page size) written and freed, 40 times
        a = np.empty(250_000, np.float32); a[:] = 1.0; del a
    print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
""")


def _run(**env):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "AUTODIFF_RETAIN_MEMORY"}
    full_env.update(env, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", _SCRIPT], env=full_env, capture_output=True, text=True, check=True)
    applied, faults = out.stdout.split()
    return applied == "True", int(faults)


def test_freed_blocks_are_reused_without_page_faults():
    applied, faults = _run()
    if not applied:
        pytest.skip("no glibc mallopt here")
    assert faults < 100  # 40 x 1 MB fresh mappings would be ~10,000 faults of 4 KB pages


def test_user_malloc_settings_win_and_then_every_block_is_mapped_again():
    """A user-set glibc threshold is left alone; with a fixed 128 KB mmap threshold every 1 MB block is a
    new mapping (this is also the control showing the first test can fail)."""
    applied, faults = _run(MALLOC_MMAP_THRESHOLD_=str(128 * 1024))
    assert not applied
    assert faults > 40 * 100


def test_opt_out_by_environment():
    applied, _ = _run(AUTODIFF_RETAIN_MEMORY="0")
    assert not applied
