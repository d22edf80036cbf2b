/* The endpoints controller (kube's EndpointsController): for every Service with a
 * selector, an Endpoints object of the same name listing the IPs and ports of the pods
 * it selects, ready ones under addresses and the others under notReadyAddresses.
 *
 * Keys are Service keys ("ns/name"). Pod events are mapped to the Services selecting
 * the pod (old and new labels), so a sync always starts from a Service. Services without
 * a selector keep whatever Endpoints their owner writes; a deleted Service takes its
 * Endpoints with it. An unchanged result writes nothing. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "controllers/controller.h"
#include "controllers/endpoints_util.h"
#include "lib/hmap.h"
#include "lib/json.h"

#define HEADLESS_LABEL "service.kubernetes.io/headless"
#define TRIGGER_TIME_ANNOTATION "endpoints.kubernetes.io/last-change-trigger-time"
#define OVER_CAPACITY_ANNOTATION "endpoints.kubernetes.io/over-capacity"
#define LEADER_ANNOTATION "control-plane.alpha.kubernetes.io/leader"
#define MAX_ENDPOINT_ADDRESSES 1000

/* What kube's TriggerTimeTracker remembers per Service: the trigger time of each pod at
 * the previous sync, so the next sync can tell which pods changed since. */
/* metadata.<field>[key]: label and annotation keys hold dots, so no dotted path. */
static const char *meta_str(const json_t *obj, const char *field, const char *key) {
  json_t *m = json_object_get(json_object_get((json_t *)obj, "metadata"), field);
  return json_string_value(json_object_get(m, key));
}

struct tracked_service {
  struct hmap pods; /* pod key → malloc'd trigger time ("" when the pod has none) */
};

struct ep_state {
  struct informer *services, *pods, *endpoints;
  pthread_mutex_t mu;
  struct hmap tracked; /* service key → struct tracked_service */
};

static struct ep_state *state(struct controller *c) { return controller_state(c); }

static void free_tracked(void *p) {
  struct tracked_service *t = p;
  hmap_clear(&t->pods, free);
  free(t);
}

/* ---- event handlers ---- */

static void on_pod_add(void *ud, json_t *pod) {
  ep_enqueue_services_of(ud, state(ud)->services, pod);
}
static void on_pod_delete(void *ud, json_t *pod) {
  ep_enqueue_services_of(ud, state(ud)->services, pod);
}
static void on_pod_update(void *ud, json_t *old, json_t *pod) {
  ep_enqueue_for_pod_update(ud, state(ud)->services, old, pod);
}

static void on_endpoints_delete(void *ud, json_t *obj) { controller_enqueue_obj(ud, obj); }

static int ep_setup(struct controller *c) {
  struct ep_state *s = xcalloc(1, sizeof(*s));
  pthread_mutex_init(&s->mu, NULL);
  controller_set_state(c, s);
  s->services = controller_informer(c, "/api/v1/services");
  s->pods = controller_informer(c, "/api/v1/pods");
  s->endpoints = controller_informer(c, "/api/v1/endpoints");
  if (!s->services || !s->pods || !s->endpoints)
    return -ENOMEM;
  controller_watch_objects(c, s->services);
  informer_add_handler(s->pods, &(struct informer_handler){.on_add = on_pod_add,
                                                           .on_update = on_pod_update,
                                                           .on_delete = on_pod_delete,
                                                           .userdata = c});
  informer_add_handler(s->endpoints,
                       &(struct informer_handler){.on_delete = on_endpoints_delete, .userdata = c});
  return 0;
}

/* Endpoints left behind by Services deleted while the controller was down. */
static void ep_started(struct controller *c) {
  struct ep_state *s = state(c);
  _cleanup_json_ json_t *all = informer_list(s->endpoints, NULL);
  size_t i;
  json_t *ep;
  json_array_foreach(all, i, ep) {
    if (meta_str(ep, "annotations", LEADER_ANNOTATION))
      continue;
    _cleanup_free_ char *key = informer_key(ep);
    _cleanup_json_ json_t *svc = key ? informer_get(s->services, key) : NULL;
    if (key && !svc)
      controller_enqueue(c, key);
  }
}

static void ep_teardown(struct controller *c) {
  struct ep_state *s = state(c);
  if (!s)
    return;
  hmap_clear(&s->tracked, free_tracked);
  pthread_mutex_destroy(&s->mu);
  free(s);
  controller_set_state(c, NULL);
}

/* ---- trigger time ---- */

static const char *pod_trigger_time(const json_t *pod) {
  size_t i;
  json_t *cond;
  json_array_foreach(json_path((json_t *)pod, "status.conditions"), i, cond) {
    if (streq_ptr(json_string_value(json_object_get(cond, "type")), "Ready"))
      return json_string_value(json_object_get(cond, "lastTransitionTime"));
  }
  return NULL;
}

static void min_time(const char **cur, const char *t) {
  if (t && *t && (!*cur || strcmp(t, *cur) < 0))
    *cur = t;
}

/* The time of the oldest change not yet reflected in the Endpoints: the Service's
 * creation when it is new to the tracker, and the Ready transition of every pod that is
 * new or changed since the previous sync. Copy in *ret (NULL when there is none). */
