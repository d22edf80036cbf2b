/* admission.h — the write path between decoding and the store, in kube-apiserver's
 * order: schema decode checks (types, unknown fields) → mutating admission → defaulting
 * → validation (schema, metadata, per-kind) → validating admission. Admission plugins
 * are a table of hooks (admission.c lists them), like kube's enabled plugin list. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "api/registry.h"
#include "api/status.h"
#include "store/store.h"

enum admission_op { ADMIT_CREATE, ADMIT_UPDATE, ADMIT_DELETE };

struct resource_context;

struct admission_attrs {
  enum admission_op op;
  const struct api_resource *res;
  const char *namespace_;
  const char *name;
  const char *subresource;
  json_t *obj;       /* mutable on create/update; NULL on delete */
  const json_t *old; /* NULL on create */
  bool dry_run;
  struct store *store;
  struct resource_context *ctx; /* for plugins that read or create other objects */
};

struct admission_plugin {
  const char *name;
  /* Any hook may be NULL. Return 0 to admit, or a negative errno with err filled. */
  int (*mutate)(const struct admission_attrs *a, struct api_error *err);
  int (*validate)(const struct admission_attrs *a, struct api_error *err);
  /* After the write: committed() when it was stored (for deletes: obj is NULL and old the
   * deleted object), aborted() when mutate() ran but the write did not happen, so
   * plugins that reserve something (service IPs, node ports) give it back. */
  void (*committed)(const struct admission_attrs *a);
  void (*aborted)(const struct admission_attrs *a);
};

/* Reports the outcome of a write admitted by admission_run(): rc 0 = stored. */
void admission_finish(const struct admission_attrs *a, int rc);

/* Decode-time checks of a request body against the resource's schema: JSON types, and
 * unknown fields per fieldValidation ("Strict", "Warn", "Ignore"; NULL = Ignore as
 * kube-apiserver's default for non-kubectl clients... kubectl always sends it). Warnings
 * (Warn mode) are appended to *warnings (malloc'd strings). */
int admission_decode(const struct api_resource *r, json_t *obj, const char *field_validation,
                     char ***warnings, size_t *n_warnings, struct api_error *err);

/* Runs mutating plugins, defaulting, validation and validating plugins. When it fails,
 * it has already undone what the plugins reserved; when it succeeds, the caller must call
 * admission_finish() with the outcome of the write. */
int admission_run(const struct admission_attrs *a, struct api_error *err);

/* The plugins, each in its own file, listed in admission.c in the order they run. */
extern const struct admission_plugin admission_service_alloc;             /* alloc.c */
extern const struct admission_plugin admission_priority;                  /* admission_pods.c */
extern const struct admission_plugin admission_default_storage_class;     /* admission_storage.c */
extern const struct admission_plugin admission_default_toleration_seconds; /* admission_pods.c */
extern const struct admission_plugin admission_service_account; /* admission_serviceaccount.c */
