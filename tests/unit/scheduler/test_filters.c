#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sched_helpers.h"

/* Runs one filter for pod (reference consumed) on node `name` and checks the verdict. */
static void expect(sched_filter_fn fn, struct sched_snapshot *s, json_t *pod, const char *name,
                   enum sched_code code, const char *reasons) {
  struct sched_cycle *c = sched_cycle_new(s, pod, NULL);
  json_decref(pod);
  struct sched_node_info *ni = sched_snapshot_get_node(s, name);
  assert_non_null(ni);
  struct sched_status st = {0};
  enum sched_code got = fn(c, ni, &st);
  char joined[1024] = "";
  for (size_t i = 0; i < st.n_reasons; i++) {
    if (i)
      strcat(joined, "|");
    strcat(joined, st.reasons[i]);
  }
  if (got != code || !streq(joined, reasons ? reasons : ""))
    fail_msg("node %s: got %d '%s', want %d '%s'", name, got, joined, code, reasons ? reasons : "");
  sched_status_clear(&st);
  sched_cycle_free(c);
}

#define OK SCHED_SUCCESS
#define UNS SCHED_UNSCHEDULABLE
#define UNR SCHED_UNSCHEDULABLE_UNRESOLVABLE

static void test_node_name(void **state) {
  struct sched_snapshot *s = sched_snapshot_new();
  add_node(s, make_node("a", "1", "1Gi", "10", NULL, NULL));
  add_node(s, make_node("b", "1", "1Gi", "10", NULL, NULL));
  json_t *p = make_pod("default", "p", NULL, NULL, NULL, "{'nodeName':'a'}");
  expect(sched_filter_node_name, s, json_incref(p), "a", OK, NULL);
  expect(sched_filter_node_name, s, p, "b", UNR, "node(s) didn't match the requested node name");
  sched_snapshot_free(s);
}

static void test_node_unschedulable(void **state) {
  struct sched_snapshot *s = sched_snapshot_new();
  add_node(s, make_node("a", "1", "1Gi", "10", NULL, "{'unschedulable':true}"));
  add_node(s, make_node("b", "1", "1Gi", "10", NULL, "{'unschedulable':false}"));
  expect(sched_filter_node_unschedulable, s, make_pod("d", "p", NULL, NULL, NULL, NULL), "a", UNR,
         "node(s) were unschedulable");
  expect(sched_filter_node_unschedulable, s, make_pod("d", "p", NULL, NULL, NULL, NULL), "b", OK,
         NULL);
  expect(sched_filter_node_unschedulable, s,
         make_pod("d", "p", NULL, NULL, NULL,
                  "{'tolerations':[{'key':'node.kubernetes.io/unschedulable','operator':'Exists',"
                  "'effect':'NoSchedule'}]}"),
         "a", OK, NULL);
  sched_snapshot_free(s);
}

static void test_taint_toleration(void **state) {
  struct sched_snapshot *s = sched_snapshot_new();
  add_node(s, make_node("cp", "1", "1Gi", "10", NULL,
                        "{'taints':[{'key':'node-role.kubernetes.io/control-plane',"
                        "'effect':'NoSchedule'}]}"));
  add_node(s, make_node("gpu", "1", "1Gi", "10", NULL,
                        "{'taints':[{'key':'soft','value':'x','effect':'PreferNoSchedule'},"
                        "{'key':'gpu','value':'true','effect':'NoExecute'}]}"));
  add_node(s, make_node("soft", "1", "1Gi", "10", NULL,
                        "{'taints':[{'key':'soft','value':'x','effect':'PreferNoSchedule'}]}"));
  expect(sched_filter_taint_toleration, s, make_pod("d", "p", NULL, NULL, NULL, NULL), "cp", UNR,
         "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }");
  expect(sched_filter_taint_toleration, s, make_pod("d", "p", NULL, NULL, NULL, NULL), "gpu", UNR,
         "node(s) had untolerated taint {gpu: true}");
  expect(sched_filter_taint_toleration, s, make_pod("d", "p", NULL, NULL, NULL, NULL), "soft", OK,
         NULL);
  /* Equal needs the value; Exists does not; an empty key with Exists tolerates all. */
  expect(sched_filter_taint_toleration, s,
         make_pod("d", "p", NULL, NULL, NULL,
                  "{'tolerations':[{'key':'gpu','operator':'Equal','value':'false'}]}"),
         "gpu", UNR, "node(s) had untolerated taint {gpu: true}");
  expect(sched_filter_taint_toleration, s,
         make_pod("d", "p", NULL, NULL, NULL, "{'tolerations':[{'key':'gpu','value':'true'}]}"),
         "gpu", OK, NULL);
  expect(sched_filter_taint_toleration, s,
         make_pod("d", "p", NULL, NULL, NULL,
                  "{'tolerations':[{'key':'gpu','operator':'Exists','effect':'NoSchedule'}]}"),
         "gpu", UNR, "node(s) had untolerated taint {gpu: true}");
  expect(sched_filter_taint_toleration, s,
         make_pod("d", "p", NULL, NULL, NULL, "{'tolerations':[{'operator':'Exists'}]}"), "cp", OK,
         NULL);
  expect(sched_filter_taint_toleration, s,
         make_pod("d", "p", NULL, NULL, NULL,
                  "{'tolerations':[{'key':'node-role.kubernetes.io/control-plane',"
                  "'operator':'Exists','effect':'NoSchedule'}]}"),
         "cp", OK, NULL);
  sched_snapshot_free(s);
}

