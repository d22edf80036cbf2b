#include "controllers/controller.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/hmap.h"

#define EXPECTATIONS_TTL_S 300

/* Every CONTROLLER_REGISTER() puts a pointer into this section; the linker provides its
 * bounds. Weak, so programs that link no controller still link. */
extern const struct controller_def *const __start_ckube_controllers[] __attribute__((weak));
extern const struct controller_def *const __stop_ckube_controllers[] __attribute__((weak));

struct expectation {
  int adds, dels;
  time_t set_at;
};

struct owned_watch {
  struct controller *c;
  char *kind;
};

struct controller {
  const struct controller_def *def;
  struct controller_manager *m;
  void *state;
  struct workqueue *queue;
  pthread_t *workers;
  int n_workers;
  struct event_recorder *events;
  pthread_mutex_t exp_mu;
  struct hmap expectations; /* key → struct expectation* */
  bool set_up;
  struct owned_watch **owned; /* handler contexts of controller_watch_owned() */
  size_t n_owned;
};

struct controller_manager {
  struct ctrl_env env;
  struct controller *ctrls;
  size_t n;
};

/* ---- registry ---- */

static int def_cmp(const void *a, const void *b) {
  return strcmp((*(const struct controller_def *const *)a)->name,
                (*(const struct controller_def *const *)b)->name);
}

static const struct controller_def **all_defs;
static const char **all_names;
static size_t n_defs;

static void defs_init(void) {
  size_t total = __start_ckube_controllers
                     ? (size_t)(__stop_ckube_controllers - __start_ckube_controllers)
                     : 0;
  all_defs = xcalloc(total + 1, sizeof(*all_defs));
  all_names = xcalloc(total + 1, sizeof(*all_names));
  for (size_t i = 0; i < total; i++)
    all_defs[n_defs++] = __start_ckube_controllers[i];
  qsort(all_defs, n_defs, sizeof(*all_defs), def_cmp);
  for (size_t i = 0; i < n_defs; i++)
    all_names[i] = all_defs[i]->name;
}

static const struct controller_def **sorted_defs(size_t *ret_n) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, defs_init);
  *ret_n = n_defs;
  return all_defs;
}

const char *const *controller_names(void) {
  size_t n;
  sorted_defs(&n);
  return all_names;
}

/* ---- accessors ---- */

const struct controller_def *controller_def(struct controller *c) { return c->def; }
const struct ctrl_env *controller_env(struct controller *c) { return &c->m->env; }
struct rest_client *controller_client(struct controller *c) { return c->m->env.client; }
struct event_recorder *controller_events(struct controller *c) { return c->events; }
void *controller_state(struct controller *c) { return c->state; }
void controller_set_state(struct controller *c, void *state) { c->state = state; }

struct informer *controller_informer(struct controller *c, const char *path) {
  return informer_factory_get(c->m->env.informers, path);
}

void controller_enqueue(struct controller *c, const char *key) { workqueue_add(c->queue, key); }

void controller_enqueue_after(struct controller *c, const char *key, long delay_ms) {
  workqueue_add_after(c->queue, key, delay_ms);
}

void controller_enqueue_obj(struct controller *c, const json_t *obj) {
  _cleanup_free_ char *key = informer_key(obj);
  if (key)
    workqueue_add(c->queue, key);
}

void controller_log(struct controller *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  _cleanup_free_ char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  fprintf(stderr, "ckube %s-controller: %s\n", c->def->name, msg);
}

/* ---- ready-made handlers ---- */

static void obj_on_add(void *ud, json_t *obj) { controller_enqueue_obj(ud, obj); }
static void obj_on_update(void *ud, json_t *old, json_t *obj) {
  (void)old;
  controller_enqueue_obj(ud, obj);
}

void controller_watch_objects(struct controller *c, struct informer *inf) {
  informer_add_handler(inf, &(struct informer_handler){.on_add = obj_on_add,
                                                       .on_update = obj_on_update,
                                                       .on_delete = obj_on_add,
                                                       .userdata = c});
}

