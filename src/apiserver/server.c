/* The API server's front door: routing of every path kube-apiserver serves, the
 * authentication step of the pipeline, and start-up (store, certificates, built-in
 * objects, kubeconfig). */
#include "apiserver/apiserver.h"

#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/openapi.h"
#include "api/registry.h"
#include "apiserver/authn.h"
#include "apiserver/discovery.h"
#include "apiserver/httpd.h"
#include "apiserver/resource.h"
#include "apiserver/watch.h"
#include "client/kubeconfig.h"
#include "lib/json.h"
#include "lib/pki.h"

/* kube-apiserver refuses request bodies over 3 MiB. */
#define MAX_BODY (3 * 1024 * 1024)

/* kube-apiserver compacts etcd every 5 minutes, up to the revision it saw at the
 * previous pass, so history is kept for 5 to 10 minutes. */
#define COMPACT_INTERVAL_SECONDS 300

struct apiserver {
  pthread_t compactor;
  bool compactor_started;
  pthread_mutex_t mu;
  pthread_cond_t cond;
  bool stopping;
  struct store *store;
  struct watch_cache *cache;
  struct httpd *httpd;
  struct authn_tokens *tokens;
  struct resource_context rest;
  char *ca_pem;
};

static void send_json(struct httpd_req *req, unsigned code, const char *ctype, const json_t *v) {
  char *s = json_encode(v);
  httpd_respond_take(req, code, ctype ? ctype : "application/json", s, strlen(s));
}

static void send_status(struct httpd_req *req, int code, const char *reason, const char *msg) {
  struct api_error e = {0};
  api_error_set(&e, -EINVAL, code, reason, "%s", msg);
  _cleanup_json_ json_t *st = api_error_to_status(&e);
  api_error_clear(&e);
  send_json(req, (unsigned)code, NULL, st);
}

static void send_not_found(struct httpd_req *req) {
  send_status(req, 404, "NotFound", "the server could not find the requested resource");
}

static const char *query_of(void *ud, const char *name) {
  return httpd_req_query_value(ud, name);
}

/* A Warning header carries its text as a quoted string with Go's escaping of quotes. */
static void add_warning(struct httpd_req *req, const char *text) {
  size_t n = strlen(text);
  _cleanup_free_ char *q = xmalloc(2 * n + 16);
  size_t o = 0;
  o += (size_t)sprintf(q, "299 - \"");
  for (size_t i = 0; i < n; i++) {
    if (text[i] == '"' || text[i] == '\\')
      q[o++] = '\\';
    q[o++] = text[i] == '\n' ? ' ' : text[i];
  }
  q[o++] = '"';
  q[o] = 0;
  httpd_add_header(req, "Warning", q);
}

static bool serve_openapi(struct httpd_req *req, const char *path) {
  if (streq(path, "/openapi/v2")) {
    /* kubectl reads the v3 documents for every kind the server serves; it falls back to
     * v2 (protobuf, gnostic's openapi_v2.Document) only to validate kinds the server
     * does not know, where finding no definition lets the request go on to fail with
     * "no matches for kind". This document is exactly that: swagger "2.0", an info
     * block, no definitions. */
    static const char doc[] = "\x0a\x03" "2.0"
                              "\x12\x1b"
                              "\x0a\x0a" "Kubernetes"
                              "\x12\x0d" CKUBE_GIT_VERSION;
    _Static_assert(sizeof(CKUBE_GIT_VERSION) - 1 == 13, "info.version length is encoded above");
    httpd_respond(req, 200, "application/com.github.proto-openapi.spec.v2.v1.0+protobuf", doc,
                  sizeof(doc) - 1);
    return true;
  }
  if (!startswith(path, "/openapi/v3"))
    return false;
  const char *rest = path + strlen("/openapi/v3");
  while (*rest == '/')
    rest++;
  const struct openapi_doc *doc = openapi_v3_document(rest);
  if (!doc) {
    send_not_found(req);
    return true;
  }
  const char *inm = httpd_req_header(req, "If-None-Match");
  _cleanup_free_ char *etag = xasprintf("\"%s\"", doc->hash);
  httpd_add_header(req, "ETag", etag);
  if (httpd_req_query_value(req, "hash"))
    httpd_add_header(req, "Cache-Control", "public, immutable");
  else
    httpd_add_header(req, "Cache-Control", "no-cache, private");
  if (inm && streq(inm, etag)) {
    httpd_respond(req, 304, NULL, "", 0);
    return true;
  }
  httpd_respond(req, 200, "application/json", doc->body, doc->len);
  return true;
}

