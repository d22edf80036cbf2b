/* etcd.c — the etcd v3 backend, spoken as JSON through etcd's gRPC gateway.
 *
 * Every request is a POST of a JSON body to /v3/...; keys and values travel base64
 * encoded and int64 fields as strings. Conditional writes are single transactions that
 * compare the key's mod_revision (or create_revision == 0 for "absent"), with a range in
 * the failure branch so that a failed compare tells -ENOENT from -ESTALE in one round
 * trip. TTLs are leases granted per write.
 *
 * Unary calls share a pool of libcurl easy handles (each keeps its connection alive) and
 * fail over between endpoints: a request that never reached a member is retried on the
 * next one; a write that may have reached one answers -EIO rather than risk applying
 * twice. Each watch is a thread holding one streaming POST /v3/watch; when the stream
 * breaks it reconnects to the next endpoint and resumes after the last revision it saw.
 *
 * The gateway has no call that reports the compaction point, so store_compact() records
 * it under COMPACT_KEY (outside /registry), as kube-apiserver's compactor does.
 */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/base64.h"
#include "lib/json.h"
#include "lib/macro.h"
#include "lib/strbuf.h"
#include "store/backend.h"
#include "store/store.h"

#define COMPACT_KEY "/ckube/compact_rev"
#define CALL_TIMEOUT_MS 15000L
#define CONNECT_TIMEOUT_MS 1000L
#define WATCH_GIVE_UP_MS 15000

struct etcd_store {
  struct store base;
  char **endpoints;
  size_t n_endpoints;
  atomic_size_t preferred;

  pthread_mutex_t pool_lock;
  CURL **pool;
  size_t n_pool, cap_pool;

  pthread_mutex_t watch_lock;
  struct store_watch *watches;
};

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- encoding --------------------------------------------------------------------- */

static json_t *b64_json(const char *data, size_t n) {
  _cleanup_free_ char *e = base64_encode(data, n);
  return json_string(e);
}

static json_t *key_json(const char *key) { return b64_json(key, strlen(key)); }

/* etcd reads a range bound of one NUL byte as "from the first key" (key) or "to the last
 * key" (range_end): what an empty prefix, or a prefix without an end, means. */
static json_t *range_bound_json(const char *key) {
  return key && key[0] ? key_json(key) : b64_json("\0", 1);
}

/* The gateway encodes int64 as strings; accept numbers too. */
static int64_t json_i64(json_t *obj, const char *key) {
  json_t *v = json_object_get(obj, key);
  if (json_is_string(v))
    return strtoll(json_string_value(v), NULL, 10);
  if (json_is_integer(v))
    return json_integer_value(v);
  return 0;
}

static json_t *i64_json(int64_t v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%" PRId64, v);
  return json_string(buf);
}

static int kv_from_json(json_t *j, struct store_kv *kv, bool with_value) {
  const char *k = json_string_value(json_object_get(j, "key"));
  if (!k)
    return -EIO;
  struct store_kv out = {0};
  if (base64_decode_relaxed(k, strlen(k), &out.key) < 0)
    return -EIO;
  if (with_value) {
    const char *v = json_string_value(json_object_get(j, "value"));
    long n = base64_decode_relaxed(v ? v : "", v ? strlen(v) : 0, &out.value);
    if (n < 0) {
      store_kv_clear(&out);
      return -EIO;
    }
    out.value_len = (size_t)n;
  }
  out.create_rev = json_i64(j, "create_revision");
  out.mod_rev = json_i64(j, "mod_revision");
  *kv = out;
  return 0;
}

/* ---- unary calls ------------------------------------------------------------------ */

static size_t write_buf(char *p, size_t sz, size_t n, void *ud) {
  strbuf_append(ud, p, sz * n);
  return sz * n;
}

/* A JSON POST whose response goes to write_fn; the caller sets its own total timeout (a
 * watch has none). */
static void setup_post(CURL *c, const char *url, const char *body, struct curl_slist *hdrs,
                       curl_write_callback write_fn, void *write_data) {
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_fn);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, write_data);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
}

static CURL *pool_get(struct etcd_store *s) {
  CURL *c = NULL;
  pthread_mutex_lock(&s->pool_lock);
  if (s->n_pool)
    c = s->pool[--s->n_pool];
  pthread_mutex_unlock(&s->pool_lock);
  if (!c) {
    c = curl_easy_init();
    if (!c)
      abort();
  }
  return c;
}