static void test_resources_fit(void **state) {
  struct sched_snapshot *s = sched_snapshot_new();
  json_t *n = make_node("a", "2", "4Gi", "3", NULL, NULL);
  json_object_set_new(json_path(n, "status.allocatable"), "ephemeral-storage", json_string("10Gi"));
  json_object_set_new(json_path(n, "status.allocatable"), "example.com/gpu", json_string("2"));
  add_node(s, n);
  bind_pod(s, make_pod("d", "x", "1500m", "1Gi", NULL, NULL), "a");
  expect(sched_filter_node_resources_fit, s, make_pod("d", "p", "500m", "3Gi", NULL, NULL), "a", OK,
         NULL);
  expect(sched_filter_node_resources_fit, s, make_pod("d", "p", "501m", "3Gi", NULL, NULL), "a",
         UNS, "Insufficient cpu");
  expect(sched_filter_node_resources_fit, s, make_pod("d", "p", "1", "4Gi", NULL, NULL), "a", UNS,
         "Insufficient cpu|Insufficient memory");
  /* Pods with no requests only count against the pod limit. */
  expect(sched_filter_node_resources_fit, s, make_pod("d", "p", NULL, NULL, NULL, NULL), "a", OK,
         NULL);
  json_t *big = make_pod("d", "p", NULL, NULL, NULL, NULL);
  json_object_set_new(
      json_path(json_array_get(json_path(big, "spec.containers"), 0), "resources.requests"),
      "ephemeral-storage", json_string("11Gi"));
  json_object_set_new(
      json_path(json_array_get(json_path(big, "spec.containers"), 0), "resources.requests"),
      "example.com/gpu", json_string("3"));
  expect(sched_filter_node_resources_fit, s, big, "a", UNS,
         "Insufficient ephemeral-storage|Insufficient example.com/gpu");
  /* An init container larger than the app containers sets the request; overhead adds. */
  expect(sched_filter_node_resources_fit, s,
         make_pod("d", "p", "100m", NULL, NULL,
                  "{'initContainers':[{'name':'i','resources':{'requests':{'cpu':'600m'}}}]}"),
         "a", UNS, "Insufficient cpu");
  expect(sched_filter_node_resources_fit, s,
         make_pod("d", "p", "400m", NULL, NULL, "{'overhead':{'cpu':'200m'}}"), "a", UNS,
         "Insufficient cpu");
  bind_pod(s, make_pod("d", "y", NULL, NULL, NULL, NULL), "a");
  expect(sched_filter_node_resources_fit, s, make_pod("d", "p", NULL, NULL, NULL, NULL), "a", OK,
         NULL);
  bind_pod(s, make_pod("d", "z", NULL, NULL, NULL, NULL), "a");
  expect(sched_filter_node_resources_fit, s, make_pod("d", "p", "3", NULL, NULL, NULL), "a", UNS,
         "Too many pods|Insufficient cpu");
  sched_snapshot_free(s);
}

static void test_pod_requests(void **state) {
  /* max(sum(containers) + sidecars, each init container + earlier sidecars) + overhead. */
  json_t *pod = J("{'metadata':{'name':'p','namespace':'d'},'spec':{"
                  "'initContainers':["
                  "{'name':'s','restartPolicy':'Always','resources':{'requests':{'cpu':'100m'}}},"
                  "{'name':'i','resources':{'requests':{'cpu':'2','memory':'1Gi'}}}],"
                  "'containers':[{'name':'a','resources':{'requests':{'cpu':'500m'}}},"
                  "{'name':'b','resources':{'requests':{'memory':'100Mi'}}}],"
                  "'overhead':{'cpu':'10m'}}}");
  struct sched_pod_info *pi = sched_pod_info_new(pod);
  assert_int_equal(pi->request.milli_cpu, 2110);
  assert_int_equal(pi->request.memory, 1024LL * 1024 * 1024);
  /* Non-zero defaults apply per container lacking a request. */
  assert_int_equal(pi->nonzero_cpu, 2110);
  assert_int_equal(pi->nonzero_memory, (1024LL + 200) * 1024 * 1024);
  sched_pod_info_free(pi);
  json_decref(pod);
  pod = make_pod("d", "q", NULL, NULL, NULL, NULL);
  pi = sched_pod_info_new(pod);
  assert_int_equal(pi->request.milli_cpu, 0);
  assert_int_equal(pi->nonzero_cpu, 100);
  assert_int_equal(pi->nonzero_memory, 200LL * 1024 * 1024);
  sched_pod_info_free(pi);
  json_decref(pod);
}

static void test_node_ports(void **state) {
  struct sched_snapshot *s = sched_snapshot_new();
  add_node(s, make_node("a", "1", "1Gi", "10", NULL, NULL));
  bind_pod(s,
           make_pod("d", "x", NULL, NULL, NULL,
                    "{'containers':[{'name':'c','ports':[{'containerPort':80,'hostPort':8080,"
                    "'hostIP':'10.0.0.1'}]}]}"),
           "a");
  const char *fmt = "{'containers':[{'name':'c','ports':[{'containerPort':1,'hostPort':%d,"
                    "'hostIP':'%s','protocol':'%s'}]}]}";
  struct {
    int port;
    const char *ip, *proto;
    bool ok;
  } cases[] = {
      {8080, "10.0.0.1", "TCP", false}, {8080, "0.0.0.0", "TCP", false},
      {8080, "10.0.0.2", "TCP", true},  {8080, "10.0.0.1", "UDP", true},
      {8081, "10.0.0.1", "TCP", true},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    _cleanup_free_ char *spec = xasprintf(fmt, cases[i].port, cases[i].ip, cases[i].proto);
    expect(sched_filter_node_ports, s, make_pod("d", "p", NULL, NULL, NULL, spec), "a",
           cases[i].ok ? OK : UNS,
           cases[i].ok ? NULL : "node(s) didn't have free ports for the requested pod ports");
  }
  /* Removing the pod frees its port. */
  assert_int_equal(sched_snapshot_remove_pod(s, "d/x"), 0);
  _cleanup_free_ char *spec = xasprintf(fmt, 8080, "0.0.0.0", "TCP");
  expect(sched_filter_node_ports, s, make_pod("d", "p", NULL, NULL, NULL, spec), "a", OK, NULL);
  sched_snapshot_free(s);
}

