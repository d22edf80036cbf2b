/* nodeipam — kube's node IPAM controller with the range allocator: every node gets one
 * pod range (spec.podCIDR and spec.podCIDRs) carved from --cluster-cidr, a /24 per node
 * as k3s configures it, and gives it back when the node is deleted.
 *
 * The allocation map lives only in memory and is rebuilt from the nodes' podCIDRs when
 * the controller starts (before any worker runs), so a restart never hands out a range
 * twice. Like kube's cidrset, the search for a free range starts after the last one given
 * out, so a range just released is not handed to the next node at once. Keys are node
 * names. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "controllers/controller.h"
#include "lib/hmap.h"

#define IPAM_NODE_MASK 24

struct ipam {
  struct informer *nodes;
  pthread_mutex_t lock;
  uint32_t base;     /* network address of the cluster CIDR */
  int node_bits;     /* prefix length of a node's range */
  size_t n;          /* how many node ranges the cluster CIDR holds */
  uint8_t *used;     /* one byte per range */
  size_t next;       /* where the next search starts */
  struct hmap owner; /* node name → range index + 1 (cast), for releases */
};

static struct ipam *ipam_of(struct controller *c) {
  return controller_state(c);
}

/* "a.b.c.d/p" → network address and prefix; -EINVAL otherwise. */
static int parse_cidr4(const char *s, uint32_t *ret_base, int *ret_prefix) {
  char ip[32];
  const char *slash = s ? strchr(s, '/') : NULL;
  if (!slash || (size_t)(slash - s) >= sizeof(ip))
    return -EINVAL;
  memcpy(ip, s, (size_t)(slash - s));
  ip[slash - s] = '\0';
  char *end;
  long p = strtol(slash + 1, &end, 10);
  struct in_addr a;
  if (*end || slash[1] == '\0' || p < 0 || p > 32 || inet_pton(AF_INET, ip, &a) != 1)
    return -EINVAL;
  uint32_t mask = p == 0 ? 0 : ~0u << (32 - p);
  *ret_base = ntohl(a.s_addr) & mask;
  *ret_prefix = (int)p;
  return 0;
}

static char *range_string(const struct ipam *s, size_t i) {
  uint32_t a = s->base + ((uint32_t)i << (32 - s->node_bits));
  return xasprintf("%u.%u.%u.%u/%d", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255,
                   s->node_bits);
}

/* The index of a node's range within the cluster CIDR, or -1 when it lies outside or has
 * another size. */
static long range_index(const struct ipam *s, const char *cidr) {
  uint32_t base;
  int prefix;
  if (parse_cidr4(cidr, &base, &prefix) < 0 || prefix != s->node_bits)
    return -1;
  uint32_t off = base - s->base;
  if (base < s->base || (off >> (32 - s->node_bits)) >= s->n)
    return -1;
  return (long)(off >> (32 - s->node_bits));
}

static void occupy(struct ipam *s, const char *node, long i) {
  s->used[i] = 1;
  hmap_put(&s->owner, node, (void *)(uintptr_t)(i + 1));
}

static void release(struct ipam *s, const char *node) {
  void *v = hmap_remove(&s->owner, node);
  if (v)
    s->used[(uintptr_t)v - 1] = 0;
}

static long allocate(struct ipam *s) {
  for (size_t k = 0; k < s->n; k++) {
    size_t i = (s->next + k) % s->n;
    if (!s->used[i]) {
      s->next = (i + 1) % s->n;
      return (long)i;
    }
  }
  return -1;
}

