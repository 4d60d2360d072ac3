"""Runnable demos of the course: ``python -m nn.demos [NAME] [options]``.

Each demo is a short module here with a ``run(args)`` function; ``DEMOS`` maps the
name to its module and a one-line description (shown by ``--help``).
"""

DEMOS = {
    "lenet": ("nn.demos.lenet_demo",
              "LeNet CNN on Fashion-MNIST: 1 epoch with a progress bar, test accuracy, confusion "
              "matrix, loss curve and forward/backward graph pictures (the main demo)"),
    "mlp": ("nn.demos.mlp_demo", "MLP on Fashion-MNIST: accuracy, confusion matrix, loss curve"),
    "xor": ("nn.demos.xor_demo", "XOR solved by a 2-4-1 MLP, on the Tensor engine and on the "
            "scalar Value engine (with its graph drawn)"),
    "perceptron": ("nn.demos.perceptron_demo",
                   "perceptron learning rule: learns AND and OR, never separates XOR; Adaline (LMS)"),
    "autoencoder": ("nn.demos.autoencoder_demo",
                    "8-3-8 autoencoder: one-hot in and out, a binary-like 3-unit code"),
    "word2vec": ("nn.demos.word2vec_demo", "word2vec skip-gram/CBOW with negative sampling on "
                 "fortunes text (or --text FILE): nearest words and an analogy"),
    "charrnn": ("nn.demos.charrnn_demo", "character-level 2-layer LSTM on fortunes text "
                "(or --text FILE), sampling at several temperatures"),
    "gpt": ("nn.demos.gpt_demo", "character-level GPT (2 Transformer blocks) on fortunes text for 5 minutes "
            "(--seconds): AdamW, cosine schedule, samples, loss curve, attention heatmap"),
    "onnx": ("nn.demos.onnx_demo", "LeNet trained on Fashion-MNIST, exported with nn.onnx.export and run in "
             "onnxruntime, then its state_dict loaded into PyTorch; both checked against our outputs"),
}
DEFAULT_DEMO = "lenet"

__all__ = ["DEMOS", "DEFAULT_DEMO", "main"]


def main(argv=None):
    """Entry point of ``python -m nn.demos``; returns the exit code."""
    from nn.demos.__main__ import main as _main
    return _main(argv)
