"""Layers: dense, convolution, pooling, recurrent, dropout, embedding, normalisation and activations."""
from .activation import (ELU, ArcTan, LeakyReLU, LogSoftmax, PReLU, ReLU, Sigmoid, Softmax, Softplus,
                         Step, Tanh)
from .activation_extra import (CELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh, LogSigmoid, Mish,
                               ReLU6, RReLU, Softmax2d, Softmin, Softshrink, Softsign, Tanhshrink, Threshold)
from .distance import CosineSimilarity, PairwiseDistance
from .activation import GELU, SiLU
from .attention import MultiheadAttention
from .transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
                          TransformerEncoderLayer)
from .conv_transpose import ConvTranspose1d, ConvTranspose2d
from .resample import (Fold, PixelShuffle, PixelUnshuffle, Unflatten, Unfold, Upsample, UpsamplingBilinear2d,
                       UpsamplingNearest2d)
from .dropout import Dropout
from .dropout_extra import AlphaDropout, Dropout1d, Dropout2d, Dropout3d
from .norm_extra import GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .parameter_containers import ParameterDict, ParameterList
from .padding import (CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d,
                      ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d,
                      ReplicationPad3d, ZeroPad1d, ZeroPad2d, ZeroPad3d)
from .embedding import Embedding
from .linear import Flatten, Identity, Linear
from .norm import BatchNorm1d, BatchNorm2d, LayerNorm
from .conv import Conv1d, Conv2d
from .pool import AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from .recurrent import GRU, LSTM, RNN, GRUCell, JordanRNN, LSTMCell, RNNCell
from .conv3d import Conv3d, ConvTranspose3d
from .pool3d import (AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d, AvgPool3d, LPPool1d,
                     LPPool2d, LPPool3d, MaxPool3d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d)
