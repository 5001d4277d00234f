// otap cat: prints the rows of any Arrow input (IPC stream or file; format from content) as
// JSON lines (default) or as a readable text table (--text).
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_input.h"
#include "cli_otap.h"
#include "otap/arrow.h"

static void help(FILE* out) {
  fprintf(out,
          "Usage: otap cat [--json | --text] [--limit N] FILE\n\n"
          "Prints the rows of FILE, an Arrow IPC stream or file (detected from the content;\n"
          "\"-\" reads stdin).\n\n"
          "  --json      one JSON object per row, keys = column names (the default)\n"
          "  --text      a text table per record batch, values cut at 40 characters\n"
          "  --limit N   stop after N rows\n\n"
          "JSON values: integers as numbers (64-bit ones beyond 2^53 too: read them as strings\n"
          "if your tool rounds), floats as numbers (NaN/Infinity as strings), decimals as\n"
          "strings, binary and fixed-size binary as lowercase hex strings, dates and timestamps\n"
          "as ISO-8601 strings (UTC when the type has a time zone), times and durations as\n"
          "integers in their unit, lists as arrays, structs as objects, maps as arrays of\n"
          "[key, value], dictionary values decoded, nulls as null.\n\n"
          "Exit status: 0 on success, 1 if the input cannot be read, 2 on a usage error.\n");
}

static void put(struct otap_buffer* b, const char* s, size_t n) {
  if (otap_buffer_append(b, s, (int64_t)n)) abort();
}

static void puts_json(struct otap_buffer* b, const uint8_t* s, int64_t n, bool json) {
  if (!json) {
    put(b, (const char*)s, (size_t)n);
    return;
  }
  put(b, "\"", 1);
  for (int64_t i = 0; i < n; i++) {
    unsigned char c = s[i];
    char esc[8];
    switch (c) {
      case '"': put(b, "\\\"", 2); break;
      case '\\': put(b, "\\\\", 2); break;
      case '\n': put(b, "\\n", 2); break;
      case '\r': put(b, "\\r", 2); break;
      case '\t': put(b, "\\t", 2); break;
      default:
        if (c < 0x20) {
          snprintf(esc, sizeof(esc), "\\u%04x", c);
          put(b, esc, 6);
        } else {
          put(b, (const char*)&c, 1);
        }
    }
  }
  put(b, "\"", 1);
}

static void hex(struct otap_buffer* b, const uint8_t* s, int64_t n, bool json) {
  if (json) put(b, "\"", 1);
  for (int64_t i = 0; i < n; i++) {
    char h[3];
    snprintf(h, sizeof(h), "%02x", s[i]);
    put(b, h, 2);
  }
  if (json) put(b, "\"", 1);
}

