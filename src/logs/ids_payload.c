// Payload-level transport id decoding (and encoding) for the four logs tables.
#include <string.h>

#include "logs/logs_internal.h"

int otap__make_u16_array(const uint16_t* values, const uint8_t* valid, int64_t n,
                         struct ArrowArray* out, struct otap_error* err) {
  struct ArrowSchema s;
  memset(&s, 0, sizeof(s));
  int rc = otap_schema_init(&s, "S");
  if (rc) return otap_error_set(err, rc, "out of memory building an id column");
  rc = otap_array_init_from_schema(out, &s, err);
  if (!rc) rc = otap_array_reserve(out, n);
  for (int64_t i = 0; i < n && !rc; i++) {
    rc = valid[i] ? otap_array_append_uint(out, values[i]) : otap_array_append_null(out, 1);
  }
  if (!rc) rc = otap_array_finish(out, OTAP_VALIDATE_DEFAULT, &s, err);
  if (rc) {
    otap_array_release(out);
    if (rc == ENOMEM) otap_error_set(err, rc, "out of memory building an id column");
  }
  otap_schema_release(&s);
  return rc;
}

// Replaces child `child` (an array inside batch) by the decoded ids (child-local rows).
static int replace_ids(struct ArrowArray* child, const struct otap__ids* ids,
                       struct otap_error* err) {
  struct ArrowArray fresh;
  memset(&fresh, 0, sizeof(fresh));
  OTAP_RETURN_NOT_OK(otap__make_u16_array(ids->values, ids->valid, ids->n, &fresh, err));
  if (child->release) child->release(child);
  memcpy(child, &fresh, sizeof(fresh));
  return 0;
}

// Decodes one u16 id column of the LOGS table given its (child-local) array and schema.
static int decode_logs_id(struct ArrowSchema* field, struct ArrowArray* child,
                          enum otap_id_encoding def, const char* what, bool* changed,
                          struct otap_error* err) {
  enum otap_id_encoding enc;
  OTAP_RETURN_NOT_OK(otap_logs_field_id_encoding(field, def, &enc, err));
  if (enc == OTAP_ID_PLAIN) return 0;
  struct otap_array_view v;
  memset(&v, 0, sizeof(v));
  struct otap__ids ids;
  memset(&ids, 0, sizeof(ids));
  int rc = otap_array_view_init(&v, field, err);
  if (!rc) rc = otap_array_view_set(&v, child, OTAP_VALIDATE_DEFAULT, err);
  if (!rc) rc = otap__plain_ids_from_view(&v, 0, NULL, 0, child->length, enc, &ids, what, err);
  if (!rc) rc = replace_ids(child, &ids, err);
  if (!rc) *changed = true;
  otap__ids_reset(&ids);
  otap_array_view_reset(&v);
  return rc;
}

int otap_logs_decode_ids(struct otap_logs_payload* p, struct otap_error* err) {
  OTAP_RETURN_NOT_OK(otap_logs_validate(p, NULL, err));
  int rc = 0;
  struct ArrowSchema copy;
  for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
    if (!otap_logs_payload_has_table(p, (enum otap_logs_table)t)) continue;
    struct ArrowSchema* s = &p->schema[t];
    struct ArrowArray* b = &p->batch[t];
    memset(&copy, 0, sizeof(copy));
    OTAP_RETURN_NOT_OK(otap_schema_deep_copy(s, &copy, err));
    bool changed = false;
    if (t == OTAP_LOGS_LOGS) {
      int64_t i = otap__logs_child_index(s, "id");
      if (i >= 0) {
        rc = decode_logs_id(s->children[i], b->children[i], OTAP_ID_DELTA, "id", &changed, err);
        if (!rc) rc = otap__set_encoding_metadata(copy.children[i], "plain");
      }
      static const char* const kStructs[2] = {"resource", "scope"};
      for (int k = 0; k < 2 && !rc; k++) {
        int64_t si = otap__logs_child_index(s, kStructs[k]);
        if (si < 0) continue;
        int64_t ci = otap__logs_child_index(s->children[si], "id");
        if (ci < 0) continue;
        rc = decode_logs_id(s->children[si]->children[ci], b->children[si]->children[ci],
                            OTAP_ID_DELTA, kStructs[k], &changed, err);
        if (!rc) rc = otap__set_encoding_metadata(copy.children[si]->children[ci], "plain");
      }
    } else {
      struct otap__attrs a;
      rc = otap__attrs_init(&a, s, b, OTAP_VALIDATE_NONE, otap_logs_table_name((enum otap_logs_table)t), err);
      if (!rc) {
        int64_t pi = otap__logs_child_index(s, "parent_id");
        if (a.parent_encoding != OTAP_ID_PLAIN) {
          if (b->offset != 0 || b->children[pi]->offset != 0 || b->children[pi]->length != b->length) {
            rc = otap_error_set(err, ENOTSUP, "%s: cannot decode parent_id of a sliced table",
                                otap_logs_table_name((enum otap_logs_table)t));
          } else {
            struct otap__ids ids;
            rc = otap__attrs_plain_parent_ids(&a, &ids, otap_logs_table_name((enum otap_logs_table)t), err);
            otap__attrs_reset(&a);
            if (!rc) {
              rc = replace_ids(b->children[pi], &ids, err);
              otap__ids_reset(&ids);
              changed = true;
            }
          }
        }
        otap__attrs_reset(&a);
        if (!rc) rc = otap__set_encoding_metadata(copy.children[pi], "plain");
      }
    }
    if (rc) {
      otap_schema_release(&copy);
      return rc;
    }
    (void)changed;
    otap_schema_release(s);
    otap_schema_move(&copy, s);
  }
  return 0;
}

int otap_logs_encode_ids(struct otap_logs_payload* p, struct otap_error* err) {
  (void)p;
  return otap_error_set(err, ENOTSUP,
                        "encoding ids of an existing payload is not implemented yet (generate "
                        "encoded payloads with otap_logs_gen encoded_ids)");
}
