"""nn: layers, losses, initialisers, optimizers and data utilities on top of the autodiff engine.

The public API, re-exported with PyTorch's names: ``nn.Module``, ``nn.Linear``, ``nn.CrossEntropyLoss``,
``nn.functional``, ``nn.init``, ``nn.utils``, ``nn.optim``, ``nn.data``, ``nn.metrics``,
``nn.save`` / ``nn.load``.
"""
from . import functional, init, utils
from .layers import (ELU, ArcTan, BatchNorm1d, BatchNorm2d, Dropout, Embedding, Flatten, Identity,
                     LayerNorm, LeakyReLU, Linear, LogSoftmax, PReLU, ReLU, Sigmoid, Softmax, Softplus,
                     Step, Tanh)
from .layers import (CELU, GLU, SELU, CosineSimilarity, Hardshrink, Hardsigmoid, Hardswish, Hardtanh, LogSigmoid,
                     Mish, PairwiseDistance, ReLU6, RReLU, Softmax2d, Softmin, Softshrink, Softsign, Tanhshrink,
                     Threshold)
from .layers import (GELU, MultiheadAttention, SiLU, Transformer, TransformerDecoder, TransformerDecoderLayer,
                     TransformerEncoder, TransformerEncoderLayer)
from .losses import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HalfSSE, L1Loss, MSELoss, NLLLoss,
                     SSELoss)
from .losses import (CosineEmbeddingLoss, GaussianNLLLoss, HingeEmbeddingLoss, HuberLoss, KLDivLoss,
                     MarginRankingLoss, MultiLabelMarginLoss, MultiLabelSoftMarginLoss, MultiMarginLoss,
                     PoissonNLLLoss, SmoothL1Loss, SoftMarginLoss, TripletMarginLoss, TripletMarginWithDistanceLoss)
from .layers import (ConvTranspose1d, ConvTranspose2d, Fold, PixelShuffle, PixelUnshuffle, Unflatten, Unfold,
                     Upsample, UpsamplingBilinear2d, UpsamplingNearest2d)
from .module import IncompatibleKeys, Module, ModuleDict, ModuleList, Parameter, Sequential
from .layers import (GRU, LSTM, RNN, AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, Conv1d,
                     Conv2d, GRUCell, JordanRNN, LSTMCell, MaxPool1d, MaxPool2d, RNNCell)
from .layers import (AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d, AvgPool3d, Conv3d,
                     ConvTranspose3d, LPPool1d, LPPool2d, LPPool3d, MaxPool3d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d)
from .layers import (CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d,
                     ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d,
                     ReplicationPad3d, ZeroPad1d, ZeroPad2d, ZeroPad3d)
from .layers import ParameterDict, ParameterList
from .layers import GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .layers import AlphaDropout, Dropout1d, Dropout2d, Dropout3d
from . import data, metrics, optim
from .checkpoint import load, save
from .train import evaluate, fit, predict
from .diagnostics import TrainingRecorder


def __getattr__(name):
    """``nn.onnx`` is imported on first use (as ``torch.onnx``): only exporting needs it."""
    if name == "onnx":
        import importlib
        return importlib.import_module(".onnx", __name__)
    raise AttributeError(f"module 'nn' has no attribute {name!r}")