static void compute_trigger_time(struct ep_state *s, const char *key, const json_t *svc,
                                 const json_t *pods, char **ret) {
  const char *best = NULL;
  pthread_mutex_lock(&s->mu);
  struct tracked_service *t = hmap_get(&s->tracked, key);
  if (!t) {
    t = xcalloc(1, sizeof(*t));
    hmap_put(&s->tracked, key, t);
    min_time(&best, json_path_str((json_t *)svc, "metadata.creationTimestamp"));
  }
  struct hmap next = HMAP_INIT;
  size_t i;
  json_t *pod;
  json_array_foreach(pods, i, pod) {
    const char *name = json_path_str(pod, "metadata.name");
    if (!name)
      continue;
    const char *tt = pod_trigger_time(pod);
    const char *prev = hmap_get(&t->pods, name);
    if (!prev || !streq(prev, tt ? tt : ""))
      min_time(&best, tt);
    free(hmap_put(&next, name, xstrdup(tt ? tt : "")));
  }
  hmap_clear(&t->pods, free);
  t->pods = next;
  *ret = best ? xstrdup(best) : NULL;
  pthread_mutex_unlock(&s->mu);
}

static void forget_service(struct ep_state *s, const char *key) {
  pthread_mutex_lock(&s->mu);
  struct tracked_service *t = hmap_remove(&s->tracked, key);
  pthread_mutex_unlock(&s->mu);
  if (t)
    free_tracked(t);
}

/* ---- sync ---- */

static json_t *endpoint_address(const json_t *pod, const json_t *svc, const char *ip) {
  json_t *addr = json_pack("{s:s}", "ip", ip);
  if (ep_should_set_hostname(pod, svc))
    json_object_set_new(addr, "hostname",
                        json_string(json_path_str((json_t *)pod, "spec.hostname")));
  const char *node = json_path_str((json_t *)pod, "spec.nodeName");
  if (node && *node)
    json_object_set_new(addr, "nodeName", json_string(node));
  json_object_set_new(addr, "targetRef",
                      json_pack("{s:s,s:s,s:s,s:s}", "kind", "Pod", "namespace",
                                json_path_str((json_t *)pod, "metadata.namespace"), "name",
                                json_path_str((json_t *)pod, "metadata.name"), "uid",
                                json_path_str((json_t *)pod, "metadata.uid") ?: ""));
  return addr;
}

static void add_subset(json_t *subsets, json_t *addr, json_t *port, bool ready) {
  json_t *sub = json_object();
  json_object_set_new(sub, ready ? "addresses" : "notReadyAddresses", json_pack("[O]", addr));
  if (port)
    json_object_set_new(sub, "ports", json_pack("[O]", port));
  json_array_append_new(subsets, sub);
}

/* The subsets the Service's pods call for, repacked. */
static json_t *desired_subsets(const json_t *svc, const json_t *pods) {
  bool tolerate_unready = json_is_true(json_path((json_t *)svc, "spec.publishNotReadyAddresses"));
  json_t *ports = json_path((json_t *)svc, "spec.ports");
  _cleanup_json_ json_t *subsets = json_array();
  size_t i;
  json_t *pod;
  json_array_foreach(pods, i, pod) {
    if (!ep_pod_in_endpoints(pod, tolerate_unready))
      continue;
    const char *ip = ep_pod_ipv4(pod);
    if (!ip)
      continue;
    _cleanup_json_ json_t *addr = endpoint_address(pod, svc, ip);
    bool ready = tolerate_unready || ep_pod_ready(pod);
    if (json_array_size(ports) == 0) {
      if (ep_service_headless(svc))
        add_subset(subsets, addr, NULL, ready);
      continue;
    }
    size_t j;
    json_t *sp;
    json_array_foreach(ports, j, sp) {
      int port;
      if (ep_find_port(pod, sp, &port) < 0)
        continue;
      _cleanup_json_ json_t *epp = json_object();
      const char *name = json_string_value(json_object_get(sp, "name"));
      if (name && *name)
        json_object_set_new(epp, "name", json_string(name));
      json_object_set_new(epp, "port", json_integer(port));
      const char *proto = json_string_value(json_object_get(sp, "protocol"));
      json_object_set_new(epp, "protocol", json_string(proto ? proto : "TCP"));
      json_t *app = json_object_get(sp, "appProtocol");
      if (json_is_string(app))
        json_object_set(epp, "appProtocol", app);
      add_subset(subsets, addr, epp, ready);
    }
  }
  return ep_repack_subsets(subsets);
}

/* The Service's labels with the headless label added or removed as kube does. */
static json_t *desired_labels(const json_t *svc) {
  json_t *labels = json_deep_copy(json_path((json_t *)svc, "metadata.labels"));
  if (!json_is_object(labels)) {
    json_decref(labels);
    labels = json_object();
  }
  if (ep_service_headless(svc))
    json_object_set_new(labels, HEADLESS_LABEL, json_string(""));
  else
    json_object_del(labels, HEADLESS_LABEL);
  return labels;
}