const json_t *controller_owner_ref(const json_t *obj) {
  json_t *refs = json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), *r;
  size_t i;
  json_array_foreach(refs, i, r) {
    if (json_is_true(json_object_get(r, "controller")))
      return r;
  }
  return NULL;
}


static void enqueue_owner(struct owned_watch *w, const json_t *obj) {
  const json_t *ref = controller_owner_ref(obj);
  const char *kind = json_string_value(json_object_get(ref, "kind"));
  const char *name = json_string_value(json_object_get(ref, "name"));
  if (!kind || !name || strcmp(kind, w->kind) != 0)
    return;
  const char *ns = json_path_str((json_t *)obj, "metadata.namespace");
  _cleanup_free_ char *key = ns && *ns ? xasprintf("%s/%s", ns, name) : xstrdup(name);
  workqueue_add(w->c->queue, key);
}

static void owned_on_add(void *ud, json_t *obj) { enqueue_owner(ud, obj); }
static void owned_on_update(void *ud, json_t *old, json_t *obj) {
  enqueue_owner(ud, obj);
  if (old && !json_equal((json_t *)controller_owner_ref(old), (json_t *)controller_owner_ref(obj)))
    enqueue_owner(ud, old);
}

void controller_watch_owned(struct controller *c, struct informer *inf, const char *owner_kind) {
  /* Freed with the controller, after the informers that call the handler stopped. */
  struct owned_watch *w = xcalloc(1, sizeof(*w));
  w->c = c;
  w->kind = xstrdup(owner_kind);
  c->owned = xrealloc(c->owned, (c->n_owned + 1) * sizeof(*c->owned));
  c->owned[c->n_owned++] = w;
  informer_add_handler(inf, &(struct informer_handler){.on_add = owned_on_add,
                                                       .on_update = owned_on_update,
                                                       .on_delete = owned_on_add,
                                                       .userdata = w});
}

/* ---- expectations ---- */

void controller_expect(struct controller *c, const char *key, int adds, int dels) {
  pthread_mutex_lock(&c->exp_mu);
  struct expectation *e = hmap_get(&c->expectations, key);
  if (!e) {
    e = xcalloc(1, sizeof(*e));
    hmap_put(&c->expectations, key, e);
  }
  e->adds = adds;
  e->dels = dels;
  e->set_at = time(NULL);
  pthread_mutex_unlock(&c->exp_mu);
}

static void observe(struct controller *c, const char *key, bool add) {
  pthread_mutex_lock(&c->exp_mu);
  struct expectation *e = hmap_get(&c->expectations, key);
  if (e) {
    if (add && e->adds > 0)
      e->adds--;
    else if (!add && e->dels > 0)
      e->dels--;
  }
  pthread_mutex_unlock(&c->exp_mu);
}

void controller_observe_add(struct controller *c, const char *key) { observe(c, key, true); }
void controller_observe_del(struct controller *c, const char *key) { observe(c, key, false); }

bool controller_satisfied(struct controller *c, const char *key) {
  pthread_mutex_lock(&c->exp_mu);
  struct expectation *e = hmap_get(&c->expectations, key);
  bool ok = true;
  if (e && (e->adds > 0 || e->dels > 0)) {
    if (time(NULL) - e->set_at < EXPECTATIONS_TTL_S)
      ok = false;
    else
      free(hmap_remove(&c->expectations, key));
  }
  pthread_mutex_unlock(&c->exp_mu);
  return ok;
}

void controller_forget_expectations(struct controller *c, const char *key) {
  pthread_mutex_lock(&c->exp_mu);
  free(hmap_remove(&c->expectations, key));
  pthread_mutex_unlock(&c->exp_mu);
}

/* ---- REST helpers ---- */

