/* The namespace controller (kube's NamespaceController): a namespace being deleted
 * (deletionTimestamp set, phase Terminating, "kubernetes" in spec.finalizers) is emptied
 * of every namespaced object of every resource the API server serves (found by
 * discovery, so custom resources go too), then finalized: "kubernetes" is removed through
 * the namespaces/finalize subresource and the API server deletes the namespace.
 *
 * While content remains (pods stopping within their grace period, objects held by
 * finalizers) the namespace's status conditions say why, worded as kube's, and the key
 * is re-queued: nothing else tells the controller when a pod is finally gone. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/controller.h"
#include "lib/json.h"
#include "lib/strbuf.h"
#include "lib/timeutil.h"

#define FINALIZER "kubernetes"
/* kube's wait for objects held by finalizers before looking again. */
#define FINALIZER_ESTIMATE_SECONDS 15
/* Re-checks are capped: ckube sees pods go quickly and the namespace should follow. */
#define MAX_RECHECK_MS 2000

struct ns_state {
  struct informer *namespaces;
};

static void on_ns_add(void *ud, json_t *obj) {
  if (json_path(obj, "metadata.deletionTimestamp"))
    controller_enqueue_obj(ud, obj);
}
static void on_ns_update(void *ud, json_t *old, json_t *obj) {
  (void)old;
  on_ns_add(ud, obj);
}

static int ns_setup(struct controller *c) {
  struct ns_state *s = xcalloc(1, sizeof(*s));
  controller_set_state(c, s);
  s->namespaces = controller_informer(c, "/api/v1/namespaces");
  if (!s->namespaces)
    return -ENOMEM;
  informer_add_handler(s->namespaces, &(struct informer_handler){
                                          .on_add = on_ns_add, .on_update = on_ns_update,
                                          .userdata = c});
  return 0;
}

static void ns_teardown(struct controller *c) {
  free(controller_state(c));
  controller_set_state(c, NULL);
}

/* ---- discovery ---- */

struct gvr {
  char *prefix; /* "/api/v1" or "/apis/apps/v1" */
  char *group;  /* "" for core */
  char *plural;
  bool deletecollection;
};

struct gvr_list {
  struct gvr *v;
  size_t n, cap;
};

static void gvr_list_clear(struct gvr_list *l) {
  for (size_t i = 0; i < l->n; i++) {
    free(l->v[i].prefix);
    free(l->v[i].group);
    free(l->v[i].plural);
  }
  free(l->v);
  *l = (struct gvr_list){0};
}

static bool has_verb(const json_t *res, const char *verb) {
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(res, "verbs"), i, v) if (streq_ptr(json_string_value(v), verb))
      return true;
  return false;
}

static int get_json(struct controller *c, const char *path, const char *query, json_t **ret,
                    char **ret_err) {
  long status = 0;
  json_t *obj = NULL;
  _cleanup_free_ char *err = NULL;
  int r = rest_do_json(controller_client(c), "GET", path, query, NULL, &status, &obj, &err);
  if (r < 0)
    return set_error(ret_err, r, "%s", err ? err : strerror(-r));
  if (status != 200 || !obj) {
    const char *msg = obj ? json_string_value(json_object_get(obj, "message")) : NULL;
    json_decref(obj);
    return set_error(ret_err, status == 404 ? -ENOENT : -EIO, "%s: %s", path,
                     msg ? msg : "the server could not handle the request");
  }
  *ret = obj;
  return 0;
}

static int discover_group_version(struct controller *c, const char *prefix, const char *group,
                                  struct gvr_list *out, char **ret_err) {
  _cleanup_json_ json_t *list = NULL;
  int r = get_json(c, prefix, NULL, &list, ret_err);
  if (r < 0)
    return r;
  size_t i;
  json_t *res;
  json_array_foreach(json_object_get(list, "resources"), i, res) {
    const char *name = json_string_value(json_object_get(res, "name"));
    if (!name || strchr(name, '/') || !json_is_true(json_object_get(res, "namespaced")) ||
        !has_verb(res, "delete") || !has_verb(res, "list"))
      continue;
    out->v = xgrow(out->v, out->n, &out->cap, sizeof(*out->v));
    out->v[out->n++] = (struct gvr){xstrdup(prefix), xstrdup(group), xstrdup(name),
                                    has_verb(res, "deletecollection")};
  }
  return 0;
}

/* Every namespaced, deletable resource at its group's preferred version. Failing groups
 * are named in *ret_err while the others are still listed (kube carries on with what it
 * could discover). */
