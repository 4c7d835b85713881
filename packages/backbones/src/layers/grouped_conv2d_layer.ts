import { add, serialization, tidy, type Tensor, type Tensor4D } from '@tensorflow/tfjs-core';
import { initializers, layers, type LayerVariable } from '@tensorflow/tfjs-layers';
import { groupedConv2d } from '@ldl/kernels/ops';
import { heNormalFanOut, singleInput, singleShape, type BaseLayerArgs, type LayerShape } from './common.js';

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

/** Arguments of {@link GroupedConv2D}. */
export interface GroupedConv2DArgs extends NonNullable<BaseLayerArgs> {
  /** Output channels; divisible by `groups`. */
  filters: number;
  /** Kernel size `k` or `[kH, kW]`. */
  kernelSize: number | [number, number];
  /** Number of groups; input channels must be divisible by it. @default 1 */
  groups?: number;
  /** Stride. @default 1 */
  strides?: number | [number, number];
  /** Symmetric zero padding in pixels per side (PyTorch `padding`). @default 0 */
  padding?: number | [number, number];
  /** Dilation. @default 1 */
  dilationRate?: number | [number, number];
  /** Adds a bias `[filters]` (initialised to zero). @default false */
  useBias?: boolean;
}

/**
 * Grouped 2-D convolution layer (PyTorch `nn.Conv2d(..., groups=G)`), NHWC, one kernel variable
 * `kernel` of shape `[kH, kW, in/groups, filters]` (PyTorch weight transposed `(2, 3, 1, 0)`),
 * optional `bias` `[filters]`, running `groupedConv2d` of @ldl/kernels (its kernel where registered).
 * Initialised He-normal (fan-out) like timm's ResNets.
 */
export class GroupedConv2D extends layers.Layer {
  /** Serialization class name. */
  static className = 'GroupedConv2D';
  /** Resolved `filters` (see {@link GroupedConv2DArgs}). */
  readonly filters: number;
  /** Resolved `kernelSize` (see {@link GroupedConv2DArgs}). */
  readonly kernelSize: [number, number];
  /** Resolved `groups` (see {@link GroupedConv2DArgs}). */
  readonly groups: number;
  /** Resolved `strides` (see {@link GroupedConv2DArgs}). */
  readonly strides: [number, number];
  /** Resolved `padding` (see {@link GroupedConv2DArgs}). */
  readonly padding: [number, number];
  /** Resolved `dilationRate` (see {@link GroupedConv2DArgs}). */
  readonly dilationRate: [number, number];
  /** Resolved `useBias` (see {@link GroupedConv2DArgs}). */
  readonly useBias: boolean;
  private kernel?: LayerVariable;
  private bias?: LayerVariable;

  constructor(args: GroupedConv2DArgs) {
    super(args);
    this.filters = args.filters;
    this.kernelSize = pair(args.kernelSize);
    this.groups = args.groups ?? 1;
    this.strides = pair(args.strides ?? 1);
    this.padding = pair(args.padding ?? 0);
    this.dilationRate = pair(args.dilationRate ?? 1);
    this.useBias = args.useBias ?? false;
    if (!Number.isInteger(this.groups) || this.groups < 1 || this.filters % this.groups !== 0) {
      throw new Error(`Error in GroupedConv2D: filters must be divisible by groups = ${this.groups}, but got ${this.filters}.`);
    }
  }

  override build(inputShape: LayerShape | LayerShape[]): void {
    const cin = singleShape(inputShape)[3];
    if (cin == null || cin % this.groups !== 0) {
      throw new Error(`Error in GroupedConv2D: input channels must be divisible by groups = ${this.groups}, but got ${cin}.`);
    }
    this.kernel = this.addWeight('kernel', [...this.kernelSize, cin / this.groups, this.filters], 'float32', heNormalFanOut());
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: LayerShape | LayerShape[]): LayerShape {
    const [n, h, w] = singleShape(inputShape);
    const out = (size: number | null | undefined, i: 0 | 1): number | null =>
      size == null
        ? null
        : Math.floor((size + 2 * this.padding[i] - this.dilationRate[i] * (this.kernelSize[i] - 1) - 1) / this.strides[i]) + 1;
    return [n ?? null, out(h, 0), out(w, 1), this.filters];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tidy(() => {
      const y = groupedConv2d(singleInput(inputs) as Tensor4D, this.kernel!.read() as Tensor4D, {
        groups: this.groups,
        strides: this.strides,
        pad: this.padding,
        dilations: this.dilationRate,
      });
      return this.bias ? add(y, this.bias.read()) : y;
    });
  }

  override getConfig(): serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      groups: this.groups,
      strides: this.strides,
      padding: this.padding,
      dilationRate: this.dilationRate,
      useBias: this.useBias,
    };
  }
}
serialization.registerClass(GroupedConv2D, '@ldl/backbones');