static void pool_put(struct etcd_store *s, CURL *c) {
  pthread_mutex_lock(&s->pool_lock);
  if (s->n_pool == s->cap_pool) {
    s->cap_pool = s->cap_pool ? s->cap_pool * 2 : 8;
    s->pool = xrealloc(s->pool, s->cap_pool * sizeof(*s->pool));
  }
  s->pool[s->n_pool++] = c;
  pthread_mutex_unlock(&s->pool_lock);
}

/* Maps a gateway error body to an errno. etcd reports compaction and future revisions
 * both as OutOfRange; only the message tells them apart. */
static int error_from_body(json_t *body) {
  const char *msg = json_string_value(json_object_get(body, "error"));
  if (!msg)
    msg = json_string_value(json_object_get(body, "message"));
  int64_t code = json_i64(body, "code");
  if (msg && strstr(msg, "compacted"))
    return -ERANGE;
  if (msg && strstr(msg, "future revision"))
    return -EINVAL;
  if (msg && strstr(msg, "lease not found"))
    return -ENOENT;
  if (code == 3 || code == 11)
    return -EINVAL;
  if (code == 14)
    return -EAGAIN;
  return -EIO;
}

static bool not_sent(CURLcode rc) {
  return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
         rc == CURLE_COULDNT_RESOLVE_PROXY;
}

/* POSTs req to path. Idempotent requests are retried on every endpoint after any
 * failure; others only when the request provably never left (connect failure). */
static int etcd_call(struct etcd_store *s, const char *path, json_t *req, bool idempotent,
                     json_t **ret) {
  _cleanup_free_ char *body = json_encode(req);
  size_t first = atomic_load(&s->preferred);
  int result = -ENOTCONN;
  struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");

  for (size_t attempt = 0; attempt < s->n_endpoints; attempt++) {
    size_t idx = (first + attempt) % s->n_endpoints;
    _cleanup_free_ char *url = xasprintf("%s%s", s->endpoints[idx], path);
    struct strbuf resp = {0};
    CURL *c = pool_get(s);
    setup_post(c, url, body, hdrs, write_buf, &resp);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, CALL_TIMEOUT_MS);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    pool_put(s, c);

    if (rc != CURLE_OK) {
      strbuf_clear(&resp);
      if (not_sent(rc) || idempotent) {
        result = not_sent(rc) ? (result == -EIO ? -EIO : -ENOTCONN) : -EIO;
        continue;
      }
      result = -EIO;
      break;
    }
    json_t *j = json_loadb(resp.s ? resp.s : "", resp.len, 0, NULL);
    strbuf_clear(&resp);
    if (!j) {
      result = -EIO;
      if (idempotent)
        continue;
      break;
    }
    if (status != 200) {
      int r = error_from_body(j);
      json_decref(j);
      if (r == -EAGAIN) {
        result = -EIO;
        if (idempotent)
          continue;
        break;
      }
      result = r;
      break;
    }
    atomic_store(&s->preferred, idx);
    *ret = j;
    result = 0;
    break;
  }
  curl_slist_free_all(hdrs);
  return result;
}

static int64_t header_rev(json_t *resp) { return json_i64(json_object_get(resp, "header"), "revision"); }

static int grant_lease(struct etcd_store *s, int64_t ttl, int64_t *ret_id) {
  _cleanup_json_ json_t *req = json_pack("{s:o}", "TTL", i64_json(ttl));
  _cleanup_json_ json_t *resp = NULL;
  int r = etcd_call(s, "/v3/lease/grant", req, true, &resp);
  if (r < 0)
    return r;
  int64_t id = json_i64(resp, "ID");
  if (!id)
    return -EIO;
  *ret_id = id;
  return 0;
}

/* ---- ops -------------------------------------------------------------------------- */

static int e_get(struct store *base, const char *key, struct store_kv *ret) {
  struct etcd_store *s = (struct etcd_store *)base;
  if (store_check_write(key, NULL, 0, 0, 0) < 0)
    return -EINVAL;
  _cleanup_json_ json_t *req = json_pack("{s:o}", "key", key_json(key));
  _cleanup_json_ json_t *resp = NULL;
  int r = etcd_call(s, "/v3/kv/range", req, true, &resp);
  if (r < 0)
    return r;
  json_t *kv = json_array_get(json_object_get(resp, "kvs"), 0);
  if (!kv)
    return -ENOENT;
  return kv_from_json(kv, ret, true);
}

