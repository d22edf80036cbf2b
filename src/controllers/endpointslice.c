/* The endpointslice controller (kube's EndpointSliceController): for every Service with
 * a selector, discovery.k8s.io/v1 EndpointSlices "<service>-xxxxx" of address type IPv4,
 * holding at most 100 endpoints each, one set of slices per distinct port list (a named
 * targetPort can resolve differently per pod). A Service with no endpoints keeps one
 * empty placeholder slice, as kube's does.
 *
 * Keys are Service keys. Reconciling keeps endpoints where they are when they still
 * belong (so a change touches few slices), fills slices being rewritten anyway before
 * creating new ones, and deletes slices left empty. Expectations on slice creates and
 * deletes stop a lagging cache from causing duplicate slices. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "controllers/controller.h"
#include "controllers/endpoints_util.h"
#include "lib/hmap.h"
#include "lib/json.h"

#define SERVICE_NAME_LABEL "kubernetes.io/service-name"
#define MANAGED_BY_LABEL "endpointslice.kubernetes.io/managed-by"
#define MANAGED_BY "endpointslice-controller.k8s.io"
#define HEADLESS_LABEL "service.kubernetes.io/headless"
#define ZONE_LABEL "topology.kubernetes.io/zone"
#define MAX_ENDPOINTS_PER_SLICE 100
#define SLICES_PATH "/apis/discovery.k8s.io/v1"

/* metadata.<field>[key]: label and annotation keys hold dots, so no dotted path. */
static const char *meta_str(const json_t *obj, const char *field, const char *key) {
  json_t *m = json_object_get(json_object_get((json_t *)obj, "metadata"), field);
  return json_string_value(json_object_get(m, key));
}

struct eps_state {
  struct informer *services, *pods, *slices, *nodes;
};

static struct eps_state *state(struct controller *c) { return controller_state(c); }

static size_t index_service_name(const json_t *obj, const char **ret_values, size_t max) {
  json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
  const char *svc = json_string_value(json_object_get(labels, SERVICE_NAME_LABEL));
  if (!svc || !max)
    return 0;
  ret_values[0] = svc;
  return 1;
}

static bool managed_by_us(const json_t *slice) {
  return streq_ptr(meta_str((json_t *)slice, "labels", MANAGED_BY_LABEL),
                   MANAGED_BY);
}

/* The Service key a managed slice belongs to (malloc'd), or NULL. */
static char *slice_service_key(const json_t *slice) {
  if (!managed_by_us(slice))
    return NULL;
  const char *ns = json_path_str((json_t *)slice, "metadata.namespace");
  const char *svc = meta_str((json_t *)slice, "labels", SERVICE_NAME_LABEL);
  if (!ns || !svc)
    return NULL;
  return xasprintf("%s/%s", ns, svc);
}

/* ---- handlers ---- */

static void on_pod_add(void *ud, json_t *pod) {
  ep_enqueue_services_of(ud, state(ud)->services, pod);
}
static void on_pod_delete(void *ud, json_t *pod) {
  ep_enqueue_services_of(ud, state(ud)->services, pod);
}
static void on_pod_update(void *ud, json_t *old, json_t *pod) {
  ep_enqueue_for_pod_update(ud, state(ud)->services, old, pod);
}

static void on_slice_add(void *ud, json_t *slice) {
  _cleanup_free_ char *key = slice_service_key(slice);
  if (!key)
    return;
  controller_observe_add(ud, key);
  controller_enqueue(ud, key);
}
static void on_slice_update(void *ud, json_t *old, json_t *slice) {
  (void)old;
  _cleanup_free_ char *key = slice_service_key(slice);
  if (key)
    controller_enqueue(ud, key);
}
static void on_slice_delete(void *ud, json_t *slice) {
  _cleanup_free_ char *key = slice_service_key(slice);
  if (!key)
    return;
  controller_observe_del(ud, key);
  controller_enqueue(ud, key);
}

