"""Start-up costs, each measured in a fresh Python process, and the LeNet step's peak memory.

Rows:
    startup.import          ``import autodiff, nn`` vs ``import torch`` (seconds, fresh process).
    startup.lenet_first_step_cold_cache  first LeNet step (forward, backward, SGD) in a fresh
        process whose NUMBA_CACHE_DIR is a new empty directory: includes all Numba compilation.
    startup.lenet_first_step_warm_cache  the same with a cache directory filled by an earlier
        process: what every run after the first pays.
    memory.lenet_step       peak MB allocated within one LeNet step (see benchmarks.memprobe).

LeNet is the course's: Conv(1->20, 5x5), ReLU, MaxPool 2, Conv(20->50, 5x5), ReLU,
MaxPool 2, Flatten, Linear(800->500), ReLU, Linear(500->10); batch 64 of 1x28x28 float32,
cross-entropy, SGD. The PyTorch reference has no kernel cache, so its figure is the same in
both rows; it is measured in each row anyway, in the same interleaved rounds.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

from benchmarks.harness import Case, Skip, optional_import, register, require
from benchmarks.memprobe import memory_case

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LENET_BATCH = 64
LENET_LR = 0.01


def lenet_init():
    """Shared start: PyTorch-style uniform weights (state-dict names of the Sequential), data."""
    rng = np.random.default_rng(5)
    shapes = {"0.weight": (20, 1, 5, 5), "0.bias": (20,), "3.weight": (50, 20, 5, 5), "3.bias": (50,),
              "7.weight": (500, 800), "7.bias": (500,), "9.weight": (10, 500), "9.bias": (10,)}
    fan_in = {"0": 25, "3": 500, "7": 800, "9": 500}
    params = {}
    for name, shape in shapes.items():
        bound = 1.0 / np.sqrt(fan_in[name.split(".")[0]])
        params[name] = rng.uniform(-bound, bound, shape).astype(np.float32)
    x = rng.standard_normal((LENET_BATCH, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, LENET_BATCH).astype(np.int64)
    return params, x, y


def _layer(nn, name: str):
    """``nn.<name>``, or from nn.layers.conv / nn.layers.pool while the package does not export it yet."""
    if hasattr(nn, name):
        return getattr(nn, name)
    import importlib

    for mod in ("nn.layers.conv", "nn.layers.pool"):
        try:
            found = getattr(importlib.import_module(mod), name, None)
        except ImportError:
            found = None
        if found is not None:
            return found
    raise Skip(f"nn.{name} not available yet")


def _lenet_layers(nn):
    Conv2d, MaxPool2d = _layer(nn, "Conv2d"), _layer(nn, "MaxPool2d")
    return [Conv2d(1, 20, 5), nn.ReLU(), MaxPool2d(2), Conv2d(20, 50, 5), nn.ReLU(), MaxPool2d(2),
            nn.Flatten(), nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10)]


def lenet_step(side: str):
    """Zero-argument LeNet training step for ``side`` in ("ours", "torch").

    Raises:
        Skip: when torch, or the nn layers for ours, are missing.
    """
    params, x, y = lenet_init()
    if side == "torch":
        torch = optional_import("torch")
        if torch is None:
            raise Skip("torch not installed")
        model = torch.nn.Sequential(*_lenet_layers(torch.nn))
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in params.items()})
        opt = torch.optim.SGD(model.parameters(), lr=LENET_LR)
        crit = torch.nn.CrossEntropyLoss()
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    elif side == "ours":
        ad = require("autodiff", "Tensor")
        nn = require("nn", "Sequential", "Flatten", "Linear", "ReLU", "CrossEntropyLoss", "optim.SGD")
        import nn.optim  # noqa: F401

        model = nn.Sequential(*_lenet_layers(nn))
        model.load_state_dict({k: v.copy() for k, v in params.items()})
        opt = nn.optim.SGD(model.parameters(), lr=LENET_LR)
        crit = nn.CrossEntropyLoss()
        tx, ty = ad.Tensor(x), ad.Tensor(y)
    else:
        raise ValueError(f"lenet_step: unknown side {side!r}")

    def step():
        opt.zero_grad()
        loss = crit(model(tx), ty)
        loss.backward()
        opt.step()
        return loss

    return step


# ------------------------------------------------------------------ fresh-process measurements

_IMPORT_SCRIPT = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"

_FIRST_STEP_SCRIPT = """
import json, sys, time
from benchmarks.harness import set_threads
set_threads({threads})
from benchmarks.cases.startup import lenet_step
step = lenet_step({side!r})
t = time.perf_counter()
step()
print(json.dumps({{"first_step": time.perf_counter() - t}}))
"""


def _threads() -> int:
    torch = sys.modules.get("torch")
    return torch.get_num_threads() if torch is not None else 1


def _run(code: str, extra_env: dict | None = None, timeout: float = 900) -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra_env or {})
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"fresh process exited {proc.returncode}: {proc.stderr.strip()[-400:]}")
    return proc.stdout.strip().splitlines()[-1]


def import_time(stmt: str) -> float:
    """Seconds taken by ``stmt`` (an import) in a fresh interpreter."""
    return float(_run(_IMPORT_SCRIPT.format(stmt=stmt)))


def first_step_time(side: str, cache_dir: str | None = None) -> float:
    """Seconds of the first LeNet step in a fresh interpreter (NUMBA_CACHE_DIR=cache_dir if given)."""
    env = {"NUMBA_CACHE_DIR": cache_dir} if cache_dir else None
    out = json.loads(_run(_FIRST_STEP_SCRIPT.format(side=side, threads=_threads()), env))
    return out["first_step"]


@register("startup.import", group="startup")
def startup_import(quick):
    require("autodiff")
    require("nn")
    if quick:
        torch_ref = _QUICK_SKIP
    elif optional_import("torch"):
        torch_ref = lambda: import_time("import torch")  # noqa: E731
    else:
        torch_ref = Skip("torch not installed")
    return Case(ours=lambda: import_time("import autodiff, nn"), refs={"torch": torch_ref},
                kind="value", unit="s", repeat=1 if quick else 5,
                notes="import time in a fresh process: `import autodiff, nn` vs `import torch`")


def _require_lenet():
    require("autodiff", "Tensor")
    nn = require("nn", "Sequential", "Flatten", "Linear", "ReLU", "CrossEntropyLoss", "optim.SGD")
    _layer(nn, "Conv2d")
    _layer(nn, "MaxPool2d")


_QUICK_SKIP = Skip("not measured with --quick (a fresh `import torch` alone takes seconds)")


def _torch_ref(quick):
    if quick:
        return _QUICK_SKIP
    return (lambda: first_step_time("torch")) if optional_import("torch") else Skip("torch not installed")


@register("startup.lenet_first_step_cold_cache", group="startup")
def lenet_cold(quick):
    _require_lenet()
    if quick:
        raise Skip("not run with --quick: compiles the Numba kernels of a LeNet step from scratch (seconds; "
                   "the README's table has the figure); run `python -m benchmarks --filter startup`")
    parent = tempfile.mkdtemp(prefix="bench-numba-cold-")

    def ours():
        return first_step_time("ours", tempfile.mkdtemp(dir=parent))  # a new empty cache every time

    return Case(ours=ours, refs={"torch": _torch_ref(quick)}, kind="value", unit="s", repeat=1 if quick else 3,
                notes="first LeNet step (fwd+bwd+SGD, batch 64) in a fresh process; cold = empty "
                      "NUMBA_CACHE_DIR, warm = cache filled by an earlier process")


@register("startup.lenet_first_step_warm_cache", group="startup")
def lenet_warm(quick):
    _require_lenet()
    if quick:  # the project's own on-disk cache, normally filled by the test suite's conv tests
        return Case(ours=lambda: first_step_time("ours"), refs={"torch": _torch_ref(quick)}, kind="value",
                    unit="s", repeat=1,
                    notes="--quick: first LeNet step in a fresh process with the project's usual Numba cache "
                          "(in-tree __pycache__, warm unless this is the first run after a checkout)")
    cache = tempfile.mkdtemp(prefix="bench-numba-warm-")
    first_step_time("ours", cache)  # fills the cache; not a sample
    return Case(ours=lambda: first_step_time("ours", cache), refs={"torch": _torch_ref(quick)}, kind="value",
                unit="s", repeat=3,
                notes="first LeNet step (fwd+bwd+SGD, batch 64) in a fresh process; cold = empty "
                      "NUMBA_CACHE_DIR, warm = cache filled by an earlier process")


@register("memory.lenet_step", group="memory")
def lenet_memory(quick):
    _require_lenet()
    return memory_case("benchmarks.cases.startup:lenet_step", ("ours", "torch"), quick)