static int map_status(long status, const json_t *body, bool create, char **ret_err) {
  if (status >= 200 && status < 300)
    return 0;
  if (ret_err) {
    const char *msg = json_string_value(json_object_get(body, "message"));
    free(*ret_err);
    *ret_err = msg ? xstrdup(msg) : xasprintf("HTTP %ld", status);
  }
  switch (status) {
  case 404:
    return -ENOENT;
  case 409:
    return create ? -EEXIST : -ESTALE;
  case 422:
  case 400:
    return -EINVAL;
  case 403:
    return -EPERM;
  default:
    return -EIO;
  }
}

static int do_json(struct controller *c, const char *method, const char *path,
                   const char *content_type, const json_t *body, bool create, json_t **ret,
                   char **ret_err) {
  _cleanup_free_ char *enc = body ? json_encode(body) : NULL;
  _cleanup_rest_response_ struct rest_response resp = {0};
  struct rest_request req = {.method = method, .path = path, .body = enc,
                             .body_len = enc ? strlen(enc) : 0, .content_type = content_type};
  int r = rest_do(c->m->env.client, &req, &resp, ret_err);
  if (r < 0)
    return r;
  /* The answer is decoded only when someone reads it: the caller, or an error message. */
  bool ok = resp.status >= 200 && resp.status < 300;
  _cleanup_json_ json_t *obj = NULL;
  if (resp.body_len && (ret || !ok))
    json_decode(resp.body, resp.body_len, &obj, NULL);
  r = map_status(resp.status, obj, create, ret_err);
  if (r == 0 && ret)
    *ret = TAKE_PTR(obj);
  return r;
}

int controller_create(struct controller *c, const char *path, const json_t *obj, json_t **ret,
                      char **ret_err) {
  return do_json(c, "POST", path, NULL, obj, true, ret, ret_err);
}

int controller_update(struct controller *c, const char *path, const json_t *obj, json_t **ret,
                      char **ret_err) {
  return do_json(c, "PUT", path, NULL, obj, false, ret, ret_err);
}

int controller_patch(struct controller *c, const char *path, const json_t *patch, bool strategic,
                     json_t **ret, char **ret_err) {
  return do_json(c, "PATCH", path,
                 strategic ? "application/strategic-merge-patch+json"
                           : "application/merge-patch+json",
                 patch, false, ret, ret_err);
}

int controller_delete(struct controller *c, const char *path, const json_t *options,
                      char **ret_err) {
  int r = do_json(c, "DELETE", path, NULL, options, false, NULL, ret_err);
  return r == -ENOENT ? 0 : r;
}

char *controller_path(const char *prefix, const char *ns, const char *plural) {
  return ns && *ns ? xasprintf("%s/namespaces/%s/%s", prefix, ns, plural)
                   : xasprintf("%s/%s", prefix, plural);
}

/* ---- workers ---- */

static void *worker_main(void *p) {
  struct controller *c = p;
  for (;;) {
    _cleanup_free_ char *key = NULL;
    if (workqueue_get(c->queue, &key) < 0)
      return NULL;
    int r = c->def->sync(c, key);
    if (r < 0)
      workqueue_add_rate_limited(c->queue, key);
    else
      workqueue_forget(c->queue, key);
    workqueue_done(c->queue, key);
  }
}

/* ---- the manager ---- */

/* kube's --controllers syntax: "*" all, "foo" on, "-foo" off; later items win. */
static int enabled_by(const char *spec, const char *name, bool *ret) {
  if (!spec || !*spec) {
    *ret = true;
    return 0;
  }
  bool on = false;
  _cleanup_free_ char *copy = xstrdup(spec);
  char *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (strcmp(tok, "*") == 0)
      on = true;
    else if (tok[0] == '-' && strcmp(tok + 1, name) == 0)
      on = false;
    else if (strcmp(tok, name) == 0)
      on = true;
  }
  *ret = on;
  return 0;
}

char *controller_unknown(const char *enabled) {
  if (!enabled || !*enabled)
    return NULL;
  size_t n;
  const struct controller_def **defs = sorted_defs(&n);
  _cleanup_free_ char *copy = xstrdup(enabled);
  char *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    const char *name = tok[0] == '-' ? tok + 1 : tok;
    bool known = strcmp(tok, "*") == 0;
    for (size_t i = 0; i < n && !known; i++)
      known = strcmp(defs[i]->name, name) == 0;
    if (!known)
      return xstrdup(name);
  }
  return NULL;
}