static void test_node_affinity(void **state) {
  struct sched_snapshot *s = sched_snapshot_new();
  add_node(s, make_node("a", "1", "1Gi", "10", "{'zone':'z1','disk':'ssd','cores':'8'}", NULL));
  add_node(s, make_node("b", "1", "1Gi", "10", "{'zone':'z2','cores':'2'}", NULL));
  const char *msg = "node(s) didn't match Pod's node affinity/selector";
  expect(sched_filter_node_affinity, s,
         make_pod("d", "p", NULL, NULL, NULL, "{'nodeSelector':{'disk':'ssd'}}"), "a", OK, NULL);
  expect(sched_filter_node_affinity, s,
         make_pod("d", "p", NULL, NULL, NULL, "{'nodeSelector':{'disk':'ssd'}}"), "b", UNR, msg);
  struct {
    const char *expr;
    bool a, b;
  } cases[] = {
      {"{'key':'zone','operator':'In','values':['z1','z3']}", true, false},
      {"{'key':'zone','operator':'NotIn','values':['z1']}", false, true},
      {"{'key':'disk','operator':'NotIn','values':['hdd']}", true, true},
      {"{'key':'disk','operator':'Exists'}", true, false},
      {"{'key':'disk','operator':'DoesNotExist'}", false, true},
      {"{'key':'cores','operator':'Gt','values':['4']}", true, false},
      {"{'key':'cores','operator':'Lt','values':['4']}", false, true},
      {"{'key':'zone','operator':'Gt','values':['4']}", false, false},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    _cleanup_free_ char *spec =
        xasprintf("{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':"
                  "{'nodeSelectorTerms':[{'matchExpressions':[%s]}]}}}}",
                  cases[i].expr);
    expect(sched_filter_node_affinity, s, make_pod("d", "p", NULL, NULL, NULL, spec), "a",
           cases[i].a ? OK : UNR, cases[i].a ? NULL : msg);
    expect(sched_filter_node_affinity, s, make_pod("d", "p", NULL, NULL, NULL, spec), "b",
           cases[i].b ? OK : UNR, cases[i].b ? NULL : msg);
  }
  /* Terms are ORed; matchFields selects by name; an empty term selects nothing. */
  const char *fields = "{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuring"
                       "Execution':{'nodeSelectorTerms':[{'matchFields':[{'key':'metadata.name',"
                       "'operator':'In','values':['b']}]},{'matchExpressions':[{'key':'zone',"
                       "'operator':'In','values':['none']}]}]}}}}";
  expect(sched_filter_node_affinity, s, make_pod("d", "p", NULL, NULL, NULL, fields), "a", UNR,
         msg);
  expect(sched_filter_node_affinity, s, make_pod("d", "p", NULL, NULL, NULL, fields), "b", OK,
         NULL);
  const char *empty = "{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuring"
                      "Execution':{'nodeSelectorTerms':[{}]}}}}";
  expect(sched_filter_node_affinity, s, make_pod("d", "p", NULL, NULL, NULL, empty), "a", UNR, msg);
  sched_snapshot_free(s);
}

static const char *anti_spec(const char *kind, const char *app, const char *key) {
  static char buf[512];
  snprintf(buf, sizeof(buf),
           "{'affinity':{'%s':{'requiredDuringSchedulingIgnoredDuringExecution':["
           "{'labelSelector':{'matchLabels':{'app':'%s'}},'topologyKey':'%s'}]}}}",
           kind, app, key);
  return buf;
}

