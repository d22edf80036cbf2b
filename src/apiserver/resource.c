/* The generic resource handlers. Every resource of the registry goes through these:
 * per-kind behaviour comes from the registry's strategy hooks and the admission chain. */
#include "apiserver/resource.h"

#include <stdio.h>

#include "api/patch.h"
#include "api/warnings.h"
#include "api/apply.h"
#include "apiserver/admission.h"
#include "apiserver/body.h"
#include "apiserver/filter.h"
#include "apiserver/object.h"
#include "apiserver/table.h"
#include "lib/base64.h"
#include "lib/json.h"
#include "lib/strbuf.h"

/* How often a patch or apply retries when the object changed under it. */
#define MAX_PATCH_RETRIES 5

void resource_response_clear(struct resource_response *r) {
  free(r->body);
  for (size_t i = 0; i < r->n_warnings; i++)
    free(r->warnings[i]);
  free(r->warnings);
  memset(r, 0, sizeof(*r));
}

static void respond_json(struct resource_response *resp, int code, const json_t *v) {
  resp->code = code;
  resp->body = json_encode(v);
  resp->len = strlen(resp->body);
  resp->content_type = "application/json";
}

static void respond_error(struct resource_response *resp, const struct api_error *err) {
  _cleanup_json_ json_t *st = api_error_to_status(err);
  respond_json(resp, err->code ? err->code : 500, st);
}

char *resource_key(const struct api_resource *r, const char *ns, const char *name) {
  const char *group = r->storage_group ? r->storage_group : *r->group ? r->group : "core";
  if (r->namespaced && ns)
    return xasprintf("/registry/%s/%s/%s/%s", group, r->plural, ns, name ? name : "");
  return xasprintf("/registry/%s/%s/%s", group, r->plural, name ? name : "");
}

json_t *resource_decode_stored(const char *value, size_t len, int64_t rev) {
  json_t *obj = NULL;
  if (json_decode(value, len, &obj, NULL) < 0)
    return NULL;
  char buf[24];
  snprintf(buf, sizeof(buf), "%lld", (long long)rev);
  json_object_set_new(json_object_ensure(obj, "metadata"), "resourceVersion", json_string(buf));
  return obj;
}

/* The bytes we store: the object without resourceVersion (the store's revision, stamped on
 * read), metadata first, so that reads can stamp it by splicing bytes instead of parsing:
 * see resource_encode_stored(). */
static char *encode_for_store(json_t *obj) {
  json_t *md = json_object_get(obj, "metadata");
  _cleanup_json_ json_t *out = json_object();
  _cleanup_json_ json_t *meta = md ? json_copy(md) : json_object();
  json_object_del(meta, "resourceVersion");
  json_object_set(out, "metadata", meta);
  const char *k;
  json_t *v;
  json_object_foreach(obj, k, v) if (!streq(k, "metadata")) json_object_set(out, k, v);
  return json_encode(out);
}

char *resource_encode_stored(const char *value, size_t len, int64_t rev, size_t *ret_len) {
  static const char head[] = "{\"metadata\":{";
  char rv[48];
  size_t hl = sizeof(head) - 1;
  if (len > hl && memcmp(value, head, hl) == 0) {
    int n = snprintf(rv, sizeof(rv), "\"resourceVersion\":\"%lld\"%s", (long long)rev,
                     value[hl] == '}' ? "" : ",");
    char *out = xmalloc(len + (size_t)n + 1);
    memcpy(out, value, hl);
    memcpy(out + hl, rv, (size_t)n);
    memcpy(out + hl + (size_t)n, value + hl, len - hl);
    out[len + (size_t)n] = 0;
    *ret_len = len + (size_t)n;
    return out;
  }
  /* stored some other way: decode, stamp, encode */
  _cleanup_json_ json_t *obj = resource_decode_stored(value, len, rev);
  if (!obj)
    return NULL;
  char *s = json_encode(obj);
  *ret_len = strlen(s);
  return s;
}

static void stamp_rv(json_t *obj, int64_t rev) {
  char buf[24];
  snprintf(buf, sizeof(buf), "%lld", (long long)rev);
  json_object_set_new(json_object_ensure(obj, "metadata"), "resourceVersion", json_string(buf));
}

static const char *q(const struct resource_request *req, const char *name);

/* Records a non-apply write in metadata.managedFields of obj (in place). */
static int record_managed_fields(const struct api_resource *r, const char *manager,
                                 const char *sub, const json_t *old, json_t *obj,
                                 struct api_error *err) {
  if (!manager || !r->schema)
    return 0;
  char now[32];
  object_now(now);
  _cleanup_free_ char *av = object_api_version(r);
  struct apply_request ar = {.type = r->schema, .manager = manager, .subresource = sub,
                             .api_version = av, .now = now};
  _cleanup_json_ json_t *out = NULL;
  int rc = managed_fields_update(&ar, old, obj, &out, err);
  if (rc < 0)
    return rc;
  json_t *md = json_object_ensure(obj, "metadata");
  json_t *mf = json_path(out, "metadata.managedFields");
  if (mf)
    json_object_set(md, "managedFields", mf);
  else
    json_object_del(md, "managedFields");
  return 0;
}

/* Server-side apply of a patch onto live (NULL to create). Status is never taken from an
 * apply to the main resource of a kind with a status subresource. */
static int run_apply(const struct api_resource *r, const struct resource_request *req,
                     const json_t *live, const json_t *patch, json_t **ret,
                     struct api_error *err) {
  char now[32];
  object_now(now);
  _cleanup_free_ char *av = object_api_version(r);
  const char *force = q(req, "force");
  struct fieldpath_set *ignored = NULL;
  if (r->has_status && !req->info.subresource)
    fieldpath_set_parse("{\"f:status\":{}}", strlen("{\"f:status\":{}}"), &ignored);
  struct apply_request ar = {.type = r->schema, .manager = q(req, "fieldManager"),
                             .subresource = req->info.subresource, .api_version = av,
                             .now = now, .force = force && streq(force, "true"),
                             .ignored = ignored};
  int rc = apply_patch(&ar, live, patch, ret, err);
  fieldpath_set_free(ignored);
  return rc;
}

static const char *q(const struct resource_request *req, const char *name) {
  return req->query ? req->query(req->ud, name) : NULL;
}

/* The fieldManager parameter, or, as kube-apiserver does without one, the User-Agent up
 * to its first '/' ("kubectl", "curl"). Caller frees. */
static char *field_manager(const struct resource_request *req) {
  const char *m = q(req, "fieldManager");
  if (m && *m)
    return xstrdup(m);
  const char *ua = req->user_agent;
  if (!ua || !*ua)
    return xstrdup("unknown");
  size_t n = strcspn(ua, "/");
  return xstrndup(ua, n);
}

static bool dry_run(const struct resource_request *req) {
  const char *d = q(req, "dryRun");
  return d && *d;
}

static int check_dry_run(const struct resource_request *req, struct api_error *err) {
  const char *d = q(req, "dryRun");
  if (d && *d && !streq(d, "All"))
    return api_error_bad_request(err, "dryRun=%s is not supported: only dryRun=All is", d);
  return 0;
}

/* Reads and decodes the stored object; -ENOENT → NotFound. */
static int load(struct resource_context *ctx, const struct api_resource *r, const char *ns,
                const char *name, json_t **ret, int64_t *ret_rev, struct api_error *err) {
  _cleanup_free_ char *key = resource_key(r, ns, name);
  struct store_kv kv = {0};
  int rc = store_get(ctx->store, key, &kv);
  if (rc == -ENOENT)
    return api_error_not_found(err, r->group, r->plural, name);
  if (rc < 0)
    return api_error_set(err, rc, 500, "InternalError", "storage error: %s", strerror(-rc));
  json_t *obj = resource_decode_stored(kv.value, kv.value_len, kv.mod_rev);
  int64_t rev = kv.mod_rev;
  store_kv_clear(&kv);
  if (!obj)
    return api_error_set(err, -EIO, 500, "InternalError", "stored object %s is corrupt", key);
  *ret = obj;
  if (ret_rev)
    *ret_rev = rev;
  return 0;
}

