#include "client/workqueue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/hmap.h"
#include "lib/timeutil.h"

#define DEFAULT_BASE_MS 5L
#define DEFAULT_MAX_MS 1000000L

struct item {
  char *key;
  bool queued;     /* in the FIFO, or owed one once processing ends */
  bool processing; /* a worker holds it */
  unsigned requeues;
  long long ready_at; /* pending delay (ms, monotonic), 0 = none */
};

struct delayed {
  long long at;
  char *key;
};

struct workqueue {
  pthread_mutex_t mu;
  pthread_cond_t cond;
  bool shut;
  long base_ms, max_ms;
  struct hmap items; /* key → struct item, for every key queued, processing or backing off */
  char **fifo;       /* ring of keys (borrowed from items) */
  size_t head, len, cap;
  struct delayed *heap; /* min-heap by `at` */
  size_t n_heap, cap_heap;
};

struct workqueue *workqueue_new(long base_ms, long max_ms) {
  struct workqueue *q = xcalloc(1, sizeof(*q));
  pthread_mutex_init(&q->mu, NULL);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&q->cond, &attr);
  pthread_condattr_destroy(&attr);
  q->base_ms = base_ms > 0 ? base_ms : DEFAULT_BASE_MS;
  q->max_ms = max_ms > 0 ? max_ms : DEFAULT_MAX_MS;
  return q;
}

static void item_free(void *p) {
  struct item *it = p;
  free(it->key);
  free(it);
}

void workqueue_free(struct workqueue *q) {
  if (!q)
    return;
  for (size_t i = 0; i < q->n_heap; i++)
    free(q->heap[i].key);
  free(q->heap);
  free(q->fifo);
  hmap_clear(&q->items, item_free);
  pthread_cond_destroy(&q->cond);
  pthread_mutex_destroy(&q->mu);
  free(q);
}

void workqueue_shutdown(struct workqueue *q) {
  pthread_mutex_lock(&q->mu);
  q->shut = true;
  pthread_cond_broadcast(&q->cond);
  pthread_mutex_unlock(&q->mu);
}

static struct item *item_get(struct workqueue *q, const char *key) {
  struct item *it = hmap_get(&q->items, key);
  if (!it) {
    it = xcalloc(1, sizeof(*it));
    it->key = xstrdup(key);
    hmap_put(&q->items, key, it);
  }
  return it;
}

/* Drops the item once nothing refers to it any more. */
static void item_maybe_drop(struct workqueue *q, struct item *it) {
  if (!it->queued && !it->processing && !it->ready_at && !it->requeues)
    item_free(hmap_remove(&q->items, it->key));
}

static void fifo_push(struct workqueue *q, char *key) {
  if (q->len == q->cap) {
    size_t ncap = q->cap ? q->cap * 2 : 64;
    char **n = xmalloc(ncap * sizeof(*n));
    for (size_t i = 0; i < q->len; i++)
      n[i] = q->fifo[(q->head + i) % q->cap];
    free(q->fifo);
    q->fifo = n;
    q->head = 0;
    q->cap = ncap;
  }
  q->fifo[(q->head + q->len++) % q->cap] = key;
}

static void add_locked(struct workqueue *q, struct item *it) {
  if (it->queued)
    return;
  it->queued = true;
  if (!it->processing) {
    fifo_push(q, it->key);
    pthread_cond_signal(&q->cond);
  }
}

void workqueue_add(struct workqueue *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  if (!q->shut)
    add_locked(q, item_get(q, key));
  pthread_mutex_unlock(&q->mu);
}

static void heap_push(struct workqueue *q, long long at, const char *key) {
  if (q->n_heap == q->cap_heap) {
    q->cap_heap = q->cap_heap ? q->cap_heap * 2 : 32;
    q->heap = xrealloc(q->heap, q->cap_heap * sizeof(*q->heap));
  }
  size_t i = q->n_heap++;
  while (i > 0 && q->heap[(i - 1) / 2].at > at) {
    q->heap[i] = q->heap[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  q->heap[i] = (struct delayed){at, xstrdup(key)};
}

static struct delayed heap_pop(struct workqueue *q) {
  struct delayed top = q->heap[0], last = q->heap[--q->n_heap];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= q->n_heap)
      break;
    if (c + 1 < q->n_heap && q->heap[c + 1].at < q->heap[c].at)
      c++;
    if (q->heap[c].at >= last.at)
      break;
    q->heap[i] = q->heap[c];
    i = c;
  }
  if (q->n_heap)
    q->heap[i] = last;
  return top;
}