static int eps_setup(struct controller *c) {
  struct eps_state *s = xcalloc(1, sizeof(*s));
  controller_set_state(c, s);
  s->services = controller_informer(c, "/api/v1/services");
  s->pods = controller_informer(c, "/api/v1/pods");
  s->nodes = controller_informer(c, "/api/v1/nodes");
  s->slices = controller_informer(c, SLICES_PATH "/endpointslices");
  if (!s->services || !s->pods || !s->nodes || !s->slices)
    return -ENOMEM;
  informer_add_index(s->slices, "endpointslice-service-name", index_service_name);
  controller_watch_objects(c, s->services);
  informer_add_handler(s->pods, &(struct informer_handler){.on_add = on_pod_add,
                                                           .on_update = on_pod_update,
                                                           .on_delete = on_pod_delete,
                                                           .userdata = c});
  informer_add_handler(s->slices, &(struct informer_handler){.on_add = on_slice_add,
                                                             .on_update = on_slice_update,
                                                             .on_delete = on_slice_delete,
                                                             .userdata = c});
  return 0;
}

static void eps_teardown(struct controller *c) {
  free(state(c));
  controller_set_state(c, NULL);
}

/* ---- desired state ---- */

static json_t *pod_endpoint(struct eps_state *s, const json_t *pod, const json_t *svc,
                            const char *ip) {
  bool serving = ep_pod_ready(pod);
  bool terminating = json_path((json_t *)pod, "metadata.deletionTimestamp") != NULL;
  /* Terminating endpoints are never ready unless the Service publishes unready ones. */
  bool ready = json_is_true(json_path((json_t *)svc, "spec.publishNotReadyAddresses")) ||
               (serving && !terminating);
  json_t *ep = json_pack("{s:[s],s:{s:b,s:b,s:b}}", "addresses", ip, "conditions", "ready",
                         ready, "serving", serving, "terminating", terminating);
  if (ep_should_set_hostname(pod, svc))
    json_object_set_new(ep, "hostname", json_string(json_path_str((json_t *)pod, "spec.hostname")));
  json_object_set_new(ep, "targetRef",
                      json_pack("{s:s,s:s,s:s,s:s}", "kind", "Pod", "namespace",
                                json_path_str((json_t *)pod, "metadata.namespace"), "name",
                                json_path_str((json_t *)pod, "metadata.name"), "uid",
                                json_path_str((json_t *)pod, "metadata.uid") ?: ""));
  const char *node = json_path_str((json_t *)pod, "spec.nodeName");
  if (node && *node) {
    json_object_set_new(ep, "nodeName", json_string(node));
    _cleanup_json_ json_t *n = informer_get(s->nodes, node);
    const char *zone = n ? meta_str(n, "labels", ZONE_LABEL) : NULL;
    if (zone && *zone)
      json_object_set_new(ep, "zone", json_string(zone));
  }
  return ep;
}

/* The slice ports a pod offers for the Service, in service-port order. */
static json_t *pod_ports(const json_t *pod, const json_t *svc) {
  json_t *out = json_array();
  size_t i;
  json_t *sp;
  json_array_foreach(json_path((json_t *)svc, "spec.ports"), i, sp) {
    int port;
    if (ep_find_port(pod, sp, &port) < 0)
      continue;
    const char *name = json_string_value(json_object_get(sp, "name"));
    const char *proto = json_string_value(json_object_get(sp, "protocol"));
    json_t *p = json_pack("{s:s,s:s,s:i}", "name", name ? name : "", "protocol",
                          proto ? proto : "TCP", "port", port);
    json_t *app = json_object_get(sp, "appProtocol");
    if (json_is_string(app))
      json_object_set(p, "appProtocol", app);
    json_array_append_new(out, p);
  }
  return out;
}

/* Canonical form of a port list for grouping and comparing (the API may drop the empty
 * name kube writes). */
