/* The tables of every API group but core/v1: apps, batch, autoscaling, networking,
 * discovery, coordination, policy, rbac, storage, scheduling, node, certificates and
 * admissionregistration. Shared helpers and macros are in columns_internal.h. */
#include "api/columns.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/columns_internal.h"
#include "lib/json.h"
#include "lib/selector.h"
#include "lib/strbuf.h"
#include "lib/timeutil.h"

/* ---- apps ---- */

INT_CELL(updated_replicas, "status.updatedReplicas")
INT_CELL(available_replicas, "status.availableReplicas")

/* "2/3": ready over desired. */
static json_t *ready_of_desired(const json_t *obj) {
  _cleanup_free_ char *v =
      xasprintf("%lld/%lld", (long long)col_int_at(obj, "status.readyReplicas"),
                (long long)col_desired_replicas(obj));
  return json_string(v);
}

TEMPLATE_CELLS(rs, "spec.template.spec", "spec.selector")
const struct api_column columns_replicasets[] = {
    NAME_COL,
    COL("Desired", "integer", "Replicas is the number of desired replicas.", 0, col_desired_cell),
    COL("Current", "integer", "Replicas is the most recently observed number of replicas.", 0,
        col_current_replicas),
    COL("Ready", "integer", "The number of ready replicas for this replica set.", 0,
        col_ready_replicas),
    AGE_COL,
    WORKLOAD_WIDE(rs),
    END};

/* A deployment prints its selector as LabelSelectorAsSelector does: "" when empty,
 * "<invalid>" when it does not parse. */
static json_t *deploy_selector(const json_t *obj) {
  _cleanup_selector_ selector_t *s = NULL;
  if (selector_from_json(col_at(obj, "spec.selector"), &s, NULL) < 0)
    return json_string("<invalid>");
  _cleanup_free_ char *str = selector_to_string(s);
  return json_string(str);
}
static json_t *deploy_containers(const json_t *o) { return col_template_containers(o); }
static json_t *deploy_images(const json_t *o) { return col_template_images(o); }

const struct api_column columns_deployments[] = {
    NAME_COL,
    COL("Ready", "string", "Number of the pod with ready state", 0, ready_of_desired),
    COL("Up-to-date", "string",
        "Total number of non-terminated pods targeted by this deployment that have the desired "
        "template spec.",
        0, updated_replicas),
    COL("Available", "string",
        "Total number of available pods (ready for at least minReadySeconds) targeted by this "
        "deployment.",
        0, available_replicas),
    AGE_COL,
    WORKLOAD_WIDE(deploy),
    END};

const struct api_column columns_statefulsets[] = {
    NAME_COL,
    COL("Ready", "string", "Number of the pod with ready state", 0, ready_of_desired),
    AGE_COL,
    COL("Containers", "string", D_CONTAINERS, 1, col_template_containers),
    COL("Images", "string", D_IMAGES, 1, col_template_images),
    END};

INT_CELL(ds_desired, "status.desiredNumberScheduled")
INT_CELL(ds_current, "status.currentNumberScheduled")
INT_CELL(ds_ready, "status.numberReady")
INT_CELL(ds_updated, "status.updatedNumberScheduled")
INT_CELL(ds_available, "status.numberAvailable")
static json_t *ds_node_selector(const json_t *o) {
  return col_labels_cell(col_at(o, "spec.template.spec.nodeSelector"));
}
TEMPLATE_CELLS(ds, "spec.template.spec", "spec.selector")

const struct api_column columns_daemonsets[] = {
    NAME_COL,
    COL("Desired", "integer", "The total number of nodes that should be running the daemon pod.", 0,
        ds_desired),
    COL("Current", "integer",
        "The number of nodes that are running at least 1 daemon pod and are supposed to run the "
        "daemon pod.",
        0, ds_current),
    COL("Ready", "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the "
        "daemon pod running and ready.",
        0, ds_ready),
    COL("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod.",
        0, ds_updated),
    COL("Available", "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the "
        "daemon pod running and available.",
        0, ds_available),
    COL("Node Selector", "string",
        "NodeSelector is a selector which must be true for the pod to fit on a node.", 0,
        ds_node_selector),
    AGE_COL,
    WORKLOAD_WIDE(ds),
    END};