static int store_error(struct api_error *err, const struct api_resource *r, const char *name,
                       int rc) {
  switch (rc) {
  case -EEXIST:
    return api_error_already_exists(err, r->group, r->plural, name);
  case -ENOENT:
    return api_error_not_found(err, r->group, r->plural, name);
  case -ESTALE:
    return api_error_conflict(err, r->group, r->plural, name,
                              "the object has been modified; please apply your changes to the "
                              "latest version and try again");
  default:
    return api_error_set(err, rc, 500, "InternalError", "storage error: %s", strerror(-rc));
  }
}

static bool wants_table(const struct resource_request *req) {
  return req->accept && strstr(req->accept, "as=Table");
}

/* Metadata-only clients (the garbage collector's informers, `kubectl get` of many kinds)
 * ask for PartialObjectMetadata[List]. */
static bool wants_metadata(const struct resource_request *req) {
  return req->accept && strstr(req->accept, "as=PartialObjectMetadata");
}

static void respond_object(const struct resource_request *req, struct resource_response *resp, int code,
                           const struct api_resource *r, json_t *obj) {
  if (wants_table(req) && req->method && (streq(req->method, "GET") || streq(req->method, "HEAD"))) {
    _cleanup_json_ json_t *items = json_pack("[O]", obj);
    _cleanup_json_ json_t *t = table_build(r, items, q(req, "includeObject"), NULL, NULL);
    respond_json(resp, code, t);
    return;
  }
  if (wants_metadata(req)) {
    _cleanup_json_ json_t *pm = table_partial_metadata(obj);
    respond_json(resp, code, pm);
    return;
  }
  respond_json(resp, code, obj);
}

/* ---- metadata on create ---- */

/* A body of another kind: kube-apiserver decodes it as that kind and fails to convert it
 * to the endpoint's, naming both types as Go does ("v1.Secret", "core.ConfigMap": the
 * internal package is the group's first label, "core" for the core group). */
static int kind_mismatch(struct api_error *err, const struct api_resource *r, const char *kind,
                         const char *av) {
  const char *version = av && strchr(av, '/') ? strchr(av, '/') + 1 : av ? av : r->version;
  size_t glen = strcspn(r->group, ".");
  return api_error_bad_request(err,
                               "%s in version \"%s\" cannot be handled as a %s: converting (%s.%s) "
                               "to (%.*s.%s): unknown conversion",
                               kind, version, r->kind, version, kind, *r->group ? (int)glen : 4,
                               *r->group ? r->group : "core", r->kind);
}

static int check_type_meta(const struct api_resource *r, json_t *obj, struct api_error *err) {
  _cleanup_free_ char *want = object_api_version(r);
  const char *av = json_string_value(json_object_get(obj, "apiVersion"));
  const char *kind = json_string_value(json_object_get(obj, "kind"));
  if (kind && *kind && !streq(kind, r->kind))
    return kind_mismatch(err, r, kind, av);
  if (av && *av && !streq(av, want))
    return api_error_bad_request(
        err, "the API version in the data (%s) does not match the expected API version (%s)", av,
        want);
  json_object_set_new(obj, "apiVersion", json_string(want));
  json_object_set_new(obj, "kind", json_string(r->kind));
  return 0;
}

static int check_namespace(const struct api_resource *r, json_t *obj, const char *ns,
                           struct api_error *err) {
  json_t *md = json_object_ensure(obj, "metadata");
  const char *objns = json_string_value(json_object_get(md, "namespace"));
  if (!r->namespaced) {
    json_object_del(md, "namespace");
    return 0;
  }
  if (objns && *objns && ns && !streq(objns, ns))
    return api_error_bad_request(err, "the namespace of the provided object does not match the "
                                      "namespace sent on the request");
  if (ns)
    json_object_set_new(md, "namespace", json_string(ns));
  return 0;
}

/* Sets what the system owns in metadata of a new object. */
static void prepare_create_meta(const struct api_resource *r, json_t *obj) {
  json_t *md = json_object_ensure(obj, "metadata");
  const char *gen = json_string_value(json_object_get(md, "generateName"));
  const char *name = json_string_value(json_object_get(md, "name"));
  if ((!name || !*name) && gen && *gen) {
    _cleanup_free_ char *generated = object_generate_name(gen);
    json_object_set_new(md, "name", json_string(generated));
  }
  char uid[37], now[32];
  object_new_uid(uid);
  object_now(now);
  json_object_set_new(md, "uid", json_string(uid));
  json_object_set_new(md, "creationTimestamp", json_string(now));
  json_object_del(md, "resourceVersion");
  json_object_del(md, "deletionTimestamp");
  json_object_del(md, "deletionGracePeriodSeconds");
  json_object_del(md, "selfLink");
  if (object_has_generation(r))
    json_object_set_new(md, "generation", json_integer(1));
  else
    json_object_del(md, "generation");
  if (r->has_status)
    json_object_del(obj, "status");
  if (r->strategy && r->strategy->prepare_create)
    r->strategy->prepare_create(obj);
}

/* Deprecation warnings for what this write sets; on updates only those the old object
 * did not already earn, as kube-apiserver does. */
static void add_warnings(struct resource_response *resp, const struct api_resource *r,
                         const json_t *obj, const json_t *old) {
  char **now = NULL, **before = NULL;
  size_t n_now = 0, n_before = 0;
  warnings_for(r, obj, &now, &n_now);
  if (old)
    warnings_for(r, old, &before, &n_before);
  for (size_t i = 0; i < n_now; i++) {
    bool seen = false;
    for (size_t j = 0; j < n_before && !seen; j++)
      seen = streq(now[i], before[j]);
    if (seen) {
      free(now[i]);
      continue;
    }
    resp->warnings = xrealloc(resp->warnings, (resp->n_warnings + 1) * sizeof(char *));
    resp->warnings[resp->n_warnings++] = now[i];
  }
  for (size_t j = 0; j < n_before; j++)
    free(before[j]);
  free(now);
  free(before);
}

/* ---- create ---- */

static int do_create(struct resource_context *ctx, const struct resource_request *req,
                     const struct api_resource *r, json_t *obj, const char *manager,
                     struct resource_response *resp, struct api_error *err) {
  int rc;
  if ((rc = check_type_meta(r, obj, err)) < 0 || (rc = check_namespace(r, obj, req->info.namespace_, err)) < 0)
    return rc;
  /* Admission errors name the object as the client did: kube-apiserver admits before it
   * generates a name, so a generateName-only object is called by its prefix. */
  const char *asked = json_path_str(obj, "metadata.name");
  _cleanup_free_ char *admit_name =
      xstrdup(asked && *asked ? asked : json_path_str(obj, "metadata.generateName") ?: "");
  prepare_create_meta(r, obj);
  const char *name;
  if ((rc = record_managed_fields(r, manager, NULL, NULL, obj, err)) < 0)
    return rc;
  struct admission_attrs a = {
      .op = ADMIT_CREATE, .res = r, .namespace_ = req->info.namespace_, .name = admit_name,
      .obj = obj, .dry_run = dry_run(req), .store = ctx->store, .ctx = ctx};
  if ((rc = admission_run(&a, err)) < 0)
    return rc;
  name = json_path_str(obj, "metadata.name");
  if (a.dry_run) {
    /* a dry run fails as the real create would on a taken name */
    _cleanup_free_ char *key = resource_key(r, req->info.namespace_, name);
    struct store_kv kv = {0};
    if (store_get(ctx->store, key, &kv) == 0) {
      store_kv_clear(&kv);
      admission_finish(&a, -EEXIST);
      return api_error_already_exists(err, r->group, r->plural, name);
    }
    admission_finish(&a, 0);
    return 0;
  }
  _cleanup_free_ char *key = resource_key(r, req->info.namespace_, name);
  _cleanup_free_ char *bytes = encode_for_store(obj);
  int64_t rev;
  /* Events expire an hour after their last update, as kube-apiserver's --event-ttl. */
  int64_t ttl = streq(r->plural, "events") ? 3600 : 0;
  rc = store_create(ctx->store, key, bytes, strlen(bytes), ttl, &rev);
  admission_finish(&a, rc);
  if (rc < 0)
    return store_error(err, r, name, rc);
  stamp_rv(obj, rev);
  (void)resp;
  return 0;
}