static char *ports_key(const json_t *ports) {
  _cleanup_json_ json_t *canon = json_array();
  size_t i;
  json_t *p;
  json_array_foreach(ports, i, p) {
    const char *name = json_string_value(json_object_get(p, "name"));
    const char *proto = json_string_value(json_object_get(p, "protocol"));
    const char *app = json_string_value(json_object_get(p, "appProtocol"));
    json_array_append_new(canon, json_pack("[s,s,I,s]", name ? name : "", proto ? proto : "TCP",
                                           json_integer_value(json_object_get(p, "port")),
                                           app ? app : ""));
  }
  return json_dumps(canon, JSON_COMPACT);
}

static const char *endpoint_key(const json_t *ep) {
  const char *uid = json_path_str((json_t *)ep, "targetRef.uid");
  if (uid && *uid)
    return uid;
  return json_string_value(json_array_get(json_object_get(ep, "addresses"), 0)) ?: "";
}

static bool cond_is(const json_t *ep, const char *cond) {
  return json_is_true(json_object_get(json_object_get(ep, "conditions"), cond));
}

static bool endpoint_equal(const json_t *a, const json_t *b) {
  static const char *const strs[] = {"hostname", "nodeName", "zone", "targetRef.name",
                                     "targetRef.uid"};
  for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
    if (!streq_ptr(json_path_str((json_t *)a, strs[i]), json_path_str((json_t *)b, strs[i])))
      return false;
  static const char *const conds[] = {"ready", "serving", "terminating"};
  for (size_t i = 0; i < ARRAY_SIZE(conds); i++)
    if (cond_is(a, conds[i]) != cond_is(b, conds[i]))
      return false;
  return json_equal(json_object_get(a, "addresses"), json_object_get(b, "addresses"));
}

/* Endpoints sharing one port list. */
struct group {
  char *key;
  json_t *ports;
  json_t *endpoints;  /* desired, in pod order */
  struct hmap by_key; /* endpoint key → desired endpoint (borrowed from endpoints) */
  struct hmap placed; /* endpoint key → (void *)1 once placed in a slice */
};

static void free_group(void *p) {
  struct group *g = p;
  free(g->key);
  json_decref(g->ports);
  json_decref(g->endpoints);
  hmap_clear(&g->by_key, NULL);
  hmap_clear(&g->placed, NULL);
  free(g);
}

/* A slice being reconciled. */
struct slice_plan {
  json_t *obj;      /* existing (shared) or NULL for a new one */
  struct group *g;  /* NULL: obsolete */
  json_t *endpoints;
  bool changed;
};

static json_t *desired_labels(const json_t *svc) {
  json_t *labels = json_object();
  const char *k;
  json_t *v;
  json_object_foreach(json_path((json_t *)svc, "metadata.labels"), k, v) {
    if (streq(k, SERVICE_NAME_LABEL) || streq(k, MANAGED_BY_LABEL) || streq(k, HEADLESS_LABEL))
      continue;
    json_object_set(labels, k, v);
  }
  json_object_set_new(labels, SERVICE_NAME_LABEL,
                      json_string(json_path_str((json_t *)svc, "metadata.name")));
  json_object_set_new(labels, MANAGED_BY_LABEL, json_string(MANAGED_BY));
  if (ep_service_headless(svc))
    json_object_set_new(labels, HEADLESS_LABEL, json_string(""));
  return labels;
}