static void test_inter_pod_affinity(void **state) {
  struct sched_snapshot *s = sched_snapshot_new();
  add_node(s,
           make_node("a1", "1", "1Gi", "10", "{'zone':'a','kubernetes.io/hostname':'a1'}", NULL));
  add_node(s,
           make_node("a2", "1", "1Gi", "10", "{'zone':'a','kubernetes.io/hostname':'a2'}", NULL));
  add_node(s,
           make_node("b1", "1", "1Gi", "10", "{'zone':'b','kubernetes.io/hostname':'b1'}", NULL));
  add_node(s, make_node("nz", "1", "1Gi", "10", "{'kubernetes.io/hostname':'nz'}", NULL));
  bind_pod(s, make_pod("d", "db", NULL, NULL, "{'app':'db'}", NULL), "a1");

  /* Affinity to app=db in the same zone. */
  const char *aff = "node(s) didn't match pod affinity rules";
  expect(sched_filter_inter_pod_affinity, s,
         make_pod("d", "web", NULL, NULL, "{'app':'web'}", anti_spec("podAffinity", "db", "zone")),
         "a2", OK, NULL);
  expect(sched_filter_inter_pod_affinity, s,
         make_pod("d", "web", NULL, NULL, "{'app':'web'}", anti_spec("podAffinity", "db", "zone")),
         "b1", UNR, aff);
  expect(sched_filter_inter_pod_affinity, s,
         make_pod("d", "web", NULL, NULL, "{'app':'web'}", anti_spec("podAffinity", "db", "zone")),
         "nz", UNR, aff);
  /* Another namespace's db does not count. */
  expect(sched_filter_inter_pod_affinity, s,
         make_pod("o", "web", NULL, NULL, "{'app':'web'}", anti_spec("podAffinity", "db", "zone")),
         "a2", UNR, aff);
  /* The first pod of a self-selecting group goes anywhere the topology key exists. */
  expect(
      sched_filter_inter_pod_affinity, s,
      make_pod("d", "c", NULL, NULL, "{'app':'cache'}", anti_spec("podAffinity", "cache", "zone")),
      "b1", OK, NULL);
  expect(
      sched_filter_inter_pod_affinity, s,
      make_pod("d", "c", NULL, NULL, "{'app':'cache'}", anti_spec("podAffinity", "cache", "zone")),
      "nz", UNR, aff);

  /* Anti-affinity of the incoming pod. */
  const char *anti = "node(s) didn't match pod anti-affinity rules";
  expect(sched_filter_inter_pod_affinity, s,
         make_pod("d", "w", NULL, NULL, NULL, anti_spec("podAntiAffinity", "db", "zone")), "a2",
         UNS, anti);
  expect(sched_filter_inter_pod_affinity, s,
         make_pod("d", "w", NULL, NULL, NULL, anti_spec("podAntiAffinity", "db", "zone")), "b1", OK,
         NULL);
  expect(sched_filter_inter_pod_affinity, s,
         make_pod("d", "w", NULL, NULL, NULL,
                  anti_spec("podAntiAffinity", "db", "kubernetes.io/hostname")),
         "a2", OK, NULL);

  /* Existing pods' anti-affinity against the incoming pod. */
  bind_pod(s,
           make_pod("d", "lonely", NULL, NULL, "{'app':'lonely'}",
                    anti_spec("podAntiAffinity", "web", "zone")),
           "b1");
  expect(sched_filter_inter_pod_affinity, s,
         make_pod("d", "web", NULL, NULL, "{'app':'web'}", NULL), "b1", UNS,
         "node(s) didn't satisfy existing pods anti-affinity rules");
  expect(sched_filter_inter_pod_affinity, s,
         make_pod("d", "web", NULL, NULL, "{'app':'web'}", NULL), "a1", OK, NULL);
  assert_int_equal(sched_snapshot_remove_pod(s, "d/lonely"), 0);
  expect(sched_filter_inter_pod_affinity, s,
         make_pod("d", "web", NULL, NULL, "{'app':'web'}", NULL), "b1", OK, NULL);
  sched_snapshot_free(s);
}

static const char *spread_spec(int skew, const char *key, const char *extra) {
  static char buf[512];
  snprintf(buf, sizeof(buf),
           "{'topologySpreadConstraints':[{'maxSkew':%d,'topologyKey':'%s',"
           "'whenUnsatisfiable':'DoNotSchedule','labelSelector':{'matchLabels':{'app':'w'}}%s}]}",
           skew, key, extra ? extra : "");
  return buf;
}

static void test_topology_spread(void **state) {
  struct sched_snapshot *s = sched_snapshot_new();
  add_node(s, make_node("a1", "1", "1Gi", "10", "{'zone':'a'}", NULL));
  add_node(s, make_node("a2", "1", "1Gi", "10", "{'zone':'a'}", NULL));
  add_node(s, make_node("b1", "1", "1Gi", "10", "{'zone':'b'}", NULL));
  add_node(s, make_node("nz", "1", "1Gi", "10", NULL, NULL));
  bind_pod(s, make_pod("d", "w1", NULL, NULL, "{'app':'w'}", NULL), "a1");
  const char *msg = "node(s) didn't match pod topology spread constraints";
  /* zone a has 1, zone b has 0: another in a gives skew 2. */
  expect(sched_filter_pod_topology_spread, s,
         make_pod("d", "p", NULL, NULL, "{'app':'w'}", spread_spec(1, "zone", NULL)), "a2", UNS,
         msg);
  expect(sched_filter_pod_topology_spread, s,
         make_pod("d", "p", NULL, NULL, "{'app':'w'}", spread_spec(1, "zone", NULL)), "b1", OK,
         NULL);
  expect(sched_filter_pod_topology_spread, s,
         make_pod("d", "p", NULL, NULL, "{'app':'w'}", spread_spec(2, "zone", NULL)), "a2", OK,
         NULL);
  expect(sched_filter_pod_topology_spread, s,
         make_pod("d", "p", NULL, NULL, "{'app':'w'}", spread_spec(1, "zone", NULL)), "nz", UNR,
         "node(s) didn't match pod topology spread constraints (missing required label)");
  /* A pod the selector does not select adds no skew of its own. */
  expect(sched_filter_pod_topology_spread, s,
         make_pod("d", "p", NULL, NULL, "{'app':'other'}", spread_spec(1, "zone", NULL)), "a2", OK,
         NULL);
  /* minDomains above the domain count makes the global minimum 0. */
  bind_pod(s, make_pod("d", "w2", NULL, NULL, "{'app':'w'}", NULL), "b1");
  expect(sched_filter_pod_topology_spread, s,
         make_pod("d", "p", NULL, NULL, "{'app':'w'}", spread_spec(1, "zone", NULL)), "a2", OK,
         NULL);
  expect(sched_filter_pod_topology_spread, s,
         make_pod("d", "p", NULL, NULL, "{'app':'w'}", spread_spec(1, "zone", ",'minDomains':3")),
         "a2", UNS, msg);
  /* nodeAffinityPolicy Honor: domains outside the pod's node selector do not count. */
  bind_pod(s, make_pod("d", "w3", NULL, NULL, "{'app':'w'}", NULL), "b1");
  json_t *p = make_pod("d", "p", NULL, NULL, "{'app':'w'}", spread_spec(1, "zone", NULL));
  json_object_set_new(json_object_get(p, "spec"), "nodeSelector", J("{'zone':'b'}"));
  expect(sched_filter_pod_topology_spread, s, p, "b1", OK, NULL);
  sched_snapshot_free(s);
}

