/*
 * WebAssembly SIMD128 kernels of @ldl/kernels (build: packages/kernels/wasm/build.sh, which writes
 * src/ldl_kernels_wasm.ts): grouped 2-D convolution and training-mode batch normalisation.
 *
 * Grouped convolution, NHWC.
 * Shapes: x [n, h, w, cin], filter [kh, kw, cg, cout] (cg = cin / groups, og = cout / groups;
 * output channel g*og + j reads input channels g*cg .. g*cg + cg - 1), y / dy [n, ho, wo, cout].
 * Padding is given as the top/left offsets (pt, pl); taps that fall outside x read zeros.
 *
 * Every function accumulates in single precision in a fixed order, is single-threaded and does
 * not allocate: the callers (src/wasm_module.ts) lay the buffers out in this module's memory.
 * The SIMD paths need og % 4 == 0 (forward, filter gradient) or cg % 4 == 0 (input gradient);
 * other shapes take the scalar loops below them.
 */
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

typedef struct {
  int n, h, w, cin, ho, wo, cout, kh, kw, sh, sw, dh, dw, pt, pl, groups;
} geom;

static void zero(float* p, int count) {
  for (int i = 0; i < count; i++) p[i] = 0.0f;
}

/* Output rows oy whose tap ky reads inside x: [lo, hi). */
static void valid_range(int out, int in, int stride, int pad, int k_off, int* lo, int* hi) {
  int a = 0, b = out;
  while (a < out && a * stride - pad + k_off < 0) a++;
  while (b > a && (b - 1) * stride - pad + k_off >= in) b--;
  *lo = a;
  *hi = b;
}

/*
 * The inner product both the forward pass and the input gradient are made of, for `nb` images (1 or 4)
 * at one position: out_k[0..w) += Σ_t in_k[t] · mat[t·stride + 0..w), with w = 4 on the SIMD path
 * (each `mat` vector loaded once for the nb images) and w = 1 on the scalar one.
 */
static inline void accumulate4(float* const out[4], const float* const in[4], const float* mat, int count, int stride) {
  v128_t a0 = wasm_v128_load(out[0]), a1 = wasm_v128_load(out[1]), a2 = wasm_v128_load(out[2]), a3 = wasm_v128_load(out[3]);
  for (int t = 0; t < count; t++) {
    const v128_t v = wasm_v128_load(mat + t * stride);
    a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_f32x4_splat(in[0][t]), v));
    a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_f32x4_splat(in[1][t]), v));
    a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wasm_f32x4_splat(in[2][t]), v));
    a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wasm_f32x4_splat(in[3][t]), v));
  }
  wasm_v128_store(out[0], a0);
  wasm_v128_store(out[1], a1);
  wasm_v128_store(out[2], a2);
  wasm_v128_store(out[3], a3);
}

static inline void accumulate1(float* out, const float* in, const float* mat, int count, int stride) {
  v128_t a = wasm_v128_load(out);
  for (int t = 0; t < count; t++) a = wasm_f32x4_add(a, wasm_f32x4_mul(wasm_f32x4_splat(in[t]), wasm_v128_load(mat + t * stride)));
  wasm_v128_store(out, a);
}

static inline void accumulate_scalar(float* out, const float* in, const float* mat, int count, int stride) {
  float a = *out;
  for (int t = 0; t < count; t++) a += in[t] * mat[t * stride];
  *out = a;
}

/*
 * One group at one position for nb images: `width` outputs (og for the forward pass, cg for the input
 * gradient), each a sum over `count` inputs of the group; `mat` row t holds the weights of input t.
 */
static inline void group_product(int nb, int simd, float* const out[4], const float* const in[4], const float* mat, int width, int count,
                                 int stride) {
  for (int c = 0; c < width; c += simd ? 4 : 1) {
    if (nb == 4) {
      float* const o[4] = {out[0] + c, out[1] + c, out[2] + c, out[3] + c};
      accumulate4(o, in, mat + c, count, stride);
    } else if (simd) {
      accumulate1(out[0] + c, in[0], mat + c, count, stride);
    } else {
      accumulate_scalar(out[0] + c, in[0], mat + c, count, stride);
    }
  }
}

/*
 * y = conv(x, f), one output position at a time, its rows accumulating in place over the taps. Four
 * images of the batch go together where the SIMD path applies: each filter vector is loaded once for
 * the four (the filter of a late ResNeXt stage, 1.2 MB, does not stay in cache across pixels).
 */