// Days since 1970-01-01 -> civil date.
static void civil(int64_t days, int64_t* y, unsigned* m, unsigned* d) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  unsigned doe = (unsigned)(days - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t yy = (int64_t)yoe + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

static void timestamp(struct otap_buffer* b, int64_t v, enum otap_time_unit unit, bool date_only,
                      bool json) {
  static const int64_t per_sec[4] = {1, 1000, 1000000, 1000000000};
  int64_t ps = per_sec[unit];
  int64_t secs = v / ps, frac = v % ps;
  if (frac < 0) {
    frac += ps;
    secs -= 1;
  }
  int64_t days = secs / 86400, rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  int64_t y;
  unsigned m, d;
  civil(days, &y, &m, &d);
  char s[64];
  int n;
  if (date_only) {
    n = snprintf(s, sizeof(s), "%s%04" PRId64 "-%02u-%02u%s", json ? "\"" : "", y, m, d,
                 json ? "\"" : "");
  } else {
    static const int width[4] = {0, 3, 6, 9};
    char fs[16] = "";
    if (unit != OTAP_TIME_UNIT_SECOND) snprintf(fs, sizeof(fs), ".%0*" PRId64, width[unit], frac);
    n = snprintf(s, sizeof(s), "%s%04" PRId64 "-%02u-%02uT%02d:%02d:%02d%sZ%s", json ? "\"" : "",
                 y, m, d, (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), fs,
                 json ? "\"" : "");
  }
  put(b, s, (size_t)n);
}

// Decimal of width bytes (little-endian two's complement) with scale, as a string.
static void decimal(struct otap_buffer* b, const uint8_t* p, int width, int scale, bool json) {
  // magnitude in base 1e9 limbs via repeated division of a little-endian byte array
  uint8_t mag[32];
  memcpy(mag, p, (size_t)width);
  bool neg = (mag[width - 1] & 0x80) != 0;
  if (neg) {  // two's complement negate
    int carry = 1;
    for (int i = 0; i < width; i++) {
      int v = (uint8_t)~mag[i] + carry;
      mag[i] = (uint8_t)v;
      carry = v >> 8;
    }
  }
  char digits[96];
  int nd = 0;
  for (;;) {
    bool zero = true;
    uint32_t rem = 0;
    for (int i = width - 1; i >= 0; i--) {
      uint32_t cur = (rem << 8) | mag[i];
      mag[i] = (uint8_t)(cur / 10);
      rem = cur % 10;
      if (mag[i]) zero = false;
    }
    digits[nd++] = (char)('0' + rem);
    if (zero) break;
  }
  char s[128];
  int n = 0;
  if (json) s[n++] = '"';
  if (neg) s[n++] = '-';
  int intdigits = nd - scale;
  if (intdigits <= 0) {
    s[n++] = '0';
    if (scale > 0) {
      s[n++] = '.';
      for (int i = 0; i < -intdigits; i++) s[n++] = '0';
      for (int i = nd - 1; i >= 0; i--) s[n++] = digits[i];
    }
  } else {
    for (int i = nd - 1; i >= 0; i--) {
      s[n++] = digits[i];
      if (i == scale && scale > 0) s[n++] = '.';
    }
    for (int i = 0; i < -scale && n < 120; i++) s[n++] = '0';
  }
  if (json) s[n++] = '"';
  put(b, s, (size_t)n);
}

static void value(struct otap_buffer* b, const struct otap_array_view* v, int64_t i, bool json,
                  int depth);

static void list_values(struct otap_buffer* b, const struct otap_array_view* child, int64_t start,
                        int64_t end, bool json, int depth) {
  put(b, "[", 1);
  for (int64_t k = start; k < end; k++) {
    if (k > start) put(b, ", ", json ? 1 : 2);
    value(b, child, k, json, depth + 1);
  }
  put(b, "]", 1);
}

static void value(struct otap_buffer* b, const struct otap_array_view* v, int64_t i, bool json,
                  int depth) {
  char s[64];
  int n;
  if (depth > 64) {
    put(b, "\"...\"", 5);
    return;
  }
  if (v->storage_type != OTAP_TYPE_SPARSE_UNION && v->storage_type != OTAP_TYPE_DENSE_UNION &&
      v->storage_type != OTAP_TYPE_RUN_END_ENCODED && otap_view_is_null(v, i)) {
    put(b, "null", 4);
    return;
  }
  if (v->dictionary) {
    value(b, v->dictionary, otap_view_get_int(v, i), json, depth + 1);
    return;
  }
  const struct otap_schema_view* sv = &v->schema;
  switch (v->storage_type) {
    case OTAP_TYPE_NA: put(b, "null", 4); return;
    case OTAP_TYPE_BOOL: put(b, otap_view_get_int(v, i) ? "true" : "false", otap_view_get_int(v, i) ? 4 : 5); return;
    case OTAP_TYPE_INT8: case OTAP_TYPE_INT16: case OTAP_TYPE_INT32: case OTAP_TYPE_INT64:
    case OTAP_TYPE_TIME32: case OTAP_TYPE_TIME64: case OTAP_TYPE_DURATION:
    case OTAP_TYPE_INTERVAL_MONTHS:
      n = snprintf(s, sizeof(s), "%" PRId64, otap_view_get_int(v, i));
      put(b, s, (size_t)n);
      return;
    case OTAP_TYPE_UINT8: case OTAP_TYPE_UINT16: case OTAP_TYPE_UINT32: case OTAP_TYPE_UINT64:
      n = snprintf(s, sizeof(s), "%" PRIu64, otap_view_get_uint(v, i));
      put(b, s, (size_t)n);
      return;
    case OTAP_TYPE_HALF_FLOAT: case OTAP_TYPE_FLOAT: case OTAP_TYPE_DOUBLE: {
      double d = otap_view_get_double(v, i);
      if (isnan(d) || isinf(d))
        n = snprintf(s, sizeof(s), json ? "\"%g\"" : "%g", d);
      else
        n = snprintf(s, sizeof(s), v->storage_type == OTAP_TYPE_DOUBLE ? "%.17g"
                                   : v->storage_type == OTAP_TYPE_FLOAT  ? "%.9g"
                                                                         : "%.5g",
                     d);
      put(b, s, (size_t)n);
      return;
    }
    case OTAP_TYPE_DECIMAL32: case OTAP_TYPE_DECIMAL64: case OTAP_TYPE_DECIMAL128:
    case OTAP_TYPE_DECIMAL256: {
      const uint8_t* p;
      int64_t len;
      otap_view_get_bytes(v, i, &p, &len);
      decimal(b, p, (int)len, sv->decimal_scale, json);
      return;
    }
    case OTAP_TYPE_STRING: case OTAP_TYPE_LARGE_STRING: case OTAP_TYPE_STRING_VIEW: {
      const uint8_t* p;
      int64_t len;
      otap_view_get_bytes(v, i, &p, &len);
      puts_json(b, p, len, json);
      return;
    }
    case OTAP_TYPE_BINARY: case OTAP_TYPE_LARGE_BINARY: case OTAP_TYPE_BINARY_VIEW:
    case OTAP_TYPE_FIXED_SIZE_BINARY: {
      const uint8_t* p;
      int64_t len;
      otap_view_get_bytes(v, i, &p, &len);
      hex(b, p, len, json);
      return;
    }
    case OTAP_TYPE_DATE32:
      timestamp(b, otap_view_get_int(v, i) * 86400, OTAP_TIME_UNIT_SECOND, true, json);
      return;
    case OTAP_TYPE_DATE64:
      timestamp(b, otap_view_get_int(v, i), OTAP_TIME_UNIT_MILLI, true, json);
      return;
    case OTAP_TYPE_TIMESTAMP:
      timestamp(b, otap_view_get_int(v, i), sv->time_unit, false, json);
      return;
    case OTAP_TYPE_INTERVAL_DAY_TIME: case OTAP_TYPE_INTERVAL_MONTH_DAY_NANO: {
      const uint8_t* p = v->buffers[1] + (v->offset + i) * (sv->bit_width / 8);
      int32_t a, c;
      memcpy(&a, p, 4);
      memcpy(&c, p + 4, 4);
      if (v->storage_type == OTAP_TYPE_INTERVAL_DAY_TIME) {
        n = snprintf(s, sizeof(s), "{\"days\": %d, \"milliseconds\": %d}", a, c);
      } else {
        int64_t ns;
        memcpy(&ns, p + 8, 8);
        n = snprintf(s, sizeof(s), "{\"months\": %d, \"days\": %d, \"nanoseconds\": %" PRId64 "}",
                     a, c, ns);
      }
      put(b, s, (size_t)n);
      return;
    }
    case OTAP_TYPE_LIST: case OTAP_TYPE_LARGE_LIST: case OTAP_TYPE_FIXED_SIZE_LIST:
    case OTAP_TYPE_LIST_VIEW: case OTAP_TYPE_LARGE_LIST_VIEW: {
      int64_t start, end;
      otap_view_get_list_range(v, i, &start, &end);
      list_values(b, v->children[0], start, end, json, depth);
      return;
    }
    case OTAP_TYPE_MAP: {
      int64_t start, end;
      otap_view_get_list_range(v, i, &start, &end);
      const struct otap_array_view* e = v->children[0];
      put(b, "[", 1);
      for (int64_t k = start; k < end; k++) {
        if (k > start) put(b, ", ", 2);
        put(b, "[", 1);
        value(b, e->children[0], e->offset + k, json, depth + 1);
        put(b, ", ", 2);
        value(b, e->children[1], e->offset + k, json, depth + 1);
        put(b, "]", 1);
      }
      put(b, "]", 1);
      return;
    }
    case OTAP_TYPE_STRUCT: {
      put(b, "{", 1);
      for (int64_t k = 0; k < v->n_children; k++) {
        if (k) put(b, ", ", 2);
        const char* name = v->children[k]->schema.schema->name;
        puts_json(b, (const uint8_t*)(name ? name : ""), (int64_t)strlen(name ? name : ""), true);
        put(b, ": ", 2);
        value(b, v->children[k], v->offset + i, json, depth + 1);
      }
      put(b, "}", 1);
      return;
    }
    case OTAP_TYPE_SPARSE_UNION: case OTAP_TYPE_DENSE_UNION: {
      int8_t tid = (int8_t)v->buffers[1][v->offset + i];
      int64_t child = -1;
      for (int k = 0; k < sv->n_union_type_ids; k++)
        if (sv->union_type_ids[k] == tid) child = k;
      if (child < 0) {
        put(b, "null", 4);
        return;
      }
      int64_t idx = v->offset + i;
      if (v->storage_type == OTAP_TYPE_DENSE_UNION) {
        int32_t o;
        memcpy(&o, v->buffers[2] + 4 * (v->offset + i), 4);
        idx = o;
      }
      value(b, v->children[child], idx, json, depth + 1);
      return;
    }
    case OTAP_TYPE_RUN_END_ENCODED: {
      const struct otap_array_view* re = v->children[0];
      int64_t target = v->offset + i, lo = 0, hi = re->length;
      while (lo < hi) {  // first run end > target
        int64_t mid = lo + (hi - lo) / 2;
        if (otap_view_get_int(re, mid) > target)
          hi = mid;
        else
          lo = mid + 1;
      }
      value(b, v->children[1], lo, json, depth + 1);
      return;
    }
    default:
      put(b, "\"?\"", 3);
  }
}

static int print_batch(const struct ArrowSchema* schema, struct otap_array_view* view,
                       const struct ArrowArray* batch, bool text, int64_t* budget,
                       struct otap_error* err) {
  OTAP_RETURN_NOT_OK(otap_array_view_set(view, batch, OTAP_VALIDATE_DEFAULT, err));
  int64_t rows = batch->length < *budget ? batch->length : *budget;
  *budget -= rows;
  struct otap_buffer line;
  otap_buffer_init(&line);
  if (!text) {
    for (int64_t r = 0; r < rows; r++) {
      line.size = 0;
      put(&line, "{", 1);
      for (int64_t c = 0; c < schema->n_children; c++) {
        if (c) put(&line, ", ", 2);
        const char* name = schema->children[c]->name ? schema->children[c]->name : "";
        puts_json(&line, (const uint8_t*)name, (int64_t)strlen(name), true);
        put(&line, ": ", 2);
        value(&line, view->children[c], batch->offset + r, true, 0);
      }
      put(&line, "}\n", 2);
      fwrite(line.data, 1, (size_t)line.size, stdout);
    }
    otap_buffer_reset(&line);
    return 0;
  }
  // text table: compute widths over the rows of this batch (capped)
  int64_t nc = schema->n_children;
  int* w = calloc((size_t)(nc ? nc : 1), sizeof(int));
  char** cells = calloc((size_t)((rows + 1) * (nc ? nc : 1)), sizeof(char*));
  if (!w || !cells) abort();
  for (int64_t c = 0; c < nc; c++) {
    const char* name = schema->children[c]->name ? schema->children[c]->name : "";
    cells[c] = strdup(name);
    w[c] = (int)strlen(name);
  }
  for (int64_t r = 0; r < rows; r++) {
    for (int64_t c = 0; c < nc; c++) {
      line.size = 0;
      value(&line, view->children[c], batch->offset + r, false, 0);
      if (line.size > 40) {
        line.size = 37;
        put(&line, "...", 3);
      }
      put(&line, "", 1);
      cells[(r + 1) * nc + c] = strdup((const char*)line.data);
      int len = (int)strlen((const char*)line.data);
      if (len > w[c]) w[c] = len;
    }
  }
  for (int64_t r = 0; r <= rows; r++) {
    for (int64_t c = 0; c < nc; c++)
      printf("%s%-*s", c ? "  " : "", c == nc - 1 ? 0 : w[c], cells[r * nc + c]);
    printf("\n");
    if (r == 0) {
      for (int64_t c = 0; c < nc; c++) {
        printf("%s", c ? "  " : "");
        for (int k = 0; k < w[c]; k++) putchar('-');
      }
      printf("\n");
    }
  }
  printf("\n");
  for (int64_t k = 0; k < (rows + 1) * nc; k++) free(cells[k]);
  free(cells);
  free(w);
  otap_buffer_reset(&line);
  return 0;
}

static int run(int argc, char** argv) {
  bool text = false;
  int64_t limit = INT64_MAX;
  const char* path = NULL;
  for (int i = 1; i < argc; i++) {
    if (otap_cli_is_help(argv[i])) {
      help(stdout);
      return OTAP_EXIT_OK;
    } else if (strcmp(argv[i], "--json") == 0) {
      text = false;
    } else if (strcmp(argv[i], "--text") == 0) {
      text = true;
    } else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
      char* end;
      limit = strtoll(argv[++i], &end, 10);
      if (*end || limit < 0) return otap_cli_fail("cat", OTAP_EXIT_USAGE, "bad --limit '%s'", argv[i]);
    } else if (argv[i][0] == '-' && argv[i][1]) {
      return otap_cli_fail("cat", OTAP_EXIT_USAGE, "unknown option '%s' (see otap cat --help)", argv[i]);
    } else if (!path) {
      path = argv[i];
    } else {
      return otap_cli_fail("cat", OTAP_EXIT_USAGE, "more than one input");
    }
  }
  if (!path) return otap_cli_fail("cat", OTAP_EXIT_USAGE, "missing FILE (see otap cat --help)");
  if (otap_cli_path_is_otap_records(path))
    return otap_cli_otap_cat(path, !text, limit == INT64_MAX ? -1 : limit, stdout);
  struct otap_error err;
  struct ArrowArrayStream s;
  int rc = otap_cli_open_stream(path, &s, NULL, &err);
  if (rc) return otap_cli_fail("cat", OTAP_EXIT_FAILURE, "%s", err.message);
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof(schema));
  struct otap_array_view view;
  memset(&view, 0, sizeof(view));
  int exit_code = OTAP_EXIT_OK;
  rc = s.get_schema(&s, &schema);
  if (rc) {
    exit_code = otap_cli_fail("cat", OTAP_EXIT_FAILURE, "%s: %s", path, s.get_last_error(&s));
    goto done;
  }
  if (otap_array_view_init(&view, &schema, &err)) {
    exit_code = otap_cli_fail("cat", OTAP_EXIT_FAILURE, "%s: %s", path, err.message);
    goto done;
  }
  while (limit > 0) {
    struct ArrowArray batch;
    memset(&batch, 0, sizeof(batch));
    rc = s.get_next(&s, &batch);
    if (rc) {
      exit_code = otap_cli_fail("cat", OTAP_EXIT_FAILURE, "%s: %s", path, s.get_last_error(&s));
      break;
    }
    if (!batch.release) break;
    rc = print_batch(&schema, &view, &batch, text, &limit, &err);
    batch.release(&batch);
    if (rc) {
      exit_code = otap_cli_fail("cat", OTAP_EXIT_FAILURE, "%s: %s", path, err.message);
      break;
    }
  }
done:
  fflush(stdout);
  otap_array_view_reset(&view);
  otap_schema_release(&schema);
  s.release(&s);
  return exit_code;
}

OTAP_CLI_COMMAND(cat, "print the rows of an Arrow IPC input as JSON lines or a text table", run,
                 help)