static json_t *compare_json(const char *key, int64_t expected_rev, bool absent) {
  if (absent)
    return json_pack("{s:o,s:s,s:s,s:s}", "key", key_json(key), "target", "CREATE", "result",
                     "EQUAL", "create_revision", "0");
  if (expected_rev)
    return json_pack("{s:o,s:s,s:s,s:o}", "key", key_json(key), "target", "MOD", "result",
                     "EQUAL", "mod_revision", i64_json(expected_rev));
  return json_pack("{s:o,s:s,s:s,s:s}", "key", key_json(key), "target", "CREATE", "result",
                   "GREATER", "create_revision", "0");
}

static int put_txn(struct etcd_store *s, const char *key, const char *value, size_t len,
                   int64_t expected_rev, bool create, int64_t ttl, int64_t *ret_rev) {
  if (store_check_write(key, value, len, expected_rev, ttl) < 0)
    return -EINVAL;
  int64_t lease = 0;
  if (ttl > 0) {
    int r = grant_lease(s, ttl, &lease);
    if (r < 0)
      return r;
  }
  json_t *put = json_pack("{s:o,s:o}", "key", key_json(key), "value",
                          b64_json(value ? value : "", len));
  if (lease)
    json_object_set_new(put, "lease", i64_json(lease));
  _cleanup_json_ json_t *req = json_pack(
      "{s:[o],s:[{s:o}],s:[{s:{s:o}}]}", "compare", compare_json(key, expected_rev, create),
      "success", "request_put", put, "failure", "request_range", "key", key_json(key));
  _cleanup_json_ json_t *resp = NULL;
  int r = etcd_call(s, "/v3/kv/txn", req, false, &resp);
  if (r < 0)
    return r;
  if (!json_is_true(json_object_get(resp, "succeeded"))) {
    if (create)
      return -EEXIST;
    json_t *rr = json_path(json_array_get(json_object_get(resp, "responses"), 0),
                           "response_range");
    return json_array_size(json_object_get(rr, "kvs")) ? -ESTALE : -ENOENT;
  }
  if (ret_rev)
    *ret_rev = header_rev(resp);
  return 0;
}

static int e_create(struct store *base, const char *key, const char *value, size_t len,
                    int64_t ttl_seconds, int64_t *ret_rev) {
  return put_txn((struct etcd_store *)base, key, value, len, 0, true, ttl_seconds, ret_rev);
}

static int e_update(struct store *base, const char *key, const char *value, size_t len,
                    int64_t expected_rev, int64_t ttl_seconds, int64_t *ret_rev) {
  return put_txn((struct etcd_store *)base, key, value, len, expected_rev, false, ttl_seconds,
                 ret_rev);
}

static int e_delete(struct store *base, const char *key, int64_t expected_rev,
                    struct store_kv *ret_prev, int64_t *ret_rev) {
  struct etcd_store *s = (struct etcd_store *)base;
  if (store_check_write(key, NULL, 0, expected_rev, 0) < 0)
    return -EINVAL;
  _cleanup_json_ json_t *req = json_pack(
      "{s:[o],s:[{s:{s:o,s:b}}],s:[{s:{s:o}}]}", "compare", compare_json(key, expected_rev, false),
      "success", "request_delete_range", "key", key_json(key), "prev_kv", 1, "failure",
      "request_range", "key", key_json(key));
  _cleanup_json_ json_t *resp = NULL;
  int r = etcd_call(s, "/v3/kv/txn", req, false, &resp);
  if (r < 0)
    return r;
  json_t *first = json_array_get(json_object_get(resp, "responses"), 0);
  if (!json_is_true(json_object_get(resp, "succeeded"))) {
    json_t *rr = json_object_get(first, "response_range");
    return json_array_size(json_object_get(rr, "kvs")) ? -ESTALE : -ENOENT;
  }
  json_t *prev = json_array_get(json_path(first, "response_delete_range.prev_kvs"), 0);
  if (!prev)
    return -ENOENT;
  if (ret_prev) {
    r = kv_from_json(prev, ret_prev, true);
    if (r < 0)
      return r;
  }
  if (ret_rev)
    *ret_rev = header_rev(resp);
  return 0;
}