static void forward(const geom* g, const float* x, const float* f, float* y) {
  const int cg = g->cin / g->groups, og = g->cout / g->groups;
  const int simd = og % 4 == 0;
  for (int b = 0; b < g->n;) {
    const int nb = simd && g->n - b >= 4 ? 4 : 1;
    for (int oy = 0; oy < g->ho; oy++) {
      for (int ox = 0; ox < g->wo; ox++) {
        float* yr[4]; /* lanes past nb repeat image b: set, never used */
        for (int k = 0; k < 4; k++) yr[k] = y + (((b + (k < nb ? k : 0)) * g->ho + oy) * g->wo + ox) * g->cout;
        for (int k = 0; k < nb; k++) zero(yr[k], g->cout);
        for (int ky = 0; ky < g->kh; ky++) {
          const int iy = oy * g->sh - g->pt + ky * g->dh;
          if (iy < 0 || iy >= g->h) continue;
          for (int kx = 0; kx < g->kw; kx++) {
            const int ix = ox * g->sw - g->pl + kx * g->dw;
            if (ix < 0 || ix >= g->w) continue;
            const float* fr = f + (ky * g->kw + kx) * cg * g->cout;
            const float* xr[4];
            for (int k = 0; k < 4; k++) xr[k] = x + (((b + (k < nb ? k : 0)) * g->h + iy) * g->w + ix) * g->cin;
            for (int gi = 0; gi < g->groups; gi++) {
              float* const out[4] = {yr[0] + gi * og, yr[1] + gi * og, yr[2] + gi * og, yr[3] + gi * og};
              const float* const in[4] = {xr[0] + gi * cg, xr[1] + gi * cg, xr[2] + gi * cg, xr[3] + gi * cg};
              group_product(nb, simd, out, in, fr + gi * og, og, cg, g->cout);
            }
          }
        }
      }
    }
    b += nb;
  }
}

/* dx = conv^T(dy, f); ft: scratch of kh*kw*cg*cout floats (the filter transposed per group). */
static void backprop_input(const geom* g, const float* dy, const float* f, float* dx, float* ft) {
  const int cg = g->cin / g->groups, og = g->cout / g->groups;
  const int taps = g->kh * g->kw;
  const int simd = cg % 4 == 0;
  /* ft[tap][gi][j][i] = f[tap][i][gi*og + j] */
  for (int t = 0; t < taps; t++)
    for (int gi = 0; gi < g->groups; gi++)
      for (int j = 0; j < og; j++)
        for (int i = 0; i < cg; i++)
          ft[((t * g->groups + gi) * og + j) * cg + i] = f[(t * cg + i) * g->cout + gi * og + j];
  zero(dx, g->n * g->h * g->w * g->cin);
  /* Four images at a time on the SIMD path, as in forward: each transposed-filter vector loaded once for four. */
  for (int b = 0; b < g->n;) {
    const int nb = simd && g->n - b >= 4 ? 4 : 1;
    for (int oy = 0; oy < g->ho; oy++) {
      for (int ox = 0; ox < g->wo; ox++) {
        const float* dyr[4];
        for (int k = 0; k < 4; k++) dyr[k] = dy + (((b + (k < nb ? k : 0)) * g->ho + oy) * g->wo + ox) * g->cout;
        for (int ky = 0; ky < g->kh; ky++) {
          const int iy = oy * g->sh - g->pt + ky * g->dh;
          if (iy < 0 || iy >= g->h) continue;
          for (int kx = 0; kx < g->kw; kx++) {
            const int ix = ox * g->sw - g->pl + kx * g->dw;
            if (ix < 0 || ix >= g->w) continue;
            float* dxr[4];
            for (int k = 0; k < 4; k++) dxr[k] = dx + (((b + (k < nb ? k : 0)) * g->h + iy) * g->w + ix) * g->cin;
            const float* ftr = ft + (ky * g->kw + kx) * g->groups * og * cg;
            for (int gi = 0; gi < g->groups; gi++) {
              float* const out[4] = {dxr[0] + gi * cg, dxr[1] + gi * cg, dxr[2] + gi * cg, dxr[3] + gi * cg};
              const float* const in[4] = {dyr[0] + gi * og, dyr[1] + gi * og, dyr[2] + gi * og, dyr[3] + gi * og};
              group_product(nb, simd, out, in, ftr + gi * og * cg, cg, og, cg);
            }
          }
        }
      }
    }
    b += nb;
  }
}

/*
 * df = sum over pixels of x_tap ⊗ dy, per group. SIMD path: a 4 (input channels) × 4 (output
 * channels) tile of df stays in registers while every output pixel of one tap streams past.
 */
