import {
  add,
  clone,
  backend_util,
  type FusedBatchNormAttrs,
  FusedBatchNorm,
  type GradConfig,
  mul,
  reshape,
  rsqrt,
  scalar,
  sub,
  sum,
  tidy,
  type NamedAttrMap,
  type Tensor,
} from '@tensorflow/tfjs-core';

/**
 * Gradient of `FusedBatchNorm` (`tf.batchNorm`) with the same partial
 * derivatives as tfjs-core's, computed with broadcasting instead of `Tile` and
 * with the shared reductions done once: `dx = dy·γ/σ`,
 * `dmean = −Σdy·γ/σ`, `dvariance = −½·γ/σ³·Σdy·(x−μ)`, `dscale = Σdy·(x−μ)/σ`,
 * `doffset = Σdy` (sums over the axes `mean` is broadcast along).
 *
 * These are partial derivatives: where `mean` and `variance` are batch
 * statistics of `x` (tfjs-layers `BatchNormalization` in training computes them
 * with `tf.moments`), the rest of the total gradient flows through the
 * `moments` ops, exactly as with the stock gradient.
 */
export const fusedBatchNormGradConfig: GradConfig = {
  kernelName: FusedBatchNorm,
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const { varianceEpsilon } = attrs as unknown as FusedBatchNormAttrs;
    const [x, mean, variance, scale] = saved as [Tensor, Tensor, Tensor, Tensor | undefined];
    const g = dy as Tensor;
    const axes = backend_util.getReductionAxes(mean.shape, x.shape);
    const reduce = (t: Tensor) => reshape(axes.length > 0 ? sum(t, axes) : t, mean.shape);
    const rsigma = rsqrt(add(variance, scalar(varianceEpsilon)));
    const gain = scale == null ? rsigma : mul(scale, rsigma);
    // The two sums are shared by four partials: computed once here, inside a tidy so that the
    // full-size temporaries are freed now rather than at the end of the backward pass.
    const [dySum, dyCenteredSum] = tidy(() => [reduce(g), reduce(mul(g, sub(x, mean)))]) as [Tensor, Tensor];
    return {
      x: () => reshape(mul(g, gain), x.shape),
      mean: () => mul(dySum, mul(gain, scalar(-1))),
      variance: () => mul(dyCenteredSum, mul(mul(gain, mul(rsigma, rsigma)), scalar(-0.5))),
      scale: () => mul(dyCenteredSum, rsigma),
      offset: () => clone(dySum),
    };
  },
};
