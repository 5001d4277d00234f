// Private: functions shared between the writer's files (pqw_schema.c, pqw_writer.c).
#ifndef OTAP_PQW_WRITER_INTERNAL_H
#define OTAP_PQW_WRITER_INTERNAL_H

#include "parquet/pqw_column.h"

/// Builds the node tree of a struct schema (root = the record batch).
int otap__pqw_build_tree(struct pqw_node* root, const struct ArrowSchema* schema,
                         struct otap_error* err) OTAP_WUR;
void otap__pqw_node_free(struct pqw_node* n);
/// Writes FileMetaData.schema (field `id`): root element then the tree in pre-order.
void otap__pqw_write_schema(struct pqw_thrift* t, int16_t id, const struct pqw_node* root,
                            const char* root_name);

#endif  // OTAP_PQW_WRITER_INTERNAL_H