static json_t *new_slice(const json_t *svc, const json_t *labels, const json_t *ports) {
  const char *name = json_path_str((json_t *)svc, "metadata.name");
  _cleanup_free_ char *gen = xasprintf("%s-", name);
  json_t *slice = json_pack(
      "{s:s,s:s,s:{s:s,s:s,s:O,s:[{s:s,s:s,s:s,s:s,s:b,s:b}]},s:s,s:[]}", "apiVersion",
      "discovery.k8s.io/v1", "kind", "EndpointSlice", "metadata", "generateName", gen,
      "namespace", json_path_str((json_t *)svc, "metadata.namespace"), "labels", labels,
      "ownerReferences", "apiVersion", "v1", "kind", "Service", "name", name, "uid",
      json_path_str((json_t *)svc, "metadata.uid") ?: "", "controller", 1,
      "blockOwnerDeletion", 1, "addressType", "IPv4", "endpoints");
  if (ports && json_array_size(ports))
    json_object_set(slice, "ports", (json_t *)ports);
  return slice;
}

static int delete_slices_of(struct controller *c, const char *ns, json_t *slices) {
  int ret = 0;
  size_t i;
  json_t *sl;
  json_array_foreach(slices, i, sl) {
    _cleanup_free_ char *path = xasprintf("%s/namespaces/%s/endpointslices/%s", SLICES_PATH, ns,
                                          json_path_str(sl, "metadata.name"));
    _cleanup_free_ char *err = NULL;
    int r = controller_delete(c, path, NULL, &err);
    if (r < 0) {
      controller_log(c, "deleting %s: %s", path, err ? err : strerror(-r));
      ret = r;
    }
  }
  return ret;
}

/* The managed IPv4 slices of the Service (new array). */
static json_t *current_slices(struct eps_state *s, const char *ns, const char *name) {
  _cleanup_json_ json_t *all = informer_by_index(s->slices, "endpointslice-service-name", name);
  json_t *out = json_array();
  size_t i;
  json_t *sl;
  json_array_foreach(all, i, sl) {
    if (managed_by_us(sl) && streq_ptr(json_path_str(sl, "metadata.namespace"), ns) &&
        streq_ptr(json_string_value(json_object_get(sl, "addressType")), "IPv4"))
      json_array_append(out, sl);
  }
  return out;
}

static struct group *group_for(struct hmap *groups, json_t *ports) {
  _cleanup_free_ char *key = ports_key(ports);
  struct group *g = hmap_get(groups, key);
  if (!g) {
    g = xcalloc(1, sizeof(*g));
    g->key = xstrdup(key);
    g->ports = json_incref(ports);
    g->endpoints = json_array();
    hmap_put(groups, key, g);
  }
  return g;
}

static void plan_free(struct slice_plan *plans, size_t n) {
  for (size_t i = 0; i < n; i++)
    json_decref(plans[i].endpoints);
  free(plans);
}