static int discover(struct controller *c, struct gvr_list *out, char **ret_err) {
  _cleanup_free_ char *err = NULL;
  int r = discover_group_version(c, "/api/v1", "", out, &err);
  if (r < 0)
    return set_error(ret_err, r, "%s", err);
  _cleanup_json_ json_t *groups = NULL;
  r = get_json(c, "/apis", NULL, &groups, &err);
  if (r < 0)
    return set_error(ret_err, r, "%s", err);
  struct strbuf failed = {0};
  int n_failed = 0;
  size_t i;
  json_t *g;
  json_array_foreach(json_object_get(groups, "groups"), i, g) {
    const char *name = json_string_value(json_object_get(g, "name"));
    const char *gv = json_path_str(g, "preferredVersion.groupVersion");
    if (!name || !gv)
      continue;
    _cleanup_free_ char *prefix = xasprintf("/apis/%s", gv);
    _cleanup_free_ char *gerr = NULL;
    if (discover_group_version(c, prefix, name, out, &gerr) < 0) {
      strbuf_appendf(&failed, "%s%s: %s", n_failed ? ", " : "", gv, gerr ? gerr : "failed");
      n_failed++;
    }
  }
  if (n_failed) {
    r = set_error(ret_err, -EIO, "Discovery failed for some groups, %d failing: %s%s%s",
                  n_failed, n_failed > 1 ? "[" : "", (failed.s ? failed.s : ""),
                  n_failed > 1 ? "]" : "");
    strbuf_clear(&failed);
    return r;
  }
  strbuf_clear(&failed);
  return 0;
}

/* ---- content deletion ---- */

struct tally {
  char *what;
  long n;
};

struct tallies {
  struct tally *v;
  size_t n, cap;
};

static void tally_add(struct tallies *t, const char *what, long n) {
  for (size_t i = 0; i < t->n; i++)
    if (streq(t->v[i].what, what)) {
      t->v[i].n += n;
      return;
    }
  t->v = xgrow(t->v, t->n, &t->cap, sizeof(*t->v));
  t->v[t->n++] = (struct tally){xstrdup(what), n};
}

static int cmp_tally(const void *a, const void *b) {
  return strcmp(((const struct tally *)a)->what, ((const struct tally *)b)->what);
}

static void tallies_clear(struct tallies *t) {
  for (size_t i = 0; i < t->n; i++)
    free(t->v[i].what);
  free(t->v);
  *t = (struct tallies){0};
}

/* "a has 2 resource instances, b has 1 resource instances", sorted as kube sorts. */
static char *tallies_join(struct tallies *t, const char *verb) {
  qsort(t->v, t->n, sizeof(*t->v), cmp_tally);
  struct strbuf b = {0};
  for (size_t i = 0; i < t->n; i++)
    strbuf_appendf(&b, "%s%s %s %ld resource instances", i ? ", " : "", t->v[i].what, verb,
                   t->v[i].n);
  char *s = xstrdup(b.s ? b.s : "");
  strbuf_clear(&b);
  return s;
}

struct content {
  struct tallies remaining;  /* group resource → objects left */
  struct tallies finalizers; /* finalizer → objects held */
  struct strbuf errors;
  int n_errors;
  long estimate_s; /* how long until another look is worth it */
};

