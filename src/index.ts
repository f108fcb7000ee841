// The public API of gmn.
export { backends, resolveDevice, getThreads, setThreads, type DeviceOption } from './backend.js';
export { tensor, zeros, isTensor, type Tensor, type TensorOptions } from './tensor.js';
export { linearForward, linearBackward, preluForward, preluBackward } from './ops.js';
export type { BackendInfo, CpuBackendInfo, CudaBackendInfo, CudaDeviceInfo, DeviceName } from './native/binding.js';
export * from './data/index.js';
export { GMN, type GMNOptions, type LossResult, type Noise } from './model/gmn.js';
export { defaultConfig, resolveConfig, type GMNConfig } from './model/config.js';
export { parameterSpecs, type ParameterSpec } from './model/parameters.js';
export { Optimizer, defaultOptimizer, resolveOptimizer, type OptimizerConfig } from './train/optimizer.js';
export { learningRate, paperSchedule, checkSchedule, type Schedule } from './train/schedule.js';
export { saveCheckpoint, loadCheckpoint, restoreInto, type Checkpoint } from './train/checkpoint.js';
export {
  trainGMN,
  NonFiniteError,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
  type ValidationResult,
  type LossTerms,
} from './train/train.js';
export { loadModel, saveWeights, modelVariant, DEFAULT_MODEL } from './model/load.js';
export type { EpisodeStats, SampleEpisodesOptions } from './model/gmn.js';
export {
  evaluate,
  likelihoodTable,
  PROTOCOLS,
  type Protocol,
  type DataOptions,
  type EvaluateOptions,
  type EvaluateResult,
  type LikelihoodRow,
} from './eval/likelihood.js';
export { importanceWeights, logMeanExp, perPosition, type NoiseStream } from './eval/importance.js';
export { generate, gridRows, type GenerateOptions, type GenerateResult } from './eval/generate.js';
export { classify, classifyTable, wilson, CLASSIFY_METHODS, type ClassifyMethod, type ClassifyOptions, type ClassifyResult, type ClassifyRow } from './eval/classify.js';
export { loadImage, decodeImage, imageGrid, type LoadImageOptions } from './eval/images.js';
export type { NativeTensor, NativeBinding } from './native/binding.js';
export type { Parameters, Init } from './model/parameters.js';
export type { NamedArray } from './train/safetensors.js';
export type { Op } from './ops.js';
export type { AttentionSimilarity } from './native/ops/attention.js';
export { exportONNX, ONNX_GRAPHS, type OnnxGraph, type ExportOptions } from './onnx/export.js';
