#include "client/informer.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/hmap.h"
#include "lib/strbuf.h"
#include "lib/timeutil.h"

#define MAX_INDEXES 8

struct index {
  char *name;
  informer_index_fn fn;
  struct hmap values; /* index value → struct hmap* (key → json_t*, borrowed from items) */
};

struct informer {
  struct rest_client *client;
  char *path, *label_selector, *field_selector;
  long page_size;

  struct informer_handler *handlers;
  size_t n_handlers;

  pthread_rwlock_t lock; /* items, indexes, rv */
  struct hmap items;     /* key → json_t* (owned reference) */
  struct index indexes[MAX_INDEXES];
  size_t n_indexes;
  char *rv;

  pthread_mutex_t mu; /* synced, sleeping */
  pthread_cond_t cond;
  bool synced;
  atomic_bool stop;
  bool started;
  pthread_t thread;
  bool need_list;
};

/* ---- keys and indexes ---- */

char *informer_key(const json_t *obj) {
  const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
  if (!name)
    return NULL;
  const char *ns =
      json_string_value(json_object_get(json_object_get(obj, "metadata"), "namespace"));
  return ns && *ns ? xasprintf("%s/%s", ns, name) : xstrdup(name);
}

void informer_split_key(const char *key, char **ret_ns, char **ret_name) {
  const char *slash = strchr(key, '/');
  *ret_ns = slash ? xstrndup(key, (size_t)(slash - key)) : NULL;
  *ret_name = xstrdup(slash ? slash + 1 : key);
}

static size_t index_namespace(const json_t *obj, const char **ret_values, size_t max) {
  const char *ns =
      json_string_value(json_object_get(json_object_get(obj, "metadata"), "namespace"));
  if (!ns || !max)
    return 0;
  ret_values[0] = ns;
  return 1;
}

static void index_insert(struct index *ix, const char *key, json_t *obj) {
  const char *vals[INFORMER_INDEX_MAX_VALUES];
  size_t n = ix->fn(obj, vals, INFORMER_INDEX_MAX_VALUES);
  for (size_t i = 0; i < n; i++) {
    struct hmap *set = hmap_get(&ix->values, vals[i]);
    if (!set) {
      set = xcalloc(1, sizeof(*set));
      hmap_put(&ix->values, vals[i], set);
    }
    hmap_put(set, key, obj);
  }
}

static void index_erase(struct index *ix, const char *key, json_t *obj) {
  const char *vals[INFORMER_INDEX_MAX_VALUES];
  size_t n = ix->fn(obj, vals, INFORMER_INDEX_MAX_VALUES);
  for (size_t i = 0; i < n; i++) {
    struct hmap *set = hmap_get(&ix->values, vals[i]);
    if (!set)
      continue;
    hmap_remove(set, key);
    if (!hmap_len(set)) {
      hmap_clear(set, NULL);
      free(hmap_remove(&ix->values, vals[i]));
    }
  }
}

/* Stores obj (taking the reference) under key; returns the previous object (owned by the
 * caller now) or NULL. Write lock held. */
static json_t *cache_put(struct informer *inf, const char *key, json_t *obj) {
  json_t *old = hmap_put(&inf->items, key, obj);
  for (size_t i = 0; i < inf->n_indexes; i++) {
    if (old)
      index_erase(&inf->indexes[i], key, old);
    index_insert(&inf->indexes[i], key, obj);
  }
  return old;
}

static json_t *cache_remove(struct informer *inf, const char *key) {
  json_t *old = hmap_remove(&inf->items, key);
  if (old)
    for (size_t i = 0; i < inf->n_indexes; i++)
      index_erase(&inf->indexes[i], key, old);
  return old;
}

static void set_rv(struct informer *inf, const char *rv) {
  if (!rv || !*rv)
    return;
  free(inf->rv);
  inf->rv = xstrdup(rv);
}

/* ---- events ---- */

enum ev_type { EV_ADD, EV_UPDATE, EV_DELETE };

static void dispatch(struct informer *inf, enum ev_type t, json_t *old, json_t *obj) {
  for (size_t i = 0; i < inf->n_handlers; i++) {
    const struct informer_handler *h = &inf->handlers[i];
    if (t == EV_ADD && h->on_add)
      h->on_add(h->userdata, obj);
    else if (t == EV_UPDATE && h->on_update)
      h->on_update(h->userdata, old, obj);
    else if (t == EV_DELETE && h->on_delete)
      h->on_delete(h->userdata, obj);
  }
}