/* "daemonset.apps/web": the controlling owner as lower-case kind.group/name. */
static json_t *cr_controller(const json_t *obj) {
  size_t i;
  json_t *ref;
  json_array_foreach(col_at(obj, "metadata.ownerReferences"), i, ref) {
    if (!json_is_true(json_object_get(ref, "controller")))
      continue;
    const char *api_version = col_str_or_empty(ref, "apiVersion");
    const char *slash = strchr(api_version, '/');
    if (slash && strchr(slash + 1, '/'))
      return NULL;
    _cleanup_free_ char *group =
        slash ? xstrndup(api_version, (size_t)(slash - api_version)) : xstrdup("");
    const char *kind = col_str_or_empty(ref, "kind"), *name = col_str_or_empty(ref, "name");
    if (!*kind && !*group)
      return json_string(name);
    _cleanup_free_ char *v =
        *group ? xasprintf("%s.%s/%s", kind, group, name) : xasprintf("%s/%s", kind, name);
    for (char *p = v; *p && *p != '/'; p++)
      if (*p >= 'A' && *p <= 'Z')
        *p = (char)(*p - 'A' + 'a');
    return json_string(v);
  }
  return NULL;
}
INT_CELL(cr_revision, "revision")

const struct api_column columns_controllerrevisions[] = {
    NAME_COL, COL("Controller", "string", "Controller of the object", 0, cr_controller),
    COL("Revision", "string", "Revision indicates the revision of the state represented by Data.",
        0, cr_revision),
    AGE_COL, END};

/* ---- batch ---- */

/* Status from the first condition of each type, in kube's order of precedence. */
static json_t *job_status(const json_t *obj) {
  json_t *conds = col_at(obj, "status.conditions");
  if (col_condition_true(conds, "Complete"))
    return json_string("Complete");
  if (col_condition_true(conds, "Failed"))
    return json_string("Failed");
  if (col_at(obj, "metadata.deletionTimestamp"))
    return json_string("Terminating");
  if (col_condition_true(conds, "Suspended"))
    return json_string("Suspended");
  if (col_condition_true(conds, "FailureTarget"))
    return json_string("FailureTarget");
  return json_string("Running");
}

/* "3/5" succeeded over completions; without completions "1/1", or "0/1 of 3" when
 * several pods run in parallel. */
static json_t *job_completions(const json_t *obj) {
  long long succeeded = (long long)col_int_at(obj, "status.succeeded");
  json_t *completions = col_at(obj, "spec.completions");
  _cleanup_free_ char *v = NULL;
  if (json_is_integer(completions)) {
    v = xasprintf("%lld/%lld", succeeded, (long long)json_integer_value(completions));
  } else {
    long long parallelism = (long long)col_int_at(obj, "spec.parallelism");
    v = parallelism > 1 ? xasprintf("%lld/1 of %lld", succeeded, parallelism)
                        : xasprintf("%lld/1", succeeded);
  }
  return json_string(v);
}

/* Completion minus start time; still running: time since start; not started: "". */
static json_t *job_duration(const json_t *obj) {
  struct timespec start, end;
  if (!col_time_set(col_str_at(obj, "status.startTime"), &start))
    return json_string("");
  if (!col_time_set(col_str_at(obj, "status.completionTime"), &end))
    end = col_now_ts();
  char buf[32];
  return json_string(timeutil_human_duration(col_ns_between(&start, &end), buf, sizeof(buf)));
}

TEMPLATE_CELLS(job, "spec.template.spec", "spec.selector")

const struct api_column columns_jobs[] = {
    NAME_COL,
    COL("Status", "string", "Status of the job.", 0, job_status),
    COL("Completions", "string", "The number of pods which reached phase Succeeded.", 0,
        job_completions),
    COL("Duration", "string", "Time required to complete the job.", 0, job_duration),
    AGE_COL,
    WORKLOAD_WIDE(job),
    END};

