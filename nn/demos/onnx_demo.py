"""Leaving the library: LeNet trained here, exported to ONNX and run in onnxruntime, then its state_dict
loaded into the same architecture in PyTorch. Each route's outputs are checked against ours."""

from __future__ import annotations

import numpy as np

import autodiff as ad
import nn
from nn.data.idx import find_data_dir, load_image_set
from nn.demos._common import out_path
from nn.demos._images import train_and_report
from nn.models.lenet import LeNet


def torch_lenet(torch):
    """The course's LeNet in PyTorch, with the same module names (so the state_dict keys match)."""
    tnn = torch.nn

    class TorchLeNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.features = tnn.Sequential(tnn.Conv2d(1, 20, 5), tnn.ReLU(), tnn.MaxPool2d(2, 2),
                                           tnn.Conv2d(20, 50, 5), tnn.ReLU(), tnn.MaxPool2d(2, 2))
            self.classifier = tnn.Sequential(tnn.Flatten(), tnn.Linear(800, 500), tnn.ReLU(), tnn.Linear(500, 10))

        def forward(self, x):
            return self.classifier(self.features(x))

    return TorchLeNet()


def _ours(model, x, batch=500):
    with ad.no_grad():
        return np.concatenate([model(ad.Tensor(x[i:i + batch])).data for i in range(0, len(x), batch)])


def _report(name, logits, reference, targets):
    agree = float(np.mean(logits.argmax(axis=1) == reference.argmax(axis=1)))
    acc = float(np.mean(logits.argmax(axis=1) == targets))
    print(f"{name}: max |difference| from ours {np.abs(logits - reference).max():.2e}, same class for "
          f"{100 * agree:.1f}% of images, accuracy {100 * acc:.2f}%")


def run(args):
    try:
        import onnxruntime as ort
        import nn.onnx
    except ImportError:
        print("this demo needs onnx and onnxruntime: pip install 'autodiff-nn[onnx]'")
        return
    model = LeNet()
    train_and_report(args, model, "LeNet", (1, 28, 28))
    model.eval()
    x_test, y_test = load_image_set(find_data_dir(args.data), "test", scale=True)
    count = args.test_limit or len(x_test)
    x_test, y_test = x_test[:count].reshape(-1, 1, 28, 28).astype(np.float32), y_test[:count]
    ours = _ours(model, x_test)

    path = out_path(args, "lenet.onnx")
    nn.onnx.export(model, ad.Tensor(x_test[:1]), path, input_names=["image"], output_names=["logits"],
                   dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    print(f"saved {path}")
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {"image": x_test})
    _report(f"onnxruntime on {len(x_test)} test images", logits, ours, y_test)

    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: skipping the state_dict route back to PyTorch")
        return
    theirs = torch_lenet(torch)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in model.state_dict().items()})
    theirs.eval()
    with torch.no_grad():
        logits = theirs(torch.from_numpy(x_test)).numpy()
    _report("PyTorch with our state_dict", logits, ours, y_test)
