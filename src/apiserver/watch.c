#include "apiserver/watch.h"

#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "apiserver/filter.h"
#include "apiserver/table.h"
#include "lib/json.h"
#include "lib/strbuf.h"

#define DEFAULT_RING 16384
/* kube-apiserver ends watches without timeoutSeconds after 30-60 minutes. */
#define DEFAULT_TIMEOUT_SECONDS 1800
#define BOOKMARK_INTERVAL_SECONDS 60

/* One change, shared by every watcher that sends it. The ring keeps only its encoded
 * bytes; the parsed forms are made on demand while wc->mu is held and dropped once the
 * event has been dispatched, so history costs its JSON size and no more. Selectors need
 * only a few fields ("attrs": the paths every selector of the cache reads, decoded alone);
 * the whole object is decoded only for tables and for the last state of an object that
 * leaves a watcher's selection. */
struct cached_event {
  int refs;
  enum store_event_type type;
  char *key;
  int64_t rev;
  char *json;        /* current object (PUT) or last state (DELETE), rv = rev */
  size_t json_len;
  char *prev_json;   /* PUT: the previous state with its own rv, or NULL */
  size_t prev_len;
  json_t *obj, *prev; /* parsed on demand, under wc->mu */
  json_t *attrs, *prev_attrs;
  bool attrs_done, prev_attrs_done;
};

static const json_t *event_obj(struct cached_event *e) {
  if (!e->obj && e->json)
    json_decode(e->json, e->json_len, &e->obj, NULL);
  return e->obj;
}

static const json_t *event_prev(struct cached_event *e) {
  if (!e->prev && e->prev_json)
    json_decode(e->prev_json, e->prev_len, &e->prev, NULL);
  return e->prev;
}

static void event_drop_parsed(struct cached_event *e) {
  json_decref(e->obj);
  json_decref(e->prev);
  json_decref(e->attrs);
  json_decref(e->prev_attrs);
  e->obj = e->prev = e->attrs = e->prev_attrs = NULL;
  e->attrs_done = e->prev_attrs_done = false;
}

struct watcher {
  int refs; /* the cache's list and the serving thread */
  struct watch_cache *wc;
  const struct api_resource *res;
  char *prefix;
  struct filter *filter;
  const char *exact_name;
  bool table;
  char *include_object;
  bool bookmarks;
  struct httpd_stream *stream;
  time_t deadline;
  time_t next_bookmark;
  bool live;       /* initial events sent: write events directly */
  int64_t start_rev;
  struct cached_event **pending;
  size_t n_pending;
  struct watcher *next, *prev_w;
  bool listed;
};

struct watch_cache {
  pthread_mutex_t mu;
  struct store *store;
  struct store_watch *sw;
  struct cached_event **ring;
  size_t ring_size, ring_start, ring_len;
  int64_t last_rev;    /* newest revision dispatched */
  int64_t oldest_rev;  /* events with rev > oldest_rev are all in the ring */
  struct watcher *watchers;
  size_t n_watchers;
  const char **paths; /* NULL-terminated: what the selectors of all watchers read */
  size_t n_paths;
  pthread_t reaper;
  pthread_cond_t cond;
  bool stopping;
};

static void event_unref(struct cached_event *e) {
  if (!e || __atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) > 0)
    return;
  free(e->key);
  event_drop_parsed(e);
  free(e->json);
  free(e->prev_json);
  free(e);
}

static struct cached_event *event_ref(struct cached_event *e) {
  __atomic_add_fetch(&e->refs, 1, __ATOMIC_ACQ_REL);
  return e;
}

static void watcher_unref(struct watcher *w) {
  if (!w || __atomic_sub_fetch(&w->refs, 1, __ATOMIC_ACQ_REL) > 0)
    return;
  for (size_t i = 0; i < w->n_pending; i++)
    event_unref(w->pending[i]);
  free(w->pending);
  free(w->prefix);
  filter_free(w->filter);
  free(w->include_object);
  httpd_stream_unref(w->stream);
  free(w);
}

/* Adds the paths a new watcher's selectors read: few per resource (the metadata and its
 * field labels), so the set only grows. */
static void cache_add_paths(struct watch_cache *wc, const char *const *paths) {
  for (; *paths; paths++) {
    size_t i = 0;
    while (i < wc->n_paths && !streq(wc->paths[i], *paths))
      i++;
    if (i < wc->n_paths)
      continue;
    wc->paths = xrealloc(wc->paths, (wc->n_paths + 2) * sizeof(*wc->paths));
    wc->paths[wc->n_paths++] = xstrdup(*paths);
    wc->paths[wc->n_paths] = NULL;
  }
}