static void backprop_filter(const geom* g, const float* x, const float* dy, float* df) {
  const int cg = g->cin / g->groups, og = g->cout / g->groups;
  const int simd = og % 4 == 0 && cg % 4 == 0;
  zero(df, g->kh * g->kw * cg * g->cout);
  for (int ky = 0; ky < g->kh; ky++) {
    int oy0, oy1;
    valid_range(g->ho, g->h, g->sh, g->pt, ky * g->dh, &oy0, &oy1);
    for (int kx = 0; kx < g->kw; kx++) {
      int ox0, ox1;
      valid_range(g->wo, g->w, g->sw, g->pl, kx * g->dw, &ox0, &ox1);
      float* dft = df + (ky * g->kw + kx) * cg * g->cout;
      for (int gi = 0; gi < g->groups; gi++) {
        if (simd) {
          for (int i = 0; i < cg; i += 4) {
            for (int j = 0; j < og; j += 4) {
              float* d0 = dft + i * g->cout + gi * og + j;
              v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
              for (int b = 0; b < g->n; b++) {
                for (int oy = oy0; oy < oy1; oy++) {
                  const int iy = oy * g->sh - g->pt + ky * g->dh;
                  const float* xrow = x + ((b * g->h + iy) * g->w) * g->cin + gi * cg + i;
                  const float* dyrow = dy + ((b * g->ho + oy) * g->wo) * g->cout + gi * og + j;
                  for (int ox = ox0; ox < ox1; ox++) {
                    const int ix = ox * g->sw - g->pl + kx * g->dw;
                    const float* xp = xrow + ix * g->cin;
                    const v128_t d = wasm_v128_load(dyrow + ox * g->cout);
                    a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_f32x4_splat(xp[0]), d));
                    a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_f32x4_splat(xp[1]), d));
                    a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wasm_f32x4_splat(xp[2]), d));
                    a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wasm_f32x4_splat(xp[3]), d));
                  }
                }
              }
              wasm_v128_store(d0, a0);
              wasm_v128_store(d0 + g->cout, a1);
              wasm_v128_store(d0 + 2 * g->cout, a2);
              wasm_v128_store(d0 + 3 * g->cout, a3);
            }
          }
        } else {
          for (int i = 0; i < cg; i++) {
            for (int j = 0; j < og; j++) {
              float acc = 0.0f;
              for (int b = 0; b < g->n; b++) {
                for (int oy = oy0; oy < oy1; oy++) {
                  const int iy = oy * g->sh - g->pt + ky * g->dh;
                  for (int ox = ox0; ox < ox1; ox++) {
                    const int ix = ox * g->sw - g->pl + kx * g->dw;
                    acc += x[((b * g->h + iy) * g->w + ix) * g->cin + gi * cg + i] *
                           dy[((b * g->ho + oy) * g->wo + ox) * g->cout + gi * og + j];
                  }
                }
              }
              dft[i * g->cout + gi * og + j] = acc;
            }
          }
        }
      }
    }
  }
}

/* Entry points: the geometry as 16 int32s at `gp` (order of `geom`), then buffer addresses. */
EXPORT(grouped_conv_forward) void grouped_conv_forward(const geom* gp, const float* x, const float* f, float* y) {
  forward(gp, x, f, y);
}

EXPORT(grouped_conv_backprop_input) void grouped_conv_backprop_input(const geom* gp, const float* dy, const float* f, float* dx, float* scratch) {
  backprop_input(gp, dy, f, dx, scratch);
}

EXPORT(grouped_conv_backprop_filter) void grouped_conv_backprop_filter(const geom* gp, const float* x, const float* dy, float* df) {
  backprop_filter(gp, x, dy, df);
}

/*
 * Training-mode batch normalisation over the rows of x [m, c] (NHWC flattened), biased batch
 * variance as in tfjs-layers: forward y, mean, variance; backward the total derivative (the batch
 * statistics are functions of x): dx = γ/σ·(dy − mean(dy) − x̂·mean(dy·x̂)), dγ = Σ dy·x̂, dβ = Σ dy.
 * SIMD over channels where c % 4 == 0. `acc` scratch: 2·c floats.
 */
static void column_sums(const float* x, int m, int c, const float* center, float* sum, float* sqsum) {
  for (int j = 0; j < c; j++) { sum[j] = 0.0f; if (sqsum) sqsum[j] = 0.0f; }
  const int simd = c % 4 == 0;
  for (int r = 0; r < m; r++) {
    const float* row = x + (long)r * c;
    if (simd) {
      for (int j = 0; j < c; j += 4) {
        v128_t v = wasm_v128_load(row + j);
        if (center) {
          v = wasm_f32x4_sub(v, wasm_v128_load(center + j));
          wasm_v128_store(sqsum + j, wasm_f32x4_add(wasm_v128_load(sqsum + j), wasm_f32x4_mul(v, v)));
        }
        wasm_v128_store(sum + j, wasm_f32x4_add(wasm_v128_load(sum + j), v));
      }
    } else {
      for (int j = 0; j < c; j++) {
        float v = row[j];
        if (center) { v -= center[j]; sqsum[j] += v * v; }
        sum[j] += v;
      }
    }
  }
}

