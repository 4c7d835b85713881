/**
 * `@ldl/backbones/onnx`: tfjs layers models to ONNX (opset 17) in TypeScript, no Python, and NVIDIA Triton
 * model repositories for them. A separate entry so that protobufjs stays out of bundles that do not export.
 * @module @ldl/backbones/onnx
 */
export { exportOnnx, ONNX_OPSET, ONNX_IR_VERSION, ONNX_BATCH_DIM, ONNX_EXTRA_OUTPUTS, type ExportOnnxOptions, type OnnxLayout } from './export_onnx.js';
export { readOnnxModel, type OnnxModelInfo } from './proto.js';
export { tritonConfig, writeTritonRepository, type TritonOptions, type TritonRepositoryFiles } from './triton.js';
export { ONNX_PROTO_SOURCE } from './onnx_proto.js';
