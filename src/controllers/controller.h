/* controller.h — the controller framework: the generic part of every controller of the
 * controller manager, so that a controller is a table entry with a setup and a sync.
 *
 * A controller declares itself with CONTROLLER_REGISTER(def) in its own file; the
 * manager finds every registered controller through a linker section, so adding one is
 * adding a file. At start the manager calls each enabled controller's setup(), which asks
 * for the shared informers it needs (controller_informer()) and installs event handlers
 * that turn changes into work-queue keys (controller_enqueue*(), or the ready-made
 * controller_watch_*() handlers). Then the shared informers start and sync, and each
 * controller's worker threads call sync(key) for keys from its queue: 0 means done (the
 * key's back-off is reset), a negative errno means retry after back-off.
 *
 * sync() reads from informers and writes through the REST client only (the API server is
 * the only bus); a controller keeps no other state that cannot be rebuilt from the API,
 * except expectations (controller_expect*), which stop a burst of informer lag from
 * causing duplicate creates or deletes, as kube-controller-manager's do.
 *
 * Everything here is thread-safe unless said otherwise. Nothing here logs except through
 * controller_log(), which the manager routes to stderr with the controller's name. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>

#include "client/events.h"
#include "client/informer.h"
#include "client/rest.h"
#include "client/workqueue.h"
#include "lib/json.h"

/* What the manager gives every controller. */
struct ctrl_env {
  struct rest_client *client;
  struct informer_factory *informers; /* made and owned by the manager */
  const char *cluster_cidr;      /* --cluster-cidr, default "10.42.0.0/16" */
  long node_monitor_grace_ms;    /* node lifecycle: 40 s by default */
  long pod_eviction_timeout_ms;  /* default NoExecute tolerationSeconds: 300 s */
  const char *data_dir;          /* for the local-path provisioner */
};

struct controller;

struct controller_def {
  const char *name;      /* as --controllers names it: "replicaset", "deployment", ... */
  const char *component; /* event source: "replicaset-controller" */
  int workers;           /* worker threads; 0 = 2 */
  /* Asks for informers and installs handlers. 0 or -errno (the manager then fails). */
  int (*setup)(struct controller *c);
  /* Reconciles one key. 0 = done; < 0 = retry with back-off. */
  int (*sync)(struct controller *c, const char *key);
  /* Frees what setup() allocated (controller_state). May be NULL. */
  void (*teardown)(struct controller *c);
  /* Called once after the informers synced and before workers start; may be NULL. For
   * controllers with periodic work (cron, node monitor), which they run by re-queuing a
   * key with controller_enqueue_after(). */
  void (*started)(struct controller *c);
};

#define CONTROLLER_REGISTER(def)                                                            \
  __attribute__((used, section("ckube_controllers"), aligned(sizeof(void *))))           \
  static const struct controller_def *const ctrl_reg_##def = &(def)

/* ---- for controllers ---- */

const struct controller_def *controller_def(struct controller *c);
const struct ctrl_env *controller_env(struct controller *c);
struct rest_client *controller_client(struct controller *c);
struct event_recorder *controller_events(struct controller *c);

/* The controller's private state (set in setup, freed in teardown). */
void *controller_state(struct controller *c);
void controller_set_state(struct controller *c, void *state);

/* The shared informer of a collection path ("/api/v1/pods", "/apis/apps/v1/replicasets").
 * In setup() only (informers start after every setup ran). Borrowed. */
struct informer *controller_informer(struct controller *c, const char *path);

void controller_enqueue(struct controller *c, const char *key);
void controller_enqueue_after(struct controller *c, const char *key, long delay_ms);
/* Enqueues the object's own key ("ns/name" or "name"). */
void controller_enqueue_obj(struct controller *c, const json_t *obj);

/* Handlers: every add/update/delete of the informer's objects enqueues the object's key. */
void controller_watch_objects(struct controller *c, struct informer *inf);
/* Every add/update/delete enqueues the key of the object's controller owner (the
 * ownerReference with controller: true) when that owner is of `owner_kind`; for updates
 * the old owner too when it changed. */
void controller_watch_owned(struct controller *c, struct informer *inf, const char *owner_kind);

/* The ownerReference with controller: true (borrowed), or NULL. */
const json_t *controller_owner_ref(const json_t *obj);

/* Log a line to stderr prefixed with the controller's name. */
void controller_log(struct controller *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- expectations: how many creates/deletes of dependents the controller is still to
 * see in its informer for `key` (kube's ControllerExpectations). ---- */
void controller_expect(struct controller *c, const char *key, int adds, int dels);
/* Observed one add / one delete of a dependent of key (call from informer handlers). */
void controller_observe_add(struct controller *c, const char *key);
void controller_observe_del(struct controller *c, const char *key);
/* True when every expected add/delete was observed, or the expectations are older than
 * 5 minutes (then they are dropped), or none were set. */
bool controller_satisfied(struct controller *c, const char *key);
void controller_forget_expectations(struct controller *c, const char *key);

/* ---- REST helpers shared by controllers (return 0 or -errno; HTTP failures give
 * -EIO with the Status message in *ret_err; 404 → -ENOENT, 409 → -EEXIST for create or
 * -ESTALE for conflicting updates, 422 → -EINVAL) ---- */

/* POST obj to the collection path; the created object in *ret (may be NULL). */
int controller_create(struct controller *c, const char *path, const json_t *obj, json_t **ret,
                      char **ret_err);
/* PUT obj to the object path (path/name); *ret may be NULL. */
int controller_update(struct controller *c, const char *path, const json_t *obj, json_t **ret,
                      char **ret_err);
/* PATCH with a merge patch (content type application/merge-patch+json), or a strategic
 * merge patch when strategic is true; `path` is the object (or subresource) path. */
int controller_patch(struct controller *c, const char *path, const json_t *patch, bool strategic,
                     json_t **ret, char **ret_err);
/* DELETE the object path; options: a DeleteOptions body or NULL. 404 counts as success. */
int controller_delete(struct controller *c, const char *path, const json_t *options,
                      char **ret_err);

/* The collection path of a namespaced resource: ("/apis/apps/v1", "ns", "replicasets") →
 * "/apis/apps/v1/namespaces/ns/replicasets"; ns NULL → cluster-scoped. Caller frees. */
char *controller_path(const char *group_version_prefix, const char *ns, const char *plural);

/* ---- the manager ---- */

struct controller_manager;

/* enabled: NULL or a comma list as --controllers takes it ("*", "-foo", names); runs no
 * threads yet. 0 or -EINVAL (unknown controller name in *ret_err). */
int controller_manager_new(const struct ctrl_env *env, const char *enabled,
                           struct controller_manager **ret, char **ret_err);

/* Sets up every controller, starts the informers, waits for them to sync, starts the
 * workers. Returns once running. */
int controller_manager_start(struct controller_manager *m, char **ret_err);

/* Stops workers and informers, tears the controllers down, frees. Accepts NULL. */
void controller_manager_free(struct controller_manager *m);

/* The first name in a --controllers list that names no controller (malloc'd), or NULL
 * when all are known. */
char *controller_unknown(const char *enabled);

/* Names of every registered controller, NULL-terminated, sorted (borrowed). */
const char *const *controller_names(void);