static int e_list(struct store *base, const char *prefix, int64_t rev, const char *start_after,
                  size_t limit, struct store_list *ret) {
  struct etcd_store *s = (struct etcd_store *)base;
  if (store_check_list(prefix, rev, start_after) < 0)
    return -EINVAL;
  _cleanup_free_ char *end = store_prefix_end(prefix);
  json_t *start;
  if (start_after && start_after[0]) {
    /* the smallest key after start_after is start_after followed by a NUL byte */
    size_t n = strlen(start_after);
    _cleanup_free_ char *k = xmalloc(n + 1);
    memcpy(k, start_after, n);
    k[n] = '\0';
    start = b64_json(k, n + 1);
  } else
    start = range_bound_json(prefix);
  _cleanup_json_ json_t *req =
      json_pack("{s:o,s:o}", "key", start, "range_end", range_bound_json(end));
  if (limit)
    json_object_set_new(req, "limit", i64_json((int64_t)limit));
  if (rev)
    json_object_set_new(req, "revision", i64_json(rev));
  _cleanup_json_ json_t *resp = NULL;
  int r = etcd_call(s, "/v3/kv/range", req, true, &resp);
  if (r < 0)
    return r;
  json_t *kvs = json_object_get(resp, "kvs");
  struct store_list out = {0};
  out.items = xcalloc(json_array_size(kvs) + 1, sizeof(*out.items));
  for (size_t i = 0; i < json_array_size(kvs); i++) {
    r = kv_from_json(json_array_get(kvs, i), &out.items[out.n_items], true);
    if (r < 0) {
      store_list_clear(&out);
      return r;
    }
    out.n_items++;
  }
  out.more = json_is_true(json_object_get(resp, "more"));
  out.rev = rev ? rev : header_rev(resp);
  *ret = out;
  return 0;
}

static int e_count(struct store *base, const char *prefix, int64_t *ret_count) {
  struct etcd_store *s = (struct etcd_store *)base;
  if (!prefix)
    return -EINVAL;
  _cleanup_free_ char *end = store_prefix_end(prefix);
  _cleanup_json_ json_t *req = json_pack("{s:o,s:o,s:b}", "key", range_bound_json(prefix),
                                         "range_end", range_bound_json(end), "count_only", 1);
  _cleanup_json_ json_t *resp = NULL;
  int r = etcd_call(s, "/v3/kv/range", req, true, &resp);
  if (r < 0)
    return r;
  *ret_count = json_i64(resp, "count");
  return 0;
}

/* A count-only range of one key nobody writes: its header carries the revision, and a
 * range at `at` fails when `at` is compacted. */
static int probe(struct etcd_store *s, int64_t at, int64_t *ret_rev) {
  _cleanup_json_ json_t *req = json_pack("{s:o,s:b}", "key", b64_json("\0", 1), "count_only", 1);
  if (at)
    json_object_set_new(req, "revision", i64_json(at));
  _cleanup_json_ json_t *resp = NULL;
  int r = etcd_call(s, "/v3/kv/range", req, true, &resp);
  if (r < 0)
    return r;
  if (ret_rev)
    *ret_rev = header_rev(resp);
  return 0;
}

static int e_current_rev(struct store *base, int64_t *ret_rev) {
  return probe((struct etcd_store *)base, 0, ret_rev);
}

static int e_compacted_rev(struct store *base, int64_t *ret_rev) {
  struct store_kv kv = {0};
  int r = e_get(base, COMPACT_KEY, &kv);
  if (r == -ENOENT) {
    *ret_rev = 0;
    return 0;
  }
  if (r < 0)
    return r;
  *ret_rev = strtoll(kv.value, NULL, 10);
  store_kv_clear(&kv);
  return 0;
}

static int e_compact(struct store *base, int64_t rev) {
  struct etcd_store *s = (struct etcd_store *)base;
  if (rev <= 0)
    return -EINVAL;
  _cleanup_json_ json_t *req = json_pack("{s:o,s:b}", "revision", i64_json(rev), "physical", 1);
  _cleanup_json_ json_t *resp = NULL;
  int r = etcd_call(s, "/v3/kv/compaction", req, false, &resp);
  if (r < 0)
    return r;

  /* record the point, never moving it backwards when compactions race */
  char val[32];
  snprintf(val, sizeof(val), "%" PRId64, rev);
  for (int tries = 0; tries < 10; tries++) {
    struct store_kv kv = {0};
    r = e_get(base, COMPACT_KEY, &kv);
    if (r == -ENOENT)
      r = e_create(base, COMPACT_KEY, val, strlen(val), 0, NULL);
    else if (r == 0) {
      int64_t have = strtoll(kv.value, NULL, 10);
      r = have >= rev ? 0 : e_update(base, COMPACT_KEY, val, strlen(val), kv.mod_rev, 0, NULL);
      store_kv_clear(&kv);
    }
    if (r != -EEXIST && r != -ESTALE && r != -ENOENT)
      return r;
  }
  return -EIO;
}