int resource_create_object(struct resource_context *ctx, const struct api_resource *r, json_t *obj,
                       struct api_error *err) {
  struct resource_request req = {.method = "POST"};
  const char *ns = json_path_str(obj, "metadata.namespace");
  _cleanup_free_ char *ns_copy = ns ? xstrdup(ns) : NULL;
  req.info.namespace_ = ns_copy;
  struct resource_response resp = {0};
  int rc = do_create(ctx, &req, r, obj, NULL, &resp, err);
  resource_response_clear(&resp);
  return rc;
}

static void handle_create(struct resource_context *ctx, const struct resource_request *req,
                          struct resource_response *resp) {
  const struct api_resource *r = req->info.res;
  _cleanup_api_error_ struct api_error err = {0};
  _cleanup_json_ json_t *obj = NULL;
  if (check_dry_run(req, &err) < 0 ||
      body_decode(r, req->content_type, req->body, req->body_len, &obj, &err) < 0 ||
      admission_decode(r, obj, q(req, "fieldValidation"), &resp->warnings, &resp->n_warnings,
                       &err) < 0) {
    respond_error(resp, &err);
    return;
  }
  _cleanup_free_ char *manager = field_manager(req);
  if (do_create(ctx, req, r, obj, manager, resp, &err) < 0) {
    respond_error(resp, &err);
    return;
  }
  add_warnings(resp, r, obj, NULL);
  respond_json(resp, 201, obj);
}

/* ---- get ---- */

static void handle_get(struct resource_context *ctx, const struct resource_request *req,
                       struct resource_response *resp) {
  const struct api_resource *r = req->info.res;
  _cleanup_api_error_ struct api_error err = {0};
  if (!wants_table(req) && !wants_metadata(req)) {
    /* plain JSON: the stored bytes with the revision spliced in */
    _cleanup_free_ char *key = resource_key(r, req->info.namespace_, req->info.name);
    struct store_kv kv = {0};
    int rc = store_get(ctx->store, key, &kv);
    if (rc == 0) {
      resp->body = resource_encode_stored(kv.value, kv.value_len, kv.mod_rev, &resp->len);
      store_kv_clear(&kv);
      if (resp->body) {
        resp->code = 200;
        resp->content_type = "application/json";
        return;
      }
    }
    store_error(&err, r, req->info.name, rc ? rc : -EIO);
    respond_error(resp, &err);
    return;
  }
  _cleanup_json_ json_t *obj = NULL;
  if (load(ctx, r, req->info.namespace_, req->info.name, &obj, NULL, &err) < 0) {
    respond_error(resp, &err);
    return;
  }
  respond_object(req, resp, 200, r, obj);
}

/* ---- list ---- */

/* Continue tokens carry the list's revision and the last key sent, so every page reads
 * the same snapshot, as etcd-backed kube-apiserver does. */
static char *make_continue(int64_t rev, const char *last_key, int64_t sent) {
  _cleanup_json_ json_t *t = json_pack("{s:s,s:I,s:s,s:I}", "v", "meta.k8s.io/v1", "rv",
                                       (json_int_t)rev, "start", last_key, "n", (json_int_t)sent);
  _cleanup_free_ char *s = json_encode(t);
  return base64_encode(s, strlen(s));
}

static int parse_continue(const char *token, int64_t *ret_rev, char **ret_key, int64_t *ret_sent,
                          struct api_error *err) {
  _cleanup_free_ char *raw = NULL;
  long n = base64_decode(token, strlen(token), &raw);
  _cleanup_json_ json_t *t = NULL;
  if (n < 0 || json_decode(raw, (size_t)n, &t, NULL) < 0 ||
      !json_is_integer(json_object_get(t, "rv")) ||
      !json_is_string(json_object_get(t, "start")))
    return api_error_bad_request(err, "continue key is not valid: %s", "invalid token");
  *ret_rev = json_integer_value(json_object_get(t, "rv"));
  *ret_key = xstrdup(json_string_value(json_object_get(t, "start")));
  *ret_sent = json_integer_value(json_object_get(t, "n"));
  return 0;
}

static int parse_int_param(const char *s, int64_t *ret) {
  if (!s || !*s)
    return -ENOENT;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || v < 0)
    return -EINVAL;
  *ret = v;
  return 0;
}

