/* sched_cycle — CPU cost of the scheduler's cycle per pod, in process, no API server.
 *
 * Builds a snapshot of hollow-like nodes (4 cpu, 16Gi, 110 pods, the kubelet's labels)
 * and schedules pods shaped like the ones `ckube bench scheduler` creates, as the API
 * server stores them (defaults and DefaultTolerationSeconds applied), through the real
 * framework: sched_cycle_new, sched_find_nodes and the driver's assume step. Prints the
 * thread CPU time per pod and a checksum of the placements and failure messages, so that
 * two builds can be compared for identical decisions (the tie-break seed is fixed). More
 * pods than the nodes hold exercise the unschedulable path.
 *
 *   make build/bench/sched_cycle
 *   build/bench/sched_cycle [NODES [PODS [RUNS [mixed]]]]     (defaults 5000 10000 1) */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/json.h"
#include "scheduler/framework.h"

static double thread_cpu_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static json_t *load(const char *text) {
  json_error_t err;
  json_t *v = json_loads(text, 0, &err);
  if (!v) {
    fprintf(stderr, "sched_cycle: bad JSON: %s\n", err.text);
    exit(1);
  }
  return v;
}

/* What a hollow node posts: labels, annotations, capacity = allocatable, conditions. With
 * `mixed`, some nodes are cordoned or tainted, to compare those paths between builds. */
static json_t *make_node(size_t i, bool mixed) {
  const char *spec_extra = "";
  if (mixed && i % 7 == 3)
    spec_extra = ",\"unschedulable\":true";
  else if (mixed && i % 11 == 5)
    spec_extra = ",\"taints\":[{\"key\":\"soft\",\"effect\":\"PreferNoSchedule\"}]";
  else if (mixed && i % 13 == 6)
    spec_extra = ",\"taints\":[{\"key\":\"gpu\",\"value\":\"x\",\"effect\":\"NoSchedule\"}]";
  char name[64];
  snprintf(name, sizeof(name), "hollow-%05zu", i);
  _cleanup_free_ char *text = xasprintf(
      "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\","
      "\"uid\":\"00000000-0000-0000-0000-%012zu\",\"resourceVersion\":\"%zu\","
      "\"creationTimestamp\":\"2025-01-01T00:00:00Z\","
      "\"labels\":{\"beta.kubernetes.io/arch\":\"amd64\",\"beta.kubernetes.io/os\":\"linux\","
      "\"kubernetes.io/arch\":\"amd64\",\"kubernetes.io/hostname\":\"%s\","
      "\"kubernetes.io/os\":\"linux\"},"
      "\"annotations\":{\"node.alpha.kubernetes.io/ttl\":\"0\","
      "\"volumes.kubernetes.io/controller-managed-attach-detach\":\"true\"}},"
      "\"spec\":{\"podCIDR\":\"10.%zu.%zu.0/24\"%s},"
      "\"status\":{\"capacity\":{\"cpu\":\"4\",\"ephemeral-storage\":\"100Gi\","
      "\"hugepages-1Gi\":\"0\",\"hugepages-2Mi\":\"0\",\"memory\":\"16Gi\",\"pods\":\"110\"},"
      "\"allocatable\":{\"cpu\":\"4\",\"ephemeral-storage\":\"100Gi\",\"hugepages-1Gi\":\"0\","
      "\"hugepages-2Mi\":\"0\",\"memory\":\"16Gi\",\"pods\":\"110\"},"
      "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\","
      "\"message\":\"kubelet is posting ready status\","
      "\"lastHeartbeatTime\":\"2025-01-01T00:00:00Z\","
      "\"lastTransitionTime\":\"2025-01-01T00:00:00Z\"}],"
      "\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.%zu.%zu.1\"},"
      "{\"type\":\"Hostname\",\"address\":\"%s\"}]}}",
      name, i, i + 1, name, 64 + i / 256, i % 256, spec_extra, 64 + i / 256, i % 256, name);
  return load(text);
}