STR_CELL(cj_schedule, "spec.schedule")
static json_t *cj_timezone(const json_t *obj) {
  const char *tz = col_str_at(obj, "spec.timeZone");
  return tz ? json_string(tz) : NULL;
}
static json_t *cj_suspend(const json_t *obj) {
  json_t *s = col_at(obj, "spec.suspend");
  if (!json_is_boolean(s))
    return json_string("<unset>");
  return json_string(json_is_true(s) ? "True" : "False");
}
COUNT_CELL(cj_active, "status.active")
static json_t *cj_last_schedule(const json_t *obj) {
  const char *t = col_str_at(obj, "status.lastScheduleTime");
  return t ? col_since_cell(t) : NULL;
}
TEMPLATE_CELLS(cj, "spec.jobTemplate.spec.template.spec", "spec.jobTemplate.spec.selector")

const struct api_column columns_cronjobs[] = {
    NAME_COL,
    COL("Schedule", "string", "The schedule in Cron format.", 0, cj_schedule),
    COL("Timezone", "string", "The time zone name for the given schedule.", 0, cj_timezone),
    COL("Suspend", "boolean", "This flag tells the controller to suspend subsequent executions.", 0,
        cj_suspend),
    COL("Active", "integer", "A list of pointers to currently running jobs.", 0, cj_active),
    COL("Last Schedule", "string",
        "Information when was the last time the job was successfully scheduled.", 0,
        cj_last_schedule),
    AGE_COL,
    WORKLOAD_WIDE(cj),
    END};

/* ---- autoscaling ---- */

static json_t *hpa_reference(const json_t *obj) {
  _cleanup_free_ char *v = xasprintf("%s/%s", col_str_or_empty(obj, "spec.scaleTargetRef.kind"),
                                     col_str_or_empty(obj, "spec.scaleTargetRef.name"));
  return json_string(v);
}

/* current/target of a metric with a value or average-value target. */
static char *hpa_value_pair(const json_t *spec, const json_t *status) {
  json_t *avg = json_object_get(json_object_get(spec, "target"), "averageValue");
  json_t *cur = json_object_get(status, "current");
  if (avg) {
    json_t *cur_avg = json_object_get(cur, "averageValue");
    _cleanup_free_ char *c = cur_avg ? col_quantity_text(cur_avg, "") : xstrdup("<unknown>");
    _cleanup_free_ char *t = col_quantity_text(avg, "");
    return xasprintf("%s/%s (avg)", c, t);
  }
  _cleanup_free_ char *c =
      status ? col_quantity_text(json_object_get(cur, "value"), "<nil>") : xstrdup("<unknown>");
  _cleanup_free_ char *t =
      col_quantity_text(json_object_get(json_object_get(spec, "target"), "value"), "<nil>");
  return xasprintf("%s/%s", c, t);
}

/* "cpu: 40%/80%" for a (container) resource metric. */
static char *hpa_resource(const json_t *spec, const json_t *status) {
  const char *name = col_str_or_empty(spec, "name");
  json_t *target = json_object_get(spec, "target"), *cur = json_object_get(status, "current");
  json_t *avg = json_object_get(target, "averageValue");
  if (avg) {
    _cleanup_free_ char *c = status
                                 ? col_quantity_text(json_object_get(cur, "averageValue"), "<nil>")
                                 : xstrdup("<unknown>");
    _cleanup_free_ char *t = col_quantity_text(avg, "");
    return xasprintf("%s: %s/%s", name, c, t);
  }
  json_t *cu = json_object_get(cur, "averageUtilization");
  json_t *tu = json_object_get(target, "averageUtilization");
  _cleanup_free_ char *c = json_is_integer(cu)
                               ? xasprintf("%lld%%", (long long)json_integer_value(cu))
                               : xstrdup("<unknown>");
  _cleanup_free_ char *t = json_is_integer(tu)
                               ? xasprintf("%lld%%", (long long)json_integer_value(tu))
                               : xstrdup("<auto>");
  return xasprintf("%s: %s/%s", name, c, t);
}

/* The status entry i describes spec metric i only if it has the same source: kube's
 * printer pairs them by index and checks the source is set. */
static json_t *hpa_status_source(const json_t *statuses, size_t i, const char *source) {
  return json_object_get(json_array_get(statuses, i), source);
}