static int ipam_sync(struct controller *c, const char *key) {
  struct ipam *s = ipam_of(c);
  _cleanup_json_ json_t *node = informer_get(s->nodes, key);
  pthread_mutex_lock(&s->lock);
  if (!node) {
    release(s, key);
    pthread_mutex_unlock(&s->lock);
    return 0;
  }
  const char *cidr = json_path_str(node, "spec.podCIDR");
  if (cidr && *cidr) {
    long i = range_index(s, cidr);
    if (i >= 0 && !hmap_get(&s->owner, key))
      occupy(s, key, i);
    pthread_mutex_unlock(&s->lock);
    return 0;
  }
  /* An allocation not yet visible in the informer is reused, not doubled. */
  void *v = hmap_get(&s->owner, key);
  long i = v ? (long)((uintptr_t)v - 1) : allocate(s);
  if (i < 0) {
    pthread_mutex_unlock(&s->lock);
    event_record(controller_events(c), node, "Node", "v1", "Normal", "CIDRNotAvailable",
                 "Node %s status is now: CIDRNotAvailable", key);
    controller_log(c, "no pod range left in %s for node %s", controller_env(c)->cluster_cidr, key);
    return -ENOSPC;
  }
  if (!v)
    occupy(s, key, i);
  _cleanup_free_ char *range = range_string(s, (size_t)i);
  pthread_mutex_unlock(&s->lock);

  _cleanup_json_ json_t *patch =
      json_pack("{s:{s:s, s:[s]}}", "spec", "podCIDR", range, "podCIDRs", range);
  _cleanup_free_ char *path = xasprintf("/api/v1/nodes/%s", key);
  _cleanup_free_ char *err = NULL;
  int r = controller_patch(c, path, patch, false, NULL, &err);
  if (r == -ENOENT) {
    pthread_mutex_lock(&s->lock);
    release(s, key);
    pthread_mutex_unlock(&s->lock);
    return 0;
  }
  if (r < 0) {
    controller_log(c, "assigning %s to node %s: %s", range, key, err ? err : strerror(-r));
    pthread_mutex_lock(&s->lock);
    release(s, key);
    pthread_mutex_unlock(&s->lock);
    return r;
  }
  return 0;
}

static void ipam_started(struct controller *c) {
  struct ipam *s = ipam_of(c);
  _cleanup_json_ json_t *all = informer_list(s->nodes, NULL);
  size_t k;
  json_t *node;
  pthread_mutex_lock(&s->lock);
  json_array_foreach(all, k, node) {
    const char *name = json_path_str(node, "metadata.name");
    const char *cidr = json_path_str(node, "spec.podCIDR");
    long i = cidr ? range_index(s, cidr) : -1;
    if (name && i >= 0)
      occupy(s, name, i);
  }
  pthread_mutex_unlock(&s->lock);
}

static void on_node_add(void *ud, json_t *obj) {
  controller_enqueue_obj(ud, obj);
}
static void on_node_update(void *ud, json_t *old, json_t *obj) {
  /* Only nodes without a range, or whose range changed, need work. */
  if (json_path_str(obj, "spec.podCIDR") &&
      streq_ptr(json_path_str(old, "spec.podCIDR"), json_path_str(obj, "spec.podCIDR")))
    return;
  controller_enqueue_obj(ud, obj);
}
static void on_node_delete(void *ud, json_t *obj) {
  controller_enqueue_obj(ud, obj);
}

static void ipam_teardown(struct controller *c) {
  struct ipam *s = ipam_of(c);
  if (!s)
    return;
  hmap_clear(&s->owner, NULL);
  free(s->used);
  pthread_mutex_destroy(&s->lock);
  free(s);
  controller_set_state(c, NULL);
}

static int ipam_setup(struct controller *c) {
  const char *cidr = controller_env(c)->cluster_cidr;
  if (!cidr)
    cidr = "10.42.0.0/16";
  uint32_t base;
  int prefix;
  if (parse_cidr4(cidr, &base, &prefix) < 0) {
    controller_log(c, "invalid cluster CIDR %s (an IPv4 CIDR is needed)", cidr);
    return -EINVAL;
  }
  struct ipam *s = xcalloc(1, sizeof(*s));
  pthread_mutex_init(&s->lock, NULL);
  s->owner = (struct hmap)HMAP_INIT;
  s->base = base;
  /* A cluster CIDR smaller than a /24 is one node range. */
  s->node_bits = prefix > IPAM_NODE_MASK ? prefix : IPAM_NODE_MASK;
  s->n = (size_t)1 << (s->node_bits - prefix);
  s->used = xcalloc(s->n, 1);
  controller_set_state(c, s);
  s->nodes = controller_informer(c, "/api/v1/nodes");
  informer_add_handler(s->nodes, &(struct informer_handler){.on_add = on_node_add,
                                                            .on_update = on_node_update,
                                                            .on_delete = on_node_delete,
                                                            .userdata = c});
  return 0;
}

static const struct controller_def nodeipam_def = {
    .name = "nodeipam",
    .component = "cidrAllocator",
    .workers = 1,
    .setup = ipam_setup,
    .sync = ipam_sync,
    .teardown = ipam_teardown,
    .started = ipam_started,
};
CONTROLLER_REGISTER(nodeipam_def);