static const json_t *select_attrs(struct watch_cache *wc, const char *json, size_t len,
                                  json_t **slot, bool *done) {
  if (!*done && json) {
    if (json_decode_select(json, len, wc->paths, false, slot, NULL) < 0)
      *slot = NULL;
    *done = true;
  }
  return *slot;
}

static const json_t *event_attrs(struct watch_cache *wc, struct cached_event *e) {
  return select_attrs(wc, e->json, e->json_len, &e->attrs, &e->attrs_done);
}

static const json_t *event_prev_attrs(struct watch_cache *wc, struct cached_event *e) {
  return select_attrs(wc, e->prev_json, e->prev_len, &e->prev_attrs, &e->prev_attrs_done);
}

static bool watcher_matches(const struct watcher *w, const json_t *obj) {
  if (!obj)
    return false;
  if (w->exact_name && !streq_ptr(json_path_str((json_t *)obj, "metadata.name"), w->exact_name))
    return false;
  return filter_match(w->filter, obj);
}

/* Writes one event in the watcher's format: body is the object's JSON bytes; obj its
 * parsed form, needed only for tables. Called with wc->mu held (or before the watcher is
 * shared). */
static void send_event(struct watcher *w, const char *type, const char *body, size_t len,
                       const json_t *obj) {
  struct strbuf line = {0};
  if (w->table) {
    _cleanup_json_ json_t *items = json_pack("[O]", obj);
    _cleanup_json_ json_t *t = table_build(w->res, items, w->include_object, NULL, NULL);
    _cleanup_free_ char *s = json_encode(t);
    strbuf_appendf(&line, "{\"type\":\"%s\",\"object\":%s}\n", type, s);
  } else {
    strbuf_appendf(&line, "{\"type\":\"%s\",\"object\":", type);
    strbuf_append(&line, body, len);
    strbuf_appends(&line, "}\n");
  }
  httpd_stream_write(w->stream, line.s, line.len);
  strbuf_clear(&line);
}

static void send_parsed(struct watcher *w, const char *type, const json_t *obj) {
  _cleanup_free_ char *s = json_encode(obj);
  send_event(w, type, s, strlen(s), obj);
}

/* Whether the watcher needs the parsed object to decide or to format. */
static bool needs_parse(const struct watcher *w) {
  return w->table || w->exact_name || !filter_is_empty(w->filter);
}

/* Decides what a watcher sees of an event: with selectors, an object that starts
 * matching is ADDED, one that stops matching is DELETED (its last state, stamped with
 * this event's revision), as kube's cacher does. */
static void deliver(struct watcher *w, struct cached_event *e) {
  if (!startswith(e->key, w->prefix) || e->rev <= w->start_rev)
    return;
  if (!needs_parse(w)) {
    const char *type = e->type == STORE_EVENT_DELETE ? "DELETED" : e->prev_json ? "MODIFIED" : "ADDED";
    send_event(w, type, e->json, e->json_len, NULL);
    return;
  }
  /* Tables are built from whole objects; selectors need only the attributes. */
  const json_t *obj = w->table ? event_obj(e) : event_attrs(w->wc, e);
  if (e->type == STORE_EVENT_DELETE) {
    if (watcher_matches(w, obj))
      send_event(w, "DELETED", e->json, e->json_len, obj);
    return;
  }
  const json_t *prev = w->table ? event_prev(e) : event_prev_attrs(w->wc, e);
  bool cur = watcher_matches(w, obj);
  bool was = prev && watcher_matches(w, prev);
  if (cur && was)
    send_event(w, "MODIFIED", e->json, e->json_len, obj);
  else if (cur)
    send_event(w, "ADDED", e->json, e->json_len, obj);
  else if (was) {
    _cleanup_json_ json_t *gone = json_deep_copy(event_prev(e));
    char rv[24];
    snprintf(rv, sizeof(rv), "%lld", (long long)e->rev);
    json_object_set_new(json_object_ensure(gone, "metadata"), "resourceVersion", json_string(rv));
    send_parsed(w, "DELETED", gone);
  }
}