static const json_t *pvc_lookup(void *ud, const char *ns, const char *name) {
  return json_object_get(ud, name);
}

static bool wffc(void *ud, const char *cls) {
  return streq(cls, "local");
}

static void test_volume_binding(void **state) {
  struct sched_snapshot *s = sched_snapshot_new();
  add_node(s, make_node("a", "1", "1Gi", "10", NULL, NULL));
  add_node(s, make_node("b", "1", "1Gi", "10", NULL, NULL));
  json_t *pvcs = J("{'bound':{'spec':{'volumeName':'pv1'}},"
                   "'later':{'spec':{'storageClassName':'local'}},"
                   "'now':{'spec':{'storageClassName':'standard'}}}");
  struct sched_volume_lookup vl = {pvc_lookup, wffc, pvcs};
  struct {
    const char *claim, *msg;
  } cases[] = {
      {"bound", NULL},
      {"later", NULL},
      {"now", "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. "
              "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.."},
      {"gone", "0/2 nodes are available: persistentvolumeclaim \"gone\" not found. preemption: "
               "0/2 nodes are available: 2 Preemption is not helpful for scheduling.."},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    _cleanup_free_ char *spec = xasprintf(
        "{'volumes':[{'name':'v','persistentVolumeClaim':{'claimName':'%s'}}]}", cases[i].claim);
    json_t *pod = make_pod("d", "p", NULL, NULL, NULL, spec);
    struct sched_cycle *c = sched_cycle_new(s, pod, &vl);
    json_decref(pod);
    struct sched_result r;
    int rc = sched_find_nodes(s, c, &r);
    if (!cases[i].msg) {
      assert_int_equal(rc, 0);
    } else {
      assert_int_equal(rc, -ENOSPC);
      struct sched_preemption pre;
      assert_int_equal(sched_preempt(s, c, &r, &pre), -ENOSPC);
      _cleanup_free_ char *msg = sched_format_fit_error(&r.diag, pre.message);
      assert_string_equal(msg, cases[i].msg);
      sched_preemption_clear(&pre);
    }
    sched_result_clear(&r);
    sched_cycle_free(c);
  }
  json_decref(pvcs);
  sched_snapshot_free(s);
}

static void test_message(void **state) {
  struct sched_diagnosis d = {.n_all_nodes = 3};
  struct sched_status st = {0};
  sched_status_add(&st, UNR,
                   "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }");
  sched_diagnosis_add(&d, &st);
  sched_status_clear(&st);
  sched_status_add(&st, UNS, "Insufficient cpu");
  sched_diagnosis_add(&d, &st);
  sched_diagnosis_add(&d, &st);
  sched_status_clear(&st);
  struct sched_diagnosis p = {.n_all_nodes = 3};
  sched_status_add(&st, UNR, "Preemption is not helpful for scheduling");
  sched_diagnosis_add(&p, &st);
  sched_status_clear(&st);
  sched_status_add(&st, UNR, "No preemption victims found for incoming pod");
  sched_diagnosis_add(&p, &st);
  sched_diagnosis_add(&p, &st);
  sched_status_clear(&st);
  _cleanup_free_ char *pm = sched_preempt_message(&p);
  _cleanup_free_ char *msg = sched_format_fit_error(&d, pm);
  assert_string_equal(
      msg, "0/3 nodes are available: 1 node(s) had untolerated taint "
           "{node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes "
           "are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims "
           "found for incoming pod..");
  _cleanup_free_ char *plain = sched_format_fit_error(&d, NULL);
  assert_string_equal(plain, "0/3 nodes are available: 1 node(s) had untolerated taint "
                             "{node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu.");
  sched_diagnosis_clear(&p);
  /* Sorting is by the "<count> <reason>" text, so "10 x" precedes "2 y". */
  struct sched_diagnosis q = {.n_all_nodes = 12};
  sched_status_add(&st, UNS, "b");
  for (int i = 0; i < 10; i++)
    sched_diagnosis_add(&q, &st);
  sched_status_clear(&st);
  sched_status_add(&st, UNS, "a");
  sched_diagnosis_add(&q, &st);
  sched_diagnosis_add(&q, &st);
  sched_status_clear(&st);
  _cleanup_free_ char *sorted = sched_format_fit_error(&q, NULL);
  assert_string_equal(sorted, "0/12 nodes are available: 10 b, 2 a.");
  sched_diagnosis_clear(&q);
  sched_diagnosis_clear(&d);
  struct sched_diagnosis none = {.n_all_nodes = 0};
  _cleanup_free_ char *empty = sched_format_fit_error(&none, NULL);
  assert_string_equal(empty, "0/0 nodes are available:");
}