static void handle_list(struct resource_context *ctx, const struct resource_request *req,
                        struct resource_response *resp) {
  const struct api_resource *r = req->info.res;
  _cleanup_api_error_ struct api_error err = {0};
  _cleanup_filter_ struct filter *f = NULL;
  if (filter_parse(r, q(req, "labelSelector"), q(req, "fieldSelector"), &f, &err) < 0) {
    respond_error(resp, &err);
    return;
  }
  int64_t limit = 0, rev = 0;
  const char *limit_s = q(req, "limit");
  if (limit_s && parse_int_param(limit_s, &limit) < 0) {
    api_error_bad_request(&err, "invalid limit: %s", limit_s);
    respond_error(resp, &err);
    return;
  }
  _cleanup_free_ char *start = NULL;
  int64_t sent_before = 0; /* items earlier pages of this list sent */
  const char *cont = q(req, "continue");
  if (cont && *cont) {
    if (parse_continue(cont, &rev, &start, &sent_before, &err) < 0) {
      respond_error(resp, &err);
      return;
    }
  } else {
    const char *rv = q(req, "resourceVersion");
    const char *match = q(req, "resourceVersionMatch");
    int64_t want = 0;
    if (rv && *rv && !streq(rv, "0")) {
      if (parse_int_param(rv, &want) < 0) {
        api_error_bad_request(&err, "invalid resourceVersion: %s", rv);
        respond_error(resp, &err);
        return;
      }
      /* An exact match reads that snapshot; otherwise "not older than" is served
       * with the latest state, as kube-apiserver does without its watch cache. */
      if (match && streq(match, "Exact"))
        rev = want;
    }
  }
  _cleanup_free_ char *prefix = resource_key(r, req->info.namespace_, "");
  if (!r->namespaced || !req->info.namespace_) {
    free(prefix);
    const char *group = r->storage_group ? r->storage_group : *r->group ? r->group : "core";
    prefix = xasprintf("/registry/%s/%s/", group, r->plural);
  }
  /* When a name is the whole field selector, only keys ending in that name can match;
   * in one namespace (or for cluster-scoped kinds) that is a single key. */
  const char *exact = filter_exact_name(f);
  _cleanup_free_ char *exact_suffix = exact ? xasprintf("/%s", exact) : NULL;
  if (exact && (!r->namespaced || req->info.namespace_)) {
    char *key = xasprintf("%s%s", prefix, exact);
    free(prefix);
    prefix = key;
  }
  /* Without selectors and for plain JSON, stored bytes are spliced into the response
   * as they are; otherwise objects are decoded to match and convert them. */
  bool raw = !wants_table(req) && !wants_metadata(req) && filter_is_empty(f);
  struct strbuf body = {0};
  _cleanup_json_ json_t *items = json_array();
  size_t n_items = 0;
  bool more = false;
  char *last_key = NULL;
  int64_t list_rev = rev;
  size_t chunk = limit > 0 ? (size_t)limit : 0;
  for (;;) {
    struct store_list l = {0};
    int rc = store_list(ctx->store, prefix, list_rev, start, chunk, &l);
    if (rc == -ERANGE) {
      strbuf_clear(&body);
      api_error_set(&err, rc, 410, "Expired",
                    "The provided continue parameter is too old to display a consistent list "
                    "result. You can start a new list without the continue parameter.");
      respond_error(resp, &err);
      return;
    }
    if (rc < 0) {
      strbuf_clear(&body);
      store_error(&err, r, "", rc);
      respond_error(resp, &err);
      return;
    }
    list_rev = l.rev;
    for (size_t i = 0; i < l.n_items; i++) {
      const struct store_kv *kv = &l.items[i];
      free(start);
      start = xstrdup(kv->key);
      size_t kl = strlen(kv->key);
      if (exact_suffix && (kl < strlen(exact_suffix) ||
                           !streq(kv->key + kl - strlen(exact_suffix), exact_suffix)))
        continue;
      if (raw) {
        size_t n;
        _cleanup_free_ char *bytes = resource_encode_stored(kv->value, kv->value_len, kv->mod_rev, &n);
        if (!bytes)
          continue;
        if (n_items)
          strbuf_append(&body, ",", 1);
        strbuf_append(&body, bytes, n);
      } else {
        json_t *obj = resource_decode_stored(kv->value, kv->value_len, kv->mod_rev);
        if (!obj)
          continue;
        if (!filter_match(f, obj)) {
          json_decref(obj);
          continue;
        }
        json_array_append_new(items, obj);
      }
      n_items++;
      if (limit > 0 && (int64_t)n_items >= limit) {
        /* More remain if this page had more or the store said so. */
        more = i + 1 < l.n_items || l.more;
        last_key = xstrdup(kv->key);
        break;
      }
    }
    bool store_more = l.more;
    store_list_clear(&l);
    if (last_key || !store_more || limit <= 0)
      break;
  }
  _cleanup_free_ char *lk = last_key;
  int64_t sent = sent_before + (int64_t)n_items;
  _cleanup_free_ char *cont_token = more && lk ? make_continue(list_rev, lk, sent) : NULL;
  /* Without selectors the items left are known (up to concurrent changes, which kube's
   * count has as well); with selectors kube leaves the count out. */
  int64_t remaining = -1, total = 0;
  if (cont_token && filter_is_empty(f) && !exact && store_count(ctx->store, prefix, &total) == 0 &&
      total > sent)
    remaining = total - sent;
  if (raw) {
    _cleanup_free_ char *av = object_api_version(r);
    struct strbuf out = {0};
    strbuf_appendf(&out,
                   "{\"kind\":\"%sList\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":"
                   "\"%lld\"",
                   r->kind, av, (long long)list_rev);
    if (cont_token)
      strbuf_appendf(&out, ",\"continue\":\"%s\"", cont_token);
    if (remaining >= 0)
      strbuf_appendf(&out, ",\"remainingItemCount\":%lld", (long long)remaining);
    strbuf_appends(&out, "},\"items\":[");
    if (body.s)
      strbuf_append(&out, body.s, body.len);
    strbuf_appends(&out, "]}");
    strbuf_clear(&body);
    resp->code = 200;
    resp->body = strbuf_take(&out, &resp->len);
    resp->content_type = "application/json";
    return;
  }
  json_t *meta = json_object();
  char rvbuf[24];
  snprintf(rvbuf, sizeof(rvbuf), "%lld", (long long)list_rev);
  json_object_set_new(meta, "resourceVersion", json_string(rvbuf));
  if (cont_token)
    json_object_set_new(meta, "continue", json_string(cont_token));
  if (remaining >= 0)
    json_object_set_new(meta, "remainingItemCount", json_integer(remaining));
  if (wants_table(req)) {
    _cleanup_json_ json_t *t = table_build(r, items, q(req, "includeObject"), meta, NULL);
    json_decref(meta);
    respond_json(resp, 200, t);
    return;
  }
  if (wants_metadata(req)) {
    json_t *partial = json_array();
    size_t i;
    json_t *obj;
    json_array_foreach(items, i, obj) json_array_append_new(partial, table_partial_metadata(obj));
    _cleanup_json_ json_t *list = json_pack("{s:s,s:s,s:o,s:o}", "kind", "PartialObjectMetadataList",
                                            "apiVersion", "meta.k8s.io/v1", "metadata", meta,
                                            "items", partial);
    respond_json(resp, 200, list);
    return;
  }
  _cleanup_free_ char *av = object_api_version(r);
  _cleanup_free_ char *kind = xasprintf("%sList", r->kind);
  _cleanup_json_ json_t *list = json_pack("{s:s,s:s,s:o,s:O}", "kind", kind, "apiVersion", av,
                                          "metadata", meta, "items", items);
  respond_json(resp, 200, list);
}

/* ---- update ---- */

/* Metadata the system owns: a client's update cannot change it. */
static void keep_system_meta(json_t *obj, const json_t *old) {
  static const char *const owned[] = {"uid", "creationTimestamp", "deletionTimestamp",
                                      "deletionGracePeriodSeconds", "generation"};
  json_t *md = json_object_ensure(obj, "metadata");
  json_t *omd = json_object_get(old, "metadata");
  for (size_t i = 0; i < ARRAY_SIZE(owned); i++) {
    json_t *v = json_object_get(omd, owned[i]);
    if (v)
      json_object_set(md, owned[i], v);
    else
      json_object_del(md, owned[i]);
  }
  json_object_del(md, "selfLink");
}

/* Equal but for resourceVersion and managedFields: such a write is skipped and the old
 * object returned unchanged, so no-op updates never bump the revision. */
static bool same_object(const json_t *a, const json_t *b) {
  _cleanup_json_ json_t *x = json_deep_copy(a);
  _cleanup_json_ json_t *y = json_deep_copy(b);
  json_t *mx = json_object_get(x, "metadata"), *my = json_object_get(y, "metadata");
  json_object_del(mx, "resourceVersion");
  json_object_del(my, "resourceVersion");
  json_object_del(mx, "managedFields");
  json_object_del(my, "managedFields");
  return json_equal(x, y);
}

static int finish_delete(struct resource_context *ctx, const struct api_resource *r, const char *ns,
                         const char *name, int64_t rev, const json_t *gone,
                         struct api_error *err);
static bool has_finalizer(const json_t *obj, const char *f);

/* Turns a client's new object (full object for the main resource and /status) into the
 * stored one and writes it if anything changed. *obj is replaced by the result. */