int controller_manager_new(const struct ctrl_env *env, const char *enabled,
                           struct controller_manager **ret, char **ret_err) {
  size_t n;
  const struct controller_def **defs = sorted_defs(&n);
  _cleanup_free_ char *bad = controller_unknown(enabled);
  if (bad) {
    if (ret_err)
      *ret_err = xasprintf("\"%s\" is not in the list of known controllers", bad);
    return -EINVAL;
  }
  struct controller_manager *m = xcalloc(1, sizeof(*m));
  m->env = *env;
  m->env.informers = informer_factory_new(env->client);
  m->ctrls = xcalloc(n ? n : 1, sizeof(*m->ctrls));
  for (size_t i = 0; i < n; i++) {
    bool on;
    enabled_by(enabled, defs[i]->name, &on);
    if (!on)
      continue;
    struct controller *c = &m->ctrls[m->n++];
    c->def = defs[i];
    c->m = m;
    c->queue = workqueue_new(0, 0);
    pthread_mutex_init(&c->exp_mu, NULL);
  }
  *ret = m;
  return 0;
}

int controller_manager_start(struct controller_manager *m, char **ret_err) {
  for (size_t i = 0; i < m->n; i++) {
    struct controller *c = &m->ctrls[i];
    const char *component = c->def->component ? c->def->component : c->def->name;
    c->events = event_recorder_new(m->env.client, component, NULL);
    int r = c->def->setup ? c->def->setup(c) : 0;
    if (r < 0) {
      if (ret_err)
        *ret_err = xasprintf("setting up the %s controller: %s", c->def->name, strerror(-r));
      return r;
    }
    c->set_up = true;
  }
  int r = informer_factory_start(m->env.informers, 0);
  if (r < 0) {
    if (ret_err)
      *ret_err = xasprintf("starting informers: %s", strerror(-r));
    return r;
  }
  for (size_t i = 0; i < m->n; i++) {
    struct controller *c = &m->ctrls[i];
    if (c->def->started)
      c->def->started(c);
    c->n_workers = c->def->workers > 0 ? c->def->workers : 2;
    c->workers = xcalloc((size_t)c->n_workers, sizeof(*c->workers));
    for (int w = 0; w < c->n_workers; w++)
      if (pthread_create(&c->workers[w], NULL, worker_main, c) != 0) {
        c->n_workers = w;
        if (ret_err)
          *ret_err = xstrdup("starting controller threads failed");
        return -EAGAIN;
      }
  }
  return 0;
}

static void free_ptr(void *p) { free(p); }

void controller_manager_free(struct controller_manager *m) {
  if (!m)
    return;
  for (size_t i = 0; i < m->n; i++)
    workqueue_shutdown(m->ctrls[i].queue);
  for (size_t i = 0; i < m->n; i++) {
    struct controller *c = &m->ctrls[i];
    for (int w = 0; w < c->n_workers; w++)
      pthread_join(c->workers[w], NULL);
    free(c->workers);
  }
  /* Informers call handlers that enqueue into the queues: stop them before freeing. */
  informer_factory_free(m->env.informers);
  m->env.informers = NULL;
  for (size_t i = 0; i < m->n; i++) {
    struct controller *c = &m->ctrls[i];
    if (c->set_up && c->def->teardown)
      c->def->teardown(c);
    event_recorder_free(c->events);
    workqueue_free(c->queue);
    hmap_clear(&c->expectations, free_ptr);
    for (size_t w = 0; w < c->n_owned; w++) {
      free(c->owned[w]->kind);
      free(c->owned[w]);
    }
    free(c->owned);
    pthread_mutex_destroy(&c->exp_mu);
  }
  free(m->ctrls);
  free(m);
}