static void content_error(struct content *ct, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void content_error(struct content *ct, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  _cleanup_free_ char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  strbuf_appendf(&ct->errors, "%s%s", ct->n_errors ? ", " : "", msg);
  ct->n_errors++;
}

/* The longest grace period among pods still stopping (kube's estimate for pods). */
static long pods_estimate(const json_t *items) {
  long est = 0;
  size_t i;
  json_t *pod;
  json_array_foreach(items, i, pod) {
    const char *phase = json_path_str(pod, "status.phase");
    if (streq_ptr(phase, "Succeeded") || streq_ptr(phase, "Failed"))
      continue;
    json_t *g = json_path(pod, "metadata.deletionGracePeriodSeconds");
    if (!g)
      g = json_path(pod, "spec.terminationGracePeriodSeconds");
    long v = g ? (long)json_integer_value(g) : 30;
    if (v > est)
      est = v;
  }
  return est;
}

static void delete_resource_content(struct controller *c, const char *ns, const struct gvr *r,
                                    struct content *ct) {
  _cleanup_free_ char *coll = xasprintf("%s/namespaces/%s/%s", r->prefix, ns, r->plural);
  _cleanup_free_ char *gr = *r->group ? xasprintf("%s.%s", r->plural, r->group)
                                      : xstrdup(r->plural);
  _cleanup_free_ char *err = NULL;
  _cleanup_json_ json_t *list = NULL;
  if (r->deletecollection) {
    int rc = controller_delete(c, coll, NULL, &err);
    if (rc < 0 && rc != -ENOENT) {
      content_error(ct, "%s", err ? err : strerror(-rc));
      return;
    }
  } else {
    if (get_json(c, coll, NULL, &list, &err) < 0) {
      content_error(ct, "%s", err);
      return;
    }
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(list, "items"), i, item) {
      if (json_path(item, "metadata.deletionTimestamp"))
        continue;
      _cleanup_free_ char *path = xasprintf("%s/%s", coll, json_path_str(item, "metadata.name"));
      _cleanup_free_ char *derr = NULL;
      int rc = controller_delete(c, path, NULL, &derr);
      if (rc < 0)
        content_error(ct, "%s", derr ? derr : strerror(-rc));
    }
    json_decref(TAKE_PTR(list));
  }
  free(TAKE_PTR(err));
  int rc = get_json(c, coll, NULL, &list, &err);
  if (rc == -ENOENT)
    return;
  if (rc < 0) {
    content_error(ct, "%s", err);
    return;
  }
  json_t *items = json_object_get(list, "items");
  size_t n = json_array_size(items);
  if (n == 0)
    return;
  tally_add(&ct->remaining, gr, (long)n);
  long estimate = streq(gr, "pods") ? pods_estimate(items) : 0;
  bool held = false;
  size_t i, j;
  json_t *item, *f;
  json_array_foreach(items, i, item) {
    json_array_foreach(json_path(item, "metadata.finalizers"), j, f) {
      if (json_is_string(f)) {
        tally_add(&ct->finalizers, json_string_value(f), 1);
        held = true;
      }
    }
  }
  if (estimate == 0 && held)
    estimate = FINALIZER_ESTIMATE_SECONDS;
  if (estimate == 0 && !streq(gr, "pods"))
    content_error(ct, "unexpected items still remain in namespace: %s for gvr: %s", ns, gr);
  if (estimate == 0)
    estimate = 1;
  if (estimate > ct->estimate_s)
    ct->estimate_s = estimate;
}

/* ---- status conditions ---- */

struct condition {
  const char *type, *ok_reason, *ok_message, *bad_reason;
};

static const struct condition conditions[] = {
    {"NamespaceDeletionDiscoveryFailure", "ResourcesDiscovered",
     "All resources successfully discovered", "DiscoveryFailed"},
    {"NamespaceDeletionGroupVersionParsingFailure", "ParsedGroupVersions",
     "All legacy kube types successfully parsed", "GroupVersionParsingFailed"},
    {"NamespaceDeletionContentFailure", "ContentDeleted",
     "All content successfully deleted, may be waiting on finalization", "ContentDeletionFailed"},
    {"NamespaceContentRemaining", "ContentRemoved", "All content successfully removed",
     "SomeResourcesRemain"},
    {"NamespaceFinalizersRemaining", "ContentHasNoFinalizers",
     "All content-preserving finalizers finished", "SomeFinalizersRemain"},
};

static json_t *find_condition(json_t *conds, const char *type) {
  size_t i;
  json_t *cd;
  json_array_foreach(conds, i, cd) if (streq_ptr(json_string_value(json_object_get(cd, "type")), type))
      return cd;
  return NULL;
}

/* Writes status.conditions when they differ (a failing message per condition index,
 * NULL for fine), keeping each unchanged condition's lastTransitionTime. */
static int update_conditions(struct controller *c, const json_t *ns, const char *const *bad) {
  json_t *old = json_path((json_t *)ns, "status.conditions");
  json_t *next = json_array();
  size_t i;
  json_t *cd;
  /* Conditions kube's namespace deleter does not own stay as they are. */
  json_array_foreach(old, i, cd) {
    const char *type = json_string_value(json_object_get(cd, "type"));
    bool ours = false;
    for (size_t k = 0; k < ARRAY_SIZE(conditions); k++)
      ours |= streq_ptr(type, conditions[k].type);
    if (!ours)
      json_array_append(next, cd);
  }
  _cleanup_free_ char *now = timeutil_now();
  bool changed = false;
  for (size_t k = 0; k < ARRAY_SIZE(conditions); k++) {
    const char *status = bad[k] ? "True" : "False";
    const char *reason = bad[k] ? conditions[k].bad_reason : conditions[k].ok_reason;
    const char *message = bad[k] ? bad[k] : conditions[k].ok_message;
    json_t *prev = find_condition(old, conditions[k].type);
    const char *when = now;
    if (prev && streq_ptr(json_string_value(json_object_get(prev, "status")), status) &&
        streq_ptr(json_string_value(json_object_get(prev, "reason")), reason) &&
        streq_ptr(json_string_value(json_object_get(prev, "message")), message) &&
        json_string_value(json_object_get(prev, "lastTransitionTime")))
      when = json_string_value(json_object_get(prev, "lastTransitionTime"));
    else
      changed = true;
    json_array_append_new(next, json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", conditions[k].type,
                                          "status", status, "lastTransitionTime", when,
                                          "reason", reason, "message", message));
  }
  if (!changed) {
    json_decref(next);
    return 0;
  }
  _cleanup_json_ json_t *obj = json_deep_copy(ns);
  json_object_set_new(json_object_ensure(obj, "status"), "conditions", next);
  _cleanup_free_ char *path =
      xasprintf("/api/v1/namespaces/%s/status", json_path_str(obj, "metadata.name"));
  _cleanup_free_ char *err = NULL;
  int r = controller_update(c, path, obj, NULL, &err);
  if (r < 0 && r != -ENOENT)
    controller_log(c, "updating %s: %s", path, err ? err : strerror(-r));
  return r == -ENOENT ? 0 : r;
}