/* ---- watch ------------------------------------------------------------------------ */

struct store_watch {
  struct etcd_store *s;
  char *prefix;
  char *prefix_end;
  store_watch_cb cb;
  void *userdata;
  pthread_t thread;
  CURLM *multi;

  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool cancel;      /* watch_cancel */
  bool closing;     /* store_close: end with -ECANCELED */
  bool self_cancel; /* cancelled from its own callback */
  int started;      /* 0 pending, 1 created, <0 failed before creation */

  int64_t pos;          /* last revision delivered (or the position asked for) */
  bool pos_known;       /* false only for from_rev 0 until the first "created" */
  int end_err;          /* set by the stream parser: terminal error */
  bool stopped_by_cb;   /* the callback asked to stop */
  bool created;         /* this connection's watch was created */
  struct strbuf in;
  struct store_watch *next_watch;
};

static bool watch_flag(struct store_watch *w, bool *ret_closing) {
  pthread_mutex_lock(&w->lock);
  bool c = w->cancel || w->closing;
  if (ret_closing)
    *ret_closing = w->closing && !w->cancel;
  pthread_mutex_unlock(&w->lock);
  return c;
}

static void watch_started(struct store_watch *w, int state) {
  pthread_mutex_lock(&w->lock);
  if (w->started == 0)
    w->started = state;
  pthread_cond_broadcast(&w->cond);
  pthread_mutex_unlock(&w->lock);
}

static int deliver(struct store_watch *w, json_t *ev) {
  struct store_event e = {0};
  const char *type = json_string_value(json_object_get(ev, "type"));
  e.type = type && streq(type, "DELETE") ? STORE_EVENT_DELETE : STORE_EVENT_PUT;
  int r = kv_from_json(json_object_get(ev, "kv"), &e.kv, e.type == STORE_EVENT_PUT);
  if (r < 0)
    return r;
  json_t *prev = json_object_get(ev, "prev_kv");
  if (prev && kv_from_json(prev, &e.prev, true) < 0) {
    store_kv_clear(&e.kv);
    return -EIO;
  }
  int64_t rev = e.kv.mod_rev;
  if (rev > w->pos) {
    if (w->cb(&e, 0, w->userdata) < 0)
      w->stopped_by_cb = true;
    w->pos = rev;
  }
  store_kv_clear(&e.kv);
  store_kv_clear(&e.prev);
  return 0;
}

/* Handles one message of the watch stream. Negative: stop this connection. */
static int watch_message(struct store_watch *w, json_t *msg) {
  json_t *res = json_object_get(msg, "result");
  if (!res)
    return -EIO; /* {"error": ...}: the stream broke, reconnect */
  if (json_i64(res, "compact_revision") > 0) {
    w->end_err = -ERANGE;
    return -ERANGE;
  }
  if (json_is_true(json_object_get(res, "created"))) {
    w->created = true;
    if (!w->pos_known) {
      w->pos = header_rev(res);
      w->pos_known = true;
    }
    watch_started(w, 1);
  }
  json_t *evs = json_object_get(res, "events");
  for (size_t i = 0; i < json_array_size(evs); i++) {
    if (deliver(w, json_array_get(evs, i)) < 0)
      return -EIO;
    if (w->stopped_by_cb || watch_flag(w, NULL))
      return -ECANCELED;
  }
  if (json_is_true(json_object_get(res, "canceled")))
    return -EIO;
  return 0;
}

static size_t watch_write(char *p, size_t sz, size_t n, void *ud) {
  struct store_watch *w = ud;
  strbuf_append(&w->in, p, sz * n);
  size_t off = 0;
  for (;;) {
    while (off < w->in.len && strchr(" \t\r\n", w->in.s[off]))
      off++;
    if (off == w->in.len)
      break;
    json_error_t err;
    json_t *msg = json_loadb(w->in.s + off, w->in.len - off, JSON_DISABLE_EOF_CHECK, &err);
    if (!msg) {
      if (json_error_code(&err) == json_error_premature_end_of_input)
        break;
      return 0; /* garbage: abort the transfer and reconnect */
    }
    off += (size_t)err.position;
    int r = watch_message(w, msg);
    json_decref(msg);
    if (r < 0)
      return 0;
  }
  memmove(w->in.s, w->in.s + off, w->in.len - off);
  w->in.len -= off;
  return sz * n;
}