static int on_store_event(const struct store_event *ev, int err, void *userdata) {
  struct watch_cache *wc = userdata;
  if (!ev) {
    /* The store watch ended (store closing or lost): end every client watch so clients
     * re-list and re-watch. */
    pthread_mutex_lock(&wc->mu);
    for (struct watcher *w = wc->watchers; w; w = w->next)
      httpd_stream_close(w->stream);
    pthread_mutex_unlock(&wc->mu);
    (void)err;
    return 0;
  }
  struct cached_event *e = xcalloc(1, sizeof(*e));
  e->refs = 1;
  e->type = ev->type;
  e->key = xstrdup(ev->kv.key);
  e->rev = ev->kv.mod_rev;
  const struct store_kv *src = ev->type == STORE_EVENT_PUT ? &ev->kv : &ev->prev;
  if (src->value)
    e->json = resource_encode_stored(src->value, src->value_len, e->rev, &e->json_len);
  if (ev->type == STORE_EVENT_PUT && ev->prev.value)
    e->prev_json = resource_encode_stored(ev->prev.value, ev->prev.value_len, ev->prev.mod_rev,
                                          &e->prev_len);
  pthread_mutex_lock(&wc->mu);
  if (e->json) {
    if (wc->ring_len == wc->ring_size) {
      struct cached_event *old = wc->ring[wc->ring_start];
      wc->oldest_rev = old->rev;
      event_unref(old);
      wc->ring_start = (wc->ring_start + 1) % wc->ring_size;
      wc->ring_len--;
    }
    wc->ring[(wc->ring_start + wc->ring_len) % wc->ring_size] = event_ref(e);
    wc->ring_len++;
    for (struct watcher *w = wc->watchers; w; w = w->next) {
      if (w->live) {
        deliver(w, e);
      } else {
        w->pending = xrealloc(w->pending, (w->n_pending + 1) * sizeof(*w->pending));
        w->pending[w->n_pending++] = event_ref(e);
      }
    }
    event_drop_parsed(e);
  }
  wc->last_rev = e->rev;
  pthread_mutex_unlock(&wc->mu);
  event_unref(e);
  return 0;
}

static void send_bookmark(struct watcher *w, int64_t rev) {
  char line[256];
  _cleanup_free_ char *av = w->res->group[0]
                                ? xasprintf("%s/%s", w->res->group, w->res->version)
                                : xstrdup(w->res->version);
  snprintf(line, sizeof(line),
           "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"%s\",\"apiVersion\":\"%s\","
           "\"metadata\":{\"resourceVersion\":\"%lld\"}}}\n",
           w->res->kind, av, (long long)rev);
  httpd_stream_write(w->stream, line, strlen(line));
}

/* Ends watches whose timeout passed (after a final bookmark, so the client resumes
 * without a relist) and sends periodic bookmarks. */
static void *reaper_main(void *arg) {
  struct watch_cache *wc = arg;
  pthread_mutex_lock(&wc->mu);
  while (!wc->stopping) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    pthread_cond_timedwait(&wc->cond, &wc->mu, &ts);
    time_t now = time(NULL);
    for (struct watcher *w = wc->watchers; w; w = w->next) {
      if (!w->live)
        continue;
      if (now >= w->deadline) {
        if (w->bookmarks)
          send_bookmark(w, wc->last_rev);
        httpd_stream_close(w->stream);
      } else if (w->bookmarks && now >= w->next_bookmark) {
        send_bookmark(w, wc->last_rev);
        w->next_bookmark = now + BOOKMARK_INTERVAL_SECONDS;
      }
    }
  }
  pthread_mutex_unlock(&wc->mu);
  return NULL;
}

int watch_cache_start(struct store *store, size_t ring_size, struct watch_cache **ret) {
  struct watch_cache *wc = xcalloc(1, sizeof(*wc));
  pthread_mutex_init(&wc->mu, NULL);
  pthread_cond_init(&wc->cond, NULL);
  wc->store = store;
  wc->ring_size = ring_size ? ring_size : DEFAULT_RING;
  wc->ring = xcalloc(wc->ring_size, sizeof(*wc->ring));
  int64_t rev = 0, compacted = 0;
  int rc = store_current_rev(store, &rev);
  if (rc < 0)
    goto fail;
  /* Start from recent history rather than from now, so that clients resuming a watch
   * after a server restart continue where they were instead of relisting. */
  store_compacted_rev(store, &compacted);
  int64_t from = rev > (int64_t)wc->ring_size ? rev - (int64_t)wc->ring_size : 0;
  if (from < compacted)
    from = compacted;
  wc->last_rev = wc->oldest_rev = from;
  rc = store_watch(store, "/registry/", from, on_store_event, wc, &wc->sw);
  if (rc < 0)
    goto fail;
  if (pthread_create(&wc->reaper, NULL, reaper_main, wc) != 0) {
    rc = -EAGAIN;
    store_watch_cancel(store, wc->sw);
    goto fail;
  }
  *ret = wc;
  return 0;
fail:
  free(wc->ring);
  free(wc);
  return rc;
}