static int do_update(struct resource_context *ctx, const struct resource_request *req,
                     const struct api_resource *r, json_t **objp, const json_t *old,
                     int64_t old_rev, const char *manager, struct api_error *err) {
  json_t *obj = *objp;
  const char *sub = req->info.subresource;
  int rc;
  if (!json_is_object(obj))
    return api_error_bad_request(err, "the body of the request was not a JSON object");
  if ((rc = check_type_meta(r, obj, err)) < 0 ||
      (rc = check_namespace(r, obj, req->info.namespace_, err)) < 0)
    return rc;
  json_t *md = json_object_ensure(obj, "metadata");
  const char *name = json_string_value(json_object_get(md, "name"));
  /* The body must name the object the URL names; /status and /scale bodies too. */
  if (!name || !streq(name, req->info.name))
    return api_error_bad_request(
        err, "the name of the object (%s) does not match the name on the URL (%s)",
        name ? name : "", req->info.name);
  const char *rv = json_string_value(json_object_get(md, "resourceVersion"));
  if (rv && *rv) {
    char buf[24];
    snprintf(buf, sizeof(buf), "%lld", (long long)old_rev);
    if (!streq(rv, buf))
      return store_error(err, r, req->info.name, -ESTALE);
  }
  const char *uid = json_string_value(json_object_get(md, "uid"));
  const char *old_uid = json_path_str((json_t *)old, "metadata.uid");
  if (uid && *uid && old_uid && !streq(uid, old_uid))
    return api_error_conflict(err, r->group, r->plural, req->info.name,
                              "Precondition failed: UID in precondition differs from the object's");

  if (sub && streq(sub, "status")) {
    /* Through /status only status changes (and metadata the status writer may set). */
    json_t *status = json_object_get(obj, "status");
    json_t *next = json_deep_copy(old);
    if (status)
      json_object_set(next, "status", status);
    else
      json_object_del(next, "status");
    json_t *nmd = json_object_get(next, "metadata");
    json_t *mf = json_object_get(md, "managedFields");
    if (mf)
      json_object_set(nmd, "managedFields", mf);
    json_decref(obj);
    *objp = obj = next;
  } else {
    keep_system_meta(obj, old);
    if (r->has_status) {
      json_t *status = json_object_get(old, "status");
      if (status)
        json_object_set(obj, "status", status);
      else
        json_object_del(obj, "status");
    }
    if (r->strategy && r->strategy->prepare_update)
      r->strategy->prepare_update(obj, old);
    if (object_has_generation(r)) {
      bool changed = r->strategy && r->strategy->spec_changed
                         ? r->strategy->spec_changed(obj, old)
                         : object_spec_changed(obj, old);
      json_int_t g = json_integer_value(json_path((json_t *)old, "metadata.generation"));
      json_object_set_new(json_object_get(obj, "metadata"), "generation",
                          json_integer(changed ? g + 1 : g ? g : 1));
    }
  }
  if (json_path((json_t *)old, "metadata.deletionTimestamp")) {
    /* kube's ValidateObjectMetaUpdate: an object on its way out takes no new finalizers */
    json_t *added = json_array();
    size_t i;
    json_t *f;
    json_array_foreach(json_path(obj, "metadata.finalizers"), i, f) if (
        !has_finalizer(old, json_string_value(f))) json_array_append(added, f);
    if (json_array_size(added)) {
      struct strbuf list = {0};
      json_array_foreach(added, i, f) strbuf_appendf(&list, "%s\"%s\"", i ? ", " : "",
                                                     json_string_value(f) ? json_string_value(f) : "");
      _cleanup_field_errors_ struct field_errors errs = {0};
      field_errors_add(&errs, CAUSE_FORBIDDEN, "metadata.finalizers",
                       "Forbidden: no new finalizers can be added if the object is being deleted, "
                       "found new finalizers []string{%s}",
                       list.s);
      strbuf_clear(&list);
      json_decref(added);
      return api_error_invalid(err, r->group, r->kind, req->info.name, &errs);
    }
    json_decref(added);
  }
  if (same_object(obj, old)) {
    json_decref(obj);
    *objp = json_deep_copy(old);
    return 0;
  }
  if ((rc = record_managed_fields(r, manager, sub, old, obj, err)) < 0)
    return rc;
  struct admission_attrs a = {.op = ADMIT_UPDATE, .res = r, .namespace_ = req->info.namespace_,
                              .name = req->info.name, .subresource = sub, .obj = obj,
                              .old = old, .dry_run = dry_run(req), .store = ctx->store, .ctx = ctx};
  if ((rc = admission_run(&a, err)) < 0)
    return rc;
  if (a.dry_run) {
    admission_finish(&a, 0);
    return 0;
  }
  /* The last finalizer removed from an object being deleted: it goes now. A namespace
   * also waits for spec.finalizers, which only its /finalize subresource empties. */
  json_t *fin = json_path(obj, "metadata.finalizers");
  if (json_path(obj, "metadata.deletionTimestamp") && json_array_size(fin) == 0 &&
      json_array_size(json_path(obj, "spec.finalizers")) == 0 &&
      json_integer_value(json_path(obj, "metadata.deletionGracePeriodSeconds")) == 0) {
    admission_finish(&a, -ECANCELED);
    return finish_delete(ctx, r, req->info.namespace_, req->info.name, old_rev, old, err);
  }
  _cleanup_free_ char *key = resource_key(r, req->info.namespace_, req->info.name);
  _cleanup_free_ char *bytes = encode_for_store(obj);
  int64_t rev;
  int64_t ttl = streq(r->plural, "events") ? 3600 : 0;
  rc = store_update(ctx->store, key, bytes, strlen(bytes), old_rev, ttl, &rev);
  admission_finish(&a, rc);
  if (rc < 0)
    return store_error(err, r, req->info.name, rc);
  stamp_rv(obj, rev);
  return 0;
}

/* ---- scale ---- */

static char *selector_string(const json_t *sel) {
  /* matchLabels then matchExpressions, in the form labels.Selector.String() prints. */
  size_t cap = 64, len = 0;
  char *s = xmalloc(cap);
  s[0] = 0;
#define APPEND(...)                                                                    \
  do {                                                                                 \
    char *_p = xasprintf(__VA_ARGS__);                                                 \
    size_t _n = strlen(_p);                                                            \
    if (len + _n + 2 > cap)                                                            \
      s = xrealloc(s, cap = (len + _n + 2) * 2);                                       \
    if (len)                                                                           \
      s[len++] = ',';                                                                  \
    memcpy(s + len, _p, _n + 1);                                                       \
    len += _n;                                                                         \
    free(_p);                                                                          \
  } while (0)
  const char *k;
  json_t *v;
  json_object_foreach(json_object_get(sel, "matchLabels"), k, v)
      APPEND("%s=%s", k, json_string_value(v) ? json_string_value(v) : "");
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(sel, "matchExpressions"), i, e) {
    const char *key = json_string_value(json_object_get(e, "key"));
    const char *op = json_string_value(json_object_get(e, "operator"));
    if (!key || !op)
      continue;
    if (streq(op, "Exists"))
      APPEND("%s", key);
    else if (streq(op, "DoesNotExist"))
      APPEND("!%s", key);
    else {
      _cleanup_free_ char *vals = NULL;
      size_t j;
      json_t *x;
      json_array_foreach(json_object_get(e, "values"), j, x) {
        char *n = xasprintf("%s%s%s", vals ? vals : "", vals ? "," : "",
                            json_string_value(x) ? json_string_value(x) : "");
        free(vals);
        vals = n;
      }
      APPEND("%s %s (%s)", key, streq(op, "In") ? "in" : "notin", vals ? vals : "");
    }
  }
#undef APPEND
  return s;
}

static json_t *scale_of(const json_t *obj) {
  json_t *md = json_object_get(obj, "metadata");
  json_t *sel = json_path((json_t *)obj, "spec.selector");
  _cleanup_free_ char *sels = NULL;
  if (json_object_get(sel, "matchLabels") || json_object_get(sel, "matchExpressions")) {
    sels = selector_string(sel);
  } else if (json_is_object(sel)) {
    /* ReplicationController: a plain label map */
    _cleanup_json_ json_t *wrap = json_pack("{s:O}", "matchLabels", sel);
    sels = selector_string(wrap);
  }
  json_t *scale = json_pack("{s:s,s:s,s:{s:O*,s:O*,s:O*,s:O*,s:O*},s:{s:I},s:{s:I}}",
                            "kind", "Scale", "apiVersion", "autoscaling/v1", "metadata", "name",
                            json_object_get(md, "name"), "namespace",
                            json_object_get(md, "namespace"), "uid", json_object_get(md, "uid"),
                            "resourceVersion", json_object_get(md, "resourceVersion"),
                            "creationTimestamp", json_object_get(md, "creationTimestamp"),
                            "spec", "replicas",
                            json_integer_value(json_path((json_t *)obj, "spec.replicas")),
                            "status", "replicas",
                            json_integer_value(json_path((json_t *)obj, "status.replicas")));
  if (sels)
    json_object_set_new(json_object_get(scale, "status"), "selector", json_string(sels));
  return scale;
}

/* ---- patch ---- */

enum patch_kind { PATCH_JSON, PATCH_MERGE, PATCH_STRATEGIC, PATCH_APPLY };

