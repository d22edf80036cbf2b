/* informer.h — a local, always-current copy of one collection of API objects, kept by
 * list + watch, as client-go's shared informers keep it.
 *
 * An informer lists its collection (in pages), then watches from the list's
 * resourceVersion with bookmarks; when the watch ends it resumes from the last version it
 * saw, and when the server answers 410 Gone (the version was compacted) it lists again and
 * reports the difference as add/update/delete events. Objects live in a cache keyed like
 * client-go's MetaNamespaceKeyFunc ("namespace/name", or "name" for cluster-scoped
 * objects), with an index by namespace and any indexes the user adds. Cached objects lack
 * metadata.managedFields (an update sent without them keeps the stored ones).
 *
 * Objects handed out (handler arguments, informer_get(), lists) are shared with the cache
 * and other threads: they must be treated as read-only. Copy (json_deep_copy) before
 * changing one. Holding a reference beyond a call is fine (jansson's reference counts are
 * atomic).
 *
 * Threads: each started informer runs one thread, which applies events to the cache and
 * then calls the handlers, in order, without holding the cache lock — handlers may read
 * any informer, and must be quick (enqueue a key, not do the work). Reads are thread-safe.
 * Nothing here logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "client/rest.h"
#include "lib/json.h"
#include "lib/macro.h"

struct informer;

struct informer_handler {
  /* Any may be NULL. `obj`/`old` are borrowed for the call (take a reference to keep). */
  void (*on_add)(void *userdata, json_t *obj);
  void (*on_update)(void *userdata, json_t *old, json_t *obj);
  /* For a delete, obj is the last state the informer knew. */
  void (*on_delete)(void *userdata, json_t *obj);
  void *userdata;
};

/* An index function: writes up to `max` index values of obj into ret_values (borrowed from
 * obj, which stays alive while cached) and returns how many. */
typedef size_t (*informer_index_fn)(const json_t *obj, const char **ret_values, size_t max);

#define INFORMER_INDEX_MAX_VALUES 16

struct informer_config {
  const char *path;           /* collection path: "/api/v1/pods", "/apis/apps/v1/deployments" */
  const char *label_selector; /* optional */
  const char *field_selector; /* optional */
  long page_size;             /* list page size; 0 = 500 */
};

/* Makes an informer (not running). The client must outlive it. */
struct informer *informer_new(struct rest_client *client, const struct informer_config *cfg);

/* Before informer_start() only. */
void informer_add_handler(struct informer *inf, const struct informer_handler *h);
void informer_add_index(struct informer *inf, const char *name, informer_index_fn fn);

/* Starts the list+watch thread. 0 or -errno (thread creation). */
int informer_start(struct informer *inf);

/* Whether the first list has been applied (and its add events delivered). */
bool informer_synced(struct informer *inf);

/* Waits until synced or `timeout_ms` (0 = forever) passes: 0, or -ETIMEDOUT. */
int informer_wait_synced(struct informer *inf, long timeout_ms);

/* Stops the thread (within about a second) and waits for it. Idempotent. */
void informer_stop(struct informer *inf);

/* Stops if needed and frees. Accepts NULL. */
void informer_free(struct informer *inf);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct informer *, informer_free)

/* The cached object with this key: new reference, or NULL. */
json_t *informer_get(struct informer *inf, const char *key);
json_t *informer_get_nn(struct informer *inf, const char *ns, const char *name);

/* The cached objects (of one namespace, or all for ns == NULL) as a new JSON array of
 * shared objects. */
json_t *informer_list(struct informer *inf, const char *ns);

/* The cached objects whose index `name` has `value`, as a new JSON array (empty when the
 * index does not exist). */
json_t *informer_by_index(struct informer *inf, const char *name, const char *value);

/* How many objects are cached. */
size_t informer_len(struct informer *inf);

/* The last resourceVersion applied ("" before the first list). Copy; caller frees. */
char *informer_resource_version(struct informer *inf);

/* The cache key of an object: "namespace/name" or "name". Caller frees; NULL when the
 * object has no name. */
char *informer_key(const json_t *obj);

/* Splits a key into namespace (NULL for cluster-scoped) and name, both malloc'd. */
void informer_split_key(const char *key, char **ret_ns, char **ret_name);

/* ---- shared informers: one per collection path, used by many components ---- */

struct informer_factory;

struct informer_factory *informer_factory_new(struct rest_client *client);

/* The shared informer of an unfiltered collection path, made on first use. Borrowed: the
 * factory owns it. Before informer_factory_start() for new paths; later calls return
 * started informers only if they were requested before. */
struct informer *informer_factory_get(struct informer_factory *f, const char *path);

/* Starts every informer made so far, then waits for all to sync (timeout_ms 0 = forever):
 * 0 or -ETIMEDOUT. */
int informer_factory_start(struct informer_factory *f, long timeout_ms);

/* Stops and frees every informer. Accepts NULL. */
void informer_factory_free(struct informer_factory *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct informer_factory *, informer_factory_free)
