"""``minitorch.nn``: Module, Parameter, layers, losses, ``functional`` and ``init``."""
from minitorch.nn import functional, init, utils
from minitorch.nn.module import Module
from minitorch.nn.modules import (ELU, GELU, AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d,
                                  AvgPool2d, BatchNorm1d, BatchNorm2d, BCELoss, BCEWithLogitsLoss,
                                  Conv1d, Conv2d, CrossEntropyLoss, Dropout, Dropout2d,
                                  Embedding, Flatten, Hardtanh, HuberLoss, Identity, L1Loss,
                                  LayerNorm, LeakyReLU, Linear, LogSoftmax, MaxPool1d, MaxPool2d,
                                  ModuleDict, ModuleList, MSELoss, NLLLoss, ReLU, ReLU6,
                                  Sequential, Sigmoid, SiLU, SmoothL1Loss, Softmax, Softplus,
                                  Tanh, Unflatten, Upsample)
from minitorch.nn.modules import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell
from minitorch.nn.modules import ParameterDict, ParameterList
from minitorch.nn.modules import (MultiheadAttention, Transformer, TransformerDecoder,
                                  TransformerDecoderLayer, TransformerEncoder,
                                  TransformerEncoderLayer)
from minitorch.nn.parameter import Parameter

# more layers PyTorch programs use: transposed convs, norms, activations, losses, shapes
from minitorch.nn.modules import ConvTranspose1d, ConvTranspose2d
from minitorch.nn.modules import (GroupNorm, InstanceNorm1d, InstanceNorm2d, RMSNorm,
                                  LocalResponseNorm)
from minitorch.nn.modules import (SELU, CELU, Hardswish, Hardsigmoid, Mish, LogSigmoid, Softsign,
                                  Softmin, Softshrink, Hardshrink, Tanhshrink, Threshold, GLU,
                                  RReLU, PReLU)
from minitorch.nn.modules import (KLDivLoss, MarginRankingLoss, TripletMarginLoss,
                                  CosineEmbeddingLoss, HingeEmbeddingLoss, SoftMarginLoss,
                                  MultiLabelSoftMarginLoss, GaussianNLLLoss, PoissonNLLLoss,
                                  CosineSimilarity, PairwiseDistance)
from minitorch.nn.modules import (ZeroPad1d, ZeroPad2d, ConstantPad1d, ConstantPad2d,
                                  ReflectionPad1d, ReflectionPad2d, ReplicationPad1d,
                                  ReplicationPad2d, CircularPad1d, CircularPad2d)
from minitorch.nn.modules import PixelShuffle, PixelUnshuffle
from minitorch.nn.modules import Unfold, Fold
from minitorch.nn.modules import AdaptiveMaxPool1d, AdaptiveMaxPool2d
from minitorch.nn.modules import UpsamplingNearest2d, UpsamplingBilinear2d
from minitorch.nn.modules import Bilinear
__all__ = ["Module", "Parameter", "Linear", "Conv2d", "BatchNorm1d", "BatchNorm2d", "ReLU",
           "Sigmoid", "Tanh", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Flatten", "Dropout",
           "Identity", "Sequential", "ModuleList", "ModuleDict", "CrossEntropyLoss", "MSELoss",
           "NLLLoss", "Softmax", "LogSoftmax", "functional", "init", "utils",
           # issue 12
           "LeakyReLU", "GELU", "SiLU", "Softplus", "ELU", "Hardtanh", "ReLU6", "LayerNorm",
           "Embedding", "Conv1d", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d", "Dropout2d",
           "Upsample", "Unflatten", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss",
           "BCEWithLogitsLoss",
           # recurrent layers
           "RNNBase", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell",
           "ParameterList", "ParameterDict",
           # attention and transformer layers
           "MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer",
           "TransformerEncoder", "TransformerDecoder", "Transformer"]
# more layers PyTorch programs use: transposed convs, norms, activations, losses, shapes
__all__ += ["ConvTranspose1d", "ConvTranspose2d", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d",
            "RMSNorm", "LocalResponseNorm", "SELU", "CELU", "Hardswish", "Hardsigmoid", "Mish",
            "LogSigmoid", "Softsign", "Softmin", "Softshrink", "Hardshrink", "Tanhshrink",
            "Threshold", "GLU", "RReLU", "PReLU", "KLDivLoss", "MarginRankingLoss",
            "TripletMarginLoss", "CosineEmbeddingLoss", "HingeEmbeddingLoss", "SoftMarginLoss",
            "MultiLabelSoftMarginLoss", "GaussianNLLLoss", "PoissonNLLLoss", "CosineSimilarity",
            "PairwiseDistance", "ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d",
            "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d",
            "CircularPad1d", "CircularPad2d", "PixelShuffle", "PixelUnshuffle", "Unfold", "Fold",
            "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "UpsamplingNearest2d",
            "UpsamplingBilinear2d", "Bilinear"]