/* `ckube bench scheduler`'s pod after defaulting and admission. */
static json_t *make_pod(size_t i) {
  _cleanup_free_ char *text = xasprintf(
      "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p-%zu\","
      "\"namespace\":\"ckube-bench\",\"uid\":\"10000000-0000-0000-0000-%012zu\","
      "\"resourceVersion\":\"%zu\",\"creationTimestamp\":\"2025-01-01T00:00:00Z\","
      "\"labels\":{\"app\":\"bench\"}},"
      "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\","
      "\"resources\":{\"requests\":{\"cpu\":\"10m\",\"memory\":\"10Mi\"}},"
      "\"terminationMessagePath\":\"/dev/termination-log\","
      "\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":\"Always\"}],"
      "\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,"
      "\"dnsPolicy\":\"ClusterFirst\",\"serviceAccountName\":\"default\","
      "\"serviceAccount\":\"default\",\"securityContext\":{},"
      "\"schedulerName\":\"default-scheduler\","
      "\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\","
      "\"effect\":\"NoExecute\",\"tolerationSeconds\":300},"
      "{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
      "\"effect\":\"NoExecute\",\"tolerationSeconds\":300}],"
      "\"priority\":0,\"enableServiceLinks\":true,"
      "\"preemptionPolicy\":\"PreemptLowerPriority\"},"
      "\"status\":{\"phase\":\"Pending\",\"qosClass\":\"Burstable\"}}",
      i, i, 100000 + i);
  return load(text);
}

static uint64_t fnv(uint64_t h, const char *s) {
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return (h ^ 0xff) * 1099511628211ull;
}

/* Per-phase timing costs a clock_gettime system call per phase and pod, so it is opt-in
 * (SCHED_CYCLE_PHASES=1); the total is measured without it. */
static int run(size_t n_nodes, size_t n_pods, bool phases, bool mixed) {
  _cleanup_(sched_snapshot_freep) struct sched_snapshot *s = sched_snapshot_new();
  s->rand_state = 0x2545f4914f6cdd1dULL;
  for (size_t i = 0; i < n_nodes; i++) {
    _cleanup_json_ json_t *node = make_node(i, mixed);
    if (sched_snapshot_set_node(s, node) < 0)
      return -EINVAL;
  }
  json_t **pods = xcalloc(n_pods, sizeof(*pods));
  for (size_t i = 0; i < n_pods; i++)
    pods[i] = make_pod(i);

  double t_cycle = 0, t_find = 0, t_assume = 0, t_free = 0;
  size_t failed = 0;
  uint64_t sum = 1469598103934665603ull;
  double t0 = thread_cpu_us();
  for (size_t i = 0; i < n_pods; i++) {
    double a = phases ? thread_cpu_us() : 0;
    struct sched_cycle *c = sched_cycle_new(s, pods[i], NULL);
    double b = phases ? thread_cpu_us() : 0;
    struct sched_result res = {0};
    int r = sched_find_nodes(s, c, &res);
    double d = phases ? thread_cpu_us() : 0;
    if (r == 0) {
      /* The driver's assume: the pod counts on its node before the binding is written. */
      sched_snapshot_assume(s, c, res.node_name);
      sum = fnv(sum, res.node_name);
    } else {
      /* The FailedScheduling message counts in the checksum as well. */
      failed++;
      _cleanup_free_ char *msg = sched_format_fit_error(&res.diag, NULL);
      sum = fnv(sum, msg);
    }
    double e = phases ? thread_cpu_us() : 0;
    sched_result_clear(&res);
    sched_cycle_free(c);
    double f = phases ? thread_cpu_us() : 0;
    t_cycle += b - a;
    t_find += d - b;
    t_assume += e - d;
    t_free += f - e;
  }
  double total = thread_cpu_us() - t0;
  printf("%zu pods on %zu nodes: %.1f us CPU/pod", n_pods, n_nodes, total / (double)n_pods);
  if (phases)
    printf(" (cycle_new %.1f, find_nodes %.1f, assume %.1f, free %.1f; timing included)",
           t_cycle / (double)n_pods, t_find / (double)n_pods, t_assume / (double)n_pods,
           t_free / (double)n_pods);
  printf("; unschedulable %zu; placements %016" PRIx64 "\n", failed, sum);
  for (size_t i = 0; i < n_pods; i++)
    json_decref(pods[i]);
  free(pods);
  return 0;
}

int main(int argc, char **argv) {
  size_t n_nodes = argc > 1 ? strtoul(argv[1], NULL, 10) : 5000;
  size_t n_pods = argc > 2 ? strtoul(argv[2], NULL, 10) : 10000;
  int runs = argc > 3 ? atoi(argv[3]) : 1;
  bool mixed = argc > 4 && streq(argv[4], "mixed");
  if (!n_nodes || !n_pods || runs < 1) {
    fprintf(stderr, "usage: sched_cycle [NODES [PODS [RUNS [mixed]]]]\n");
    return 2;
  }
  const char *ph = getenv("SCHED_CYCLE_PHASES");
  bool phases = ph && *ph && !streq(ph, "0");
  for (int i = 0; i < runs; i++)
    if (run(n_nodes, n_pods, phases, mixed) < 0)
      return 1;
  return 0;
}