static char *hpa_metric(const json_t *spec, const json_t *statuses, size_t i) {
  const char *type = col_str_or_empty(spec, "type");
  if (streq(type, "External"))
    return hpa_value_pair(json_object_get(spec, "external"),
                          hpa_status_source(statuses, i, "external"));
  if (streq(type, "Object"))
    return hpa_value_pair(json_object_get(spec, "object"),
                          hpa_status_source(statuses, i, "object"));
  if (streq(type, "Pods")) {
    json_t *st = hpa_status_source(statuses, i, "pods");
    _cleanup_free_ char *c =
        st ? col_quantity_text(col_at(st, "current.averageValue"), "<nil>") : xstrdup("<unknown>");
    _cleanup_free_ char *t = col_quantity_text(col_at(spec, "pods.target.averageValue"), "<nil>");
    return xasprintf("%s/%s", c, t);
  }
  if (streq(type, "Resource"))
    return hpa_resource(json_object_get(spec, "resource"),
                        hpa_status_source(statuses, i, "resource"));
  if (streq(type, "ContainerResource"))
    return hpa_resource(json_object_get(spec, "containerResource"),
                        hpa_status_source(statuses, i, "containerResource"));
  return xstrdup("<unknown type>");
}

/* TARGETS: the first two metrics, then "+ N more...". autoscaling/v1 objects carry a CPU
 * percentage instead of metrics; an HPA with neither targets 80% CPU, the default kube
 * writes on storage. */
static json_t *hpa_targets(const json_t *obj) {
  json_t *specs = col_at(obj, "spec.metrics"), *statuses = col_at(obj, "status.currentMetrics");
  _cleanup_json_ json_t *v1_specs = NULL, *v1_statuses = NULL;
  if (!json_array_size(specs)) {
    json_t *pct = col_at(obj, "spec.targetCPUUtilizationPercentage");
    json_t *cur = col_at(obj, "status.currentCPUUtilizationPercentage");
    v1_specs = json_pack("[{s:s,s:{s:s,s:{s:s,s:I}}}]", "type", "Resource", "resource", "name",
                         "cpu", "target", "type", "Utilization", "averageUtilization",
                         (json_int_t)(json_is_integer(pct) ? json_integer_value(pct) : 80));
    specs = v1_specs;
    if (json_is_integer(cur)) {
      v1_statuses = json_pack("[{s:s,s:{s:s,s:{s:I}}}]", "type", "Resource", "resource", "name",
                              "cpu", "current", "averageUtilization", json_integer_value(cur));
      statuses = v1_statuses;
    }
  }
  const size_t max = 2;
  size_t count = json_array_size(specs), i;
  json_t *spec;
  struct strbuf b = {0};
  json_array_foreach(specs, i, spec) {
    if (i == max)
      break;
    _cleanup_free_ char *m = hpa_metric(spec, statuses, i);
    col_sb_join(&b, ", ", m);
  }
  return col_list_with_more(&b, count, max, NULL);
}

/* minReplicas defaults to 1 on write. */
static json_t *hpa_min(const json_t *obj) {
  json_t *m = col_at(obj, "spec.minReplicas");
  _cleanup_free_ char *v =
      xasprintf("%lld", json_is_integer(m) ? (long long)json_integer_value(m) : 1LL);
  return json_string(v);
}
INT_CELL(hpa_max, "spec.maxReplicas")
INT_CELL(hpa_replicas, "status.currentReplicas")

const struct api_column columns_hpa[] = {
    NAME_COL,
    COL("Reference", "string", "scaleTargetRef points to the target resource to scale.", 0,
        hpa_reference),
    COL("Targets", "string",
        "metrics contains the specifications for which to use to calculate the desired replica "
        "count.",
        0, hpa_targets),
    COL("MinPods", "string",
        "minReplicas is the lower limit for the number of replicas to which the autoscaler can "
        "scale down.",
        0, hpa_min),
    COL("MaxPods", "string",
        "maxReplicas is the upper limit for the number of replicas to which the autoscaler can "
        "scale up.",
        0, hpa_max),
    COL("Replicas", "string",
        "currentReplicas is current number of replicas of pods managed by this autoscaler.", 0,
        hpa_replicas),
    AGE_COL,
    END};

/* ---- networking ---- */

static json_t *ing_class(const json_t *obj) {
  const char *c = col_str_at(obj, "spec.ingressClassName");
  return c ? json_string(c) : NULL;
}