static bool serve_discovery(struct httpd_req *req, const char *path) {
  const char *accept = httpd_req_header(req, "Accept");
  const char *ctype = "application/json";
  _cleanup_json_ json_t *doc = NULL;
  if (streq(path, "/api") || streq(path, "/api/"))
    doc = discovery_root(true, accept, &ctype);
  else if (streq(path, "/apis") || streq(path, "/apis/"))
    doc = discovery_root(false, accept, &ctype);
  else if (startswith(path, "/api/")) {
    char version[64];
    if (sscanf(path, "/api/%63[^/]", version) != 1 || strchr(path + 5, '/'))
      return false;
    doc = discovery_resources("", version);
  } else if (startswith(path, "/apis/")) {
    char group[256], version[64];
    int n = sscanf(path, "/apis/%255[^/]/%63[^/]", group, version);
    const char *after = path + 6;
    size_t slashes = 0;
    for (const char *p = after; *p; p++)
      slashes += *p == '/';
    if (n == 1 && slashes == 0)
      doc = discovery_group(group);
    else if (n == 2 && slashes == 1)
      doc = discovery_resources(group, version);
    else
      return false;
  } else {
    return false;
  }
  if (!doc)
    send_not_found(req);
  else
    send_json(req, 200, ctype, doc);
  return true;
}

