// The logs payload container: init/reset/move, table slots, names.
#include <string.h>

#include "logs/logs_internal.h"

void otap_logs_payload_init(struct otap_logs_payload* p) { memset(p, 0, sizeof(*p)); }

void otap_logs_payload_reset(struct otap_logs_payload* p) {
  if (!p) return;
  for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
    otap_array_release(&p->batch[t]);
    otap_schema_release(&p->schema[t]);
  }
  memset(p, 0, sizeof(*p));
}

void otap_logs_payload_move(struct otap_logs_payload* src, struct otap_logs_payload* dst) {
  memcpy(dst, src, sizeof(*dst));
  memset(src, 0, sizeof(*src));
}

void otap_logs_payload_set_table(struct otap_logs_payload* p, enum otap_logs_table t,
                                 struct ArrowSchema* schema, struct ArrowArray* batch) {
  otap_array_release(&p->batch[t]);
  otap_schema_release(&p->schema[t]);
  memset(&p->batch[t], 0, sizeof(p->batch[t]));
  memset(&p->schema[t], 0, sizeof(p->schema[t]));
  if (schema && schema->release) otap_schema_move(schema, &p->schema[t]);
  if (batch && batch->release) otap_array_move(batch, &p->batch[t]);
}

bool otap_logs_payload_has_table(const struct otap_logs_payload* p, enum otap_logs_table t) {
  return (unsigned)t < OTAP_LOGS_N_TABLES && p->schema[t].release && p->batch[t].release;
}

int64_t otap_logs_payload_num_records(const struct otap_logs_payload* p) {
  return otap_logs_payload_has_table(p, OTAP_LOGS_LOGS) ? p->batch[OTAP_LOGS_LOGS].length : 0;
}

int otap_logs_payload_copy(const struct otap_logs_payload* src, struct otap_logs_payload* dst,
                           struct otap_error* err) {
  int rc = 0;
  otap_logs_payload_init(dst);
  for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
    if (!otap_logs_payload_has_table(src, (enum otap_logs_table)t)) continue;
    OTAP_GOTO_NOT_OK(rc, otap_schema_deep_copy(&src->schema[t], &dst->schema[t], err));
    OTAP_GOTO_NOT_OK(rc, otap_array_ref(&src->batch[t], &dst->batch[t], err));
  }
done:
  if (rc) otap_logs_payload_reset(dst);
  return rc;
}

void otap_logs_payloads_free(struct otap_logs_payload* p, int64_t n) {
  if (!p) return;
  for (int64_t i = 0; i < n; i++) otap_logs_payload_reset(&p[i]);
  otap_free(p);
}

enum otap_payload_type otap_logs_table_payload_type(enum otap_logs_table t) {
  switch (t) {
    case OTAP_LOGS_RESOURCE_ATTRS:
      return OTAP_PAYLOAD_RESOURCE_ATTRS;
    case OTAP_LOGS_SCOPE_ATTRS:
      return OTAP_PAYLOAD_SCOPE_ATTRS;
    case OTAP_LOGS_LOGS:
      return OTAP_PAYLOAD_LOGS;
    case OTAP_LOGS_LOG_ATTRS:
      return OTAP_PAYLOAD_LOG_ATTRS;
    default:
      return OTAP_PAYLOAD_UNKNOWN;
  }
}

int otap_logs_table_from_payload_type(int payload_type) {
  switch (payload_type) {
    case OTAP_PAYLOAD_RESOURCE_ATTRS:
      return OTAP_LOGS_RESOURCE_ATTRS;
    case OTAP_PAYLOAD_SCOPE_ATTRS:
      return OTAP_LOGS_SCOPE_ATTRS;
    case OTAP_PAYLOAD_LOGS:
      return OTAP_LOGS_LOGS;
    case OTAP_PAYLOAD_LOG_ATTRS:
      return OTAP_LOGS_LOG_ATTRS;
    default:
      return -1;
  }
}

const char* otap_logs_table_name(enum otap_logs_table t) {
  return otap_payload_type_name(otap_logs_table_payload_type(t));
}

const char* otap_payload_type_name(int payload_type) {
  switch (payload_type) {
    case OTAP_PAYLOAD_RESOURCE_ATTRS:
      return "RESOURCE_ATTRS";
    case OTAP_PAYLOAD_SCOPE_ATTRS:
      return "SCOPE_ATTRS";
    case OTAP_PAYLOAD_LOGS:
      return "LOGS";
    case OTAP_PAYLOAD_LOG_ATTRS:
      return "LOG_ATTRS";
    case 10: return "UNIVARIATE_METRICS";
    case 11: return "NUMBER_DATA_POINTS";
    case 12: return "SUMMARY_DATA_POINTS";
    case 13: return "HISTOGRAM_DATA_POINTS";
    case 14: return "EXP_HISTOGRAM_DATA_POINTS";
    case 15: return "NUMBER_DP_ATTRS";
    case 16: return "SUMMARY_DP_ATTRS";
    case 17: return "HISTOGRAM_DP_ATTRS";
    case 18: return "EXP_HISTOGRAM_DP_ATTRS";
    case 19: return "NUMBER_DP_EXEMPLARS";
    case 20: return "HISTOGRAM_DP_EXEMPLARS";
    case 21: return "EXP_HISTOGRAM_DP_EXEMPLARS";
    case 22: return "NUMBER_DP_EXEMPLAR_ATTRS";
    case 23: return "HISTOGRAM_DP_EXEMPLAR_ATTRS";
    case 24: return "EXP_HISTOGRAM_DP_EXEMPLAR_ATTRS";
    case 25: return "MULTIVARIATE_METRICS";
    case 40: return "SPANS";
    case 41: return "SPAN_ATTRS";
    case 42: return "SPAN_EVENTS";
    case 43: return "SPAN_LINKS";
    case 44: return "SPAN_EVENT_ATTRS";
    case 45: return "SPAN_LINK_ATTRS";
    default:
      return "UNKNOWN";
  }
}
