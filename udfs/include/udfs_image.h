/* udfs_image.h: resampling shared by the image modules of the UDF library.
 * Include after udfs.h. All arithmetic is float64, without contraction
 * (build with -ffp-contract=off), so the Go reference implementations in
 * udfs/ref_*_test.go reproduce every byte.
 *
 * Pixel centres are at +0.5 (OpenCV's INTER_LINEAR convention): output
 * pixel x samples input coordinate sx = (x + 0.5) * (w / ow) - 0.5, clamped
 * to [0, w - 1]; bilinear weights are fx = sx - floor(sx). A value is
 * rounded to uint8 as floor(v + 0.5), clamped to [0, 255]. Nearest
 * sampling takes input pixel floor((x + 0.5) * (w / ow)), clamped. */
#ifndef UDFS_IMAGE_H
#define UDFS_IMAGE_H

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* One axis of a resampling: for each output index, two input indices and the
 * weight of the second. */
typedef struct udfs_axis {
  int64_t* i0;
  int64_t* i1;
  double* f;
} udfs_axis;

UDFS_FN void udfs_axis_free(udfs_axis* a) {
  free(a->i0);
  free(a->i1);
  free(a->f);
}

/* Builds the axis mapping n input pixels onto m output pixels; nearest
 * gives weight 0. Returns 0 when out of memory. */
UDFS_FN int udfs_axis_init(udfs_axis* a, int64_t n, int64_t m, int nearest) {
  a->i0 = (int64_t*)malloc((size_t)m * sizeof(int64_t));
  a->i1 = (int64_t*)malloc((size_t)m * sizeof(int64_t));
  a->f = (double*)malloc((size_t)m * sizeof(double));
  if (!a->i0 || !a->i1 || !a->f) {
    udfs_axis_free(a);
    return 0;
  }
  double scale = (double)n / (double)m;
  for (int64_t x = 0; x < m; x++) {
    if (nearest) {
      double sx = ((double)x + 0.5) * scale;
      int64_t i = (int64_t)floor(sx);
      if (i > n - 1) i = n - 1;
      a->i0[x] = a->i1[x] = i;
      a->f[x] = 0;
      continue;
    }
    double sx = ((double)x + 0.5) * scale;
    sx = sx - 0.5;
    if (sx < 0) sx = 0;
    if (sx > (double)(n - 1)) sx = (double)(n - 1);
    int64_t i = (int64_t)floor(sx);
    a->i0[x] = i;
    a->i1[x] = i + 1 < n ? i + 1 : n - 1;
    a->f[x] = sx - (double)i;
  }
  return 1;
}

static inline uint8_t udfs_round_u8(double v) {
  v = floor(v + 0.5);
  if (v < 0) return 0;
  if (v > 255) return 255;
  return (uint8_t)v;
}

/* Resamples src (h × w × c, row-major) into the oh × ow × c block at dst,
 * whose rows are stride pixels apart. Returns 0 when out of memory. */
UDFS_FN int udfs_resize(const uint8_t* src, int64_t h, int64_t w, int64_t c, uint8_t* dst, int64_t oh, int64_t ow,
                       int64_t stride, int nearest) {
  udfs_axis ax, ay;
  if (!udfs_axis_init(&ax, w, ow, nearest)) return 0;
  if (!udfs_axis_init(&ay, h, oh, nearest)) {
    udfs_axis_free(&ax);
    return 0;
  }
  for (int64_t y = 0; y < oh; y++) {
    const uint8_t* r0 = src + ay.i0[y] * w * c;
    const uint8_t* r1 = src + ay.i1[y] * w * c;
    double fy = ay.f[y], gy = 1 - fy;
    uint8_t* d = dst + y * stride * c;
    for (int64_t x = 0; x < ow; x++) {
      const int64_t a0 = ax.i0[x] * c, a1 = ax.i1[x] * c;
      double fx = ax.f[x], gx = 1 - fx;
      for (int64_t k = 0; k < c; k++) {
        double top = gx * (double)r0[a0 + k];
        top = top + fx * (double)r0[a1 + k];
        double bot = gx * (double)r1[a0 + k];
        bot = bot + fx * (double)r1[a1 + k];
        double v = gy * top;
        v = v + fy * bot;
        d[x * c + k] = udfs_round_u8(v);
      }
    }
  }
  udfs_axis_free(&ax);
  udfs_axis_free(&ay);
  return 1;
}

#endif /* UDFS_IMAGE_H */
