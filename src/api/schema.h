/* schema.h — the parsed type descriptions of every API type (docs/schema-format.md).
 *
 * A schema_set is built once at start-up from the embedded schema text and is immutable
 * afterwards: every pointer into it stays valid and may be shared by any thread.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum schema_kind {
  SCHEMA_STRING,
  SCHEMA_INTEGER,
  SCHEMA_INT32,
  SCHEMA_NUMBER,
  SCHEMA_BOOLEAN,
  SCHEMA_QUANTITY,
  SCHEMA_INTSTR,
  SCHEMA_TIME,
  SCHEMA_MICROTIME,
  SCHEMA_BYTES,
  SCHEMA_ANY,
  SCHEMA_STRUCT,
  SCHEMA_LIST,
  SCHEMA_MAP,
};

enum schema_list_type { SCHEMA_LIST_ATOMIC, SCHEMA_LIST_SET, SCHEMA_LIST_MAP };

/* Patch strategy bits (strategic merge patch). */
enum {
  SCHEMA_PATCH_MERGE = 1 << 0,
  SCHEMA_PATCH_REPLACE = 1 << 1,
  SCHEMA_PATCH_RETAIN_KEYS = 1 << 2,
};

struct schema_type;

/* A type expression: a scalar, a struct, or a list/map of an element type. */
struct schema_ref {
  enum schema_kind kind;
  const struct schema_type *type; /* SCHEMA_STRUCT, or a named scalar alias; else NULL */
  const struct schema_ref *elem;  /* SCHEMA_LIST / SCHEMA_MAP */
};

struct schema_field {
  const char *name;
  const struct schema_ref *ref;
  const char *doc;          /* may be "" */
  bool required;
  bool read_only;
  json_t *default_value;    /* NULL when none; borrowed, never mutate */
  const char *const *enum_values; /* NULL-terminated, or NULL */
  const char *format;       /* NULL when none */
  bool has_min, has_max;
  double min, max;
  unsigned patch_strategy;  /* SCHEMA_PATCH_* bits; 0 = default (replace for lists) */
  const char *merge_key;    /* patchMergeKey, or NULL */
  enum schema_list_type list_type;
  const char *const *list_keys; /* NULL-terminated, for SCHEMA_LIST_MAP; else NULL */
  bool map_atomic;
  int pb;                   /* protobuf field number, 0 = none */
  bool pb_packed;
  const char *oneof;        /* group name, or NULL */
};

struct schema_gvk {
  const char *group; /* "" for core */
  const char *version;
  const char *kind;
};

struct schema_type {
  const char *name;      /* short name, "Pod" */
  const char *full_name; /* "io.k8s.api.core.v1.Pod" */
  const char *doc;
  const struct schema_field *fields;
  size_t n_fields;
  const struct schema_gvk *gvks;
  size_t n_gvks;
  enum schema_kind scalar; /* SCHEMA_STRUCT for struct types, else the aliased scalar */
};

struct schema_set;

/* Parses schema text. On error returns -EINVAL and a malloc'd "line N: message". */
int schema_set_parse(const char *text, struct schema_set **ret, char **ret_err);
void schema_set_free(struct schema_set *set);

/* The process-wide set parsed from the embedded schema text (ckube_schema_text).
 * Parses on first call (thread-safe); aborts if the embedded text is invalid, which
 * the unit tests rule out. */
const struct schema_set *schema_builtin(void);

/* Lookups: NULL when absent. */
const struct schema_type *schema_find(const struct schema_set *set, const char *name);
const struct schema_type *schema_find_gvk(const struct schema_set *set, const char *group,
                                          const char *version, const char *kind);
const struct schema_field *schema_field(const struct schema_type *t, const char *name);

/* The schema-language name of a kind ("string", "int32", "struct", "list", ...); static. */
const char *schema_kind_name(enum schema_kind kind);

/* Iterates the types: index 0..schema_count()-1. */
size_t schema_count(const struct schema_set *set);
const struct schema_type *schema_at(const struct schema_set *set, size_t i);
