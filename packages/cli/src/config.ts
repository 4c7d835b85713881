/**
 * Config files (`--config run.json` or `run.yaml`) and their merge with flags: a file holds settings by
 * their camelCase keys (see {@link OPTIONS}), plus `preset` and a `presets` section of per-preset
 * settings. Precedence, lowest first: the preset, the file's top level, the file's `presets.<name>`,
 * the flags. Relative paths in a file are relative to the file.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PRESETS } from '@ldl/train';
import { isScalar, parseDocument } from 'yaml';
import { type CommandName, type ExtraTrainValue, type OptionSpec, type OptionValue, OPTIONS_BY_KEY, type Settings } from './options';

/** A parsed config file. */
export interface ConfigFile {
  /** Absolute path of the file. */
  file: string;
  /** The preset it names, if any. */
  preset?: string;
  /** Its top-level settings (checked, paths absolute). */
  settings: Settings;
  /** Its per-preset settings (checked, paths absolute). */
  presets: Record<string, Settings>;
}

/** Where a value comes from, for error messages: a flag, or a key of a file (with its text there, when known). */
type Origin = { flag: string } | { file: string; key: string; text?: string };

const where = (o: Origin) => ('flag' in o ? `--${o.flag}` : `${o.file}: ${o.key}`);
const fnOf = (o: Origin) => ('flag' in o ? `--${o.flag}` : 'readConfigFile');

/** A value as the message shows it: JSON, except numbers JSON cannot spell (NaN, ±Infinity: not "null"). */
const shown = (v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : JSON.stringify(v));

function fail(origin: Origin, expected: string, got: unknown): never {
  const text = 'text' in origin && origin.text !== undefined && origin.text !== shown(got) ? ` (written ${origin.text})` : '';
  throw new Error(`Error in ${fnOf(origin)}: ${where(origin)} must be ${expected}, but got ${shown(got)}${text}.`);
}

function extraOf(v: unknown, origin: Origin, base: string): ExtraTrainValue {
  if (typeof v === 'string' && v !== '') return path.resolve(base, v);
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = v as { path?: unknown; trainPartOf?: { seed?: unknown; testFraction?: unknown } };
    const part = o.trainPartOf;
    if (typeof o.path === 'string' && part && Number.isInteger(part.seed) && typeof part.testFraction === 'number' && part.testFraction > 0 && part.testFraction < 1) {
      return { path: path.resolve(base, o.path), trainPartOf: { seed: part.seed as number, testFraction: part.testFraction } };
    }
  }
  return fail(origin, 'a dataset path or { path, trainPartOf: { seed: integer, testFraction: (0, 1) } }', v);
}

/**
 * Checks one value of a setting and converts it: from a flag (always a string, or `true`/`false` for
 * booleans, a list of strings for repeatable `extra`), or from a file (JSON/YAML types; a list may also be
 * a comma-separated string). Paths are resolved against `base`.
 * @throws Error `Error in --<flag>: --<flag> must be …, but got …` or `Error in readConfigFile: <file>: <key> must be …`.
 */
export function checkValue(spec: OptionSpec, raw: unknown, origin: Origin, base: string): OptionValue {
  const fromFlag = 'flag' in origin;
  switch (spec.kind) {
    case 'boolean':
      if (typeof raw !== 'boolean') fail(origin, 'true or false', raw);
      return raw as boolean;
    case 'string':
    case 'path': {
      if (typeof raw !== 'string' || raw === '') fail(origin, spec.choices ? `one of ${spec.choices.join(', ')}` : 'a non-empty string', raw);
      if (spec.choices && !spec.choices.includes(raw as string)) fail(origin, `one of ${spec.choices.join(', ')}`, raw);
      return spec.kind === 'path' ? path.resolve(base, raw as string) : (raw as string);
    }
    case 'number':
    case 'integer': {
      const n = fromFlag ? (typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN) : raw;
      const text = spec.check?.text ?? (spec.kind === 'integer' ? 'an integer' : 'a number');
      if (!fromFlag && typeof n === 'number' && !Number.isFinite(n)) fail(origin, `a finite number (${text})`, n);
      if (typeof n !== 'number' || !Number.isFinite(n) || (spec.kind === 'integer' && !Number.isInteger(n)) || (spec.check && !spec.check.test(n))) fail(origin, text, raw);
      return n as number;
    }
    case 'list': {
      const items = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()) : raw;
      if (!Array.isArray(items) || items.length === 0 || !items.every((s) => typeof s === 'string' && s !== '')) fail(origin, 'a comma-separated list (or an array of strings)', raw);
      return items as string[];
    }
    case 'extra': {
      const items = fromFlag ? (raw as unknown[]) : raw;
      if (!Array.isArray(items)) return fail(origin, 'an array of datasets', raw);
      return items.map((v) => extraOf(v, origin, base));
    }
  }
}