/* out = a·x + b (per channel), row by row. */
static void affine(const float* x, int m, int c, const float* a, const float* b, float* out) {
  const int simd = c % 4 == 0;
  for (int r = 0; r < m; r++) {
    const float* row = x + (long)r * c;
    float* o = out + (long)r * c;
    if (simd) {
      for (int j = 0; j < c; j += 4) {
        wasm_v128_store(o + j, wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(row + j), wasm_v128_load(a + j)), wasm_v128_load(b + j)));
      }
    } else {
      for (int j = 0; j < c; j++) o[j] = row[j] * a[j] + b[j];
    }
  }
}

/* y = γ·(x − mean)/√(var + ε) + β; mean and var written out. scratch: 3·c floats. */
EXPORT(batch_norm_training) void batch_norm_training(const float* x, int m, int c, const float* gamma, const float* beta, float eps,
                                                     float* y, float* mean, float* var, float* scratch) {
  float* unused = scratch;
  float* scale = scratch + c;
  float* shift = scratch + 2 * c;
  column_sums(x, m, c, 0, mean, 0);
  for (int j = 0; j < c; j++) mean[j] /= (float)m;
  column_sums(x, m, c, mean, unused, var); /* unused: Σ (x − mean), ~0 */
  for (int j = 0; j < c; j++) {
    var[j] /= (float)m;
    scale[j] = gamma[j] / __builtin_sqrtf(var[j] + eps);
    shift[j] = beta[j] - mean[j] * scale[j];
  }
  affine(x, m, c, scale, shift, y);
}

/*
 * dx, dγ, dβ of batch_norm_training, given the gradients dy of y and dmean, dvar of its mean and
 * variance outputs (zeros where those feed only the moving averages). scratch: 3·c floats.
 */
EXPORT(batch_norm_training_grad) void batch_norm_training_grad(const float* x, const float* dy, int m, int c, const float* gamma,
                                                               const float* mean, const float* var, float eps, const float* dmean,
                                                               const float* dvar, float* dx, float* dgamma, float* dbeta,
                                                               float* scratch) {
  float* a = scratch;
  float* b = scratch + c;
  float* k = scratch + 2 * c;
  const int simd = c % 4 == 0;
  for (int j = 0; j < c; j++) { dbeta[j] = 0.0f; dgamma[j] = 0.0f; }
  /* dbeta = Σ dy; dgamma accumulates Σ dy·(x − mean) first. */
  for (int r = 0; r < m; r++) {
    const float* xr = x + (long)r * c;
    const float* dr = dy + (long)r * c;
    if (simd) {
      for (int j = 0; j < c; j += 4) {
        const v128_t d = wasm_v128_load(dr + j);
        const v128_t xc = wasm_f32x4_sub(wasm_v128_load(xr + j), wasm_v128_load(mean + j));
        wasm_v128_store(dbeta + j, wasm_f32x4_add(wasm_v128_load(dbeta + j), d));
        wasm_v128_store(dgamma + j, wasm_f32x4_add(wasm_v128_load(dgamma + j), wasm_f32x4_mul(d, xc)));
      }
    } else {
      for (int j = 0; j < c; j++) {
        dbeta[j] += dr[j];
        dgamma[j] += dr[j] * (xr[j] - mean[j]);
      }
    }
  }
  /*
   * dx = a·dy + b·(x − mean) + k with a = γ·rstd, b = −a·rstd·dγ/m + 2·dvar/m, k = (dmean − a·dβ)/m
   * (d var/dx = 2(x − mean)/m, d mean/dx = 1/m; the mean's own effect on var sums to zero).
   */
  for (int j = 0; j < c; j++) {
    const float rstd = 1.0f / __builtin_sqrtf(var[j] + eps);
    dgamma[j] *= rstd;
    a[j] = gamma[j] * rstd;
    b[j] = (-a[j] * rstd * dgamma[j] + 2.0f * dvar[j]) / (float)m;
    k[j] = (dmean[j] - a[j] * dbeta[j]) / (float)m;
  }
  for (int r = 0; r < m; r++) {
    const float* xr = x + (long)r * c;
    const float* dr = dy + (long)r * c;
    float* o = dx + (long)r * c;
    if (simd) {
      for (int j = 0; j < c; j += 4) {
        const v128_t xc = wasm_f32x4_sub(wasm_v128_load(xr + j), wasm_v128_load(mean + j));
        const v128_t t = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(dr + j), wasm_v128_load(a + j)), wasm_f32x4_mul(xc, wasm_v128_load(b + j)));
        wasm_v128_store(o + j, wasm_f32x4_add(t, wasm_v128_load(k + j)));
      }
    } else {
      for (int j = 0; j < c; j++) o[j] = dr[j] * a[j] + (xr[j] - mean[j]) * b[j] + k[j];
    }
  }
}