static bool labels_match_service(const json_t *current, const json_t *svc) {
  _cleanup_json_ json_t *a = json_is_object(current) ? json_deep_copy(current) : json_object();
  json_object_del(a, HEADLESS_LABEL);
  json_t *want = json_path((json_t *)svc, "metadata.labels");
  _cleanup_json_ json_t *b = json_is_object(want) ? json_incref(want) : json_object();
  return json_equal(a, b);
}

static json_t *selected_pods(struct ep_state *s, const char *ns, const json_t *svc) {
  _cleanup_json_ json_t *all = informer_list(s->pods, ns);
  json_t *out = json_array();
  size_t i;
  json_t *pod;
  json_array_foreach(all, i, pod) if (ep_service_selects(svc, pod)) json_array_append(out, pod);
  return out;
}

static int ep_sync(struct controller *c, const char *key) {
  struct ep_state *s = state(c);
  _cleanup_free_ char *ns = NULL, *name = NULL;
  informer_split_key(key, &ns, &name);
  if (!ns || !name)
    return 0;
  _cleanup_free_ char *coll = controller_path("/api/v1", ns, "endpoints");
  _cleanup_free_ char *path = xasprintf("%s/%s", coll, name);
  _cleanup_json_ json_t *svc = informer_get(s->services, key);
  if (!svc) {
    forget_service(s, key);
    _cleanup_json_ json_t *cur = informer_get(s->endpoints, key);
    if (!cur || meta_str(cur, "annotations", LEADER_ANNOTATION))
      return 0;
    _cleanup_free_ char *err = NULL;
    int r = controller_delete(c, path, NULL, &err);
    if (r < 0)
      controller_log(c, "deleting %s: %s", path, err ? err : strerror(-r));
    return r;
  }
  if (!ep_service_has_selector(svc))
    return 0;

  _cleanup_json_ json_t *pods = selected_pods(s, ns, svc);
  _cleanup_json_ json_t *subsets = desired_subsets(svc, pods);
  bool truncated = ep_truncate_subsets(subsets, MAX_ENDPOINT_ADDRESSES);
  _cleanup_free_ char *trigger = NULL;
  compute_trigger_time(s, key, svc, pods, &trigger);

  _cleanup_json_ json_t *cur = informer_get(s->endpoints, key);
  if (cur) {
    const char *capacity = meta_str(cur, "annotations", OVER_CAPACITY_ANNOTATION);
    bool capacity_ok = truncated ? streq_ptr(capacity, "truncated") : !capacity;
    if (ep_subsets_equal(json_object_get(cur, "subsets"), subsets) &&
        labels_match_service(json_path(cur, "metadata.labels"), svc) && capacity_ok)
      return 0;
  }

  _cleanup_json_ json_t *next =
      cur ? json_deep_copy(cur)
          : json_pack("{s:s,s:s,s:{s:s,s:s}}", "apiVersion", "v1", "kind", "Endpoints",
                      "metadata", "name", name, "namespace", ns);
  json_object_set_new(next, "apiVersion", json_string("v1"));
  json_object_set_new(next, "kind", json_string("Endpoints"));
  json_t *md = json_object_ensure(next, "metadata");
  if (json_array_size(subsets))
    json_object_set(next, "subsets", subsets);
  else
    json_object_del(next, "subsets");
  json_object_set_new(md, "labels", desired_labels(svc));
  json_t *ann = json_object_ensure(md, "annotations");
  if (trigger)
    json_object_set_new(ann, TRIGGER_TIME_ANNOTATION, json_string(trigger));
  else
    json_object_del(ann, TRIGGER_TIME_ANNOTATION);
  if (truncated)
    json_object_set_new(ann, OVER_CAPACITY_ANNOTATION, json_string("truncated"));
  else
    json_object_del(ann, OVER_CAPACITY_ANNOTATION);
  if (json_object_size(ann) == 0)
    json_object_del(md, "annotations");
  if (json_object_size(json_object_get(md, "labels")) == 0)
    json_object_del(md, "labels");

  _cleanup_free_ char *err = NULL;
  int r = cur ? controller_update(c, path, next, NULL, &err)
              : controller_create(c, coll, next, NULL, &err);
  if (r == -ESTALE || r == -EEXIST)
    return r; /* the cache is behind: retry once it caught up */
  if (r < 0) {
    /* Namespaces being deleted refuse new objects: nothing to retry. */
    if (!cur && err && strstr(err, "because it is being terminated"))
      return 0;
    event_record(controller_events(c), svc, "Service", "v1", "Warning",
                 cur ? "FailedToUpdateEndpoint" : "FailedToCreateEndpoint",
                 "Failed to %s endpoint %s/%s: %s", cur ? "update" : "create", ns, name,
                 err ? err : strerror(-r));
  }
  return r;
}

static const struct controller_def endpoints_def = {
    .name = "endpoints",
    .component = "endpoint-controller",
    .workers = 2,
    .setup = ep_setup,
    .sync = ep_sync,
    .teardown = ep_teardown,
    .started = ep_started,
};
CONTROLLER_REGISTER(endpoints_def);
