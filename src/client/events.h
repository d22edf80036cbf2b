/* events.h — the event recorder: what a component did to an object, as core/v1 Events
 * that `kubectl describe` and `kubectl get events` show.
 *
 * event_record() only queues; a recorder thread writes the events, so callers never wait
 * on the API. As client-go's recorder does, an event repeated for the same object with
 * the same type, reason and message within 10 minutes updates the existing Event (count,
 * lastTimestamp) instead of creating another. Events that cannot be written are dropped
 * (they are advisory). Thread-safe. Nothing here logs. */
#pragma once

#include <stdarg.h>

#include "client/rest.h"
#include "lib/json.h"
#include "lib/macro.h"

struct event_recorder;

/* component: the source reported in the Event ("replicaset-controller",
 * "default-scheduler", "kubelet"); host: source.host (NULL for controllers). Starts the
 * writer thread. The client must outlive the recorder. */
struct event_recorder *event_recorder_new(struct rest_client *client, const char *component,
                                          const char *host);

/* Writes what is queued, stops the thread and frees. Accepts NULL. */
void event_recorder_free(struct event_recorder *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct event_recorder *, event_recorder_free)

/* Records an event about `obj` (any API object with kind/apiVersion/metadata; the
 * involvedObject reference is taken from it; `kind`/`apiVersion` may be supplied when obj
 * lacks them, as objects from lists do — NULL uses the object's). type: "Normal" or
 * "Warning"; reason: CamelCase ("SuccessfulCreate"); message: printf format. */
void event_record(struct event_recorder *r, const json_t *obj, const char *kind,
                  const char *api_version, const char *type, const char *reason,
                  const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* Events written so far (for tests and benchmarks). */
unsigned long event_recorder_written(struct event_recorder *r);