/* Runs one streaming connection to an endpoint until it ends or the watch is told to
 * stop. */
static void watch_connect(struct store_watch *w, const char *endpoint) {
  json_t *create = json_pack("{s:o,s:o,s:b}", "key", range_bound_json(w->prefix), "range_end",
                             range_bound_json(w->prefix_end), "prev_kv", 1);
  if (w->pos_known)
    json_object_set_new(create, "start_revision", i64_json(w->pos + 1));
  _cleanup_json_ json_t *req = json_pack("{s:o}", "create_request", create);
  _cleanup_free_ char *body = json_encode(req);
  _cleanup_free_ char *url = xasprintf("%s/v3/watch", endpoint);
  struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");

  CURL *c = curl_easy_init();
  if (!c)
    abort();
  setup_post(c, url, body, hdrs, watch_write, w);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 5L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 5L);
  w->in.len = 0;
  w->created = false;
  curl_multi_add_handle(w->multi, c);
  int running = 1;
  while (running) {
    if (curl_multi_perform(w->multi, &running) != CURLM_OK)
      break;
    if (!running || watch_flag(w, NULL))
      break;
    curl_multi_poll(w->multi, NULL, 0, 1000, NULL);
  }
  curl_multi_remove_handle(w->multi, c);
  curl_easy_cleanup(c);
  curl_slist_free_all(hdrs);
}

static void watch_free(struct store_watch *w) {
  curl_multi_cleanup(w->multi);
  pthread_mutex_destroy(&w->lock);
  pthread_cond_destroy(&w->cond);
  strbuf_clear(&w->in);
  free(w->prefix);
  free(w->prefix_end);
  free(w);
}

static void *watch_main(void *arg) {
  struct store_watch *w = arg;
  struct etcd_store *s = w->s;
  size_t idx = atomic_load(&s->preferred);
  int64_t last_ok = mono_ms();
  int err = 0;

  for (size_t attempt = 0;; attempt++) {
    watch_connect(w, s->endpoints[(idx + attempt) % s->n_endpoints]);
    bool closing = false;
    if (watch_flag(w, &closing)) {
      err = closing ? -ECANCELED : 0;
      break;
    }
    if (w->stopped_by_cb)
      break;
    if (w->end_err) {
      err = w->end_err;
      break;
    }
    if (w->created)
      last_ok = mono_ms();
    if (mono_ms() - last_ok > WATCH_GIVE_UP_MS) {
      err = -ENOTCONN;
      break;
    }
    if ((attempt + 1) % s->n_endpoints == 0) {
      /* every member refused: wait a little before the next round */
      pthread_mutex_lock(&w->lock);
      if (!w->cancel && !w->closing) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
          ts.tv_sec++;
          ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&w->cond, &w->lock, &ts);
      }
      pthread_mutex_unlock(&w->lock);
    }
  }

  watch_started(w, err ? err : -ECANCELED);
  pthread_mutex_lock(&w->lock);
  bool was_started = w->started == 1;
  bool self = w->self_cancel;
  pthread_mutex_unlock(&w->lock);
  if (err && was_started)
    w->cb(NULL, err, w->userdata);
  if (self)
    watch_free(w);
  return NULL;
}

static void watch_unlink(struct etcd_store *s, struct store_watch *w) {
  pthread_mutex_lock(&s->watch_lock);
  for (struct store_watch **p = &s->watches; *p; p = &(*p)->next_watch)
    if (*p == w) {
      *p = w->next_watch;
      break;
    }
  pthread_mutex_unlock(&s->watch_lock);
}