static int patch_kind_of(const char *ct, enum patch_kind *ret, struct api_error *err) {
  if (!ct)
    ct = "";
  if (startswith(ct, "application/json-patch+json"))
    *ret = PATCH_JSON;
  else if (startswith(ct, "application/merge-patch+json"))
    *ret = PATCH_MERGE;
  else if (startswith(ct, "application/strategic-merge-patch+json"))
    *ret = PATCH_STRATEGIC;
  else if (startswith(ct, "application/apply-patch+yaml") ||
           startswith(ct, "application/apply-patch+cbor"))
    *ret = PATCH_APPLY;
  else
    return api_error_set(err, -EINVAL, 415, "UnsupportedMediaType",
                         "the body of the request was in an unknown format - accepted media types "
                         "include: application/json-patch+json, application/merge-patch+json, "
                         "application/apply-patch+yaml, application/strategic-merge-patch+json");
  return 0;
}

static int apply_patch_doc(const struct api_resource *r, enum patch_kind kind,
                           const json_t *doc, const json_t *patch, json_t **ret,
                           struct api_error *err) {
  switch (kind) {
  case PATCH_JSON:
    return patch_json(doc, patch, ret, err);
  case PATCH_MERGE:
    return patch_merge(doc, patch, ret, err);
  case PATCH_STRATEGIC:
    if (!r->schema)
      return patch_merge(doc, patch, ret, err);
    return patch_strategic(r->schema, doc, patch, ret, err);
  default:
    return api_error_bad_request(err, "unsupported patch type");
  }
}

static void handle_patch(struct resource_context *ctx, const struct resource_request *req,
                         struct resource_response *resp) {
  const struct api_resource *r = req->info.res;
  const char *sub = req->info.subresource;
  _cleanup_api_error_ struct api_error err = {0};
  enum patch_kind kind = PATCH_MERGE;
  _cleanup_json_ json_t *patch = NULL;
  if (check_dry_run(req, &err) < 0 || patch_kind_of(req->content_type, &kind, &err) < 0 ||
      body_decode_patch(req->body, req->body_len, kind == PATCH_APPLY, &patch, &err) < 0) {
    respond_error(resp, &err);
    return;
  }
  const char *manager = q(req, "fieldManager");
  _cleanup_free_ char *default_manager = field_manager(req);
  if (kind == PATCH_APPLY && (!manager || !*manager)) {
    api_error_bad_request(&err, "PATCH, application/apply-patch+yaml requires fieldManager "
                                "parameter to be set");
    respond_error(resp, &err);
    return;
  }
  if (kind == PATCH_APPLY &&
      admission_decode(r, patch, q(req, "fieldValidation"), &resp->warnings,
                       &resp->n_warnings, &err) < 0) {
    respond_error(resp, &err);
    return;
  }
  for (int attempt = 0;; attempt++) {
    api_error_clear(&err);
    _cleanup_json_ json_t *old = NULL;
    int64_t old_rev = 0;
    int rc = load(ctx, r, req->info.namespace_, req->info.name, &old, &old_rev, &err);
    if (rc == -ENOENT && kind == PATCH_APPLY && !sub) {
      _cleanup_json_ json_t *created = NULL;
      if (run_apply(r, req, NULL, patch, &created, &err) < 0 ||
          do_create(ctx, req, r, created, NULL, resp, &err) < 0) {
        respond_error(resp, &err);
        return;
      }
      add_warnings(resp, r, created, NULL);
      respond_json(resp, 201, created);
      return;
    }
    if (rc < 0) {
      respond_error(resp, &err);
      return;
    }
    json_t *target = old;
    _cleanup_json_ json_t *scale = NULL;
    if (sub && streq(sub, "scale"))
      target = scale = scale_of(old);
    _cleanup_json_ json_t *patched = NULL;
    if (kind == PATCH_APPLY) {
      rc = run_apply(r, req, target, patch, &patched, &err);
    } else {
      rc = apply_patch_doc(r, kind, target, patch, &patched, &err);
    }
    if (rc < 0) {
      respond_error(resp, &err);
      return;
    }
    /* A patched Scale is checked below through spec.replicas, not as the parent kind. */
    if (kind != PATCH_APPLY && kind != PATCH_JSON && !scale &&
        admission_decode(r, patched, q(req, "fieldValidation"), &resp->warnings,
                         &resp->n_warnings, &err) < 0) {
      respond_error(resp, &err);
      return;
    }
    /* A resourceVersion the patch sets is a precondition: a patch re-applied to a newer
     * object then asks for an old version and fails, while an unpinned patch is simply
     * retried on the fresh object after a concurrent write, as kube-apiserver does. */
    if (patch_requested_resource_version(target, patched)) {
      store_error(&err, r, req->info.name, -ESTALE);
      respond_error(resp, &err);
      return;
    }
    if (scale) {
      json_t *replicas = json_path(patched, "spec.replicas");
      json_t *next = json_deep_copy(old);
      json_object_set(json_object_ensure(next, "spec"), "replicas",
                      replicas ? replicas : json_integer(0));
      json_decref(patched);
      patched = next;
    }
    rc = do_update(ctx, req, r, &patched, old, old_rev,
                   kind == PATCH_APPLY ? NULL : default_manager, &err);
    if (rc == -ESTALE && attempt < MAX_PATCH_RETRIES)
      continue;
    if (rc < 0) {
      respond_error(resp, &err);
      return;
    }
    if (scale) {
      _cleanup_json_ json_t *s = scale_of(patched);
      respond_json(resp, 200, s);
    } else {
      add_warnings(resp, r, patched, old);
      respond_json(resp, 200, patched);
    }
    return;
  }
}

static void handle_update(struct resource_context *ctx, const struct resource_request *req,
                          struct resource_response *resp) {
  const struct api_resource *r = req->info.res;
  const char *sub = req->info.subresource;
  _cleanup_api_error_ struct api_error err = {0};
  _cleanup_json_ json_t *obj = NULL;
  _cleanup_json_ json_t *old = NULL;
  int64_t old_rev = 0;
  bool is_scale = sub && streq(sub, "scale");
  if (check_dry_run(req, &err) < 0 ||
      (is_scale ? body_decode_patch(req->body, req->body_len, false, &obj, &err)
                : body_decode(r, req->content_type, req->body, req->body_len, &obj, &err)) < 0 ||
      (!is_scale && admission_decode(r, obj, q(req, "fieldValidation"), &resp->warnings,
                                     &resp->n_warnings, &err) < 0) ||
      load(ctx, r, req->info.namespace_, req->info.name, &old, &old_rev, &err) < 0) {
    respond_error(resp, &err);
    return;
  }
  if (is_scale) {
    const char *rv = json_path_str(obj, "metadata.resourceVersion");
    json_t *next = json_deep_copy(old);
    json_t *replicas = json_path(obj, "spec.replicas");
    json_object_set(json_object_ensure(next, "spec"), "replicas",
                    replicas ? replicas : json_integer(0));
    if (rv)
      json_object_set_new(json_object_get(next, "metadata"), "resourceVersion", json_string(rv));
    json_decref(obj);
    obj = next;
  }
  _cleanup_free_ char *manager = field_manager(req);
  if (do_update(ctx, req, r, &obj, old, old_rev, manager, &err) < 0) {
    respond_error(resp, &err);
    return;
  }
  if (is_scale) {
    _cleanup_json_ json_t *s = scale_of(obj);
    respond_json(resp, 200, s);
    return;
  }
  add_warnings(resp, r, obj, old);
  respond_json(resp, 200, obj);
}

/* ---- delete ---- */

struct delete_options {
  int64_t grace; /* -1 = not given */
  const char *propagation;
  const char *uid;
  const char *rv;
  bool dry_run;
};

