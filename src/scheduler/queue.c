/* queue.c — see queue.h. activeQ and backoffQ are binary heaps of entries that remember
 * their slot, so update and delete are O(log n); unschedulableQ is an array with the same
 * slot bookkeeping; a hash map finds entries by key. */
#include "scheduler/queue.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "scheduler/strmap.h"

enum where { IN_ACTIVE, IN_BACKOFF, IN_UNSCHEDULABLE, IN_FLIGHT };

struct entry {
  char *key;
  json_t *pod;
  int32_t priority;
  enum where where;
  size_t slot;       /* index in the heap or array it is in */
  int64_t timestamp; /* entered the queue / was requeued */
  unsigned attempts; /* scheduling attempts so far */
  uint64_t cycle;    /* cycle of its last pop */
};

struct heap {
  struct entry **v;
  size_t n, cap;
  bool (*less)(const struct entry *, const struct entry *);
};

struct sched_queue {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  sched_queue_clock_fn clock;
  void *clock_ud;
  struct sched_map entries;
  struct heap active, backoff;
  struct entry **unsched;
  size_t n_unsched, cap_unsched;
  size_t in_flight;
  uint64_t cycle;
  uint64_t move_request_cycle;
  bool closed;
};

int64_t sched_queue_backoff_ms(unsigned attempts) {
  int64_t d = SCHED_QUEUE_INITIAL_BACKOFF_MS;
  for (unsigned i = 1; i < attempts && d < SCHED_QUEUE_MAX_BACKOFF_MS; i++)
    d *= 2;
  return d > SCHED_QUEUE_MAX_BACKOFF_MS ? SCHED_QUEUE_MAX_BACKOFF_MS : d;
}

static int64_t backoff_expiry(const struct entry *e) {
  return e->timestamp + sched_queue_backoff_ms(e->attempts);
}

static bool active_less(const struct entry *a, const struct entry *b) {
  if (a->priority != b->priority)
    return a->priority > b->priority;
  return a->timestamp < b->timestamp;
}

static bool backoff_less(const struct entry *a, const struct entry *b) {
  return backoff_expiry(a) < backoff_expiry(b);
}

/* ---- heap ---- */

static void heap_swap(struct heap *h, size_t i, size_t j) {
  struct entry *t = h->v[i];
  h->v[i] = h->v[j];
  h->v[j] = t;
  h->v[i]->slot = i;
  h->v[j]->slot = j;
}

static void heap_up(struct heap *h, size_t i) {
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!h->less(h->v[i], h->v[p]))
      break;
    heap_swap(h, i, p);
    i = p;
  }
}

static void heap_down(struct heap *h, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < h->n && h->less(h->v[l], h->v[m]))
      m = l;
    if (r < h->n && h->less(h->v[r], h->v[m]))
      m = r;
    if (m == i)
      return;
    heap_swap(h, i, m);
    i = m;
  }
}

static void heap_push(struct heap *h, struct entry *e) {
  h->v = xgrow(h->v, h->n, &h->cap, sizeof(*h->v));
  e->slot = h->n;
  h->v[h->n++] = e;
  heap_up(h, e->slot);
}

static void heap_remove(struct heap *h, size_t i) {
  h->n--;
  if (i == h->n)
    return;
  h->v[i] = h->v[h->n];
  h->v[i]->slot = i;
  heap_down(h, i);
  heap_up(h, i);
}

/* ---- placement ---- */

static void detach(struct sched_queue *q, struct entry *e) {
  switch (e->where) {
  case IN_ACTIVE:
    heap_remove(&q->active, e->slot);
    break;
  case IN_BACKOFF:
    heap_remove(&q->backoff, e->slot);
    break;
  case IN_UNSCHEDULABLE:
    q->unsched[e->slot] = q->unsched[--q->n_unsched];
    q->unsched[e->slot]->slot = e->slot;
    break;
  case IN_FLIGHT:
    q->in_flight--;
    break;
  }
}

static void put(struct sched_queue *q, struct entry *e, enum where w) {
  e->where = w;
  switch (w) {
  case IN_ACTIVE:
    heap_push(&q->active, e);
    pthread_cond_broadcast(&q->cond);
    break;
  case IN_BACKOFF:
    heap_push(&q->backoff, e);
    /* A sleeping pop may need to wake earlier for this expiry. */
    pthread_cond_broadcast(&q->cond);
    break;
  case IN_UNSCHEDULABLE:
    q->unsched = xgrow(q->unsched, q->n_unsched, &q->cap_unsched, sizeof(*q->unsched));
    e->slot = q->n_unsched;
    q->unsched[q->n_unsched++] = e;
    break;
  case IN_FLIGHT:
    q->in_flight++;
    break;
  }
}

