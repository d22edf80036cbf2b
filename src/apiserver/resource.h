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

struct user_info;

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
  const char *user_name;
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
  struct watch_cache *cache; /* may be NULL */
};

/* Serves one resource request (info.res set and not a watch). Always fills *resp, with a
 * Status body on error. */
void resource_handle(struct resource_context *ctx, const struct resource_request *req,
                 struct resource_response *resp);

/* Helpers shared with watch and bootstrap code. */

/* "/registry/<group or core>/<resource>/[<ns>/]<name>" (name may be "" for a prefix). */
char *resource_key(const struct api_resource *r, const char *ns, const char *name);

/* Parses stored bytes and stamps metadata.resourceVersion with rev. New reference, or NULL
 * if the stored bytes are not JSON (never expected). */
json_t *resource_decode_stored(const char *value, size_t len, int64_t rev);

/* Creates an object directly in the store, with the same defaulting as a POST (used to
 * create the built-in namespaces and the kubernetes Service at start-up). -EEXIST if it is
 * there already. */
int resource_create_object(struct resource_context *ctx, const struct api_resource *r, json_t *obj,
                       struct api_error *err);
