/* take.h: copy selected rows of any input column into a new output column
 * (an explode or a filter), for ocr_db_post. Include after wasinfer.h.
 *
 * Supported: null, boolean, every fixed-width type (integers, floats,
 * decimals, fixed_size_binary, temporal types), binary and utf8 and their
 * large variants, and fixed_size_list of any of these (tensors), nested to
 * any depth. take_supported names what is not.
 *
 * Rows are copied as runs: run i is elements [start, start + count) of the
 * array, counted from the array's own offset (which take adds). A row of a
 * batch column is one element; a fixed_size_list's run of rows is a run of
 * N times as many child elements, so a tensor row is one memcpy. */
#ifndef OCR_TAKE_H
#define OCR_TAKE_H

typedef struct take_run {
  int64_t start, count;
} take_run;

enum take_layout { TAKE_NULL, TAKE_BOOL, TAKE_FIXED, TAKE_BIN32, TAKE_BIN64, TAKE_FSL, TAKE_NONE };

static enum take_layout take_layout_of(const struct ArrowSchema* s, int64_t* width) {
  const char* f = s->format;
  *width = 0;
  if (s->dictionary != NULL) return TAKE_NONE;
  if (strncmp(f, "+w:", 3) == 0) {
    char* end;
    long long n = strtoll(f + 3, &end, 10);
    if (*end != 0 || n <= 0 || s->n_children != 1) return TAKE_NONE;
    *width = n;
    return TAKE_FSL;
  }
  if (s->n_children != 0) return TAKE_NONE;
  *width = wasinfer_format_byte_width(f);
  if (*width > 0) return TAKE_FIXED;
  if (strcmp(f, "n") == 0) return TAKE_NULL;
  if (strcmp(f, "b") == 0) return TAKE_BOOL;
  if (strcmp(f, "z") == 0 || strcmp(f, "u") == 0) return TAKE_BIN32;
  if (strcmp(f, "Z") == 0 || strcmp(f, "U") == 0) return TAKE_BIN64;
  return TAKE_NONE;
}

/* Returns 1 when take can copy the column's type, else 0 with *bad set to
 * the unsupported format (the column's own or a child's). */
static int take_supported(const struct ArrowSchema* s, const char** bad) {
  int64_t w;
  enum take_layout l = take_layout_of(s, &w);
  if (l == TAKE_NONE) {
    *bad = s->format;
    return 0;
  }
  if (l == TAKE_FSL) return take_supported(s->children[0], bad);
  return 1;
}

static int64_t take_offset(const void* p, int64_t i, int wide) {
  if (p == NULL) return 0; /* allowed when offset + length is 0 */
  if (wide) {
    int64_t v;
    memcpy(&v, (const char*)p + i * 8, 8);
    return v;
  }
  int32_t v;
  memcpy(&v, (const char*)p + i * 4, 4);
  return v;
}

/* Copies the field metadata of s (binary encoded) onto c. */
static void take_copy_metadata(wasinfer_column c, const struct ArrowSchema* s) {
  const char* m = s->metadata;
  if (m == NULL) return;
  int32_t n, kl, vl;
  memcpy(&n, m, 4);
  m += 4;
  for (int32_t i = 0; i < n; i++) {
    memcpy(&kl, m, 4);
    const char* k = m + 4;
    memcpy(&vl, k + kl, 4);
    const char* v = k + kl + 4;
    wasinfer_column_add_metadata_n(c, k, (size_t)kl, v, (size_t)vl);
    m = v + vl;
  }
}

/* Fills column c (schema made like s, length not yet set) with the runs of
 * array a; total is the sum of the runs' counts. */