static void test_snapshot_updates(void **state) {
  struct sched_snapshot *s = sched_snapshot_new();
  /* A pod may arrive before its node. */
  bind_pod(s, make_pod("d", "early", "1", "1Gi", NULL, NULL), "late");
  assert_null(sched_snapshot_get_node(s, "late"));
  assert_int_equal(s->n_nodes, 0);
  add_node(s, make_node("late", "4", "8Gi", "10", NULL, NULL));
  struct sched_node_info *ni = sched_snapshot_get_node(s, "late");
  assert_non_null(ni);
  assert_int_equal(ni->requested.milli_cpu, 1000);
  assert_int_equal(ni->allocatable.milli_cpu, 4000);
  /* Updating a pod replaces its accounting. */
  bind_pod(s, make_pod("d", "early", "2", "1Gi", NULL, NULL), "late");
  assert_int_equal(ni->requested.milli_cpu, 2000);
  assert_int_equal(ni->n_pods, 1);
  uint64_t gen = ni->generation;
  add_node(s, make_node("late", "8", "8Gi", "10", "{'x':'y'}", NULL));
  assert_ptr_equal(sched_snapshot_get_node(s, "late"), ni);
  assert_true(ni->generation > gen);
  assert_int_equal(ni->allocatable.milli_cpu, 8000);
  assert_string_equal(sched_node_label(ni, "x"), "y");
  add_node(s, make_node("other", "1", "1Gi", "10", NULL, NULL));
  assert_int_equal(s->n_nodes, 2);
  assert_int_equal(sched_snapshot_remove_node(s, "late"), 0);
  assert_int_equal(s->n_nodes, 1);
  assert_string_equal(s->nodes[0]->name, "other");
  assert_int_equal(s->nodes[0]->index, 0);
  assert_int_equal(sched_snapshot_remove_pod(s, "d/early"), 0);
  assert_int_equal(sched_snapshot_remove_pod(s, "d/early"), -ENOENT);
  assert_int_equal(sched_snapshot_remove_node(s, "late"), -ENOENT);
  json_t *bad = J("{'metadata':{'name':'x','namespace':'d'},'spec':{}}");
  assert_int_equal(sched_snapshot_add_pod(s, bad), -EINVAL);
  json_decref(bad);
  sched_snapshot_free(s);
}

static void test_label_index(void **state) {
  struct sched_snapshot *s = sched_snapshot_new();
  add_node(s, make_node("a", "1", "1Gi", "10", NULL, NULL));
  for (int i = 0; i < 6; i++) {
    char name[8];
    snprintf(name, sizeof(name), "p%d", i);
    bind_pod(s,
             make_pod("d", name, NULL, NULL, i % 2 ? "{'app':'x','t':'1'}" : "{'app':'x'}", NULL),
             "a");
  }
  size_t n;
  sched_snapshot_pods_with_label(s, "d", "app", "x", &n);
  assert_int_equal(n, 6);
  sched_snapshot_pods_with_label(s, "o", "app", "x", &n);
  assert_int_equal(n, 0);
  assert_int_equal(sched_snapshot_remove_pod(s, "d/p0"), 0);
  assert_int_equal(sched_snapshot_remove_pod(s, "d/p3"), 0);
  /* Relabelled on update: the index follows. */
  bind_pod(s, make_pod("d", "p1", NULL, NULL, "{'app':'y'}", NULL), "a");
  struct sched_pod_info *const *v = sched_snapshot_pods_with_label(s, "d", "app", "x", &n);
  assert_int_equal(n, 3);
  for (size_t i = 0; i < n; i++)
    assert_true(streq(v[i]->key, "d/p2") || streq(v[i]->key, "d/p4") || streq(v[i]->key, "d/p5"));
  sched_snapshot_pods_with_label(s, "d", "t", "1", &n);
  assert_int_equal(n, 1);
  for (const char *const *k = (const char *const[]){"d/p1", "d/p2", "d/p4", "d/p5", NULL}; *k; k++)
    assert_int_equal(sched_snapshot_remove_pod(s, *k), 0);
  assert_int_equal(s->label_index.len, 0);
  sched_snapshot_free(s);
}

static void test_affinity_all_namespaces(void **state) {
  struct sched_snapshot *s = sched_snapshot_new();
  add_node(s, make_node("a", "1", "1Gi", "10", "{'zone':'a'}", NULL));
  add_node(s, make_node("b", "1", "1Gi", "10", "{'zone':'b'}", NULL));
  bind_pod(s, make_pod("other", "db", NULL, NULL, "{'app':'db'}", NULL), "a");
  const char *spec = "{'affinity':{'podAntiAffinity':{'requiredDuringSchedulingIgnoredDuring"
                     "Execution':[{'labelSelector':{'matchExpressions':[{'key':'app','operator':"
                     "'Exists'}]},'namespaceSelector':{},'topologyKey':'zone'}]}}}";
  expect(sched_filter_inter_pod_affinity, s, make_pod("d", "p", NULL, NULL, NULL, spec), "a", UNS,
         "node(s) didn't match pod anti-affinity rules");
  expect(sched_filter_inter_pod_affinity, s, make_pod("d", "p", NULL, NULL, NULL, spec), "b", OK,
         NULL);
  sched_snapshot_free(s);
}

/* Runs every filter for pod (reference consumed) on node `name`; returns the reasons joined
 * with '|' ("" on success) in a static buffer. */
