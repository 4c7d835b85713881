/**
 * `@ldl/cli`: the `ldl` command — `train`, `eval`, `predict` (age models of @ldl/train, from flags and/or a
 * JSON/YAML config file), `preprocessor`, `prep` (@ldl/face-prep) and `cv` (@ldl/algorithms).
 *
 * @module @ldl/cli
 */
export { createProgram, runCli } from './program';
export { readConfigFile, checkFlags, checkValue, type ConfigFile } from './config';
export { resolveSettings, PRESET_NAMES, START_PRESET, type ResolvedSettings } from './commands';
export { OPTIONS, OPTIONS_BY_KEY, keyOf, type OptionSpec, type OptionKind, type OptionValue, type Settings, type CommandName, type ExtraTrainValue } from './options';