/* Up to three hosts; "*" when no rule names one. */
static json_t *ing_hosts(const json_t *obj) {
  json_t *rules = col_at(obj, "spec.rules");
  const size_t max = 3;
  size_t shown = 0, i;
  bool more = false;
  json_t *r;
  struct strbuf b = {0};
  json_array_foreach(rules, i, r) {
    if (shown == max)
      more = true;
    const char *host = col_str_at(r, "host");
    if (!more && !col_empty(host)) {
      col_sb_join(&b, ",", host);
      shown++;
    }
  }
  if (!shown) {
    free(b.s);
    return json_string("*");
  }
  if (more)
    strbuf_appendf(&b, " + %zu more...", json_array_size(rules) - max);
  return col_sb_cell(&b);
}

static json_t *ing_address(const json_t *obj) {
  struct strbuf b = {0};
  col_lb_ingress(col_at(obj, "status.loadBalancer.ingress"), &b);
  return col_sb_cell(&b);
}

static json_t *ing_ports(const json_t *obj) {
  return json_string(json_array_size(col_at(obj, "spec.tls")) ? "80, 443" : "80");
}

const struct api_column columns_ingresses[] = {
    NAME_COL,
    COL("Class", "string",
        "The name of the IngressClass resource that should be used for additional configuration", 0,
        ing_class),
    COL("Hosts", "string",
        "Hosts that incoming requests are matched against before the ingress rule", 0, ing_hosts),
    COL("Address", "string", "Address is a list containing ingress points for the load-balancer", 0,
        ing_address),
    COL("Ports", "string", "Ports of TLS configurations that open", 0, ing_ports),
    AGE_COL,
    END};

STR_CELL(ingclass_controller, "spec.controller")
/* "Kind.apiGroup/name" of the parameters reference. */
static json_t *ingclass_parameters(const json_t *obj) {
  json_t *p = col_at(obj, "spec.parameters");
  if (!p)
    return NULL;
  const char *group = col_str_at(p, "apiGroup");
  _cleanup_free_ char *v =
      group ? xasprintf("%s.%s/%s", col_str_or_empty(p, "kind"), group, col_str_or_empty(p, "name"))
            : xasprintf("%s/%s", col_str_or_empty(p, "kind"), col_str_or_empty(p, "name"));
  return json_string(v);
}

const struct api_column columns_ingressclasses[] = {
    NAME_COL,
    COL("Controller", "string", "Controller that is responsible for handling this class", 0,
        ingclass_controller),
    COL("Parameters", "string", "A reference to a resource with additional parameters", 0,
        ingclass_parameters),
    AGE_COL, END};

static json_t *netpol_selector(const json_t *obj) {
  /* podSelector is a value in kube's type: a missing one is the empty selector. */
  json_t *sel = col_at(obj, "spec.podSelector");
  _cleanup_json_ json_t *empty_sel = sel ? NULL : json_object();
  return col_label_selector_cell(sel ? sel : empty_sel);
}

const struct api_column columns_networkpolicies[] = {
    NAME_COL,
    COL("Pod-Selector", "string",
        "podSelector selects the pods to which this NetworkPolicy object applies.", 0,
        netpol_selector),
    AGE_COL, END};

STR_CELL(eps_address_type, "addressType")

static json_t *eps_ports(const json_t *obj) {
  const size_t max = 3;
  size_t count = 0, i;
  json_t *p;
  struct strbuf b = {0};
  json_array_foreach(col_at(obj, "ports"), i, p) {
    count++;
    if (i >= max)
      continue;
    json_t *port = json_object_get(p, "port");
    const char *name = col_str_at(p, "name");
    if (json_is_integer(port))
      strbuf_appendf(&b, "%s%lld", b.len ? "," : "", (long long)json_integer_value(port));
    else
      col_sb_join(&b, ",", name ? name : "*");
  }
  return col_list_with_more(&b, count, max, "<unset>");
}

static json_t *eps_endpoints(const json_t *obj) {
  const size_t max = 3;
  size_t count = 0, i, j;
  json_t *e, *a;
  struct strbuf b = {0};
  json_array_foreach(col_at(obj, "endpoints"), i, e) {
    json_array_foreach(json_object_get(e, "addresses"), j, a) {
      if (count < max && json_is_string(a))
        col_sb_join(&b, ",", json_string_value(a));
      count++;
    }
  }
  return col_list_with_more(&b, count, max, "<unset>");
}