static int e_watch(struct store *base, const char *prefix, int64_t from_rev, store_watch_cb cb,
                   void *userdata, struct store_watch **ret) {
  struct etcd_store *s = (struct etcd_store *)base;
  if (store_check_watch(prefix, from_rev, cb) < 0)
    return -EINVAL;
  if (from_rev > 0) {
    int r = probe(s, from_rev, NULL);
    if (r < 0 && r != -EINVAL)
      return r;
  }
  struct store_watch *w = xcalloc(1, sizeof(*w));
  w->s = s;
  w->prefix = xstrdup(prefix);
  w->prefix_end = store_prefix_end(prefix);
  w->cb = cb;
  w->userdata = userdata;
  w->pos = from_rev;
  w->pos_known = from_rev > 0;
  w->multi = curl_multi_init();
  pthread_mutex_init(&w->lock, NULL);
  pthread_cond_init(&w->cond, NULL);
  if (!w->multi || pthread_create(&w->thread, NULL, watch_main, w) != 0) {
    watch_free(w);
    return -EAGAIN;
  }

  /* wait for the watch to exist, so every write after this returns is seen */
  pthread_mutex_lock(&w->lock);
  while (w->started == 0)
    pthread_cond_wait(&w->cond, &w->lock);
  int started = w->started;
  pthread_mutex_unlock(&w->lock);
  if (started < 0) {
    pthread_join(w->thread, NULL);
    watch_free(w);
    return started == -ECANCELED ? -ENOTCONN : started;
  }
  pthread_mutex_lock(&s->watch_lock);
  w->next_watch = s->watches;
  s->watches = w;
  pthread_mutex_unlock(&s->watch_lock);
  *ret = w;
  return 0;
}

static void e_watch_cancel(struct store_watch *w) {
  watch_unlink(w->s, w);
  pthread_mutex_lock(&w->lock);
  w->cancel = true;
  bool self = pthread_equal(pthread_self(), w->thread);
  w->self_cancel = self;
  pthread_cond_broadcast(&w->cond);
  pthread_mutex_unlock(&w->lock);
  curl_multi_wakeup(w->multi);
  store_watch_reap(w, w->thread, self, watch_free);
}

/* ---- open / close ----------------------------------------------------------------- */

static void e_close(struct store *base) {
  struct etcd_store *s = (struct etcd_store *)base;
  pthread_mutex_lock(&s->watch_lock);
  struct store_watch *ws = s->watches;
  s->watches = NULL;
  pthread_mutex_unlock(&s->watch_lock);
  for (struct store_watch *w = ws; w; w = w->next_watch) {
    pthread_mutex_lock(&w->lock);
    w->closing = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    curl_multi_wakeup(w->multi);
  }
  for (struct store_watch *w = ws, *next; w; w = next) {
    next = w->next_watch;
    pthread_join(w->thread, NULL);
    watch_free(w);
  }
  for (size_t i = 0; i < s->n_pool; i++)
    curl_easy_cleanup(s->pool[i]);
  free(s->pool);
  for (size_t i = 0; i < s->n_endpoints; i++)
    free(s->endpoints[i]);
  free(s->endpoints);
  pthread_mutex_destroy(&s->pool_lock);
  pthread_mutex_destroy(&s->watch_lock);
  free(s);
}

static int e_open(const char *endpoint, const char *data_dir, struct store **ret) {
  if (!endpoint || !endpoint[0])
    return -EINVAL;
  struct etcd_store *s = xcalloc(1, sizeof(*s));
  s->base.ops = &store_etcd_ops;
  pthread_mutex_init(&s->pool_lock, NULL);
  pthread_mutex_init(&s->watch_lock, NULL);
  _cleanup_free_ char *list = xstrdup(endpoint);
  char *save = NULL;
  for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    size_t n = strlen(tok);
    while (n && tok[n - 1] == '/')
      tok[--n] = '\0';
    if (!startswith(tok, "http://") && !startswith(tok, "https://")) {
      e_close(&s->base);
      return -EINVAL;
    }
    s->endpoints = xrealloc(s->endpoints, (s->n_endpoints + 1) * sizeof(char *));
    s->endpoints[s->n_endpoints++] = xstrdup(tok);
  }
  if (!s->n_endpoints) {
    e_close(&s->base);
    return -EINVAL;
  }
  /* fail at open, not at the first request, when no member answers */
  int r = probe(s, 0, NULL);
  if (r < 0) {
    e_close(&s->base);
    return r;
  }
  *ret = &s->base;
  return 0;
}

const struct store_ops store_etcd_ops = {
    .name = "etcd",
    .open = e_open,
    .close = e_close,
    .get = e_get,
    .create = e_create,
    .update = e_update,
    .delete = e_delete,
    .list = e_list,
    .count = e_count,
    .watch = e_watch,
    .watch_cancel = e_watch_cancel,
    .current_rev = e_current_rev,
    .compact = e_compact,
    .compacted_rev = e_compacted_rev,
};