static int eps_sync(struct controller *c, const char *key) {
  struct eps_state *s = state(c);
  _cleanup_free_ char *ns = NULL, *name = NULL;
  informer_split_key(key, &ns, &name);
  if (!ns || !name)
    return 0;
  _cleanup_json_ json_t *svc = informer_get(s->services, key);
  _cleanup_json_ json_t *existing = current_slices(s, ns, name);
  if (!svc) {
    /* The garbage collector would get there too; not waiting keeps readers honest. */
    controller_forget_expectations(c, key);
    return delete_slices_of(c, ns, existing);
  }
  if (!ep_service_has_selector(svc) ||
      streq_ptr(json_path_str(svc, "spec.type"), "ExternalName"))
    return 0;
  if (!controller_satisfied(c, key))
    return 0; /* the slice events still to come re-queue the Service */

  /* Desired endpoints, grouped by the port list they offer. */
  struct hmap groups = HMAP_INIT;
  size_t n_desired = 0;
  _cleanup_json_ json_t *pods = informer_list(s->pods, ns);
  size_t i;
  json_t *pod;
  json_array_foreach(pods, i, pod) {
    if (!ep_service_selects(svc, pod) || !ep_pod_in_endpoints(pod, true))
      continue;
    const char *ip = ep_pod_ipv4(pod);
    if (!ip)
      continue;
    _cleanup_json_ json_t *ports = pod_ports(pod, svc);
    if (json_array_size(ports) == 0 && json_array_size(json_path(svc, "spec.ports")) > 0)
      continue; /* no port of the Service resolves on this pod */
    struct group *g = group_for(&groups, ports);
    json_t *ep = pod_endpoint(s, pod, svc, ip);
    json_array_append_new(g->endpoints, ep);
    hmap_put(&g->by_key, endpoint_key(ep), ep);
    n_desired++;
  }
  _cleanup_json_ json_t *labels = desired_labels(svc);

  /* Existing slices keep the endpoints that still belong, updated in place. */
  size_t n_plans = json_array_size(existing), cap_plans = n_plans + 4;
  struct slice_plan *plans = xcalloc(cap_plans, sizeof(*plans));
  json_t *sl;
  json_array_foreach(existing, i, sl) {
    struct slice_plan *p = &plans[i];
    p->obj = sl;
    p->endpoints = json_array();
    _cleanup_free_ char *pk = ports_key(json_object_get(sl, "ports"));
    p->g = hmap_get(&groups, pk);
    if (!p->g)
      continue;
    if (!json_equal(json_path(sl, "metadata.labels"), labels))
      p->changed = true;
    size_t j;
    json_t *ep;
    json_array_foreach(json_object_get(sl, "endpoints"), j, ep) {
      const char *ek = endpoint_key(ep);
      json_t *want = hmap_contains(&p->g->placed, ek) ? NULL : hmap_get(&p->g->by_key, ek);
      if (!want || json_array_size(p->endpoints) >= MAX_ENDPOINTS_PER_SLICE) {
        p->changed = true;
        continue;
      }
      hmap_put(&p->g->placed, ek, (void *)1);
      if (!endpoint_equal(ep, want))
        p->changed = true;
      json_array_append(p->endpoints, want);
    }
  }

  /* Endpoints not placed yet go to slices being rewritten anyway, then to new slices. */
  const char *gk;
  void *gv;
  for (size_t it = 0; hmap_next(&groups, &it, &gk, &gv);) {
    struct group *g = gv;
    size_t k;
    json_t *d;
    json_array_foreach(g->endpoints, k, d) {
      if (hmap_contains(&g->placed, endpoint_key(d)))
        continue;
      struct slice_plan *target = NULL;
      for (size_t pi = 0; pi < n_plans && !target; pi++)
        if (plans[pi].g == g && plans[pi].changed &&
            json_array_size(plans[pi].endpoints) < MAX_ENDPOINTS_PER_SLICE)
          target = &plans[pi];
      for (size_t pi = 0; pi < n_plans && !target; pi++)
        if (plans[pi].g == g && plans[pi].obj &&
            json_array_size(plans[pi].endpoints) < MAX_ENDPOINTS_PER_SLICE)
          target = &plans[pi];
      if (!target) {
        plans = xgrow(plans, n_plans, &cap_plans, sizeof(*plans));
        target = &plans[n_plans++];
        *target = (struct slice_plan){.g = g, .endpoints = json_array(), .changed = true};
      }
      json_array_append(target->endpoints, d);
      target->changed = true;
    }
  }

  /* No endpoints at all: one empty placeholder slice, as kube keeps. */
  bool have_placeholder = false;
  if (n_desired == 0) {
    for (size_t pi = 0; pi < n_plans; pi++) {
      json_t *o = plans[pi].obj;
      if (o && !have_placeholder && json_array_size(json_object_get(o, "ports")) == 0 &&
          json_array_size(json_object_get(o, "endpoints")) == 0) {
        have_placeholder = true;
        plans[pi].g = (struct group *)-1; /* kept */
        plans[pi].changed = !json_equal(json_path(o, "metadata.labels"), labels);
      }
    }
  }

  int ret = 0, creates = 0, deletes = 0;
  for (size_t pi = 0; pi < n_plans; pi++) {
    if (!plans[pi].obj)
      creates++;
    else if (plans[pi].g != (struct group *)-1 &&
             (!plans[pi].g || json_array_size(plans[pi].endpoints) == 0))
      deletes++;
  }
  if (n_desired == 0 && !have_placeholder)
    creates++;
  controller_expect(c, key, creates, deletes);

  _cleanup_free_ char *coll = xasprintf("%s/namespaces/%s/endpointslices", SLICES_PATH, ns);
  /* Creates first, deletes last, so readers never see the Service with fewer endpoints
   * than it has. */
  if (n_desired == 0 && !have_placeholder) {
    _cleanup_json_ json_t *obj = new_slice(svc, labels, NULL);
    _cleanup_free_ char *err = NULL;
    int r = controller_create(c, coll, obj, NULL, &err);
    if (r < 0) {
      controller_observe_add(c, key);
      /* An API server that refuses an empty endpoints list cannot hold a placeholder:
       * retrying would not change its mind. */
      if (r != -EINVAL && !(err && strstr(err, "because it is being terminated")))
        ret = r;
    }
  }
  for (size_t pi = 0; pi < n_plans; pi++) {
    struct slice_plan *p = &plans[pi];
    if (p->obj || !p->g)
      continue;
    _cleanup_json_ json_t *obj = new_slice(svc, labels, p->g->ports);
    json_object_set(obj, "endpoints", p->endpoints);
    _cleanup_free_ char *err = NULL;
    int r = controller_create(c, coll, obj, NULL, &err);
    if (r < 0) {
      controller_observe_add(c, key);
      if (err && strstr(err, "because it is being terminated"))
        continue;
      controller_log(c, "creating a slice for %s: %s", key, err ? err : strerror(-r));
      event_record(controller_events(c), svc, "Service", "v1", "Warning",
                   "FailedToUpdateEndpointSlices", "Error updating Endpoint Slices for Service %s/%s: %s",
                   ns, name, err ? err : strerror(-r));
      ret = r;
    }
  }
  for (size_t pi = 0; pi < n_plans; pi++) {
    struct slice_plan *p = &plans[pi];
    if (!p->obj || !p->changed || !p->g ||
        (p->g != (struct group *)-1 && json_array_size(p->endpoints) == 0))
      continue;
    _cleanup_json_ json_t *obj = json_deep_copy(p->obj);
    json_object_set(json_object_get(obj, "metadata"), "labels", labels);
    if (p->g != (struct group *)-1)
      json_object_set(obj, "endpoints", p->endpoints);
    _cleanup_free_ char *path = xasprintf("%s/%s", coll, json_path_str(obj, "metadata.name"));
    _cleanup_free_ char *err = NULL;
    int r = controller_update(c, path, obj, NULL, &err);
    if (r < 0 && r != -ENOENT && r != -ESTALE)
      controller_log(c, "updating %s: %s", path, err ? err : strerror(-r));
    if (r < 0 && r != -ENOENT)
      ret = r;
  }
  for (size_t pi = 0; pi < n_plans; pi++) {
    struct slice_plan *p = &plans[pi];
    if (!p->obj || p->g == (struct group *)-1 || (p->g && json_array_size(p->endpoints) > 0))
      continue;
    _cleanup_free_ char *path = xasprintf("%s/%s", coll, json_path_str(p->obj, "metadata.name"));
    _cleanup_free_ char *err = NULL;
    int r = controller_delete(c, path, NULL, &err);
    if (r < 0) {
      controller_observe_del(c, key);
      ret = r;
    }
  }
  plan_free(plans, n_plans);
  hmap_clear(&groups, free_group);
  return ret;
}

static const struct controller_def endpointslice_def = {
    .name = "endpointslice",
    .component = "endpoint-slice-controller",
    .workers = 2,
    .setup = eps_setup,
    .sync = eps_sync,
    .teardown = eps_teardown,
};
CONTROLLER_REGISTER(endpointslice_def);
