/* registry.h — the type registry: every resource the API serves, listed once as data.
 *
 * Generic code walks this table for routing, discovery, OpenAPI, tables, defaulting and
 * validation; per-kind behaviour lives in the strategy hooks. Adding a type is adding an
 * entry (and its schema in src/api/schemas/). The table is immutable after
 * api_registry_init() and may be read from any thread. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/schema.h"
#include "api/status.h"

enum {
  VERB_GET = 1 << 0,
  VERB_LIST = 1 << 1,
  VERB_WATCH = 1 << 2,
  VERB_CREATE = 1 << 3,
  VERB_UPDATE = 1 << 4,
  VERB_PATCH = 1 << 5,
  VERB_DELETE = 1 << 6,
  VERB_DELETECOLLECTION = 1 << 7,
};
#define VERBS_ALL                                                                      \
  (VERB_GET | VERB_LIST | VERB_WATCH | VERB_CREATE | VERB_UPDATE | VERB_PATCH |          \
   VERB_DELETE | VERB_DELETECOLLECTION)
#define VERBS_CREATE_ONLY (VERB_CREATE)

/* Verb names in discovery order: get list watch create update patch delete deletecollection
 * (discovery sorts them alphabetically; see api_verbs_json). */
json_t *api_verbs_json(unsigned verbs);

struct api_resource;

/* A subresource: "status", "scale", "binding", "eviction", "ephemeralcontainers", "log",
 * "exec", ... kind is the response kind (group/version/kind). */
struct api_subresource {
  const char *name;
  const char *group, *version, *kind;
  unsigned verbs;
};

/* A kubectl get column (metav1.TableColumnDefinition) and how to fill it: either a
 * dotted JSON path into the object (`path`, arrays joined with ","), or a hook. */
struct api_column {
  const char *name;   /* "Name", "Ready", "Age" */
  const char *type;   /* "string", "integer", "date" */
  const char *format; /* "name" for the first column, else "" */
  const char *description;
  int priority;       /* 0 always shown; 1 with -o wide */
  const char *path;   /* e.g. "spec.clusterIP"; NULL when cell() is set */
  json_t *(*cell)(const json_t *obj); /* new reference; NULL for a missing value ("<none>") */
};

/* Per-kind behaviour, called by the generic handlers. Every hook may be NULL. */
struct api_strategy {
  /* Before create: clear status, set defaults the schema can't express. */
  void (*prepare_create)(json_t *obj);
  /* Before update: keep fields the client may not change through this path. */
  void (*prepare_update)(json_t *obj, const json_t *old);
  /* Cross-field validation beyond the schema; appends to errs. old is NULL on create. */
  void (*validate)(const json_t *obj, const json_t *old, struct field_errors *errs);
  /* Field-selector attributes beyond metadata.name/namespace: returns the value of a
   * field label for obj, or NULL when the label is not supported. */
  const char *(*field_label)(const json_t *obj, const char *label);
  /* Whether spec changed (bumps metadata.generation); NULL = compare everything but
   * metadata and status. */
  bool (*spec_changed)(const json_t *obj, const json_t *old);
};

struct api_resource {
  const char *group;    /* "" for core */
  const char *version;  /* "v1" */
  const char *kind;     /* "Pod" */
  const char *plural;   /* "pods" */
  const char *singular; /* "pod" */
  bool namespaced;
  unsigned verbs;
  const char *const *short_names; /* NULL-terminated or NULL */
  const char *const *categories;  /* NULL-terminated or NULL ("all") */
  const struct api_subresource *subresources; /* terminated by {NULL} or NULL */
  const struct api_column *columns;           /* terminated by {NULL}; NULL = Name, Age */
  const struct api_strategy *strategy;        /* NULL = defaults */
  const char *storage_group;    /* where objects live in the store when several versions
                                   share one storage ("autoscaling" v1 and v2); NULL = group */
  bool has_status;              /* spec/status split: status only through /status */
  const struct schema_type *schema; /* resolved by api_registry_init() */
};

/* Resolves schemas against the built-in schema set. Returns 0, or -EINVAL with a message
 * naming the first resource whose kind has no schema. Call once before serving. */
int api_registry_init(char **ret_err);

size_t api_registry_count(void);
const struct api_resource *api_registry_at(size_t i);

/* Lookups; NULL when absent. group "" is core. */
const struct api_resource *api_registry_find(const char *group, const char *version,
                                             const char *plural);
const struct api_resource *api_registry_find_kind(const char *group, const char *version,
                                                  const char *kind);
