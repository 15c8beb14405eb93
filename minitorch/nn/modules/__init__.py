"""The layer modules, one family per file."""
from minitorch.nn.modules.activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from minitorch.nn.modules.activation_more import (ELU, GELU, Hardtanh, LeakyReLU, ReLU6, SiLU,
                                                  Softplus)
from minitorch.nn.modules.activation_attention import (MultiheadAttention,
                                                        NonDynamicallyQuantizableLinear)
from minitorch.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d
from minitorch.nn.modules.container import ModuleDict, ModuleList, Sequential
from minitorch.nn.modules.container_params import ParameterDict, ParameterList
from minitorch.nn.modules.conv import Conv2d
from minitorch.nn.modules.conv1d import Conv1d
from minitorch.nn.modules.dropout import Dropout, Dropout2d
from minitorch.nn.modules.flatten import Flatten, Unflatten
from minitorch.nn.modules.linear import Identity, Linear
from minitorch.nn.modules.loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss,
                                       L1Loss, MSELoss, NLLLoss, SmoothL1Loss)
from minitorch.nn.modules.normalization import LayerNorm
from minitorch.nn.modules.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from minitorch.nn.modules.pooling1d import AdaptiveAvgPool1d, AvgPool1d, MaxPool1d
from minitorch.nn.modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell
from minitorch.nn.modules.sparse import Embedding
from minitorch.nn.modules.transformer import (Transformer, TransformerDecoder,
                                              TransformerEncoder)
from minitorch.nn.modules.transformer_layer import (TransformerDecoderLayer,
                                                    TransformerEncoderLayer)
from minitorch.nn.modules.upsampling import Upsample

# more layers PyTorch programs use: transposed convs, norms, activations, losses, shapes
from minitorch.nn.modules.conv_transpose import ConvTranspose1d, ConvTranspose2d
from minitorch.nn.modules.normalization_extra import (GroupNorm, InstanceNorm1d, InstanceNorm2d,
                                                      RMSNorm, LocalResponseNorm)
from minitorch.nn.modules.activation_extra import (SELU, CELU, Hardswish, Hardsigmoid, Mish,
                                                   LogSigmoid, Softsign, Softmin, Softshrink,
                                                   Hardshrink, Tanhshrink, Threshold, GLU, RReLU,
                                                   PReLU)
from minitorch.nn.modules.loss_extra import (KLDivLoss, MarginRankingLoss, TripletMarginLoss,
                                             CosineEmbeddingLoss, HingeEmbeddingLoss,
                                             SoftMarginLoss, MultiLabelSoftMarginLoss,
                                             GaussianNLLLoss, PoissonNLLLoss, CosineSimilarity,
                                             PairwiseDistance)
from minitorch.nn.modules.padding import (ZeroPad1d, ZeroPad2d, ConstantPad1d, ConstantPad2d,
                                          ReflectionPad1d, ReflectionPad2d, ReplicationPad1d,
                                          ReplicationPad2d, CircularPad1d, CircularPad2d)
from minitorch.nn.modules.pixelshuffle import PixelShuffle, PixelUnshuffle
from minitorch.nn.modules.fold import Unfold, Fold
from minitorch.nn.modules.adaptive_max_pool import AdaptiveMaxPool1d, AdaptiveMaxPool2d
from minitorch.nn.modules.upsampling_fixed import UpsamplingNearest2d, UpsamplingBilinear2d
from minitorch.nn.modules.bilinear import Bilinear
__all__ = ["Linear", "Identity", "Conv2d", "BatchNorm1d", "BatchNorm2d", "ReLU", "Sigmoid",
           "Tanh", "Softmax", "LogSoftmax", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
           "Flatten", "Dropout", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
           "CrossEntropyLoss",
           "MSELoss", "NLLLoss",
           # issue 12
           "LeakyReLU", "GELU", "SiLU", "Softplus", "ELU", "Hardtanh", "ReLU6", "LayerNorm",
           "Embedding", "Conv1d", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d", "Dropout2d",
           "Upsample", "Unflatten", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss",
           "BCEWithLogitsLoss",
           # recurrent layers
           "RNNBase", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell",
           # attention and transformer layers
           "MultiheadAttention", "NonDynamicallyQuantizableLinear", "TransformerEncoderLayer",
           "TransformerDecoderLayer", "TransformerEncoder", "TransformerDecoder", "Transformer"]
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