const struct api_column columns_endpointslices[] = {
    NAME_COL,
    COL("AddressType", "string",
        "addressType specifies the type of address carried by this EndpointSlice.", 0,
        eps_address_type),
    COL("Ports", "string",
        "ports specifies the list of network ports exposed by each endpoint in this slice.", 0,
        eps_ports),
    COL("Endpoints", "string", "endpoints is a list of unique endpoints in this slice.", 0,
        eps_endpoints),
    AGE_COL,
    END};

/* ---- coordination, policy, rbac ---- */

STR_CELL(lease_holder, "spec.holderIdentity")
const struct api_column columns_leases[] = {
    NAME_COL,
    COL("Holder", "string",
        "holderIdentity contains the identity of the holder of a current lease.", 0, lease_holder),
    AGE_COL, END};

/* An IntOrString bound, "N/A" when unset. */
static json_t *pdb_bound(const json_t *obj, const char *path) {
  json_t *v = col_at(obj, path);
  if (!v || json_is_null(v))
    return json_string("N/A");
  _cleanup_free_ char *s = col_int_or_string_text(v);
  return json_string(s);
}
static json_t *pdb_min(const json_t *o) { return pdb_bound(o, "spec.minAvailable"); }
static json_t *pdb_max(const json_t *o) { return pdb_bound(o, "spec.maxUnavailable"); }
INT_CELL(pdb_allowed, "status.disruptionsAllowed")

const struct api_column columns_pdb[] = {
    NAME_COL,
    COL("Min Available", "string", "The minimum number of pods that must be available.", 0,
        pdb_min),
    COL("Max Unavailable", "string", "The maximum number of pods that may be unavailable.", 0,
        pdb_max),
    COL("Allowed Disruptions", "integer",
        "Calculated number of pods that may be disrupted at this time.", 0, pdb_allowed),
    AGE_COL,
    END};

/* kube-apiserver has no printer for Role and ClusterRole: the default table convertor. */
const struct api_column columns_roles[] = {NAME_COL, CREATED_AT_COL, END};

static json_t *rb_role(const json_t *obj) {
  _cleanup_free_ char *v = xasprintf("%s/%s", col_str_or_empty(obj, "roleRef.kind"),
                                     col_str_or_empty(obj, "roleRef.name"));
  return json_string(v);
}

/* Subjects of one kind joined with ", "; service accounts as namespace/name. */
static json_t *rb_subjects(const json_t *obj, const char *kind) {
  struct strbuf b = {0};
  size_t i;
  json_t *s;
  json_array_foreach(col_at(obj, "subjects"), i, s) {
    if (!streq_ptr(col_str_at(s, "kind"), kind))
      continue;
    if (streq(kind, "ServiceAccount")) {
      _cleanup_free_ char *v =
          xasprintf("%s/%s", col_str_or_empty(s, "namespace"), col_str_or_empty(s, "name"));
      col_sb_join(&b, ", ", v);
    } else {
      col_sb_join(&b, ", ", col_str_or_empty(s, "name"));
    }
  }
  return col_sb_cell(&b);
}
static json_t *rb_users(const json_t *o) { return rb_subjects(o, "User"); }
static json_t *rb_groups(const json_t *o) { return rb_subjects(o, "Group"); }
static json_t *rb_sas(const json_t *o) { return rb_subjects(o, "ServiceAccount"); }

const struct api_column columns_rolebindings[] = {
    NAME_COL,
    COL("Role", "string",
        "RoleRef can reference a Role in the current namespace or a ClusterRole in the global "
        "namespace.",
        0, rb_role),
    AGE_COL,
    COL("Users", "string", "Users in the roleBinding", 1, rb_users),
    COL("Groups", "string", "Groups in the roleBinding", 1, rb_groups),
    COL("ServiceAccounts", "string", "ServiceAccounts in the roleBinding", 1, rb_sas),
    END};

/* ---- storage.k8s.io ---- */