/* Caches drop metadata.managedFields, as kube's controllers' informers do: nothing reads
 * them, an update without them keeps the stored ones, and they are often a third of an
 * object. */
static void trim(json_t *obj) {
  json_object_del(json_object_get(obj, "metadata"), "managedFields");
}

static const char *obj_rv(const json_t *obj) {
  return json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
}

/* ---- the list+watch loop ---- */

static bool sleep_unless_stopped(struct informer *inf, long ms) {
  struct timespec ts = timeutil_deadline(CLOCK_REALTIME, ms);
  pthread_mutex_lock(&inf->mu);
  while (!atomic_load(&inf->stop))
    if (pthread_cond_timedwait(&inf->cond, &inf->mu, &ts) == ETIMEDOUT)
      break;
  pthread_mutex_unlock(&inf->mu);
  return !atomic_load(&inf->stop);
}

static void append_selectors(struct informer *inf, struct strbuf *q, CURL *esc) {
  if (inf->label_selector) {
    char *e = curl_easy_escape(esc, inf->label_selector, 0);
    strbuf_appendf(q, "&labelSelector=%s", e);
    curl_free(e);
  }
  if (inf->field_selector) {
    char *e = curl_easy_escape(esc, inf->field_selector, 0);
    strbuf_appendf(q, "&fieldSelector=%s", e);
    curl_free(e);
  }
}

/* Lists the whole collection into a new map; 0, -EAGAIN (retry), -ECANCELED (stopping). */
static int list_all(struct informer *inf, struct hmap *ret_items, char **ret_rv) {
  _cleanup_free_ char *cont = NULL;
  CURL *esc = curl_easy_init();
  int r = 0;
  for (;;) {
    if (atomic_load(&inf->stop)) {
      r = -ECANCELED;
      break;
    }
    struct strbuf q = {0};
    strbuf_appendf(&q, "limit=%ld", inf->page_size);
    append_selectors(inf, &q, esc);
    if (cont) {
      char *e = curl_easy_escape(esc, cont, 0);
      strbuf_appendf(&q, "&continue=%s", e);
      curl_free(e);
    }
    _cleanup_rest_response_ struct rest_response resp = {0};
    r = rest_do(inf->client, &(struct rest_request){.path = inf->path, .query = q.s}, &resp,
                NULL);
    free(q.s);
    _cleanup_json_ json_t *list = NULL;
    if (r < 0 || resp.status != 200 || json_decode(resp.body, resp.body_len, &list, NULL) < 0) {
      r = -EAGAIN;
      break;
    }
    json_t *items = json_object_get(list, "items"), *it;
    size_t i;
    json_array_foreach(items, i, it) {
      _cleanup_free_ char *key = informer_key(it);
      trim(it);
      if (key)
        json_decref(hmap_put(ret_items, key, json_incref(it)));
    }
    json_t *meta = json_object_get(list, "metadata");
    const char *next = json_string_value(json_object_get(meta, "continue"));
    if (!next || !*next) {
      free(*ret_rv);
      *ret_rv = xstrdup(json_string_value(json_object_get(meta, "resourceVersion"))
                            ?: "");
      break;
    }
    free(cont);
    cont = xstrdup(next);
  }
  curl_easy_cleanup(esc);
  if (r < 0) {
    hmap_clear(ret_items, (void (*)(void *))json_decref);
    return r;
  }
  return 0;
}

struct pending {
  enum ev_type t;
  json_t *old, *obj; /* owned */
};

