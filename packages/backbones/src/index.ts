/**
 * `@ldl/backbones`: ImageNet CNN backbones for TensorFlow.js layers — one ResNet / ResNeXt /
 * SE-ResNeXt family and VGG16-BN equal to timm's, grouped convolution, the multi-task age model,
 * PyTorch (safetensors) weight import and file-system save/load.
 * @module @ldl/backbones
 */
export { GroupedConv2D, type GroupedConv2DArgs } from './layers/grouped_conv2d_layer.js';
export { SqueezeExcite, squeezeExcite, makeDivisible, type SqueezeExciteArgs, type SqueezeExciteWeights } from './layers/squeeze_excite.js';
export { Bottleneck, type BottleneckArgs } from './layers/bottleneck.js';
export { BasicBlock, type BasicBlockArgs } from './layers/basic_block.js';
export { ResNetBlock, type ResNetBlockArgs } from './layers/resnet_block.js';
export { BatchNorm, applyBatchNorm, type BatchNormArgs, type BatchNormVariables } from './layers/batch_norm.js';
export { AdaptiveAvgPool2D, adaptiveAvgPool2d, type AdaptiveAvgPool2DArgs } from './layers/adaptive_avg_pool.js';
export { resnet, RESNET_STAGES, type ResNetConfig } from './models/resnet.js';
export { vgg, VGG16_CFG, type VggConfig, type VggLayerSpec } from './models/vgg.js';
export {
  resnet18,
  resnet34,
  resnet50,
  resnext50_32x4d,
  seresnext50_32x4d,
  vgg16bn,
  backbones,
  getFeatureModel,
  splitModel,
  type SplitModel,
  featureLayer,
  multiTaskAgeModel,
  RESNET_VARIANTS,
  type BackboneName,
  type ResNetName,
  type VariantConfig,
  type MultiTaskAgeModelConfig,
} from './models/variants.js';
export { readSafetensors, readSafetensorsMetadata, writeSafetensors, type SafetensorsEntry, type StateDict } from './weights/safetensors.js';
export { importPyTorchWeights, type ImportOptions, type ImportReport } from './weights/import_weights.js';
export { exportPyTorchWeights, timmModelName, PYTORCH_METADATA, type ExportOptions } from './weights/export_weights.js';
export { renameKey, sourceKeyOf, torchKeyOf, isConv1x1Key, WEIGHT_SOURCES, type WeightSource } from './weights/names.js';
export { toTfLayout, toTorchLayout, type TorchForm } from './weights/layout.js';
export { fileSystem, saveModel, loadModel, MODEL_JSON, WEIGHTS_BIN } from './io/file_system.js';
export {
  DlibConv,
  DlibResidual,
  faceRecognitionNet,
  FACEREC_STAGES,
  type DlibConvArgs,
  type DlibResidualArgs,
  type FaceRecognitionNetConfig,
} from './models/face_recognition_net.js';
export { ageGenderNet, type AgeGenderNetConfig } from './models/age_gender_net.js';
export { faceResMobileNet, foldFaceResWeights, type FaceResMobileNetConfig } from './models/faceres_mobilenet.js';
export { readTfjsWeights, loadWeightMap, namedWeights, type LoadWeightMapOptions, type LoadWeightMapReport } from './weights/tfjs_weights.js';
export {
  createModel,
  getPretrainedCfg,
  listPretrained,
  resolvePackageFile,
  kerasResNetWeightName,
  IMAGENET_PREPROCESSING,
  type CreateModelOptions,
  type CreatedModel,
  type ModelName,
  type PretrainedCfg,
  type Preprocessing,
  type ColorOrder,
} from './pretrained.js';
export { ResizeBilinear, type ResizeBilinearArgs } from './layers/resize.js';