/* The default class is marked in its name, as kubectl users know it. */
static json_t *sc_name(const json_t *obj) {
  json_t *ann = col_at(obj, "metadata.annotations");
  const char *name = col_str_or_empty(obj, "metadata.name");
  if (streq_ptr(
          json_string_value(json_object_get(ann, "storageclass.kubernetes.io/is-default-class")),
          "true") ||
      streq_ptr(json_string_value(
                    json_object_get(ann, "storageclass.beta.kubernetes.io/is-default-class")),
                "true")) {
    _cleanup_free_ char *v = xasprintf("%s (default)", name);
    return json_string(v);
  }
  return json_string(name);
}
STR_CELL(sc_provisioner, "provisioner")
static json_t *str_default(const json_t *obj, const char *path, const char *def) {
  const char *s = col_str_at(obj, path);
  return json_string(s ? s : def);
}
static json_t *sc_reclaim(const json_t *o) { return str_default(o, "reclaimPolicy", "Delete"); }
static json_t *sc_binding(const json_t *o) {
  return str_default(o, "volumeBindingMode", "Immediate");
}
static json_t *bool_default(const json_t *obj, const char *path, bool def) {
  json_t *v = col_at(obj, path);
  return json_boolean(json_is_boolean(v) ? json_is_true(v) : def);
}
static json_t *sc_expansion(const json_t *o) {
  return bool_default(o, "allowVolumeExpansion", false);
}

const struct api_column columns_storageclasses[] = {
    {"Name", "string", "name", D_NAME, 0, NULL, sc_name},
    COL("Provisioner", "string", "provisioner indicates the type of the provisioner.", 0,
        sc_provisioner),
    COL("ReclaimPolicy", "string",
        "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of "
        "this storage class.",
        0, sc_reclaim),
    COL("VolumeBindingMode", "string",
        "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.",
        0, sc_binding),
    COL("AllowVolumeExpansion", "string",
        "allowVolumeExpansion shows whether the storage class allow volume expand.", 0,
        sc_expansion),
    AGE_COL,
    END};

static json_t *csid_attach(const json_t *o) { return bool_default(o, "spec.attachRequired", true); }
static json_t *csid_podinfo(const json_t *o) {
  return bool_default(o, "spec.podInfoOnMount", false);
}
static json_t *csid_capacity(const json_t *o) {
  return bool_default(o, "spec.storageCapacity", false);
}
static json_t *csid_republish(const json_t *o) {
  return bool_default(o, "spec.requiresRepublish", false);
}
static json_t *csid_tokens(const json_t *obj) {
  json_t *t = col_at(obj, "spec.tokenRequests");
  if (!t || json_is_null(t))
    return json_string("<unset>");
  struct strbuf b = {0};
  size_t i;
  json_t *r;
  json_array_foreach(t, i, r) {
    if (i)
      strbuf_appends(&b, ",");
    strbuf_appends(&b, col_str_or_empty(r, "audience"));
  }
  return col_sb_cell(&b);
}
static json_t *csid_modes(const json_t *obj) {
  struct strbuf b = {0};
  col_join_strings(col_at(obj, "spec.volumeLifecycleModes"), ",", &b);
  if (!b.len) {
    free(b.s);
    return NULL;
  }
  return col_sb_cell(&b);
}

const struct api_column columns_csidrivers[] = {
    NAME_COL,
    COL("AttachRequired", "boolean",
        "attachRequired indicates this CSI volume driver requires an attach operation.", 0,
        csid_attach),
    COL("PodInfoOnMount", "boolean",
        "podInfoOnMount indicates this CSI volume driver requires additional pod information "
        "during mount operations.",
        0, csid_podinfo),
    COL("StorageCapacity", "boolean",
        "storageCapacity indicates that the CSI volume driver wants pod scheduling to consider the "
        "storage capacity that the driver deployment will report.",
        0, csid_capacity),
    COL("TokenRequests", "string",
        "tokenRequests indicates the CSI driver needs pods' service account tokens it is mounting "
        "volume for to do necessary authentication.",
        0, csid_tokens),
    COL("RequiresRepublish", "boolean",
        "requiresRepublish indicates the CSI driver wants NodePublishVolume being periodically "
        "called to reflect any possible change in the mounted volume.",
        0, csid_republish),
    COL("Modes", "string",
        "volumeLifecycleModes defines what kind of volumes this CSI volume driver supports.", 0,
        csid_modes),
    AGE_COL,
    END};

COUNT_CELL(csinode_drivers, "spec.drivers")
const struct api_column columns_csinodes[] = {
    NAME_COL,
    COL("Drivers", "integer", "Drivers indicates the number of CSI drivers registered on the node",
        0, csinode_drivers),
    AGE_COL, END};