/* Replaces the cache by a fresh list and reports the difference. */
static int relist(struct informer *inf) {
  struct hmap fresh = HMAP_INIT;
  _cleanup_free_ char *rv = NULL;
  int r = list_all(inf, &fresh, &rv);
  if (r < 0)
    return r;

  struct pending *ev = NULL;
  size_t n_ev = 0, cap_ev = 0;
  pthread_rwlock_wrlock(&inf->lock);
  /* Deletions: cached objects the list no longer has. */
  size_t n_old = hmap_len(&inf->items);
  char **gone = xcalloc(n_old + 1, sizeof(*gone));
  size_t n_gone = 0;
  const char *k;
  void *v;
  for (size_t it = 0; hmap_next(&inf->items, &it, &k, &v);)
    if (!hmap_contains(&fresh, k))
      gone[n_gone++] = xstrdup(k);
  for (size_t i = 0; i < n_gone; i++) {
    if (n_ev == cap_ev)
      ev = xrealloc(ev, (cap_ev = cap_ev ? cap_ev * 2 : 64) * sizeof(*ev));
    ev[n_ev++] = (struct pending){EV_DELETE, NULL, cache_remove(inf, gone[i])};
    free(gone[i]);
  }
  free(gone);
  for (size_t it = 0; hmap_next(&fresh, &it, &k, &v);) {
    json_t *obj = v;
    json_t *old = hmap_get(&inf->items, k);
    if (old && obj_rv(old) && obj_rv(obj) && strcmp(obj_rv(old), obj_rv(obj)) == 0)
      continue;
    old = cache_put(inf, k, json_incref(obj));
    if (n_ev == cap_ev)
      ev = xrealloc(ev, (cap_ev = cap_ev ? cap_ev * 2 : 64) * sizeof(*ev));
    ev[n_ev++] = (struct pending){old ? EV_UPDATE : EV_ADD, old, json_incref(obj)};
  }
  set_rv(inf, rv);
  pthread_rwlock_unlock(&inf->lock);
  hmap_clear(&fresh, (void (*)(void *))json_decref);

  for (size_t i = 0; i < n_ev; i++) {
    dispatch(inf, ev[i].t, ev[i].old, ev[i].obj ? ev[i].obj : ev[i].old);
    json_decref(ev[i].old);
    json_decref(ev[i].obj);
  }
  free(ev);
  return 0;
}

struct watch_ctx {
  struct informer *inf;
  bool gone; /* 410: list again */
  bool failed;
};

static int on_watch_line(void *ud, long status, const char *line, size_t len) {
  struct watch_ctx *w = ud;
  struct informer *inf = w->inf;
  if (!line) {
    if (status == 410)
      w->gone = true;
    else if (status != 200)
      w->failed = true;
    return status == 200 ? 0 : 1;
  }
  if (atomic_load(&inf->stop))
    return 1;
  /* The managed fields are a fifth of a pod and nobody reads them from a cache: they are
   * stepped over rather than decoded and dropped. */
  static const char *const unread[] = {"object.metadata.managedFields", NULL};
  _cleanup_json_ json_t *ev = NULL;
  if (len == 0 || json_decode_select(line, len, unread, true, &ev, NULL) < 0)
    return 0;
  const char *type = json_string_value(json_object_get(ev, "type"));
  json_t *obj = json_object_get(ev, "object");
  if (!type || !json_is_object(obj))
    return 0;
  if (strcmp(type, "ERROR") == 0) {
    json_int_t code = json_integer_value(json_object_get(obj, "code"));
    if (code == 410)
      w->gone = true;
    else
      w->failed = true;
    return 1;
  }
  if (strcmp(type, "BOOKMARK") == 0) {
    pthread_rwlock_wrlock(&inf->lock);
    set_rv(inf, obj_rv(obj));
    pthread_rwlock_unlock(&inf->lock);
    return 0;
  }
  _cleanup_free_ char *key = informer_key(obj);
  if (!key)
    return 0;
  json_t *old = NULL;
  enum ev_type t;
  pthread_rwlock_wrlock(&inf->lock);
  if (strcmp(type, "DELETED") == 0) {
    old = cache_remove(inf, key);
    t = EV_DELETE;
  } else {
    old = cache_put(inf, key, json_incref(obj));
    t = old ? EV_UPDATE : EV_ADD;
  }
  set_rv(inf, obj_rv(obj));
  pthread_rwlock_unlock(&inf->lock);
  /* A delete of an object the cache never had still tells handlers its final state. */
  dispatch(inf, t, old, t == EV_DELETE ? (old ? old : obj) : obj);
  json_decref(old);
  return 0;
}

