import { type BatchMatMulAttrs, type KernelBackend, type KernelFunc, type NamedAttrMap, type TensorInfo, util } from '@tensorflow/tfjs-core';

import { withContext } from './kernel_context';

/**
 * Multiply-adds per batch item, and output columns, from which a batched
 * product runs as one XNNPACK matMul per batch item rather than in wasm's
 * generic batched loop (~10× slower per flop). Below them, slicing the left
 * operand apart costs more than the generic loop (measured
 * here: `8×[256,256]×[256,256]` 284 → 47 ms, while `32×[6272,36]×[36,4]`
 * gets slower one item at a time).
 */
const PER_BATCH_MIN_MACS = 1 << 18;
const PER_BATCH_MIN_COLUMNS = 32;

/**
 * `BatchMatMul` for wasm: its kernel takes XNNPACK's fast path only for one
 * un-transposed batch, and falls back to a generic loop ~10× slower otherwise
 * (a transposed left operand: ~15×). This kernel transposes operands
 * explicitly, folds a shared right operand into one product
 * (`[B·M, K] × [K, N]`), and runs large batches one product at a time.
 *
 * @param stock wasm's own `BatchMatMul`, used for every product.
 */
export function batchMatMulKernel(backendName: string, stock: KernelFunc) {
  return ({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo>; backend: KernelBackend; attrs?: NamedAttrMap }) =>
    withContext(backendName, backend, (ctx) => {
      const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
      const a0 = inputs.a as TensorInfo;
      const b0 = inputs.b as TensorInfo;
      const ra = a0.shape.length;
      const rb = b0.shape.length;
      const batchA = util.sizeFromShape(a0.shape.slice(0, -2));
      const batchB = util.sizeFromShape(b0.shape.slice(0, -2));
      const as3 = (t: TensorInfo, batch: number, r: number) => ctx.reshape(t, [batch, t.shape[r - 2] as number, t.shape[r - 1] as number]);
      const a = transposeA ? ctx.transpose(as3(a0, batchA, ra), [0, 2, 1]) : as3(a0, batchA, ra);
      const b = transposeB ? ctx.transpose(as3(b0, batchB, rb), [0, 2, 1]) : as3(b0, batchB, rb);
      const [, m, k] = a.shape as [number, number, number];
      const n = b.shape[2] as number;
      const outBatchShape = (ra >= rb ? a0.shape : b0.shape).slice(0, -2);
      const product = (x: TensorInfo, y: TensorInfo) =>
        ctx.adopt(stock({ inputs: { a: x, b: y }, backend, attrs: { transposeA: false, transposeB: false } }) as TensorInfo);
      let out: TensorInfo;
      if (batchA === 1 && batchB === 1) {
        out = product(a, b);
      } else if (batchB === 1) {
        out = product(ctx.reshape(a, [1, batchA * m, k]), b);
      } else if (batchA === batchB && n >= PER_BATCH_MIN_COLUMNS && m * k * n >= PER_BATCH_MIN_MACS) {
        const parts = Array.from({ length: batchA }, (_, i) =>
          product(ctx.slice(a, [i, 0, 0], [1, m, k]), ctx.slice(b, [i, 0, 0], [1, k, n])),
        );
        out = ctx.concat(parts, 0);
      } else {
        out = product(a, b);
      }
      return ctx.reshape(out, [...outBatchShape, m, n]);
    });
}
