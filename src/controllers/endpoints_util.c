/* The pod and subset rules of kube's endpoints machinery (pkg/api/v1/endpoints,
 * pkg/controller/util/endpoint), shared by the endpoints and endpointslice controllers. */
#include "controllers/endpoints_util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hmap.h"
#include "lib/macro.h"

static const char *str_at(const json_t *obj, const char *dotted) {
  return json_path_str((json_t *)obj, dotted);
}

bool ep_pod_ready(const json_t *pod) {
  size_t i;
  json_t *cond;
  json_array_foreach(json_path((json_t *)pod, "status.conditions"), i, cond) {
    if (streq_ptr(json_string_value(json_object_get(cond, "type")), "Ready"))
      return streq_ptr(json_string_value(json_object_get(cond, "status")), "True");
  }
  return false;
}

bool ep_pod_in_endpoints(const json_t *pod, bool include_terminating) {
  const char *phase = str_at(pod, "status.phase");
  if (streq_ptr(phase, "Succeeded") || streq_ptr(phase, "Failed"))
    return false;
  const char *ip = str_at(pod, "status.podIP");
  if ((!ip || !*ip) && json_array_size(json_path((json_t *)pod, "status.podIPs")) == 0)
    return false;
  if (!include_terminating && json_path((json_t *)pod, "metadata.deletionTimestamp"))
    return false;
  return true;
}

const char *ep_pod_ipv4(const json_t *pod) {
  size_t i;
  json_t *e;
  json_array_foreach(json_path((json_t *)pod, "status.podIPs"), i, e) {
    const char *ip = json_string_value(json_object_get(e, "ip"));
    if (ip && *ip && !strchr(ip, ':'))
      return ip;
  }
  const char *ip = str_at(pod, "status.podIP");
  if (ip && *ip && !strchr(ip, ':'))
    return ip;
  return NULL;
}

bool ep_service_has_selector(const json_t *svc) {
  return json_object_size(json_path((json_t *)svc, "spec.selector")) > 0;
}

bool ep_service_selects(const json_t *svc, const json_t *pod) {
  json_t *sel = json_path((json_t *)svc, "spec.selector");
  if (json_object_size(sel) == 0)
    return false;
  if (!streq_ptr(str_at(svc, "metadata.namespace"), str_at(pod, "metadata.namespace")))
    return false;
  json_t *labels = json_path((json_t *)pod, "metadata.labels");
  const char *k;
  json_t *v;
  json_object_foreach(sel, k, v) {
    const char *have = json_string_value(json_object_get(labels, k));
    if (!have || !streq_ptr(have, json_string_value(v)))
      return false;
  }
  return true;
}

bool ep_service_headless(const json_t *svc) {
  return streq_ptr(str_at(svc, "spec.clusterIP"), "None");
}

int ep_find_port(const json_t *pod, const json_t *service_port, int *ret_port) {
  json_t *target = json_object_get(service_port, "targetPort");
  if (json_is_string(target)) {
    const char *name = json_string_value(target);
    const char *proto = json_string_value(json_object_get(service_port, "protocol"));
    if (!proto)
      proto = "TCP";
    size_t i, j;
    json_t *ctr, *port;
    json_array_foreach(json_path((json_t *)pod, "spec.containers"), i, ctr) {
      json_array_foreach(json_object_get(ctr, "ports"), j, port) {
        const char *pproto = json_string_value(json_object_get(port, "protocol"));
        if (streq_ptr(json_string_value(json_object_get(port, "name")), name) &&
            streq(pproto ? pproto : "TCP", proto)) {
          *ret_port = (int)json_integer_value(json_object_get(port, "containerPort"));
          return 0;
        }
      }
    }
    return -ENOENT;
  }
  if (json_is_integer(target) && json_integer_value(target) > 0) {
    *ret_port = (int)json_integer_value(target);
    return 0;
  }
  *ret_port = (int)json_integer_value(json_object_get(service_port, "port"));
  return 0;
}

bool ep_should_set_hostname(const json_t *pod, const json_t *svc) {
  const char *hostname = str_at(pod, "spec.hostname");
  return hostname && *hostname &&
         streq_ptr(str_at(pod, "spec.subdomain"), str_at(svc, "metadata.name")) &&
         streq_ptr(str_at(pod, "metadata.namespace"), str_at(svc, "metadata.namespace"));
}

/* ---- repacking ---- */

