#include "client/events.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/hmap.h"
#include "lib/timeutil.h"

/* Past this many unsent events new ones are dropped: events must never grow memory
 * without bound when the API server is slow. */
#define MAX_PENDING 10000
#define AGGREGATE_WINDOW_S 600
#define MAX_SEEN 4096

struct pending {
  char *aggregate_key;
  json_t *event; /* the Event to create */
};

struct seen {
  char *ns, *name;
  long count;
  time_t last;
};

struct event_recorder {
  struct rest_client *client;
  char *component, *host;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cond;
  bool stop;
  struct pending *q;
  size_t head, len, cap;
  struct hmap seen; /* aggregate key → struct seen*; only the writer thread touches it */
  atomic_ulong written;
};

static void seen_free(void *p) {
  struct seen *s = p;
  free(s->ns);
  free(s->name);
  free(s);
}

static void write_one(struct event_recorder *r, struct pending *p) {
  const char *ns = json_path_str(p->event, "metadata.namespace");
  struct seen *s = hmap_get(&r->seen, p->aggregate_key);
  time_t now = time(NULL);
  if (s && now - s->last < AGGREGATE_WINDOW_S) {
    _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/events/%s", s->ns, s->name);
    _cleanup_free_ char *ts = timeutil_format(now);
    _cleanup_json_ json_t *patch =
        json_pack("{s:I, s:s}", "count", (json_int_t)(s->count + 1), "lastTimestamp", ts);
    _cleanup_free_ char *body = json_encode(patch);
    _cleanup_rest_response_ struct rest_response resp = {0};
    struct rest_request req = {.method = "PATCH", .path = path, .body = body,
                               .body_len = strlen(body),
                               .content_type = "application/merge-patch+json"};
    if (rest_do(r->client, &req, &resp, NULL) == 0 && resp.status == 200) {
      s->count++;
      s->last = now;
      atomic_fetch_add(&r->written, 1);
      return;
    }
    /* The event is gone (expired, deleted): record a new one. */
  }
  _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/events", ns);
  _cleanup_free_ char *body = json_encode(p->event);
  _cleanup_rest_response_ struct rest_response resp = {0};
  struct rest_request req = {.method = "POST", .path = path, .body = body,
                             .body_len = strlen(body)};
  if (rest_do(r->client, &req, &resp, NULL) < 0 || resp.status != 201)
    return;
  atomic_fetch_add(&r->written, 1);
  if (hmap_len(&r->seen) >= MAX_SEEN)
    hmap_clear(&r->seen, seen_free);
  s = xcalloc(1, sizeof(*s));
  s->ns = xstrdup(ns);
  s->name = xstrdup(json_path_str(p->event, "metadata.name"));
  s->count = 1;
  s->last = now;
  struct seen *old = hmap_put(&r->seen, p->aggregate_key, s);
  if (old)
    seen_free(old);
}

static void *recorder_main(void *ud) {
  struct event_recorder *r = ud;
  pthread_mutex_lock(&r->mu);
  for (;;) {
    while (!r->len && !r->stop)
      pthread_cond_wait(&r->cond, &r->mu);
    if (!r->len)
      break;
    struct pending p = r->q[r->head];
    r->head = (r->head + 1) % r->cap;
    r->len--;
    pthread_mutex_unlock(&r->mu);
    write_one(r, &p);
    free(p.aggregate_key);
    json_decref(p.event);
    pthread_mutex_lock(&r->mu);
  }
  pthread_mutex_unlock(&r->mu);
  return NULL;
}

struct event_recorder *event_recorder_new(struct rest_client *client, const char *component,
                                          const char *host) {
  struct event_recorder *r = xcalloc(1, sizeof(*r));
  r->client = client;
  r->component = xstrdup(component);
  r->host = host ? xstrdup(host) : NULL;
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cond, NULL);
  if (pthread_create(&r->thread, NULL, recorder_main, r) != 0)
    r->stop = true; /* no thread: events are dropped */
  return r;
}