void watch_cache_stop(struct watch_cache *wc) {
  if (!wc)
    return;
  store_watch_cancel(wc->store, wc->sw);
  pthread_mutex_lock(&wc->mu);
  wc->stopping = true;
  for (struct watcher *w = wc->watchers; w; w = w->next)
    httpd_stream_close(w->stream);
  pthread_cond_broadcast(&wc->cond);
  pthread_mutex_unlock(&wc->mu);
  pthread_join(wc->reaper, NULL);
  /* Streams end through httpd_stop; any watcher still listed is released here. */
  pthread_mutex_lock(&wc->mu);
  while (wc->watchers) {
    struct watcher *w = wc->watchers;
    wc->watchers = w->next;
    w->listed = false;
    watcher_unref(w);
  }
  pthread_mutex_unlock(&wc->mu);
  for (size_t i = 0; i < wc->ring_len; i++)
    event_unref(wc->ring[(wc->ring_start + i) % wc->ring_size]);
  free(wc->ring);
  for (size_t i = 0; i < wc->n_paths; i++)
    free((char *)wc->paths[i]);
  free(wc->paths);
  pthread_mutex_destroy(&wc->mu);
  pthread_cond_destroy(&wc->cond);
  free(wc);
}

size_t watch_cache_watchers(struct watch_cache *wc) {
  pthread_mutex_lock(&wc->mu);
  size_t n = wc->n_watchers;
  pthread_mutex_unlock(&wc->mu);
  return n;
}

static void unlink_watcher(struct watch_cache *wc, struct watcher *w) {
  if (!w->listed)
    return;
  if (w->prev_w)
    w->prev_w->next = w->next;
  else
    wc->watchers = w->next;
  if (w->next)
    w->next->prev_w = w->prev_w;
  w->listed = false;
  wc->n_watchers--;
}

static void on_stream_closed(void *userdata) {
  struct watcher *w = userdata;
  struct watch_cache *wc = w->wc;
  pthread_mutex_lock(&wc->mu);
  bool was_listed = w->listed;
  unlink_watcher(wc, w);
  pthread_mutex_unlock(&wc->mu);
  if (was_listed)
    watcher_unref(w);
}

static void respond_status(struct httpd_req *hreq, struct api_error *err) {
  _cleanup_json_ json_t *st = api_error_to_status(err);
  char *s = json_encode(st);
  httpd_respond_take(hreq, (unsigned)err->code, "application/json", s, strlen(s));
}

static void stream_error_event(struct httpd_stream *s, struct api_error *err) {
  _cleanup_json_ json_t *st = api_error_to_status(err);
  _cleanup_json_ json_t *ev = json_pack("{s:s,s:O}", "type", "ERROR", "object", st);
  _cleanup_free_ char *enc = json_encode(ev);
  _cleanup_free_ char *line = xasprintf("%s\n", enc);
  httpd_stream_write(s, line, strlen(line));
  httpd_stream_close(s);
}

