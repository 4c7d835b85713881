import { AdamOptimizer, engine, scalar, tidy, zerosLike, type Variable } from '@tensorflow/tfjs-core';

import { adamUpdate } from './ops/adam_update';
import { LdlAdamUpdate, type AdamUpdateAttrs } from './ops/kernel_names';
import { kernelsRegistered } from './ops/op_utils';

/** `Optimizer.applyGradients`' argument (tfjs-core does not export these types from its index). */
type VariableGradients = Parameters<AdamOptimizer['applyGradients']>[0];

/** AdamOptimizer's own state, read here to update it in place (checkpoints stay interchangeable). */
interface AdamState {
  accBeta1: Variable;
  accBeta2: Variable;
  accumulatedFirstMoment: { originalName: string; variable: Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: Variable }[];
}

/**
 * tfjs's `AdamOptimizer` (same hyper-parameters, state, `getWeights`/`setWeights` and checkpoints)
 * whose update runs the {@link adamUpdate} op per variable: one `LdlAdamUpdate` kernel where the current backend
 * registers it (`enableFastKernels()`: webgpu — 3 dispatches a variable instead of ~14 plus 6 scalar
 * uploads — and cpu, one JS loop), and the stock update elsewhere (wasm, whose stock ops are faster
 * than a JS loop; tfjs-node).
 */
export class FusedAdamOptimizer extends AdamOptimizer {
  /**
   * Learning-rate multipliers by variable name (PyTorch parameter groups: e.g. 0.03 for a pretrained
   * backbone, 1 for a new head); variables not listed use 1. Empty: every variable at `learningRate`.
   */
  lrScales: ReadonlyMap<string, number> = new Map();

  /** The current base learning rate. */
  getLearningRate(): number {
    return this.learningRate;
  }

  /**
   * Sets the base learning rate for the next steps (a schedule), keeping the moments and step count.
   * @throws Error when `lr` is not a finite number ≥ 0.
   */
  setLearningRate(lr: number): void {
    if (!(Number.isFinite(lr) && lr >= 0)) throw new Error(`Error in FusedAdamOptimizer.setLearningRate: lr must be a finite number ≥ 0, but got ${lr}.`);
    this.learningRate = lr;
  }

  override applyGradients(variableGradients: VariableGradients): void {
    // No kernel and no parameter groups: tfjs's own update (bit-identical to tf.train.adam, whose bias
    // corrections are float32 running products where adamUpdate's are `1 − βᵗ` in double).
    if (!kernelsRegistered([LdlAdamUpdate]) && this.lrScales.size === 0) {
      super.applyGradients(variableGradients);
      return;
    }
    const state = this as unknown as AdamState;
    if (!Array.isArray(state.accumulatedFirstMoment) || !Array.isArray(state.accumulatedSecondMoment) || state.accBeta1 == null) {
      throw new Error('Error in FusedAdamOptimizer: tfjs AdamOptimizer must keep accBeta1 and accumulatedFirst/SecondMoment, but this version does not.');
    }
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    // accBeta1 = β₁ᵗ at step t = iterations + 1, as AdamOptimizer keeps (and setWeights restores) it.
    const t = this.iterations + 1;
    const attrs: AdamUpdateAttrs = {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      correction1: 1 - this.beta1 ** t,
      correction2: 1 - this.beta2 ** t,
    };
    tidy(() => {
      names.forEach((name, i) => {
        const value = engine().registeredVariables[name];
        if (value == null) throw new Error(`Error in FusedAdamOptimizer: variable ${name} must be registered, but got none.`);
        state.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tidy(() => zerosLike(value).variable(false)) };
        state.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tidy(() => zerosLike(value).variable(false)) };
        const gradient = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
        if (gradient == null) return;
        const m = state.accumulatedFirstMoment[i]!.variable;
        const v = state.accumulatedSecondMoment[i]!.variable;
        const scaled = { ...attrs, learningRate: attrs.learningRate * (this.lrScales.get(name) ?? 1) };
        const [value2, m2, v2] = adamUpdate(value, m, v, gradient, scaled);
        m.assign(m2!);
        v.assign(v2!);
        value.assign(value2!);
      });
      state.accBeta1.assign(scalar(this.beta1 ** (t + 1)));
      state.accBeta2.assign(scalar(this.beta2 ** (t + 1)));
    });
    this.incrementIterations();
  }
}

/**
 * `tf.train.adam` with the fused update of {@link FusedAdamOptimizer}.
 *
 * @param learningRate @default 0.001
 * @param beta1 @default 0.9
 * @param beta2 @default 0.999
 * @param epsilon @default tfjs's backend epsilon (1e-7 for float32)
 */
export function fusedAdam(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon?: number): FusedAdamOptimizer {
  return new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon);
}