function checkSettings(obj: Record<string, unknown>, file: string, prefix: string, command: CommandName, textOf: (keyPath: string) => string | undefined): Settings {
  const out: Settings = {};
  for (const [key, raw] of Object.entries(obj)) {
    const spec = OPTIONS_BY_KEY.get(key);
    const origin = { file, key: `${prefix}${key}`, text: textOf(`${prefix}${key}`) };
    if (!spec) fail(origin, `a setting of 'ldl ${command}' (see ldl ${command} --help: the keys are the flags in camelCase, e.g. imageSize for --image-size)`, raw);
    if (!spec.commands.includes(command)) continue; // one file serves train, eval and predict: each reads its own settings
    out[key] = checkValue(spec, raw, origin, path.dirname(file));
  }
  return out;
}

/**
 * Reads a config file: JSON (`.json`) or YAML (`.yaml`, `.yml`), an object of settings by camelCase key,
 * with an optional `preset` name and `presets: { <name>: { …settings } }`. Settings of the other commands
 * are checked by name only and left out (one file serves `train`, `eval` and `predict`).
 * @throws Error naming the file and the key of the first unknown or invalid setting, or of a `presets`
 *   section whose name is not a preset's.
 */
export function readConfigFile(file: string, command: CommandName): ConfigFile {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new Error(`Error in readConfigFile: --config ${file} must be a readable file, but got ${(e as Error).message}.`);
  }
  let json: unknown;
  let textOf: (keyPath: string) => string | undefined;
  const yaml = /\.ya?ml$/i.test(abs);
  try {
    if (yaml) {
      const doc = parseDocument(text);
      if (doc.errors.length > 0) throw doc.errors[0];
      json = doc.toJS() as unknown;
      // The value as written (`.nan`, `1e999`), for messages about values YAML turned into NaN or Infinity.
      textOf = (keyPath) => {
        const node = doc.getIn(keyPath.split('.'), true);
        return isScalar(node) && node.range ? text.slice(node.range[0], node.range[1]) : undefined;
      };
    } else {
      // JSON.parse turns 1e999 into Infinity: the text is found again by the key (top level or presets.<name>.<key>).
      json = JSON.parse(text) as unknown;
      textOf = (keyPath) => text.match(new RegExp(`"${keyPath.split('.').at(-1)!.replace(/[^\w]/g, '')}"\\s*:\\s*([^,}\\]\\s]+)`))?.[1];
    }
  } catch (e) {
    throw new Error(`Error in readConfigFile: ${abs} must be ${yaml ? 'YAML' : 'JSON (or name a .yaml file)'}, but it does not parse: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail({ file: abs, key: 'the file' }, 'an object of settings', json);
  const { preset, presets = {}, ...rest } = json as Record<string, unknown>;
  if (preset !== undefined && (typeof preset !== 'string' || preset === '')) fail({ file: abs, key: 'preset' }, 'a preset name', preset);
  if (typeof presets !== 'object' || presets === null || Array.isArray(presets)) fail({ file: abs, key: 'presets' }, 'an object { <preset>: { …settings } }', presets);
  const perPreset: Record<string, Settings> = {};
  for (const [name, obj] of Object.entries(presets as Record<string, unknown>)) {
    // `start` is not a preset of its own: it runs finetune-head or small, and their sections apply.
    if (!(name in PRESETS)) fail({ file: abs, key: `presets.${name}` }, `a section named by a preset (${Object.keys(PRESETS).join(', ')})`, name);
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) fail({ file: abs, key: `presets.${name}` }, 'an object of settings', obj);
    perPreset[name] = checkSettings(obj as Record<string, unknown>, abs, `presets.${name}.`, command, textOf);
  }
  return { file: abs, preset: preset as string | undefined, settings: checkSettings(rest, abs, '', command, textOf), presets: perPreset };
}

/**
 * Checks the flags given on the command line (commander's values of the options whose source is the
 * command line) and converts them by the table; paths are resolved against the working directory.
 */
export function checkFlags(values: Record<string, unknown>, given: (key: string) => boolean): Settings {
  const out: Settings = {};
  for (const [key, raw] of Object.entries(values)) {
    const spec = OPTIONS_BY_KEY.get(key);
    if (!spec || !given(key)) continue;
    // `--no-extra-train` sets false: no extra data at all.
    if (spec.kind === 'extra' && raw === false) out[key] = [];
    else out[key] = checkValue(spec, raw, { flag: spec.flag }, process.cwd());
  }
  return out;
}
