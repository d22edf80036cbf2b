/* watch.h — the watch cache: one store watch on the whole registry feeds a ring of recent
 * events, from which every client watch is served, so thousands of watchers cost the
 * store nothing. Each event is parsed and encoded once and shared by all watchers.
 *
 * Thread-safety: all functions may be called from any thread. */
#pragma once

#include "apiserver/httpd.h"
#include "apiserver/resource.h"
#include "store/store.h"

struct watch_cache;

/* Starts watching the store from its current revision. ring_size = how many recent
 * events are kept for watches that resume from an older resourceVersion (0 = default). */
int watch_cache_start(struct store *store, size_t ring_size, struct watch_cache **ret);

/* Ends every watch stream and the store watch, and frees the cache. Accepts NULL. */
void watch_cache_stop(struct watch_cache *wc);

/* Serves a watch request (req->info.verb == "watch"): answers on hreq with a chunked
 * stream of watch events, or with a Status error. */
void watch_serve(struct watch_cache *wc, struct resource_context *ctx, struct httpd_req *hreq,
                 const struct resource_request *req);

/* Number of open watches (for tests and metrics). */
size_t watch_cache_watchers(struct watch_cache *wc);