static void take_runs(wasinfer_column c, const struct ArrowSchema* s, const struct ArrowArray* a,
                      const take_run* runs, int64_t nruns, int64_t total) {
  if (c.array == NULL) return;
  int64_t w;
  enum take_layout l = take_layout_of(s, &w);
  c.array->length = total;
  if (l == TAKE_NULL) {
    c.array->null_count = total;
    return;
  }
  const int64_t off = a->offset;
  if (a->buffers[0] != NULL) {
    uint8_t* valid = wasinfer_column_validity(c);
    if (valid == NULL) return;
    int64_t pos = 0, nulls = 0;
    for (int64_t i = 0; i < nruns; i++)
      for (int64_t e = 0; e < runs[i].count; e++, pos++)
        if (!wasinfer_bit_get(a->buffers[0], off + runs[i].start + e)) {
          wasinfer_bit_set(valid, pos, 0);
          nulls++;
        }
    c.array->null_count = nulls;
  }
  switch (l) {
    case TAKE_BOOL: {
      uint8_t* dst = (uint8_t*)wasinfer_column_calloc_buffer(c, 1, (total + 7) / 8);
      if (dst == NULL) return;
      int64_t pos = 0;
      for (int64_t i = 0; i < nruns; i++)
        for (int64_t e = 0; e < runs[i].count; e++, pos++)
          if (wasinfer_bit_get(a->buffers[1], off + runs[i].start + e)) wasinfer_bit_set(dst, pos, 1);
      return;
    }
    case TAKE_FIXED: {
      uint8_t* dst = (uint8_t*)wasinfer_column_alloc_buffer(c, 1, total * w);
      if (dst == NULL) return;
      const uint8_t* src = (const uint8_t*)a->buffers[1];
      int64_t pos = 0;
      for (int64_t i = 0; i < nruns; i++) {
        memcpy(dst + pos * w, src + (off + runs[i].start) * w, (size_t)(runs[i].count * w));
        pos += runs[i].count;
      }
      return;
    }
    case TAKE_BIN32:
    case TAKE_BIN64: {
      const int wide = l == TAKE_BIN64;
      const void* offs = a->buffers[1];
      const uint8_t* data = (const uint8_t*)a->buffers[2];
      int64_t bytes = 0;
      for (int64_t i = 0; i < nruns; i++)
        bytes += take_offset(offs, off + runs[i].start + runs[i].count, wide) - take_offset(offs, off + runs[i].start, wide);
      if (!wide && bytes > INT32_MAX) {
        wasinfer_set_error_status(WASINFER_ERROR, "column \"%s\": the exploded rows hold %lld bytes, more than a utf8 or binary column can (use large_utf8)",
                                  s->name ? s->name : "", (long long)bytes);
        c.builder->status = WASINFER_ERROR;
        return;
      }
      uint8_t* out_off = (uint8_t*)wasinfer_column_alloc_buffer(c, 1, (total + 1) * (wide ? 8 : 4));
      uint8_t* out_data = (uint8_t*)wasinfer_column_alloc_buffer(c, 2, bytes);
      if (out_off == NULL || out_data == NULL) return;
      int64_t pos = 0, at = 0;
      for (int64_t i = 0; i < nruns; i++) {
        for (int64_t e = 0; e < runs[i].count; e++, at++) {
          if (wide) memcpy(out_off + at * 8, &pos, 8);
          else {
            int32_t p32 = (int32_t)pos;
            memcpy(out_off + at * 4, &p32, 4);
          }
          int64_t s0 = take_offset(offs, off + runs[i].start + e, wide);
          int64_t len = take_offset(offs, off + runs[i].start + e + 1, wide) - s0;
          if (len > 0) memcpy(out_data + pos, data + s0, (size_t)len);
          pos += len;
        }
      }
      if (wide) memcpy(out_off + at * 8, &pos, 8);
      else {
        int32_t p32 = (int32_t)pos;
        memcpy(out_off + at * 4, &p32, 4);
      }
      return;
    }
    case TAKE_FSL: {
      take_run* sub = (take_run*)malloc((size_t)(nruns > 0 ? nruns : 1) * sizeof(take_run));
      if (sub == NULL) {
        wasinfer_set_error_status(WASINFER_OUT_OF_MEMORY, "out of memory: copying column \"%s\"", s->name ? s->name : "");
        c.builder->status = WASINFER_OUT_OF_MEMORY;
        return;
      }
      for (int64_t i = 0; i < nruns; i++) {
        sub[i].start = (off + runs[i].start) * w;
        sub[i].count = runs[i].count * w;
      }
      const struct ArrowSchema* cs = s->children[0];
      wasinfer_column child = wasinfer_column_add_child(c, cs->name ? cs->name : "", cs->format, cs->flags);
      take_copy_metadata(child, cs);
      take_runs(child, cs, a->children[0], sub, nruns, total * w);
      free(sub);
      return;
    }
    default:
      return;
  }
}

/* Appends to b a copy of input column (s, a) holding its rows sel[0..k),
 * each a row of the batch (element in_offset + sel[i] of a). */
static void take_column(wasinfer_builder* b, const struct ArrowSchema* s, const struct ArrowArray* a,
                        int64_t in_offset, const int64_t* sel, int64_t k) {
  if (b->status != WASINFER_OK) return;
  take_run* runs = (take_run*)malloc((size_t)(k > 0 ? k : 1) * sizeof(take_run));
  if (runs == NULL) {
    b->status = wasinfer_set_error_status(WASINFER_OUT_OF_MEMORY, "out of memory: %lld rows", (long long)k);
    return;
  }
  /* Rows that follow each other are merged into runs. */
  int64_t n = 0;
  for (int64_t i = 0; i < k; i++) {
    int64_t e = in_offset + sel[i];
    if (n > 0 && runs[n - 1].start + runs[n - 1].count == e) runs[n - 1].count++;
    else runs[n].start = e, runs[n].count = 1, n++;
  }
  wasinfer_column c = wasinfer_builder_add(b, s->name ? s->name : "", s->format, s->flags);
  take_copy_metadata(c, s);
  take_runs(c, s, a, runs, n, k);
  free(runs);
}

#endif /* OCR_TAKE_H */