void event_recorder_free(struct event_recorder *r) {
  if (!r)
    return;
  pthread_mutex_lock(&r->mu);
  bool had_thread = !r->stop;
  r->stop = true;
  pthread_cond_signal(&r->cond);
  pthread_mutex_unlock(&r->mu);
  if (had_thread)
    pthread_join(r->thread, NULL);
  for (size_t i = 0; i < r->len; i++) {
    struct pending *p = &r->q[(r->head + i) % r->cap];
    free(p->aggregate_key);
    json_decref(p->event);
  }
  free(r->q);
  hmap_clear(&r->seen, seen_free);
  pthread_cond_destroy(&r->cond);
  pthread_mutex_destroy(&r->mu);
  free(r->component);
  free(r->host);
  free(r);
}

unsigned long event_recorder_written(struct event_recorder *r) {
  return atomic_load(&r->written);
}

void event_record(struct event_recorder *r, const json_t *obj, const char *kind,
                  const char *api_version, const char *type, const char *reason,
                  const char *fmt, ...) {
  if (!r)
    return;
  va_list ap;
  va_start(ap, fmt);
  _cleanup_free_ char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  json_t *meta = json_object_get(obj, "metadata");
  const char *name = json_string_value(json_object_get(meta, "name"));
  const char *ns = json_string_value(json_object_get(meta, "namespace"));
  const char *uid = json_string_value(json_object_get(meta, "uid"));
  if (!name)
    return;
  if (!kind)
    kind = json_string_value(json_object_get(obj, "kind"));
  if (!api_version)
    api_version = json_string_value(json_object_get(obj, "apiVersion"));
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  _cleanup_free_ char *ts = timeutil_format(now.tv_sec);
  _cleanup_free_ char *ev_name =
      xasprintf("%s.%llx", name, (unsigned long long)now.tv_sec * 1000000000ULL +
                                     (unsigned long long)now.tv_nsec);
  json_t *involved = json_object();
  if (kind)
    json_object_set_new(involved, "kind", json_string(kind));
  if (ns)
    json_object_set_new(involved, "namespace", json_string(ns));
  json_object_set_new(involved, "name", json_string(name));
  if (uid)
    json_object_set_new(involved, "uid", json_string(uid));
  if (api_version)
    json_object_set_new(involved, "apiVersion", json_string(api_version));
  const char *rv = json_string_value(json_object_get(meta, "resourceVersion"));
  if (rv)
    json_object_set_new(involved, "resourceVersion", json_string(rv));
  json_t *source = json_pack("{s:s}", "component", r->component);
  if (r->host)
    json_object_set_new(source, "host", json_string(r->host));
  json_t *ev = json_pack(
      "{s:s, s:s, s:{s:s, s:s}, s:o, s:s, s:s, s:o, s:s, s:s, s:i, s:s, s:n, s:s, s:s}",
      "apiVersion", "v1", "kind", "Event", "metadata", "name", ev_name, "namespace",
      ns && *ns ? ns : "default", "involvedObject", involved, "reason", reason, "message", msg,
      "source", source, "firstTimestamp", ts, "lastTimestamp", ts, "count", 1, "type", type,
      "eventTime", "reportingComponent", r->component, "reportingInstance",
      r->host ? r->host : "");
  char *agg = xasprintf("%s\x1f%s\x1f%s\x1f%s\x1f%s/%s", uid ? uid : "", type, reason, msg,
                        ns ? ns : "", name);
  pthread_mutex_lock(&r->mu);
  if (r->stop || r->len >= MAX_PENDING) {
    pthread_mutex_unlock(&r->mu);
    free(agg);
    json_decref(ev);
    return;
  }
  if (r->len == r->cap) {
    size_t ncap = r->cap ? r->cap * 2 : 64;
    struct pending *n = xmalloc(ncap * sizeof(*n));
    for (size_t i = 0; i < r->len; i++)
      n[i] = r->q[(r->head + i) % r->cap];
    free(r->q);
    r->q = n;
    r->head = 0;
    r->cap = ncap;
  }
  r->q[(r->head + r->len++) % r->cap] = (struct pending){agg, ev};
  pthread_cond_signal(&r->cond);
  pthread_mutex_unlock(&r->mu);
}