static void *informer_main(void *p) {
  struct informer *inf = p;
  long backoff = 200;
  inf->need_list = true;
  CURL *esc = curl_easy_init();
  while (!atomic_load(&inf->stop)) {
    if (inf->need_list) {
      if (relist(inf) < 0) {
        sleep_unless_stopped(inf, backoff);
        backoff = backoff < 5000 ? backoff * 2 : 5000;
        continue;
      }
      inf->need_list = false;
      pthread_mutex_lock(&inf->mu);
      inf->synced = true;
      pthread_cond_broadcast(&inf->cond);
      pthread_mutex_unlock(&inf->mu);
    }
    struct strbuf q = {0};
    pthread_rwlock_rdlock(&inf->lock);
    /* Like client-go, a random 5–10 minute timeout spreads re-watches over time. */
    strbuf_appendf(&q, "watch=1&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%d",
                   inf->rv ? inf->rv : "", 300 + rand() % 300);
    pthread_rwlock_unlock(&inf->lock);
    append_selectors(inf, &q, esc);
    struct watch_ctx w = {.inf = inf};
    int r = rest_stream_cancellable(inf->client, inf->path, q.s, 0, &inf->stop, on_watch_line,
                                    &w, NULL);
    free(q.s);
    if (atomic_load(&inf->stop))
      break;
    if (w.gone) {
      inf->need_list = true;
      backoff = 200;
    } else if (r < 0 || w.failed) {
      sleep_unless_stopped(inf, backoff);
      backoff = backoff < 5000 ? backoff * 2 : 5000;
    } else {
      backoff = 200;
    }
  }
  curl_easy_cleanup(esc);
  return NULL;
}

/* ---- lifecycle ---- */

struct informer *informer_new(struct rest_client *client, const struct informer_config *cfg) {
  struct informer *inf = xcalloc(1, sizeof(*inf));
  inf->client = client;
  inf->path = xstrdup(cfg->path);
  inf->label_selector = cfg->label_selector && *cfg->label_selector
                            ? xstrdup(cfg->label_selector)
                            : NULL;
  inf->field_selector = cfg->field_selector && *cfg->field_selector
                            ? xstrdup(cfg->field_selector)
                            : NULL;
  inf->page_size = cfg->page_size > 0 ? cfg->page_size : 500;
  pthread_rwlock_init(&inf->lock, NULL);
  pthread_mutex_init(&inf->mu, NULL);
  pthread_cond_init(&inf->cond, NULL);
  informer_add_index(inf, "namespace", index_namespace);
  return inf;
}

void informer_add_handler(struct informer *inf, const struct informer_handler *h) {
  inf->handlers = xrealloc(inf->handlers, (inf->n_handlers + 1) * sizeof(*inf->handlers));
  inf->handlers[inf->n_handlers++] = *h;
}

void informer_add_index(struct informer *inf, const char *name, informer_index_fn fn) {
  for (size_t i = 0; i < inf->n_indexes; i++)
    if (strcmp(inf->indexes[i].name, name) == 0)
      return;
  if (inf->n_indexes == MAX_INDEXES)
    abort(); /* a programming error: the index table is fixed */
  inf->indexes[inf->n_indexes++] = (struct index){xstrdup(name), fn, HMAP_INIT};
}

int informer_start(struct informer *inf) {
  if (inf->started)
    return 0;
  int r = pthread_create(&inf->thread, NULL, informer_main, inf);
  if (r)
    return -r;
  inf->started = true;
  return 0;
}

bool informer_synced(struct informer *inf) {
  pthread_mutex_lock(&inf->mu);
  bool s = inf->synced;
  pthread_mutex_unlock(&inf->mu);
  return s;
}

int informer_wait_synced(struct informer *inf, long timeout_ms) {
  struct timespec ts = timeutil_deadline(CLOCK_REALTIME, timeout_ms);
  int r = 0;
  pthread_mutex_lock(&inf->mu);
  while (!inf->synced && r == 0)
    r = timeout_ms > 0 ? pthread_cond_timedwait(&inf->cond, &inf->mu, &ts)
                       : pthread_cond_wait(&inf->cond, &inf->mu);
  bool s = inf->synced;
  pthread_mutex_unlock(&inf->mu);
  return s ? 0 : -ETIMEDOUT;
}

static void informer_signal_stop(struct informer *inf);

void informer_stop(struct informer *inf) {
  if (!inf->started)
    return;
  informer_signal_stop(inf);
  pthread_join(inf->thread, NULL);
  inf->started = false;
}

static void free_set(void *p) {
  struct hmap *set = p;
  hmap_clear(set, NULL);
  free(set);
}

void informer_free(struct informer *inf) {
  if (!inf)
    return;
  informer_stop(inf);
  for (size_t i = 0; i < inf->n_indexes; i++) {
    hmap_clear(&inf->indexes[i].values, free_set);
    free(inf->indexes[i].name);
  }
  hmap_clear(&inf->items, (void (*)(void *))json_decref);
  pthread_rwlock_destroy(&inf->lock);
  pthread_mutex_destroy(&inf->mu);
  pthread_cond_destroy(&inf->cond);
  free(inf->handlers);
  free(inf->rv);
  free(inf->path);
  free(inf->label_selector);
  free(inf->field_selector);
  free(inf);
}