void watch_serve(struct watch_cache *wc, struct resource_context *ctx, struct httpd_req *hreq,
                 const struct resource_request *req) {
  const struct api_resource *r = req->info.res;
  _cleanup_api_error_ struct api_error err = {0};
  const char *(*q)(void *, const char *) = req->query;
  struct filter *f = NULL;
  if (filter_parse(r, q(req->ud, "labelSelector"), q(req->ud, "fieldSelector"), &f, &err) < 0) {
    respond_status(hreq, &err);
    return;
  }
  int64_t from = 0;
  const char *rv = q(req->ud, "resourceVersion");
  if (rv && *rv) {
    char *end;
    from = strtoll(rv, &end, 10);
    if (*end || from < 0) {
      filter_free(f);
      api_error_bad_request(&err, "invalid resourceVersion: %s", rv);
      respond_status(hreq, &err);
      return;
    }
  }
  int64_t timeout = DEFAULT_TIMEOUT_SECONDS;
  const char *ts = q(req->ud, "timeoutSeconds");
  if (ts && *ts)
    timeout = strtoll(ts, NULL, 10);
  const char *group = r->storage_group ? r->storage_group : *r->group ? r->group : "core";
  struct watcher *w = xcalloc(1, sizeof(*w));
  w->refs = 1;
  w->wc = wc;
  w->res = r;
  w->filter = f;
  w->exact_name = req->info.name ? req->info.name : filter_exact_name(f);
  w->prefix = req->info.namespace_ && r->namespaced
                  ? xasprintf("/registry/%s/%s/%s/", group, r->plural, req->info.namespace_)
                  : xasprintf("/registry/%s/%s/", group, r->plural);
  w->table = req->accept && strstr(req->accept, "as=Table");
  const char *inc = q(req->ud, "includeObject");
  w->include_object = inc ? xstrdup(inc) : NULL;
  const char *bm = q(req->ud, "allowWatchBookmarks");
  w->bookmarks = bm && streq(bm, "true");
  w->deadline = time(NULL) + (timeout > 0 ? timeout : DEFAULT_TIMEOUT_SECONDS);
  w->next_bookmark = time(NULL) + BOOKMARK_INTERVAL_SECONDS;
  w->stream = httpd_respond_stream(hreq, 200, "application/json");
  if (!w->stream) {
    watcher_unref(w);
    return;
  }

  bool initial = from == 0;
  pthread_mutex_lock(&wc->mu);
  if (!initial && from < wc->oldest_rev) {
    int64_t oldest = wc->oldest_rev;
    pthread_mutex_unlock(&wc->mu);
    api_error_set(&err, -ERANGE, 410, "Expired", "too old resource version: %lld (%lld)",
                  (long long)from, (long long)oldest + 1);
    stream_error_event(w->stream, &err);
    watcher_unref(w);
    return;
  }
  w->start_rev = initial ? wc->last_rev : from;
  if (!w->table)
    cache_add_paths(wc, filter_paths(f));
  /* Listed before the stream can close, so the close callback always finds it. */
  w->refs++;
  w->listed = true;
  w->next = wc->watchers;
  if (wc->watchers)
    wc->watchers->prev_w = w;
  wc->watchers = w;
  wc->n_watchers++;
  if (!initial) {
    /* Replay what the ring holds after `from`, then go live. */
    for (size_t i = 0; i < wc->ring_len; i++) {
      struct cached_event *e = wc->ring[(wc->ring_start + i) % wc->ring_size];
      deliver(w, e);
      event_drop_parsed(e);
    }
    w->live = true;
  }
  int64_t snapshot = w->start_rev;
  pthread_mutex_unlock(&wc->mu);
  httpd_stream_on_close(w->stream, on_stream_closed, w);

  if (initial) {
    /* The current state at the snapshot revision, as ADDED events; changes after it
     * queue in `pending` meanwhile and follow in order. */
    struct store_list l = {0};
    int rc = store_list(ctx->store, w->prefix, snapshot, NULL, 0, &l);
    if (rc < 0) {
      api_error_set(&err, rc, rc == -ERANGE ? 410 : 500, rc == -ERANGE ? "Expired" : "InternalError",
                    "unable to list the initial state: %s", strerror(-rc));
      stream_error_event(w->stream, &err);
    } else {
      for (size_t i = 0; i < l.n_items; i++) {
        const struct store_kv *kv = &l.items[i];
        if (!needs_parse(w)) {
          size_t n;
          _cleanup_free_ char *bytes = resource_encode_stored(kv->value, kv->value_len, kv->mod_rev, &n);
          if (bytes)
            send_event(w, "ADDED", bytes, n, NULL);
          continue;
        }
        _cleanup_json_ json_t *obj = resource_decode_stored(kv->value, kv->value_len, kv->mod_rev);
        if (watcher_matches(w, obj))
          send_parsed(w, "ADDED", obj);
      }
    }
    store_list_clear(&l);
    pthread_mutex_lock(&wc->mu);
    for (size_t i = 0; i < w->n_pending; i++) {
      deliver(w, w->pending[i]);
      event_drop_parsed(w->pending[i]);
      event_unref(w->pending[i]);
    }
    w->n_pending = 0;
    w->live = true;
    pthread_mutex_unlock(&wc->mu);
  }
  watcher_unref(w);
}