/* Reads DeleteOptions from a JSON body (may be NULL), query parameters overriding. */
static int delete_options_from(const json_t *body, const struct resource_request *req,
                               struct delete_options *o, struct api_error *err) {
  *o = (struct delete_options){.grace = -1};
  json_t *g = json_object_get(body, "gracePeriodSeconds");
  if (json_is_integer(g))
    o->grace = json_integer_value(g);
  const char *gq = req ? q(req, "gracePeriodSeconds") : NULL;
  if (gq && *gq)
    o->grace = strtoll(gq, NULL, 10);
  o->propagation = json_string_value(json_object_get(body, "propagationPolicy"));
  if (!o->propagation && req)
    o->propagation = q(req, "propagationPolicy");
  if (json_is_true(json_object_get(body, "orphanDependents")))
    o->propagation = "Orphan";
  if (o->propagation && !streq(o->propagation, "Background") &&
      !streq(o->propagation, "Foreground") && !streq(o->propagation, "Orphan"))
    return api_error_bad_request(err, "propagationPolicy: Unsupported value: \"%s\": supported "
                                      "values: \"Foreground\", \"Background\", \"Orphan\"",
                                 o->propagation);
  o->uid = json_path_str((json_t *)body, "preconditions.uid");
  o->rv = json_path_str((json_t *)body, "preconditions.resourceVersion");
  json_t *dr = json_object_get(body, "dryRun");
  o->dry_run = json_array_size(dr) > 0 || (req && dry_run(req));
  return 0;
}

static int parse_delete_options(const struct resource_request *req, json_t **ret_body,
                                struct delete_options *o, struct api_error *err) {
  json_t *body = NULL;
  if (req->body_len > 0) {
    if (json_decode(req->body, req->body_len, &body, NULL) < 0 || !json_is_object(body)) {
      json_decref(body);
      *o = (struct delete_options){.grace = -1};
      return api_error_bad_request(err, "the body of the request was not valid DeleteOptions");
    }
  }
  *ret_body = body;
  return delete_options_from(body, req, o, err);
}

/* Removes the object from the store; what admission reserved for it (service IPs,
 * node ports) is given back. */
static int finish_delete(struct resource_context *ctx, const struct api_resource *r, const char *ns,
                         const char *name, int64_t rev, const json_t *gone,
                         struct api_error *err) {
  _cleanup_free_ char *key = resource_key(r, ns, name);
  int rc = store_delete(ctx->store, key, rev, NULL, NULL);
  if (rc < 0)
    return store_error(err, r, name, rc);
  struct admission_attrs a = {.op = ADMIT_DELETE, .res = r, .namespace_ = ns, .name = name,
                              .old = gone, .store = ctx->store, .ctx = ctx};
  admission_finish(&a, 0);
  return 0;
}

static bool has_finalizer(const json_t *obj, const char *f) {
  size_t i;
  json_t *v;
  json_array_foreach(json_path((json_t *)obj, "metadata.finalizers"), i, v) if (
      streq_ptr(json_string_value(v), f)) return true;
  return false;
}

static const char *const protected_namespaces[] = {"default", "kube-system", "kube-public"};

/* Deletes one object: immediately, or by marking it (deletionTimestamp) when finalizers,
 * a foreground/orphan propagation or a pod's grace period keep it for a while. Sets
 * *ret_obj to the object to return when it is kept (NULL when it is gone). */
static int delete_one(struct resource_context *ctx, const struct api_resource *r,
                      const char *ns, const char *name,
                      const struct delete_options *o, json_t **ret_obj, json_t **ret_gone,
                      struct api_error *err) {
  for (int attempt = 0;; attempt++) {
    _cleanup_json_ json_t *old = NULL;
    int64_t rev;
    int rc = load(ctx, r, ns, name, &old, &rev, err);
    if (rc < 0)
      return rc;
    const char *uid = json_path_str(old, "metadata.uid");
    if (o->uid && !streq_ptr(o->uid, uid))
      return api_error_conflict(err, r->group, r->plural, name, "");
    if (o->rv) {
      char buf[24];
      snprintf(buf, sizeof(buf), "%lld", (long long)rev);
      if (!streq(o->rv, buf))
        return api_error_conflict(err, r->group, r->plural, name, "");
    }
    if (streq(r->plural, "namespaces"))
      for (size_t i = 0; i < ARRAY_SIZE(protected_namespaces); i++)
        if (streq(name, protected_namespaces[i]))
          return api_error_set(err, -EPERM, 403, "Forbidden",
                               "namespaces \"%s\" is forbidden: this namespace may not be deleted",
                               name);
    _cleanup_json_ json_t *next = json_deep_copy(old);
    json_t *md = json_object_get(next, "metadata");
    bool keep = false;
    int64_t grace = 0;
    if (o->propagation && streq(o->propagation, "Foreground") &&
        !has_finalizer(old, "foregroundDeletion")) {
      json_array_append_new(json_object_ensure_array(md, "finalizers"),
                            json_string("foregroundDeletion"));
    }
    if (o->propagation && streq(o->propagation, "Orphan") && !has_finalizer(old, "orphan"))
      json_array_append_new(json_object_ensure_array(md, "finalizers"), json_string("orphan"));
    if (json_array_size(json_object_get(md, "finalizers")) > 0)
      keep = true;
    /* A namespace's first delete only marks it Terminating; once the namespace controller
     * has emptied it and cleared spec.finalizers, a second delete removes it. */
    if (streq(r->plural, "namespaces") && json_path(old, "metadata.deletionTimestamp")) {
      if (json_array_size(json_path(old, "spec.finalizers")) > 0)
        return api_error_conflict(err, r->group, r->plural, name,
                                  "The system is ensuring all content is removed from this "
                                  "namespace.  Upon completion, this namespace will automatically "
                                  "be purged by the system.");
    } else if (streq(r->plural, "namespaces")) {
      keep = true;
      json_object_set_new(json_object_ensure(next, "status"), "phase", json_string("Terminating"));
    }
    if (streq(r->plural, "pods")) {
      /* A pod on a node is stopped by its node agent within the grace period; one that
       * never reached a node, or already finished, has nothing to stop. */
      const char *node = json_path_str(old, "spec.nodeName");
      const char *phase = json_path_str(old, "status.phase");
      grace = o->grace >= 0 ? o->grace
                            : json_integer_value(json_path(old, "spec.terminationGracePeriodSeconds"));
      if (o->grace < 0 && !json_path(old, "spec.terminationGracePeriodSeconds"))
        grace = 30;
      if (node && *node && grace > 0 && !streq_ptr(phase, "Succeeded") &&
          !streq_ptr(phase, "Failed"))
        keep = true;
      else
        grace = 0;
    }
    if (!keep) {
      if (o->dry_run) {
        *ret_gone = TAKE_PTR(old);
        return 0;
      }
      rc = finish_delete(ctx, r, ns, name, rev, old, err);
      if (rc == -ESTALE && attempt < MAX_PATCH_RETRIES) {
        api_error_clear(err);
        continue;
      }
      if (rc == 0)
        *ret_gone = TAKE_PTR(old);
      return rc;
    }
    if (!json_object_get(md, "deletionTimestamp")) {
      char now[32];
      object_now(now);
      json_object_set_new(md, "deletionTimestamp", json_string(now));
      json_object_set_new(md, "deletionGracePeriodSeconds", json_integer(grace));
    }
    if (same_object(next, old) || o->dry_run) {
      *ret_obj = TAKE_PTR(next);
      return 0;
    }
    _cleanup_free_ char *key = resource_key(r, ns, name);
    _cleanup_free_ char *bytes = encode_for_store(next);
    int64_t nrev;
    rc = store_update(ctx->store, key, bytes, strlen(bytes), rev, 0, &nrev);
    if (rc == -ESTALE && attempt < MAX_PATCH_RETRIES)
      continue;
    if (rc < 0)
      return store_error(err, r, name, rc);
    stamp_rv(next, nrev);
    *ret_obj = TAKE_PTR(next);
    return 0;
  }
}

static json_t *success_status(const struct api_resource *r, const json_t *gone) {
  return json_pack("{s:s,s:s,s:{},s:s,s:{s:s?,s:s?,s:s,s:s?}}", "kind", "Status", "apiVersion",
                   "v1", "metadata", "status", "Success", "details", "name",
                   json_path_str((json_t *)gone, "metadata.name"), "group",
                   *r->group ? r->group : NULL, "kind", r->plural, "uid",
                   json_path_str((json_t *)gone, "metadata.uid"));
}