/* ---- reads ---- */

json_t *informer_get(struct informer *inf, const char *key) {
  pthread_rwlock_rdlock(&inf->lock);
  json_t *obj = json_incref(hmap_get(&inf->items, key));
  pthread_rwlock_unlock(&inf->lock);
  return obj;
}

json_t *informer_get_nn(struct informer *inf, const char *ns, const char *name) {
  _cleanup_free_ char *key = ns && *ns ? xasprintf("%s/%s", ns, name) : xstrdup(name);
  return informer_get(inf, key);
}

static json_t *set_to_array(const struct hmap *set) {
  json_t *arr = json_array();
  const char *k;
  void *v;
  if (set)
    for (size_t it = 0; hmap_next(set, &it, &k, &v);)
      json_array_append(arr, v);
  return arr;
}

json_t *informer_list(struct informer *inf, const char *ns) {
  if (ns)
    return informer_by_index(inf, "namespace", ns);
  pthread_rwlock_rdlock(&inf->lock);
  json_t *arr = set_to_array(&inf->items);
  pthread_rwlock_unlock(&inf->lock);
  return arr;
}

json_t *informer_by_index(struct informer *inf, const char *name, const char *value) {
  pthread_rwlock_rdlock(&inf->lock);
  json_t *arr = NULL;
  for (size_t i = 0; i < inf->n_indexes; i++)
    if (strcmp(inf->indexes[i].name, name) == 0)
      arr = set_to_array(hmap_get(&inf->indexes[i].values, value));
  pthread_rwlock_unlock(&inf->lock);
  return arr ? arr : json_array();
}

size_t informer_len(struct informer *inf) {
  pthread_rwlock_rdlock(&inf->lock);
  size_t n = hmap_len(&inf->items);
  pthread_rwlock_unlock(&inf->lock);
  return n;
}

char *informer_resource_version(struct informer *inf) {
  pthread_rwlock_rdlock(&inf->lock);
  char *rv = xstrdup(inf->rv ? inf->rv : "");
  pthread_rwlock_unlock(&inf->lock);
  return rv;
}

/* ---- factory ---- */

struct informer_factory {
  struct rest_client *client;
  pthread_mutex_t mu;
  struct hmap by_path; /* path → struct informer* */
};

struct informer_factory *informer_factory_new(struct rest_client *client) {
  struct informer_factory *f = xcalloc(1, sizeof(*f));
  f->client = client;
  pthread_mutex_init(&f->mu, NULL);
  return f;
}

struct informer *informer_factory_get(struct informer_factory *f, const char *path) {
  pthread_mutex_lock(&f->mu);
  struct informer *inf = hmap_get(&f->by_path, path);
  if (!inf) {
    inf = informer_new(f->client, &(struct informer_config){.path = path});
    hmap_put(&f->by_path, path, inf);
  }
  pthread_mutex_unlock(&f->mu);
  return inf;
}

int informer_factory_start(struct informer_factory *f, long timeout_ms) {
  pthread_mutex_lock(&f->mu);
  const char *k;
  void *v;
  int r = 0;
  for (size_t it = 0; hmap_next(&f->by_path, &it, &k, &v);) {
    int q = informer_start(v);
    if (q < 0 && r == 0)
      r = q;
  }
  pthread_mutex_unlock(&f->mu);
  if (r < 0)
    return r;
  for (size_t it = 0;;) {
    pthread_mutex_lock(&f->mu);
    bool more = hmap_next(&f->by_path, &it, &k, &v);
    pthread_mutex_unlock(&f->mu);
    if (!more)
      break;
    if (informer_wait_synced(v, timeout_ms) < 0)
      return -ETIMEDOUT;
  }
  return 0;
}

static void free_informer(void *p) { informer_free(p); }

/* Asks the thread to stop without waiting for it. */
static void informer_signal_stop(struct informer *inf) {
  pthread_mutex_lock(&inf->mu);
  atomic_store(&inf->stop, true);
  pthread_cond_broadcast(&inf->cond);
  pthread_mutex_unlock(&inf->mu);
}

void informer_factory_free(struct informer_factory *f) {
  if (!f)
    return;
  /* All at once: each watch takes up to a second to notice, and there are many. */
  const char *k;
  void *v;
  for (size_t it = 0; hmap_next(&f->by_path, &it, &k, &v);)
    informer_signal_stop(v);
  hmap_clear(&f->by_path, free_informer);
  pthread_mutex_destroy(&f->mu);
  free(f);
}