static const char *run_all(struct sched_snapshot *s, json_t *pod, const char *name) {
  static char joined[1024];
  struct sched_cycle *c = sched_cycle_new(s, pod, NULL);
  json_decref(pod);
  struct sched_node_info *ni = sched_snapshot_get_node(s, name);
  assert_non_null(ni);
  struct sched_status st = {0};
  sched_run_filters(c, ni, &st);
  joined[0] = '\0';
  for (size_t i = 0; i < st.n_reasons; i++) {
    if (i)
      strcat(joined, "|");
    strcat(joined, st.reasons[i]);
  }
  sched_status_clear(&st);
  sched_cycle_free(c);
  return joined;
}

/* A node's unschedulable flag and taint counts are derived once per update: each update
 * must be seen by the next cycle, in both directions. */
static void test_node_update_facts(void **state) {
  struct sched_snapshot *s = sched_snapshot_new();
  add_node(s, make_node("a", "1", "1Gi", "10", NULL, NULL));
  struct sched_node_info *ni = sched_snapshot_get_node(s, "a");
  assert_string_equal(run_all(s, make_pod("d", "p", NULL, NULL, NULL, NULL), "a"), "");

  add_node(s, make_node("a", "1", "1Gi", "10", NULL, "{'unschedulable':true}"));
  assert_ptr_equal(sched_snapshot_get_node(s, "a"), ni);
  assert_true(ni->unschedulable);
  assert_string_equal(run_all(s, make_pod("d", "p", NULL, NULL, NULL, NULL), "a"),
                      "node(s) were unschedulable");
  assert_string_equal(run_all(s,
                              make_pod("d", "p", NULL, NULL, NULL,
                                       "{'tolerations':[{'key':'node.kubernetes.io/unschedulable',"
                                       "'operator':'Exists','effect':'NoSchedule'}]}"),
                              "a"),
                      "");
  /* A toleration for another effect does not cover the cordon taint. */
  assert_string_equal(run_all(s,
                              make_pod("d", "p", NULL, NULL, NULL,
                                       "{'tolerations':[{'key':'node.kubernetes.io/unschedulable',"
                                       "'operator':'Exists','effect':'NoExecute'}]}"),
                              "a"),
                      "node(s) were unschedulable");

  add_node(s, make_node("a", "1", "1Gi", "10", NULL,
                        "{'taints':[{'key':'k','value':'v','effect':'NoSchedule'},"
                        "{'key':'soft','effect':'PreferNoSchedule'}]}"));
  assert_false(ni->unschedulable);
  assert_int_equal(ni->n_hard_taints, 1);
  assert_int_equal(ni->n_prefer_taints, 1);
  assert_string_equal(run_all(s, make_pod("d", "p", NULL, NULL, NULL, NULL), "a"),
                      "node(s) had untolerated taint {k: v}");

  add_node(s, make_node("a", "1", "1Gi", "10", NULL,
                        "{'taints':[{'key':'soft','effect':'PreferNoSchedule'},"
                        "{'key':'x','effect':'NoExecute'},'junk',{'key':'y'}]}"));
  assert_int_equal(ni->n_hard_taints, 1);
  assert_int_equal(ni->n_prefer_taints, 1);
  assert_string_equal(run_all(s, make_pod("d", "p", NULL, NULL, NULL, NULL), "a"),
                      "node(s) had untolerated taint {x: }");
  struct sched_cycle *c = sched_cycle_new(s, make_pod("d", "p", NULL, NULL, NULL, NULL), NULL);
  json_decref(c->pod->pod);
  assert_int_equal(sched_score_taint_toleration(c, ni), 1);
  sched_cycle_free(c);

  add_node(s, make_node("a", "1", "1Gi", "10", NULL, "{}"));
  assert_int_equal(ni->n_hard_taints, 0);
  assert_int_equal(ni->n_prefer_taints, 0);
  assert_string_equal(run_all(s, make_pod("d", "p", NULL, NULL, NULL, NULL), "a"), "");

  /* A copy for preemption's dry run carries the same facts. */
  add_node(s, make_node("a", "1", "1Gi", "10", NULL,
                        "{'unschedulable':true,'taints':[{'key':'k','effect':'NoExecute'}]}"));
  struct sched_node_info *copy = sched_node_info_copy(ni);
  assert_true(copy->unschedulable);
  assert_int_equal(copy->n_hard_taints, 1);
  sched_node_info_free_copy(copy);
  sched_snapshot_free(s);
}

static size_t filter_index(const char *name) {
  for (size_t i = 0; sched_filter_plugins[i].name; i++)
    if (streq(sched_filter_plugins[i].name, name))
      return i;
  fail_msg("no filter %s", name);
  return 0;
}

static bool skips(const struct sched_cycle *c, const char *filter) {
  return c->skip_filters & (UINT32_C(1) << filter_index(filter));
}

/* Filters that cannot fail for the pod are not run (kube's PreFilter Skip), and a pod
 * that needs one gets it. */