/* To activeQ, or to backoffQ while the pod's back-off lasts. */
static void put_ready(struct sched_queue *q, struct entry *e, int64_t now) {
  put(q, e, e->attempts > 0 && backoff_expiry(e) > now ? IN_BACKOFF : IN_ACTIVE);
}

static void entry_free(struct entry *e) {
  json_decref(e->pod);
  free(e->key);
  free(e);
}

static int64_t now_ms(struct sched_queue *q) {
  if (q->clock)
    return q->clock(q->clock_ud);
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Moves due back-offs and stale unschedulable pods to activeQ. */
static void flush(struct sched_queue *q, int64_t now) {
  while (q->backoff.n && backoff_expiry(q->backoff.v[0]) <= now) {
    struct entry *e = q->backoff.v[0];
    heap_remove(&q->backoff, 0);
    put(q, e, IN_ACTIVE);
  }
  for (size_t i = 0; i < q->n_unsched;) {
    struct entry *e = q->unsched[i];
    if (now - e->timestamp >= SCHED_QUEUE_UNSCHEDULABLE_TIMEOUT_MS) {
      detach(q, e);
      put_ready(q, e, now);
    } else {
      i++;
    }
  }
}

/* ---- API ---- */

struct sched_queue *sched_queue_new(sched_queue_clock_fn clock, void *clock_ud) {
  struct sched_queue *q = xcalloc(1, sizeof(*q));
  pthread_mutex_init(&q->lock, NULL);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&q->cond, &attr);
  pthread_condattr_destroy(&attr);
  q->clock = clock;
  q->clock_ud = clock_ud;
  q->active.less = active_less;
  q->backoff.less = backoff_less;
  return q;
}

void sched_queue_free(struct sched_queue *q) {
  if (!q)
    return;
  const char *k;
  void *v;
  for (size_t it = 0; sched_map_next(&q->entries, &it, &k, &v);)
    entry_free(v);
  sched_map_clear(&q->entries);
  free(q->active.v);
  free(q->backoff.v);
  free(q->unsched);
  pthread_cond_destroy(&q->cond);
  pthread_mutex_destroy(&q->lock);
  free(q);
}

static char *pod_key(const json_t *pod) {
  const char *name = json_path_str((json_t *)pod, "metadata.name");
  const char *ns = json_path_str((json_t *)pod, "metadata.namespace");
  if (!name || !*name)
    return NULL;
  return xasprintf("%s/%s", ns && *ns ? ns : "default", name);
}

static int32_t pod_priority(const json_t *pod) {
  return (int32_t)json_integer_value(json_path((json_t *)pod, "spec.priority"));
}

/* isPodUpdated: a change of status, resourceVersion, generation or managedFields alone
 * (the scheduler's own PodScheduled condition, for one) gives no reason to retry. */
static json_t *strip_for_compare(const json_t *pod) {
  json_t *c = json_deep_copy(pod);
  json_object_del(c, "status");
  json_t *md = json_object_get(c, "metadata");
  json_object_del(md, "resourceVersion");
  json_object_del(md, "generation");
  json_object_del(md, "managedFields");
  return c;
}

static bool pod_meaningfully_changed(const json_t *old, const json_t *new) {
  _cleanup_json_ json_t *a = strip_for_compare(old);
  _cleanup_json_ json_t *b = strip_for_compare(new);
  return !json_equal(a, b);
}

static int upsert(struct sched_queue *q, json_t *pod) {
  _cleanup_free_ char *key = pod_key(pod);
  if (!key)
    return -EINVAL;
  int64_t now = now_ms(q);
  struct entry *e = sched_map_get(&q->entries, key);
  if (!e) {
    e = xcalloc(1, sizeof(*e));
    e->key = TAKE_PTR(key);
    e->pod = json_incref(pod);
    e->priority = pod_priority(pod);
    e->timestamp = now;
    sched_map_put(&q->entries, e->key, e);
    put(q, e, IN_ACTIVE);
    return 0;
  }
  bool changed = e->where == IN_UNSCHEDULABLE && pod_meaningfully_changed(e->pod, pod);
  json_incref(pod);
  json_decref(e->pod);
  e->pod = pod;
  int32_t prio = pod_priority(pod);
  if (e->where == IN_UNSCHEDULABLE && !changed) {
    e->priority = prio;
    return 0;
  }
  if (e->where == IN_FLIGHT) {
    e->priority = prio;
    return 0;
  }
  detach(q, e);
  e->priority = prio;
  if (e->where == IN_UNSCHEDULABLE)
    put_ready(q, e, now);
  else
    put(q, e, e->where);
  return 0;
}

int sched_queue_add(struct sched_queue *q, json_t *pod) {
  pthread_mutex_lock(&q->lock);
  int r = upsert(q, pod);
  pthread_mutex_unlock(&q->lock);
  return r;
}

int sched_queue_update(struct sched_queue *q, json_t *pod) {
  return sched_queue_add(q, pod);
}