static void handle_delete(struct resource_context *ctx, const struct resource_request *req,
                          struct resource_response *resp) {
  const struct api_resource *r = req->info.res;
  _cleanup_api_error_ struct api_error err = {0};
  _cleanup_json_ json_t *body = NULL;
  struct delete_options o;
  _cleanup_json_ json_t *kept = NULL, *gone = NULL;
  if (check_dry_run(req, &err) < 0 || parse_delete_options(req, &body, &o, &err) < 0 ||
      delete_one(ctx, r, req->info.namespace_, req->info.name, &o, &kept, &gone, &err) < 0) {
    respond_error(resp, &err);
    return;
  }
  if (kept) {
    respond_json(resp, 200, kept);
    return;
  }
  /* Pods and namespaces answer with the object, like kube-apiserver; the rest with a
   * Success status. */
  if (streq(r->plural, "pods")) {
    respond_json(resp, 200, gone);
    return;
  }
  _cleanup_json_ json_t *st = success_status(r, gone);
  respond_json(resp, 200, st);
}

static void handle_deletecollection(struct resource_context *ctx, const struct resource_request *req,
                                    struct resource_response *resp) {
  const struct api_resource *r = req->info.res;
  _cleanup_api_error_ struct api_error err = {0};
  _cleanup_json_ json_t *body = NULL;
  _cleanup_filter_ struct filter *f = NULL;
  struct delete_options o;
  if (check_dry_run(req, &err) < 0 || parse_delete_options(req, &body, &o, &err) < 0 ||
      filter_parse(r, q(req, "labelSelector"), q(req, "fieldSelector"), &f, &err) < 0) {
    respond_error(resp, &err);
    return;
  }
  const char *group = r->storage_group ? r->storage_group : *r->group ? r->group : "core";
  _cleanup_free_ char *prefix = req->info.namespace_ && r->namespaced
                                    ? resource_key(r, req->info.namespace_, "")
                                    : xasprintf("/registry/%s/%s/", group, r->plural);
  struct store_list l = {0};
  int rc = store_list(ctx->store, prefix, 0, NULL, 0, &l);
  if (rc < 0) {
    store_error(&err, r, "", rc);
    respond_error(resp, &err);
    return;
  }
  _cleanup_json_ json_t *items = json_array();
  for (size_t i = 0; i < l.n_items; i++) {
    _cleanup_json_ json_t *obj = resource_decode_stored(l.items[i].value, l.items[i].value_len,
                                                    l.items[i].mod_rev);
    if (!obj || !filter_match(f, obj))
      continue;
    json_t *kept = NULL, *gone = NULL;
    api_error_clear(&err);
    const char *ns = json_path_str(obj, "metadata.namespace");
    if (delete_one(ctx, r, r->namespaced ? ns : NULL, json_path_str(obj, "metadata.name"),
                   &o, &kept, &gone, &err) == 0)
      json_array_append_new(items, kept ? kept : gone);
  }
  char rvbuf[24];
  snprintf(rvbuf, sizeof(rvbuf), "%lld", (long long)l.rev);
  store_list_clear(&l);
  _cleanup_free_ char *av = object_api_version(r);
  _cleanup_free_ char *kind = xasprintf("%sList", r->kind);
  _cleanup_json_ json_t *list = json_pack("{s:s,s:s,s:{s:s},s:O}", "kind", kind, "apiVersion", av,
                                          "metadata", "resourceVersion", rvbuf, "items", items);
  respond_json(resp, 200, list);
}

int resource_delete(struct resource_context *ctx, const struct api_resource *r, const char *ns,
                    const char *name, const json_t *options, json_t **ret_obj, bool *ret_kept,
                    struct api_error *err) {
  struct delete_options o;
  int rc = delete_options_from(options, NULL, &o, err);
  if (rc < 0)
    return rc;
  json_t *kept = NULL, *gone = NULL;
  rc = delete_one(ctx, r, ns, name, &o, &kept, &gone, err);
  if (rc < 0)
    return rc;
  *ret_kept = kept != NULL;
  *ret_obj = kept ? kept : gone;
  return 0;
}

int resource_load(struct resource_context *ctx, const struct api_resource *r, const char *ns,
                  const char *name, json_t **ret, int64_t *ret_rev, struct api_error *err) {
  return load(ctx, r, ns, name, ret, ret_rev, err);
}

int resource_store_update(struct resource_context *ctx, const struct api_resource *r,
                          json_t *obj, int64_t rev, struct api_error *err) {
  const char *name = json_path_str(obj, "metadata.name");
  const char *ns = r->namespaced ? json_path_str(obj, "metadata.namespace") : NULL;
  _cleanup_free_ char *key = resource_key(r, ns, name);
  _cleanup_free_ char *bytes = encode_for_store(obj);
  int64_t nrev;
  int rc = store_update(ctx->store, key, bytes, strlen(bytes), rev, 0, &nrev);
  if (rc < 0)
    return store_error(err, r, name ? name : "", rc);
  stamp_rv(obj, nrev);
  return 0;
}

/* ---- dispatch ---- */

static bool has_subresource(const struct api_resource *r, const char *sub) {
  for (const struct api_subresource *s = r->subresources; s && s->name; s++)
    if (streq(s->name, sub))
      return true;
  return false;
}

static bool verb_allowed(const struct api_resource *r, const char *sub, unsigned verb) {
  if (!sub)
    return r->verbs & verb;
  for (const struct api_subresource *s = r->subresources; s && s->name; s++)
    if (streq(s->name, sub))
      return s->verbs & verb;
  return false;
}

static unsigned verb_bit(const char *verb) {
  static const char *const names[] = {"get",   "list",  "watch",  "create",
                                      "update", "patch", "delete", "deletecollection"};
  for (unsigned i = 0; i < ARRAY_SIZE(names); i++)
    if (streq(verb, names[i]))
      return 1u << i;
  return 0;
}

void resource_handle(struct resource_context *ctx, const struct resource_request *req,
                 struct resource_response *resp) {
  const struct api_resource *r = req->info.res;
  const char *sub = req->info.subresource;
  const char *verb = req->info.verb;
  _cleanup_api_error_ struct api_error err = {0};
  if (resource_action(ctx, req, resp))
    return;
  if (sub && ((!streq(sub, "status") && !streq(sub, "scale")) || !has_subresource(r, sub))) {
    api_error_set(&err, -ENOTSUP, 404, "NotFound", "the server could not find the requested resource");
    respond_error(resp, &err);
    return;
  }
  if (!verb_allowed(r, sub, verb_bit(verb))) {
    api_error_set(&err, -ENOTSUP, 405, "MethodNotAllowed",
                  "the server does not allow this method on the requested resource");
    respond_error(resp, &err);
    return;
  }
  if (r->namespaced && !req->info.namespace_ && !streq(verb, "list") && !streq(verb, "watch")) {
    api_error_set(&err, -EINVAL, 404, "NotFound", "the server could not find the requested resource");
    respond_error(resp, &err);
    return;
  }
  if (streq(verb, "get")) {
    if (sub && streq(sub, "scale")) {
      _cleanup_json_ json_t *obj = NULL;
      if (load(ctx, r, req->info.namespace_, req->info.name, &obj, NULL, &err) < 0) {
        respond_error(resp, &err);
        return;
      }
      _cleanup_json_ json_t *s = scale_of(obj);
      respond_json(resp, 200, s);
      return;
    }
    handle_get(ctx, req, resp);
  } else if (streq(verb, "list"))
    handle_list(ctx, req, resp);
  else if (streq(verb, "create"))
    handle_create(ctx, req, resp);
  else if (streq(verb, "update"))
    handle_update(ctx, req, resp);
  else if (streq(verb, "patch"))
    handle_patch(ctx, req, resp);
  else if (streq(verb, "delete"))
    handle_delete(ctx, req, resp);
  else if (streq(verb, "deletecollection"))
    handle_deletecollection(ctx, req, resp);
  else {
    api_error_set(&err, -ENOTSUP, 405, "MethodNotAllowed",
                  "the server does not allow this method on the requested resource");
    respond_error(resp, &err);
  }
}
