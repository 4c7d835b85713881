/**
 * The ONE name map between this package's TF.js weights and PyTorch state-dict keys, read by both
 * `importPyTorchWeights` and `exportPyTorchWeights`: pure renamings, applied forwards on import and
 * backwards on export.
 */

/** Naming convention of a state dict: timm's (this package's own), torchvision's or Cadene's `pretrainedmodels`. */
export type WeightSource = 'timm' | 'torchvision' | 'cadene';

/** TF.js parameter name → PyTorch parameter name. */
const PARAM_NAMES: Record<string, string> = {
  kernel: 'weight',
  bias: 'bias',
  gamma: 'weight',
  beta: 'bias',
  moving_mean: 'running_mean',
  moving_variance: 'running_var',
};

/** One renaming between a source's key and timm's: a key prefix (`at: 'start'`) or a module-path part (`'inside'`). */
interface Rename {
  /** The key part in the source's naming. */
  source: string;
  /** The same part in timm's naming. */
  timm: string;
  at: 'start' | 'inside';
  /** The source stores this convolution as an `nn.Linear` (`[out, in·kH·kW]`, the NCHW flattening). */
  linear?: boolean;
}

const RENAMES: Record<WeightSource, readonly Rename[]> = {
  timm: [],
  torchvision: [
    // torchvision VGG's Linear classifier ⇔ timm's ConvMlp (fc1 is the 7×7 conv, fc2 the 1×1) + head.
    { source: 'classifier.0.', timm: 'pre_logits.fc1.', at: 'start', linear: true },
    { source: 'classifier.3.', timm: 'pre_logits.fc2.', at: 'start', linear: true },
    { source: 'classifier.6.', timm: 'head.fc.', at: 'start' },
  ],
  // Cadene's `pretrainedmodels` SENet = timm's `legacy_se*` models (timm.models.senet).
  cadene: [
    { source: 'layer0.conv1.', timm: 'conv1.', at: 'start' },
    { source: 'layer0.bn1.', timm: 'bn1.', at: 'start' },
    { source: '.se_module.', timm: '.se.', at: 'inside' },
    { source: 'last_linear.', timm: 'fc.', at: 'start' },
  ],
};

/** The naming conventions known to the name map. */
export const WEIGHT_SOURCES = Object.keys(RENAMES) as WeightSource[];

/** Checks a `source` option. */
export function assertWeightSource(fn: string, arg: string, source: string): asserts source is WeightSource {
  if (!(source in RENAMES)) throw new Error(`Error in ${fn}: ${arg} must be one of ${WEIGHT_SOURCES.join(', ')}, but got '${source}'.`);
}

/**
 * The PyTorch (timm) key of a TF.js weight of a model built by this package: the weight's scoped name with
 * `/` → `.` and the TF parameter name mapped (`kernel`/`gamma` → `weight`, `beta` → `bias`,
 * `moving_mean` → `running_mean`, `moving_variance` → `running_var`), e.g.
 * `layer1.0/downsample/1/moving_mean` → `layer1.0.downsample.1.running_mean`.
 */
export function torchKeyOf(weightName: string): string {
  const parts = weightName.split('/');
  const param = parts.pop()!;
  const mapped = PARAM_NAMES[param];
  if (mapped === undefined) throw new Error(`Error in torchKeyOf: weightName must end in one of ${Object.keys(PARAM_NAMES).join(', ')}, but got '${weightName}'.`);
  return [...parts, mapped].join('.');
}

function apply(key: string, rule: Rename, from: string, to: string): string | null {
  if (rule.at === 'start') return key.startsWith(from) ? to + key.slice(from.length) : null;
  return key.includes(from) ? key.replace(from, to) : null;
}

/** Renames a state-dict key of `source` to this package's (timm) key; strips a DataParallel `module.` prefix. */
export function renameKey(key: string, source: WeightSource): string {
  let k = key.startsWith('module.') ? key.slice('module.'.length) : key;
  for (const rule of RENAMES[source]) k = apply(k, rule, rule.source, rule.timm) ?? k;
  return k;
}

/**
 * The inverse of {@link renameKey}: a timm key in `source`'s naming, and whether `source` stores that
 * tensor as an `nn.Linear` where timm has a convolution (torchvision VGG's classifier).
 */
export function sourceKeyOf(timmKey: string, source: WeightSource): { key: string; linear: boolean } {
  let key = timmKey;
  let linear = false;
  for (const rule of RENAMES[source]) {
    const renamed = apply(key, rule, rule.timm, rule.source);
    if (renamed !== null) {
      key = renamed;
      linear ||= rule.linear === true;
    }
  }
  return { key, linear };
}

/** timm keys of 2-D TF.js kernels that PyTorch holds as 1×1 convolutions `[out, in, 1, 1]` (timm's and Cadene's SE). */
export function isConv1x1Key(timmKey: string): boolean {
  return /(^|\.)se\.fc[12]\.weight$/.test(timmKey);
}