static bool has_finalizer(const json_t *ns) {
  size_t i;
  json_t *f;
  json_array_foreach(json_path((json_t *)ns, "spec.finalizers"), i, f) if (
      streq_ptr(json_string_value(f), FINALIZER)) return true;
  return false;
}

static int finalize(struct controller *c, const json_t *ns) {
  _cleanup_json_ json_t *obj = json_deep_copy(ns);
  json_t *keep = json_array();
  size_t i;
  json_t *f;
  json_array_foreach(json_path(obj, "spec.finalizers"), i, f) if (!streq_ptr(json_string_value(f),
                                                                            FINALIZER))
      json_array_append(keep, f);
  json_object_set_new(json_object_ensure(obj, "spec"), "finalizers", keep);
  _cleanup_free_ char *path =
      xasprintf("/api/v1/namespaces/%s/finalize", json_path_str(obj, "metadata.name"));
  _cleanup_free_ char *err = NULL;
  int r = controller_update(c, path, obj, NULL, &err);
  if (r == -ENOENT)
    return 0;
  if (r < 0)
    controller_log(c, "finalizing %s: %s", path, err ? err : strerror(-r));
  return r;
}

static int ns_sync(struct controller *c, const char *key) {
  struct ns_state *s = controller_state(c);
  _cleanup_json_ json_t *ns = informer_get(s->namespaces, key);
  if (!ns || !json_path(ns, "metadata.deletionTimestamp") || !has_finalizer(ns))
    return 0;

  struct gvr_list gvrs = {0};
  _cleanup_free_ char *discovery_err = NULL;
  int dr = discover(c, &gvrs, &discovery_err);
  struct content ct = {.errors = {0}};
  for (size_t i = 0; i < gvrs.n; i++)
    delete_resource_content(c, key, &gvrs.v[i], &ct);
  gvr_list_clear(&gvrs);

  const char *bad[ARRAY_SIZE(conditions)] = {0};
  bad[0] = dr < 0 ? discovery_err : NULL;
  _cleanup_free_ char *content_msg = NULL, *remaining_msg = NULL, *finalizers_msg = NULL;
  if (ct.n_errors) {
    content_msg = xasprintf("Failed to delete all resource types, %d remaining: %s%s%s",
                            ct.n_errors, ct.n_errors > 1 ? "[" : "", ct.errors.s ? ct.errors.s : "",
                            ct.n_errors > 1 ? "]" : "");
    bad[2] = content_msg;
  }
  if (ct.remaining.n) {
    _cleanup_free_ char *list = tallies_join(&ct.remaining, "has");
    remaining_msg = xasprintf("Some resources are remaining: %s", list);
    bad[3] = remaining_msg;
  }
  if (ct.finalizers.n) {
    _cleanup_free_ char *list = tallies_join(&ct.finalizers, "in");
    finalizers_msg = xasprintf("Some content in the namespace has finalizers remaining: %s", list);
    bad[4] = finalizers_msg;
  }
  long estimate = ct.estimate_s;
  bool failed = ct.n_errors > 0 || dr < 0;
  tallies_clear(&ct.remaining);
  tallies_clear(&ct.finalizers);
  strbuf_clear(&ct.errors);

  int r = update_conditions(c, ns, bad);
  if (failed)
    return -EIO;
  if (r < 0)
    return r;
  if (estimate > 0) {
    long ms = estimate * 1000;
    controller_enqueue_after(c, key, ms < MAX_RECHECK_MS ? ms : MAX_RECHECK_MS);
    return 0;
  }
  return finalize(c, ns);
}

static const struct controller_def namespace_def = {
    .name = "namespace",
    .component = "namespace-controller",
    .workers = 2,
    .setup = ns_setup,
    .sync = ns_sync,
    .teardown = ns_teardown,
};
CONTROLLER_REGISTER(namespace_def);