static void add_after_locked(struct workqueue *q, const char *key, long delay_ms) {
  if (delay_ms <= 0) {
    add_locked(q, item_get(q, key));
    return;
  }
  struct item *it = item_get(q, key);
  long long at = timeutil_now_ms(CLOCK_MONOTONIC) + delay_ms;
  if (it->ready_at && it->ready_at <= at)
    return;
  it->ready_at = at;
  heap_push(q, at, key);
  pthread_cond_signal(&q->cond);
}

void workqueue_add_after(struct workqueue *q, const char *key, long delay_ms) {
  pthread_mutex_lock(&q->mu);
  if (!q->shut)
    add_after_locked(q, key, delay_ms);
  pthread_mutex_unlock(&q->mu);
}

void workqueue_add_rate_limited(struct workqueue *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  if (!q->shut) {
    struct item *it = item_get(q, key);
    unsigned n = it->requeues++;
    long delay = q->base_ms;
    for (unsigned i = 0; i < n && delay < q->max_ms; i++)
      delay *= 2;
    add_after_locked(q, key, delay < q->max_ms ? delay : q->max_ms);
  }
  pthread_mutex_unlock(&q->mu);
}

void workqueue_forget(struct workqueue *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  struct item *it = hmap_get(&q->items, key);
  if (it) {
    it->requeues = 0;
    item_maybe_drop(q, it);
  }
  pthread_mutex_unlock(&q->mu);
}

unsigned workqueue_requeues(struct workqueue *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  struct item *it = hmap_get(&q->items, key);
  unsigned n = it ? it->requeues : 0;
  pthread_mutex_unlock(&q->mu);
  return n;
}

/* Moves due delayed keys into the FIFO; returns ms until the next one (-1 = none). */
static long promote_due(struct workqueue *q) {
  long long now = timeutil_now_ms(CLOCK_MONOTONIC);
  while (q->n_heap && q->heap[0].at <= now) {
    struct delayed d = heap_pop(q);
    struct item *it = hmap_get(&q->items, d.key);
    /* A stale heap entry (superseded by an earlier delay) is skipped. */
    if (it && it->ready_at == d.at) {
      it->ready_at = 0;
      add_locked(q, it);
    }
    free(d.key);
  }
  return q->n_heap ? (long)(q->heap[0].at - now) : -1;
}

int workqueue_get(struct workqueue *q, char **ret_key) {
  pthread_mutex_lock(&q->mu);
  for (;;) {
    if (q->shut) {
      pthread_mutex_unlock(&q->mu);
      return -ESHUTDOWN;
    }
    long wait = promote_due(q);
    if (q->len)
      break;
    if (wait < 0) {
      pthread_cond_wait(&q->cond, &q->mu);
    } else {
      struct timespec ts = timeutil_deadline(CLOCK_MONOTONIC, wait);
      pthread_cond_timedwait(&q->cond, &q->mu, &ts);
    }
  }
  char *key = q->fifo[q->head];
  q->head = (q->head + 1) % q->cap;
  q->len--;
  struct item *it = hmap_get(&q->items, key);
  it->queued = false;
  it->processing = true;
  *ret_key = xstrdup(key);
  pthread_mutex_unlock(&q->mu);
  return 0;
}

void workqueue_done(struct workqueue *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  struct item *it = hmap_get(&q->items, key);
  if (it) {
    it->processing = false;
    if (it->queued && !q->shut) {
      fifo_push(q, it->key);
      pthread_cond_signal(&q->cond);
    }
    item_maybe_drop(q, it);
  }
  pthread_mutex_unlock(&q->mu);
}

size_t workqueue_len(struct workqueue *q) {
  pthread_mutex_lock(&q->mu);
  size_t n = q->len;
  pthread_mutex_unlock(&q->mu);
  return n;
}