static void handle(struct httpd_req *req, void *userdata) {
  struct apiserver *s = userdata;
  const char *method = httpd_req_method(req);
  const char *path = httpd_req_path(req);

  if (streq(path, "/healthz") || streq(path, "/livez") || streq(path, "/readyz")) {
    httpd_respond(req, 200, "text/plain; charset=utf-8", "ok", 2);
    return;
  }
  if (streq(path, "/version")) {
    _cleanup_json_ json_t *v = discovery_version();
    send_json(req, 200, NULL, v);
    return;
  }
  /* authentication → (audit) → (limits) → authorization (everyone authenticated may do
   * everything until RBAC) → admission → store */
  struct authn_user *user = NULL;
  if (authn_request(s->tokens, req, &user, NULL) < 0 || authn_user_is_anonymous(user)) {
    authn_user_free(user);
    send_status(req, 401, "Unauthorized", "Unauthorized");
    return;
  }
  if (httpd_req_body_too_large(req)) {
    send_status(req, 413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728");
    authn_user_free(user);
    return;
  }
  if (serve_openapi(req, path) || serve_discovery(req, path)) {
    authn_user_free(user);
    return;
  }

  struct resource_request rr = {.method = method, .query = query_of, .ud = req};
  const char *watch = httpd_req_query_value(req, "watch");
  bool is_watch = watch && (streq(watch, "true") || streq(watch, "1"));
  int rc = request_info_parse(method, path, is_watch, &rr.info);
  if (rc < 0 || !rr.info.res) {
    request_info_clear(&rr.info);
    authn_user_free(user);
    send_not_found(req);
    return;
  }
  rr.content_type = httpd_req_header(req, "Content-Type");
  rr.accept = httpd_req_header(req, "Accept");
  rr.body = httpd_req_body(req, &rr.body_len);
  rr.user = user;
  rr.user_agent = httpd_req_header(req, "User-Agent");
  if (streq(rr.info.verb, "watch") || (rr.info.name && is_watch)) {
    watch_serve(s->cache, &s->rest, req, &rr);
  } else {
    struct resource_response resp = {0};
    resource_handle(&s->rest, &rr, &resp);
    for (size_t i = 0; i < resp.n_warnings; i++)
      add_warning(req, resp.warnings[i]);
    httpd_respond_take(req, (unsigned)resp.code, resp.content_type, TAKE_PTR(resp.body), resp.len);
    resource_response_clear(&resp);
  }
  request_info_clear(&rr.info);
  authn_user_free(user);
}

/* The objects every cluster has: the four namespaces and the kubernetes Service. */
static int bootstrap(struct apiserver *s, char **ret_err) {
  static const char *const namespaces[] = {"default", "kube-system", "kube-public",
                                           "kube-node-lease"};
  const struct api_resource *ns = api_registry_find("", "v1", "namespaces");
  for (size_t i = 0; i < ARRAY_SIZE(namespaces); i++) {
    _cleanup_json_ json_t *obj = json_pack("{s:s,s:s,s:{s:s,s:{s:s}}}", "apiVersion", "v1",
                                           "kind", "Namespace", "metadata", "name",
                                           namespaces[i], "labels",
                                           "kubernetes.io/metadata.name", namespaces[i]);
    _cleanup_api_error_ struct api_error err = {0};
    int rc = resource_create_object(&s->rest, ns, obj, &err);
    if (rc < 0 && rc != -EEXIST) {
      *ret_err = xasprintf("creating namespace %s: %s", namespaces[i], err.message);
      return rc;
    }
  }
  /* The two system priority classes kube-apiserver creates. */
  static const struct {
    const char *name;
    int value;
    const char *description;
  } classes[] = {
      {"system-node-critical", 2000001000, "For system pods that must stay on their node."},
      {"system-cluster-critical", 2000000000,
       "For system pods the cluster needs, which may move to another node."},
  };
  const struct api_resource *pcr = api_registry_find("scheduling.k8s.io", "v1", "priorityclasses");
  for (size_t i = 0; i < ARRAY_SIZE(classes); i++) {
    _cleanup_json_ json_t *pc = json_pack("{s:s,s:s,s:{s:s},s:i,s:s}", "apiVersion",
                                          "scheduling.k8s.io/v1", "kind", "PriorityClass",
                                          "metadata", "name", classes[i].name, "value",
                                          classes[i].value, "description", classes[i].description);
    _cleanup_api_error_ struct api_error perr = {0};
    int rc = resource_create_object(&s->rest, pcr, pc, &perr);
    if (rc < 0 && rc != -EEXIST) {
      *ret_err = xasprintf("creating priority class %s: %s", classes[i].name, perr.message);
      return rc;
    }
  }
  const struct api_resource *svc = api_registry_find("", "v1", "services");
  _cleanup_json_ json_t *k = json_pack(
      "{s:s,s:s,s:{s:s,s:s,s:{s:s,s:s}},s:{s:s,s:[s],s:[s],s:s,s:[{s:s,s:s,s:i,s:i}],s:s}}",
      "apiVersion", "v1", "kind", "Service", "metadata", "name", "kubernetes", "namespace",
      "default", "labels", "component", "apiserver", "provider", "kubernetes", "spec", "clusterIP",
      "10.43.0.1", "clusterIPs", "10.43.0.1", "ipFamilies", "IPv4", "ipFamilyPolicy",
      "SingleStack", "ports", "name", "https", "protocol", "TCP", "port", 443, "targetPort",
      6443, "type", "ClusterIP");
  _cleanup_api_error_ struct api_error err = {0};
  _cleanup_free_ char *key = resource_key(svc, "default", "kubernetes");
  struct store_kv kv = {0};
  if (store_get(s->store, key, &kv) == 0) {
    store_kv_clear(&kv);
    return 0;
  }
  int rc = resource_create_object(&s->rest, svc, k, &err);
  if (rc < 0 && rc != -EEXIST) {
    *ret_err = xasprintf("creating the kubernetes service: %s", err.message);
    return rc;
  }
  return 0;
}

/* Housekeeping: compaction every COMPACT_INTERVAL_SECONDS, and every TRIM_INTERVAL_SECONDS
 * free memory handed back to the system, since bursts (thousands of watches, large lists)
 * leave glibc holding pages it would otherwise keep. */
#define TRIM_INTERVAL_SECONDS 30

#define ETCD_LOOPS 16

static void *compactor_main(void *arg) {
  struct apiserver *s = arg;
  int64_t previous = 0;
  time_t next_compact = time(NULL) + COMPACT_INTERVAL_SECONDS;
  pthread_mutex_lock(&s->mu);
  while (!s->stopping) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += TRIM_INTERVAL_SECONDS;
    if (pthread_cond_timedwait(&s->cond, &s->mu, &ts) != ETIMEDOUT)
      continue;
    pthread_mutex_unlock(&s->mu);
    malloc_trim(0);
    if (time(NULL) >= next_compact) {
      next_compact = time(NULL) + COMPACT_INTERVAL_SECONDS;
      int64_t compacted = 0, now = 0;
      store_compacted_rev(s->store, &compacted);
      if (previous > compacted)
        store_compact(s->store, previous);
      if (store_current_rev(s->store, &now) == 0)
        previous = now;
    }
    pthread_mutex_lock(&s->mu);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

static int ensure_dir(const char *path) {
  if (mkdir(path, 0700) < 0 && errno != EEXIST)
    return -errno;
  return 0;
}

int apiserver_start(const struct apiserver_config *cfg, struct apiserver **ret, char **ret_err) {
  struct apiserver *s = xcalloc(1, sizeof(*s));
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cond, NULL);
  int rc;
  char *err = NULL;
  _cleanup_free_ char *tls = xasprintf("%s/tls", cfg->data_dir);
  _cleanup_pki_ca_ struct pki_ca *ca = NULL;
  _cleanup_free_ char *cert = NULL, *key = NULL, *admin_cert = NULL, *admin_key = NULL;
  char host[HOST_NAME_MAX + 1] = "localhost";

  if ((rc = ensure_dir(cfg->data_dir)) < 0 || (rc = ensure_dir(tls)) < 0) {
    err = xasprintf("creating %s: %s", tls, strerror(-rc));
    goto fail;
  }
  if ((rc = api_registry_init(&err)) < 0)
    goto fail;
  if ((rc = store_open(cfg->datastore_endpoint ? cfg->datastore_endpoint : "", cfg->data_dir,
                       &s->store, &err)) < 0)
    goto fail;
  s->rest.store = s->store;
  if ((rc = pki_ca_ensure(tls, &ca, &err)) < 0)
    goto fail;
  gethostname(host, sizeof(host) - 1);
  const char *ips[] = {"127.0.0.1", "10.43.0.1", cfg->bind_address};
  const char *dns[] = {"localhost", host, "kubernetes", "kubernetes.default",
                       "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"};
  struct pki_subject serving = {.cn = "kube-apiserver", .ips = ips,
                                .n_ips = cfg->bind_address && !streq(cfg->bind_address, "127.0.0.1") &&
                                                 !streq(cfg->bind_address, "0.0.0.0")
                                             ? 3 : 2,
                                .dns = dns, .n_dns = ARRAY_SIZE(dns)};
  const char *masters[] = {"system:masters"};
  struct pki_subject admin = {.cn = "system:admin", .orgs = masters, .n_orgs = 1};
  if ((rc = pki_ensure_serving(ca, tls, &serving, &err)) < 0 ||
      (rc = pki_ensure_client(ca, tls, "admin", &admin, &err)) < 0)
    goto fail;
  if ((rc = pki_read_pair(tls, "serving", &cert, &key)) < 0 ||
      (rc = pki_read_pair(tls, "admin", &admin_cert, &admin_key)) < 0) {
    err = xasprintf("reading certificates in %s: %s", tls, strerror(-rc));
    goto fail;
  }
  if (cfg->token_file && (rc = authn_tokens_load(cfg->token_file, &s->tokens, &err)) < 0)
    goto fail;
  s->ca_pem = xstrdup(pki_ca_cert_pem(ca));
  s->rest.ca_pem = s->ca_pem;
  if ((rc = bootstrap(s, &err)) < 0)
    goto fail;
  if ((rc = watch_cache_start(s->store, 0, &s->cache)) < 0) {
    err = xasprintf("starting the watch cache: %s", strerror(-rc));
    goto fail;
  }
  s->rest.cache = s->cache;
  s->rest.tokens = s->tokens;
  if (pthread_create(&s->compactor, NULL, compactor_main, s) != 0) {
    rc = -EAGAIN;
    err = xstrdup("starting the compactor thread failed");
    goto fail;
  }
  s->compactor_started = true;
  struct httpd_config hc = {
      .bind_address = cfg->bind_address ? cfg->bind_address : "127.0.0.1",
      .port = cfg->port,
      .cert_pem = cert,
      .key_pem = key,
      .client_ca_pem = pki_ca_cert_pem(ca),
      .max_body = MAX_BODY,
      /* SQLite writes suspend the request's coroutine, so a loop per CPU keeps every
       * core busy. etcd calls block their loop for a network round trip: more loops
       * keep that many requests in flight. */
      .threads = streq(s->store->ops->name, "etcd") ? ETCD_LOOPS : 0,
      .handler = handle,
      .userdata = s,
  };
  if ((rc = httpd_start(&hc, &s->httpd, &err)) < 0)
    goto fail;
  if (cfg->kubeconfig_path) {
    const char *host_addr = hc.bind_address;
    if (streq(host_addr, "0.0.0.0"))
      host_addr = "127.0.0.1";
    _cleanup_free_ char *server = xasprintf("https://%s:%u", host_addr, httpd_port(s->httpd));
    if ((rc = kubeconfig_write_admin(cfg->kubeconfig_path, server, pki_ca_cert_pem(ca),
                                     admin_cert, admin_key, &err)) < 0)
      goto fail;
  }
  *ret = s;
  return 0;
fail:
  apiserver_stop(s);
  if (ret_err)
    *ret_err = err ? err : xasprintf("%s", strerror(-rc));
  else
    free(err);
  return rc;
}

unsigned apiserver_port(const struct apiserver *s) { return httpd_port(s->httpd); }

void apiserver_stop(struct apiserver *s) {
  if (!s)
    return;
  /* The listener first: it ends every stream and runs the watchers' close callbacks,
   * which need the watch cache; then the cache, then the store it reads. */
  httpd_stop(s->httpd);
  if (s->compactor_started) {
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->compactor, NULL);
  }
  watch_cache_stop(s->cache);
  authn_tokens_free(s->tokens);
  store_close(s->store);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cond);
  free(s->ca_pem);
  free(s);
}