int sched_queue_delete(struct sched_queue *q, const char *key) {
  pthread_mutex_lock(&q->lock);
  struct entry *e = sched_map_remove(&q->entries, key);
  if (e) {
    detach(q, e);
    entry_free(e);
  }
  pthread_mutex_unlock(&q->lock);
  return e ? 0 : -ENOENT;
}

static void deadline_after(struct timespec *ts, int64_t ms) {
  clock_gettime(CLOCK_MONOTONIC, ts);
  ts->tv_sec += ms / 1000;
  ts->tv_nsec += (ms % 1000) * 1000000;
  if (ts->tv_nsec >= 1000000000) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000;
  }
}

static bool ts_before_eq(const struct timespec *a, const struct timespec *b) {
  return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec <= b->tv_nsec);
}

int sched_queue_pop(struct sched_queue *q, int64_t timeout_ms, json_t **ret_pod,
                    uint64_t *ret_cycle) {
  struct timespec end = {0};
  if (timeout_ms > 0)
    deadline_after(&end, timeout_ms);
  pthread_mutex_lock(&q->lock);
  int r;
  for (;;) {
    if (q->closed) {
      r = -ESHUTDOWN;
      break;
    }
    int64_t now = now_ms(q);
    flush(q, now);
    if (q->active.n) {
      struct entry *e = q->active.v[0];
      heap_remove(&q->active, 0);
      put(q, e, IN_FLIGHT);
      e->attempts++;
      e->cycle = ++q->cycle;
      *ret_pod = json_incref(e->pod);
      if (ret_cycle)
        *ret_cycle = e->cycle;
      r = 0;
      break;
    }
    struct timespec cur;
    clock_gettime(CLOCK_MONOTONIC, &cur);
    if (timeout_ms == 0 || (timeout_ms > 0 && ts_before_eq(&end, &cur))) {
      r = -ETIMEDOUT;
      break;
    }
    /* Sleep until something is added, the next back-off ends, or the deadline; wake
     * at least every second so unschedulable time-outs and injected clocks progress. */
    int64_t wait = 1000;
    if (q->backoff.n) {
      int64_t due = backoff_expiry(q->backoff.v[0]) - now;
      if (due < wait)
        wait = due < 1 ? 1 : due;
    }
    struct timespec ts;
    deadline_after(&ts, wait);
    if (timeout_ms > 0 && ts_before_eq(&end, &ts))
      ts = end;
    pthread_cond_timedwait(&q->cond, &q->lock, &ts);
  }
  pthread_mutex_unlock(&q->lock);
  return r;
}

int sched_queue_requeue(struct sched_queue *q, const char *key, bool unschedulable) {
  pthread_mutex_lock(&q->lock);
  struct entry *e = sched_map_get(&q->entries, key);
  int r = -ENOENT;
  if (e && e->where == IN_FLIGHT) {
    detach(q, e);
    e->timestamp = now_ms(q);
    bool moved = q->move_request_cycle >= e->cycle;
    put(q, e, unschedulable && !moved ? IN_UNSCHEDULABLE : IN_BACKOFF);
    r = 0;
  }
  pthread_mutex_unlock(&q->lock);
  return r;
}

int sched_queue_done(struct sched_queue *q, const char *key) {
  pthread_mutex_lock(&q->lock);
  struct entry *e = sched_map_get(&q->entries, key);
  int r = -ENOENT;
  if (e && e->where == IN_FLIGHT) {
    sched_map_remove(&q->entries, key);
    detach(q, e);
    entry_free(e);
    r = 0;
  }
  pthread_mutex_unlock(&q->lock);
  return r;
}

void sched_queue_move_all(struct sched_queue *q) {
  pthread_mutex_lock(&q->lock);
  int64_t now = now_ms(q);
  while (q->n_unsched) {
    struct entry *e = q->unsched[q->n_unsched - 1];
    detach(q, e);
    put_ready(q, e, now);
  }
  q->move_request_cycle = q->cycle;
  pthread_mutex_unlock(&q->lock);
}

void sched_queue_close(struct sched_queue *q) {
  pthread_mutex_lock(&q->lock);
  q->closed = true;
  pthread_cond_broadcast(&q->cond);
  pthread_mutex_unlock(&q->lock);
}

void sched_queue_stats(struct sched_queue *q, size_t *ret_active, size_t *ret_backoff,
                       size_t *ret_unschedulable, size_t *ret_in_flight) {
  pthread_mutex_lock(&q->lock);
  if (ret_active)
    *ret_active = q->active.n;
  if (ret_backoff)
    *ret_backoff = q->backoff.n;
  if (ret_unschedulable)
    *ret_unschedulable = q->n_unsched;
  if (ret_in_flight)
    *ret_in_flight = q->in_flight;
  pthread_mutex_unlock(&q->lock);
}