struct addr_entry {
  const json_t *addr; /* borrowed from the input */
  char *key;          /* ip "\x1f" uid */
};

struct port_entry {
  json_t *port;           /* NULL for the "no ports" sentinel */
  struct hmap ready;      /* address key → (void *)1 ready, (void *)2 not ready */
  char *signature;        /* the sorted address set with readiness */
};

static char *addr_key(const json_t *addr) {
  const char *ip = json_string_value(json_object_get(addr, "ip"));
  const char *uid = json_string_value(json_path((json_t *)addr, "targetRef.uid"));
  return xasprintf("%s\x1f%s", ip ? ip : "", uid ? uid : "");
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Order of LessEndpointAddress: the IP text, then the target's uid (none first). */
static int cmp_addr(const void *a, const void *b) {
  const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
  int c = strcmp(json_string_value(json_object_get(x, "ip")) ?: "",
                 json_string_value(json_object_get(y, "ip")) ?: "");
  if (c)
    return c;
  const char *ux = json_string_value(json_path((json_t *)x, "targetRef.uid"));
  const char *uy = json_string_value(json_path((json_t *)y, "targetRef.uid"));
  if (!ux || !uy)
    return ux ? 1 : uy ? -1 : 0;
  return strcmp(ux, uy);
}

static int cmp_port(const void *a, const void *b) {
  const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
  int c = strcmp(json_string_value(json_object_get(x, "name")) ?: "",
                 json_string_value(json_object_get(y, "name")) ?: "");
  if (c)
    return c;
  json_int_t px = json_integer_value(json_object_get(x, "port"));
  json_int_t py = json_integer_value(json_object_get(y, "port"));
  if (px != py)
    return px < py ? -1 : 1;
  return strcmp(json_string_value(json_object_get(x, "protocol")) ?: "",
                json_string_value(json_object_get(y, "protocol")) ?: "");
}

static int cmp_subset(const void *a, const void *b) {
  const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
  const json_t *ax = json_array_get(json_object_get(x, "addresses"), 0);
  const json_t *ay = json_array_get(json_object_get(y, "addresses"), 0);
  if (!ax)
    ax = json_array_get(json_object_get(x, "notReadyAddresses"), 0);
  if (!ay)
    ay = json_array_get(json_object_get(y, "notReadyAddresses"), 0);
  if (ax && ay) {
    int c = cmp_addr(&ax, &ay);
    if (c)
      return c;
  } else if (ax || ay) {
    return ax ? -1 : 1;
  }
  const json_t *px = json_array_get(json_object_get(x, "ports"), 0);
  const json_t *py = json_array_get(json_object_get(y, "ports"), 0);
  if (px && py)
    return cmp_port(&px, &py);
  return px ? 1 : py ? -1 : 0;
}

/* Sorts a JSON array in place with a comparator over json_t pointers. */
static void sort_json_array(json_t *arr, int (*cmp)(const void *, const void *)) {
  size_t n = json_array_size(arr);
  if (n < 2)
    return;
  json_t **v = xmalloc(n * sizeof(*v));
  for (size_t i = 0; i < n; i++)
    v[i] = json_incref(json_array_get(arr, i));
  qsort(v, n, sizeof(*v), cmp);
  json_array_clear(arr);
  for (size_t i = 0; i < n; i++)
    json_array_append_new(arr, v[i]);
  free(v);
}

static void map_address(struct hmap *addrs, struct port_entry *pe, const json_t *addr,
                        bool ready) {
  char *key = addr_key(addr);
  struct addr_entry *ae = hmap_get(addrs, key);
  if (!ae) {
    ae = xmalloc(sizeof(*ae));
    ae->addr = addr;
    ae->key = xstrdup(key);
    hmap_put(addrs, key, ae);
  }
  void *prev = hmap_get(&pe->ready, key);
  if (!prev || prev == (void *)2)
    hmap_put(&pe->ready, key, ready ? (void *)1 : (void *)2);
  free(key);
}

static struct port_entry *port_entry_for(struct hmap *ports, const json_t *port) {
  _cleanup_free_ char *pk = port ? json_dumps(port, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
  const char *key = pk ? pk : "";
  struct port_entry *pe = hmap_get(ports, key);
  if (!pe) {
    pe = xcalloc(1, sizeof(*pe));
    pe->port = port ? json_deep_copy(port) : NULL;
    hmap_put(ports, key, pe);
  }
  return pe;
}

static void free_addr_entry(void *p) {
  struct addr_entry *ae = p;
  free(ae->key);
  free(ae);
}

static void free_port_entry(void *p) {
  struct port_entry *pe = p;
  json_decref(pe->port);
  hmap_clear(&pe->ready, NULL);
  free(pe->signature);
  free(pe);
}

static char *port_signature(struct port_entry *pe) {
  size_t n = hmap_len(&pe->ready), k = 0;
  const char **parts = xmalloc((n ? n : 1) * sizeof(*parts));
  char **owned = xmalloc((n ? n : 1) * sizeof(*owned));
  const char *key;
  void *v;
  for (size_t it = 0; hmap_next(&pe->ready, &it, &key, &v);) {
    owned[k] = xasprintf("%s=%d", key, v == (void *)1);
    parts[k] = owned[k];
    k++;
  }
  qsort(parts, k, sizeof(*parts), cmp_str);
  size_t len = 1;
  for (size_t i = 0; i < k; i++)
    len += strlen(parts[i]) + 1;
  char *sig = xmalloc(len);
  sig[0] = '\0';
  for (size_t i = 0; i < k; i++) {
    strcat(sig, parts[i]);
    strcat(sig, "\x1e");
  }
  for (size_t i = 0; i < k; i++)
    free(owned[i]);
  free(owned);
  free(parts);
  return sig;
}

json_t *ep_repack_subsets(const json_t *subsets) {
  struct hmap addrs = HMAP_INIT, ports = HMAP_INIT;
  size_t i;
  json_t *subset;
  json_array_foreach(subsets, i, subset) {
    json_t *sports = json_object_get(subset, "ports");
    size_t np = json_array_size(sports);
    for (size_t p = 0; p < (np ? np : 1); p++) {
      struct port_entry *pe = port_entry_for(&ports, np ? json_array_get(sports, p) : NULL);
      size_t j;
      json_t *a;
      json_array_foreach(json_object_get(subset, "addresses"), j, a)
          map_address(&addrs, pe, a, true);
      json_array_foreach(json_object_get(subset, "notReadyAddresses"), j, a)
          map_address(&addrs, pe, a, false);
    }
  }

  /* Group the ports by the exact set of addresses (and readiness) behind them. */
  struct hmap groups = HMAP_INIT; /* signature → json subset */
  json_t *out = json_array();
  const char *key;
  void *v;
  for (size_t it = 0; hmap_next(&ports, &it, &key, &v);) {
    struct port_entry *pe = v;
    pe->signature = port_signature(pe);
    json_t *sub = hmap_get(&groups, pe->signature);
    if (!sub) {
      sub = json_object();
      json_t *ready = json_array(), *not_ready = json_array();
      const char *akey;
      void *rv;
      for (size_t it2 = 0; hmap_next(&pe->ready, &it2, &akey, &rv);) {
        struct addr_entry *ae = hmap_get(&addrs, akey);
        json_array_append_new(rv == (void *)1 ? ready : not_ready, json_deep_copy(ae->addr));
      }
      sort_json_array(ready, cmp_addr);
      sort_json_array(not_ready, cmp_addr);
      if (json_array_size(ready))
        json_object_set(sub, "addresses", ready);
      if (json_array_size(not_ready))
        json_object_set(sub, "notReadyAddresses", not_ready);
      json_decref(ready);
      json_decref(not_ready);
      hmap_put(&groups, pe->signature, sub);
      json_array_append_new(out, sub);
    }
    if (pe->port)
      json_array_append(json_object_ensure_array(sub, "ports"), pe->port);
  }
  /* A subset with no addresses (a sentinel-only group of nothing) carries no meaning. */
  for (size_t k = json_array_size(out); k-- > 0;) {
    json_t *sub = json_array_get(out, k);
    if (!json_object_get(sub, "addresses") && !json_object_get(sub, "notReadyAddresses"))
      json_array_remove(out, k);
    else
      sort_json_array(json_object_get(sub, "ports"), cmp_port);
  }
  sort_json_array(out, cmp_subset);
  hmap_clear(&groups, NULL);
  hmap_clear(&ports, free_port_entry);
  hmap_clear(&addrs, free_addr_entry);
  return out;
}

static void keep_first(json_t *subset, const char *field, size_t n) {
  json_t *arr = json_object_get(subset, field);
  while (json_array_size(arr) > n)
    json_array_remove(arr, json_array_size(arr) - 1);
  if (arr && json_array_size(arr) == 0)
    json_object_del(subset, field);
}

bool ep_truncate_subsets(json_t *subsets, size_t max) {
  size_t total_ready = 0, total_not_ready = 0;
  size_t i;
  json_t *sub;
  json_array_foreach(subsets, i, sub) {
    total_ready += json_array_size(json_object_get(sub, "addresses"));
    total_not_ready += json_array_size(json_object_get(sub, "notReadyAddresses"));
  }
  if (total_ready + total_not_ready <= max)
    return false;
  /* Ready addresses are kept before not-ready ones; each subset keeps its share of the
   * room, rounded up, the last ones getting what is left. */
  bool truncate_ready = total_ready > max;
  size_t room = truncate_ready ? max : max - total_ready;
  size_t total = truncate_ready ? total_ready : total_not_ready;
  size_t left = room;
  json_array_foreach(subsets, i, sub) {
    const char *field = truncate_ready ? "addresses" : "notReadyAddresses";
    size_t in_subset = json_array_size(json_object_get(sub, field));
    size_t share = (size_t)ceil((double)in_subset / (double)total * (double)room);
    if (share > left)
      share = left;
    keep_first(sub, field, share);
    if (truncate_ready)
      json_object_del(sub, "notReadyAddresses");
    left -= json_array_size(json_object_get(sub, field));
  }
  return true;
}

static json_t *without_target_rv(const json_t *subsets) {
  json_t *copy = json_deep_copy(subsets);
  static const char *const fields[] = {"addresses", "notReadyAddresses"};
  size_t i, j;
  json_t *sub, *addr;
  json_array_foreach(copy, i, sub) {
    for (size_t f = 0; f < ARRAY_SIZE(fields); f++)
      json_array_foreach(json_object_get(sub, fields[f]), j, addr)
          json_object_del(json_object_get(addr, "targetRef"), "resourceVersion");
  }
  return copy;
}

bool ep_subsets_equal(const json_t *a, const json_t *b) {
  if (json_array_size(a) == 0 || json_array_size(b) == 0)
    return json_array_size(a) == json_array_size(b);
  _cleanup_json_ json_t *ca = without_target_rv(a);
  _cleanup_json_ json_t *cb = without_target_rv(b);
  return json_equal(ca, cb);
}

static bool same_json(const json_t *a, const json_t *b) {
  if (!a || !b)
    return a == b;
  return json_equal((json_t *)a, (json_t *)b);
}

bool ep_pod_endpoints_changed(const json_t *old, const json_t *pod, bool *ret_labels_changed) {
  json_t *o = (json_t *)old, *n = (json_t *)pod;
  *ret_labels_changed = !same_json(json_path(o, "metadata.labels"), json_path(n, "metadata.labels")) ||
                        !streq_ptr(str_at(old, "spec.hostname"), str_at(pod, "spec.hostname")) ||
                        !streq_ptr(str_at(old, "spec.subdomain"), str_at(pod, "spec.subdomain"));
  if (!streq_ptr(str_at(old, "metadata.deletionTimestamp"), str_at(pod, "metadata.deletionTimestamp")))
    return true;
  if (ep_pod_ready(old) != ep_pod_ready(pod))
    return true;
  if (!streq_ptr(str_at(old, "status.phase"), str_at(pod, "status.phase")))
    return true;
  if (!streq_ptr(str_at(old, "status.podIP"), str_at(pod, "status.podIP")) ||
      !same_json(json_path(o, "status.podIPs"), json_path(n, "status.podIPs")))
    return true;
  return !streq_ptr(str_at(old, "spec.nodeName"), str_at(pod, "spec.nodeName"));
}

void ep_enqueue_services_of(struct controller *c, struct informer *services, const json_t *pod) {
  const char *ns = json_path_str((json_t *)pod, "metadata.namespace");
  if (!ns)
    return;
  _cleanup_json_ json_t *svcs = informer_list(services, ns);
  size_t i;
  json_t *svc;
  json_array_foreach(svcs, i, svc) {
    if (ep_service_selects(svc, pod))
      controller_enqueue_obj(c, svc);
  }
}

void ep_enqueue_for_pod_update(struct controller *c, struct informer *services, const json_t *old,
                               const json_t *pod) {
  bool labels_changed;
  bool changed = ep_pod_endpoints_changed(old, pod, &labels_changed);
  if (!changed && !labels_changed)
    return;
  ep_enqueue_services_of(c, services, pod);
  if (labels_changed)
    ep_enqueue_services_of(c, services, old);
}
