"""minitorch.export: a model's eval graph to other runtimes (ONNX)."""
from .onnx import OnnxExportError, build_onnx_model, export_onnx

__all__ = ["export_onnx", "build_onnx_model", "OnnxExportError"]