STR_CELL(va_attacher, "spec.attacher")
STR_CELL(va_pv, "spec.source.persistentVolumeName")
STR_CELL(va_node, "spec.nodeName")
static json_t *va_attached(const json_t *o) { return bool_default(o, "status.attached", false); }

const struct api_column columns_volumeattachments[] = {
    NAME_COL,
    {"Attacher", "string", "name",
     "attacher indicates the name of the volume driver that MUST handle this request.", 0, NULL,
     va_attacher},
    COL("PV", "string",
        "persistentVolumeName represents the name of the persistent volume to attach.", 0, va_pv),
    COL("Node", "string", "nodeName represents the node that the volume should be attached to.", 0,
        va_node),
    COL("Attached", "boolean", "attached indicates the volume is successfully attached.", 0,
        va_attached),
    AGE_COL,
    END};

/* ---- scheduling, node, certificates, admission ---- */

INT_CELL(pc_value, "value")
static json_t *pc_default(const json_t *o) { return bool_default(o, "globalDefault", false); }
STR_CELL(pc_preemption, "preemptionPolicy")

const struct api_column columns_priorityclasses[] = {
    NAME_COL,
    COL("Value", "integer", "value represents the integer value of this priority class.", 0,
        pc_value),
    COL("Global-Default", "boolean",
        "globalDefault specifies whether this PriorityClass should be considered as the default "
        "priority for pods that do not have any priority class.",
        0, pc_default),
    AGE_COL,
    COL("PreemptionPolicy", "string",
        "preemptionPolicy is the Policy for preempting pods with lower priority.", 0,
        pc_preemption),
    END};

STR_CELL(rtc_handler, "handler")
const struct api_column columns_runtimeclasses[] = {
    NAME_COL,
    COL("Handler", "string",
        "handler specifies the underlying runtime and configuration that the CRI implementation "
        "will use to handle pods of this class.",
        0, rtc_handler),
    AGE_COL, END};

static json_t *csr_signer(const json_t *obj) {
  const char *s = col_str_at(obj, "spec.signerName");
  return col_empty(s) ? NULL : json_string(s);
}
STR_CELL(csr_requestor, "spec.username")
static json_t *csr_duration(const json_t *obj) {
  json_t *s = col_at(obj, "spec.expirationSeconds");
  if (!json_is_integer(s))
    return NULL;
  char buf[32];
  return json_string(
      timeutil_human_duration(json_integer_value(s) * 1000000000LL, buf, sizeof(buf)));
}

/* Denied over Approved over Pending, then ",Failed" and ",Issued". */
static json_t *csr_condition(const json_t *obj) {
  bool approved = false, denied = false, failed = false;
  size_t i;
  json_t *c;
  json_array_foreach(col_at(obj, "status.conditions"), i, c) {
    const char *t = col_str_or_empty(c, "type");
    approved |= streq(t, "Approved");
    denied |= streq(t, "Denied");
    failed |= streq(t, "Failed");
  }
  struct strbuf b = {0};
  strbuf_appends(&b, denied ? "Denied" : approved ? "Approved" : "Pending");
  if (failed)
    strbuf_appends(&b, ",Failed");
  if (!col_empty(col_str_at(obj, "status.certificate")))
    strbuf_appends(&b, ",Issued");
  return col_sb_cell(&b);
}

const struct api_column columns_csr[] = {
    NAME_COL,
    AGE_COL,
    COL("SignerName", "string", "signerName indicates the requested signer.", 0, csr_signer),
    COL("Requestor", "string",
        "username contains the name of the user that created the CertificateSigningRequest.", 0,
        csr_requestor),
    COL("RequestedDuration", "string",
        "expirationSeconds is the requested duration of validity of the issued certificate.", 0,
        csr_duration),
    COL("Condition", "string", "conditions applied to the request.", 0, csr_condition),
    END};

COUNT_CELL(webhook_count, "webhooks")
const struct api_column columns_webhooks[] = {
    NAME_COL,
    COL("Webhooks", "integer",
        "Webhooks indicates the number of webhooks registered in this configuration", 0,
        webhook_count),
    AGE_COL, END};

