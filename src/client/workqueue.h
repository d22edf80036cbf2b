/* workqueue.h — the controllers' queue of object keys ("namespace/name"): a key added
 * while queued is queued once, a key added while a worker processes it is processed again
 * afterwards (never by two workers at once), and failed keys come back after a per-key
 * exponential back-off, as client-go's rate-limiting work queue does.
 *
 * Back-off: a key's n-th consecutive workqueue_add_rate_limited() delays it by
 * base·2^(n-1), capped at max (5 ms and 1000 s by default), until workqueue_forget().
 *
 * Every function is thread-safe. Keys are copied. Nothing here logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/macro.h"

struct workqueue;

/* base_ms/max_ms: back-off bounds; 0 picks the defaults (5 ms, 1000 s). */
struct workqueue *workqueue_new(long base_ms, long max_ms);

/* Wakes every waiting workqueue_get() (they return -ESHUTDOWN) and refuses new work. */
void workqueue_shutdown(struct workqueue *q);

/* After workqueue_shutdown() and once no thread uses the queue. Accepts NULL. */
void workqueue_free(struct workqueue *q);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct workqueue *, workqueue_free)

/* Queues key unless it is already waiting. */
void workqueue_add(struct workqueue *q, const char *key);

/* Queues key after delay_ms (an earlier pending delay for the same key wins). */
void workqueue_add_after(struct workqueue *q, const char *key, long delay_ms);

/* Queues key after its back-off, and lengthens the back-off for next time. */
void workqueue_add_rate_limited(struct workqueue *q, const char *key);

/* Resets key's back-off (call after a successful sync). */
void workqueue_forget(struct workqueue *q, const char *key);

/* How many times key has been re-queued by workqueue_add_rate_limited() since the last
 * workqueue_forget(). */
unsigned workqueue_requeues(struct workqueue *q, const char *key);

/* Blocks until a key is ready and hands it to the caller (malloc'd, *ret_key), marking it
 * processing; 0, or -ESHUTDOWN once the queue is shut down. The caller must call
 * workqueue_done() with the same key when finished. */
int workqueue_get(struct workqueue *q, char **ret_key);

/* Ends the processing of key; if it was added meanwhile it is queued again. */
void workqueue_done(struct workqueue *q, const char *key);

/* Keys waiting now (not counting delayed or processing ones). */
size_t workqueue_len(struct workqueue *q);