static void test_filter_skips(void **state) {
  struct sched_snapshot *s = sched_snapshot_new();
  add_node(s, make_node("a", "1", "1Gi", "10", "{'zone':'a'}", NULL));
  bind_pod(s, make_pod("d", "db", NULL, NULL, "{'app':'db'}", NULL), "a");
  struct sched_cycle *c = sched_cycle_new(s, make_pod("d", "p", "1", NULL, NULL, NULL), NULL);
  json_decref(c->pod->pod);
  for (const char *const *f = (const char *const[]){"NodeName", "NodeAffinity", "NodePorts",
                                                    "PodTopologySpread", "InterPodAffinity", NULL};
       *f; f++)
    assert_true(skips(c, *f));
  for (const char *const *f =
           (const char *const[]){"NodeUnschedulable", "TaintToleration", "NodeResourcesFit", NULL};
       *f; f++)
    assert_false(skips(c, *f));
  sched_cycle_free(c);

  c = sched_cycle_new(
      s,
      make_pod("d", "p", NULL, NULL, NULL,
               "{'nodeName':'b','nodeSelector':{'zone':'a'},'tolerations':[{'operator':'Exists'}],"
               "'containers':[{'name':'c','image':'x','ports':[{'containerPort':80,"
               "'hostPort':80}]}],'topologySpreadConstraints':[{'maxSkew':1,'topologyKey':"
               "'zone','whenUnsatisfiable':'DoNotSchedule','labelSelector':{}}],"
               "'affinity':{'podAntiAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':"
               "[{'labelSelector':{'matchLabels':{'app':'db'}},'topologyKey':'zone'}]}}}"),
      NULL);
  json_decref(c->pod->pod);
  for (const char *const *f = (const char *const[]){"NodeName", "NodeAffinity", "NodePorts",
                                                    "PodTopologySpread", "InterPodAffinity", NULL};
       *f; f++)
    assert_false(skips(c, *f));
  /* Tolerating everything includes the cordon taint. */
  assert_true(skips(c, "NodeUnschedulable"));
  sched_cycle_free(c);

  /* Existing pods' anti-affinity alone keeps InterPodAffinity on. */
  bind_pod(s,
           make_pod("d", "solo", NULL, NULL, NULL,
                    "{'affinity':{'podAntiAffinity':{'requiredDuringSchedulingIgnoredDuring"
                    "Execution':[{'labelSelector':{'matchLabels':{'app':'web'}},"
                    "'topologyKey':'zone'}]}}}"),
           "a");
  c = sched_cycle_new(s, make_pod("d", "p", NULL, NULL, "{'app':'web'}", NULL), NULL);
  json_decref(c->pod->pod);
  assert_false(skips(c, "InterPodAffinity"));
  sched_cycle_free(c);
  assert_string_equal(run_all(s, make_pod("d", "p", NULL, NULL, "{'app':'web'}", NULL), "a"),
                      "node(s) didn't satisfy existing pods anti-affinity rules");
  sched_snapshot_free(s);
}

/* The driver's assume hands the cycle's pod to the snapshot; the informer's bound copy
 * replaces it later. */
static void test_assume(void **state) {
  struct sched_snapshot *s = sched_snapshot_new();
  add_node(s, make_node("a", "2", "1Gi", "10", NULL, NULL));
  json_t *pod = make_pod("d", "p", "1", "100Mi", "{'app':'web'}", NULL);
  struct sched_cycle *c = sched_cycle_new(s, pod, NULL);
  struct sched_result r = {0};
  assert_int_equal(sched_find_nodes(s, c, &r), 0);
  assert_int_equal(sched_snapshot_assume(s, c, r.node_name), 0);
  assert_null(c->pod);
  sched_cycle_free(c);
  sched_result_clear(&r);

  struct sched_pod_info *pi = sched_snapshot_get_pod(s, "d/p");
  assert_non_null(pi);
  assert_string_equal(pi->node_name, "a");
  struct sched_node_info *ni = sched_snapshot_get_node(s, "a");
  assert_int_equal(ni->n_pods, 1);
  assert_int_equal(ni->requested.milli_cpu, 1000);
  size_t n;
  assert_non_null(sched_snapshot_pods_with_label(s, "d", "app", "web", &n));
  assert_int_equal(n, 1);
  /* The next cycle sees the assumed pod's request. */
  assert_string_equal(run_all(s, make_pod("d", "q", "1500m", NULL, NULL, NULL), "a"),
                      "Insufficient cpu");

  /* The binding comes back through the informer. */
  bind_pod(s, pod, "a");
  assert_int_equal(ni->n_pods, 1);
  assert_int_equal(ni->requested.milli_cpu, 1000);
  assert_null(sched_snapshot_get_pod(s, "d/p")->assumed_node);
  assert_int_equal(sched_snapshot_remove_pod(s, "d/p"), 0);
  assert_int_equal(ni->requested.milli_cpu, 0);

  /* A pod without a namespace cannot be keyed: the cycle keeps it. */
  json_t *bad = J("{'metadata':{'name':'x'},'spec':{'containers':[]}}");
  c = sched_cycle_new(s, bad, NULL);
  json_decref(bad);
  assert_int_equal(sched_snapshot_assume(s, c, "a"), -EINVAL);
  assert_non_null(c->pod);
  sched_cycle_free(c);
  sched_snapshot_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_node_name),
      cmocka_unit_test(test_node_unschedulable),
      cmocka_unit_test(test_taint_toleration),
      cmocka_unit_test(test_resources_fit),
      cmocka_unit_test(test_pod_requests),
      cmocka_unit_test(test_node_ports),
      cmocka_unit_test(test_node_affinity),
      cmocka_unit_test(test_inter_pod_affinity),
      cmocka_unit_test(test_topology_spread),
      cmocka_unit_test(test_volume_binding),
      cmocka_unit_test(test_message),
      cmocka_unit_test(test_snapshot_updates),
      cmocka_unit_test(test_label_index),
      cmocka_unit_test(test_affinity_all_namespaces),
      cmocka_unit_test(test_node_update_facts),
      cmocka_unit_test(test_filter_skips),
      cmocka_unit_test(test_assume),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
