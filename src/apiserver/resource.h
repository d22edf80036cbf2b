/* resource.h — the generic resource handlers: get, list, create, update, patch, delete,
 * deletecollection for every registry entry, plus the subresources that are views of
 * the object itself (status, scale). They work on a transport-free request and answer
 * with a response the HTTP layer sends; watches are in watch.h.
 *
 * Thread-safety: every function may run concurrently on any thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "api/status.h"
#include "apiserver/request.h"
#include "store/store.h"

struct authn_user;
struct authn_tokens;

/* What a handler needs from the request, independent of the HTTP library. */
struct resource_request {
  const char *method;
  struct request_info info;
  const char *(*query)(void *ud, const char *name); /* first value of a query parameter */
  void *ud;
  const char *content_type; /* NULL when the header is absent (kubectl's scale PUT) */
  const char *accept;
  const char *body;
  size_t body_len;
  const struct authn_user *user; /* the authenticated user */
  const char *user_agent;         /* names the field manager when none is given */
};

struct resource_response {
  int code;
  char *body; /* malloc'd */
  size_t len;
  const char *content_type;
  char **warnings; /* malloc'd strings, sent as Warning: 299 headers */
  size_t n_warnings;
};

void resource_response_clear(struct resource_response *r);

/* The shared state handlers work on. */
struct resource_context {
  struct store *store;
  struct watch_cache *cache;         /* may be NULL */
  const struct authn_tokens *tokens; /* for TokenReview; may be NULL */
  const char *ca_pem;                /* the cluster CA, published in every namespace */
};

/* Serves one resource request (info.res set and not a watch). Always fills *resp, with a
 * Status body on error. */
void resource_handle(struct resource_context *ctx, const struct resource_request *req,
                 struct resource_response *resp);

/* Requests that are not plain reads and writes of a stored object — access and token
 * reviews, pods/binding, pods/eviction, namespaces/finalize — are "actions" (actions.c).
 * Returns true when req is one and *resp was filled. */
bool resource_action(struct resource_context *ctx, const struct resource_request *req,
                     struct resource_response *resp);

/* Deletes one object as a DELETE request would (finalizers, grace periods, propagation).
 * options is a DeleteOptions object or NULL. On success *ret_obj is the object: still
 * there with deletionTimestamp set (*ret_kept true), or as it was when removed. */
int resource_delete(struct resource_context *ctx, const struct api_resource *r, const char *ns,
                    const char *name, const json_t *options, json_t **ret_obj, bool *ret_kept,
                    struct api_error *err);

/* Reads one object (resourceVersion stamped) and its revision. -ENOENT with NotFound. */
int resource_load(struct resource_context *ctx, const struct api_resource *r, const char *ns,
                  const char *name, json_t **ret, int64_t *ret_rev, struct api_error *err);

/* Writes obj over the stored revision rev (compare-and-swap) with no admission: for
 * system-owned changes such as a binding. Stamps the new resourceVersion into obj. */
int resource_store_update(struct resource_context *ctx, const struct api_resource *r,
                          json_t *obj, int64_t rev, struct api_error *err);

/* Helpers shared with watch and bootstrap code. */

/* "/registry/<group or core>/<resource>/[<ns>/]<name>" (name may be "" for a prefix). */
char *resource_key(const struct api_resource *r, const char *ns, const char *name);

/* Parses stored bytes and stamps metadata.resourceVersion with rev. New reference, or NULL
 * if the stored bytes are not JSON (never expected). */
json_t *resource_decode_stored(const char *value, size_t len, int64_t rev);

/* The JSON bytes of a stored object with metadata.resourceVersion stamped, made by splicing
 * bytes (objects are stored metadata first) rather than decoding. malloc'd; NULL if the
 * stored bytes are not JSON. */
char *resource_encode_stored(const char *value, size_t len, int64_t rev, size_t *ret_len);

/* Creates an object directly in the store, with the same defaulting as a POST (used to
 * create the built-in namespaces and the kubernetes Service at start-up). -EEXIST if it is
 * there already. */
int resource_create_object(struct resource_context *ctx, const struct api_resource *r, json_t *obj,
                       struct api_error *err);
