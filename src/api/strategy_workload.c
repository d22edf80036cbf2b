/* Workload strategies: Deployment, ReplicaSet, StatefulSet, DaemonSet (apps/v1),
 * ReplicationController (core/v1), Job and CronJob (batch/v1). Defaults that depend on
 * other fields (apps/v1, batch/v1 and core/v1 defaults.go), the Job selector the server
 * generates, and validation (pkg/apis/apps/validation, pkg/apis/batch/validation). */
#include "api/strategy.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "lib/json.h"
#include "lib/selector.h"
#include "lib/validation.h"

static const char *str_at(const json_t *obj, const char *key) {
  const json_t *v = json_object_get(obj, key);
  return json_is_string(v) ? json_string_value(v) : "";
}

static void set_if_absent(json_t *obj, const char *key, json_t *value) {
  if (!json_object_get(obj, key) || json_is_null(json_object_get(obj, key)))
    json_object_set_new(obj, key, value);
  else
    json_decref(value);
}

/* ---- shared pieces ---- */

static void template_default(json_t *obj, const char *path) {
  strategy_pod_spec_default(json_path(obj, path));
}

/* ValidateLabelSelector for a metav1.LabelSelector at path. */
static void label_selector_validate(const json_t *sel, const char *path,
                                    struct field_errors *errs) {
  if (!json_is_object(sel))
    return;
  _cleanup_free_ char *ml = xasprintf("%s.matchLabels", path);
  strategy_labels_validate(json_object_get(sel, "matchLabels"), ml, errs);
  size_t i;
  const json_t *e;
  json_array_foreach(json_object_get(sel, "matchExpressions"), i, e) {
    _cleanup_free_ char *ep = xasprintf("%s.matchExpressions[%zu]", path, i);
    const char *op = str_at(e, "operator");
    size_t nvals = json_array_size(json_object_get(e, "values"));
    _cleanup_free_ char *vp = xasprintf("%s.values", ep);
    if ((streq(op, "In") || streq(op, "NotIn")) && nvals == 0)
      field_errors_required(errs, vp, "must be specified when `operator` is 'In' or 'NotIn'");
    else if ((streq(op, "Exists") || streq(op, "DoesNotExist")) && nvals > 0)
      field_errors_forbidden(errs, vp,
                             "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    const json_t *key = json_object_get(e, "key");
    if (json_is_string(key)) {
      _cleanup_free_ char *kp = xasprintf("%s.key", ep);
      _cleanup_valid_msgs_ char **m = NULL;
      valid_label_key(json_string_value(key), &m);
      strategy_invalid_msgs(errs, kp, key, m);
    }
  }
}

static bool selector_is_empty_json(const json_t *sel) {
  return json_object_size(json_object_get(sel, "matchLabels")) +
             json_array_size(json_object_get(sel, "matchExpressions")) ==
         0;
}

/* Semantic equality of two LabelSelectors: absent and empty lists/maps are the same. */
static bool selector_equal(const json_t *a, const json_t *b) {
  if (!json_is_object(a) || !json_is_object(b))
    return !json_is_object(a) && !json_is_object(b);
  static const char *const keys[] = {"matchLabels", "matchExpressions"};
  for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
    const json_t *x = json_object_get(a, keys[i]), *y = json_object_get(b, keys[i]);
    size_t nx = json_is_object(x) ? json_object_size(x) : json_array_size(x);
    size_t ny = json_is_object(y) ? json_object_size(y) : json_array_size(y);
    if (nx != ny || (nx && !json_equal((json_t *)x, (json_t *)y)))
      return false;
  }
  return true;
}

static void selector_immutable(const json_t *spec, const json_t *ospec, struct field_errors *errs) {
  const json_t *sel = json_object_get(spec, "selector");
  if (selector_equal(sel, json_object_get(ospec, "selector")))
    return;
  _cleanup_free_ char *go = json_is_object(sel) ? strategy_go_label_selector(sel) : xstrdup("null");
  field_errors_add(errs, CAUSE_INVALID, "spec.selector", "Invalid value: %s: field is immutable",
                   go);
}

/* The selector must select the pods the template makes. */
static void selector_matches_template(const json_t *sel, const json_t *tmpl, const char *tpath,
                                      struct field_errors *errs) {
  _cleanup_selector_ selector_t *s = NULL;
  if (!json_is_object(sel) || selector_from_json(sel, &s, NULL) < 0 || selector_is_empty(s))
    return;
  const json_t *labels = json_path((json_t *)tmpl, "metadata.labels");
  if (selector_matches(s, labels))
    return;
  _cleanup_free_ char *p = xasprintf("%s.metadata.labels", tpath);
  _cleanup_free_ char *go = strategy_go_string_map(labels);
  field_errors_add(errs, CAUSE_INVALID, p,
                   "Invalid value: %s: `selector` does not match template `labels`", go);
}

/* A workload's selector, template, replicas and template restart policy, the way
 * ValidatePodTemplateSpecForReplicaSet and its siblings check them. kind names the
 * workload in kube's messages ("deployment", "ReplicaSet"). */
static void workload_validate(const json_t *obj, const char *empty_kind, const char *ads_kind,
                              struct field_errors *errs) {
  const json_t *spec = json_object_get(obj, "spec");
  if (!json_is_object(spec))
    return;
  const json_t *sel = json_object_get(spec, "selector");
  if (json_is_object(sel)) {
    label_selector_validate(sel, "spec.selector", errs);
    if (selector_is_empty_json(sel)) {
      _cleanup_free_ char *go = strategy_go_label_selector(sel);
      field_errors_add(errs, CAUSE_INVALID, "spec.selector",
                       "Invalid value: %s: empty selector is invalid for %s", go, empty_kind);
    }
  }
  const json_t *tmpl = json_object_get(spec, "template");
  if (!json_is_object(tmpl))
    return;
  selector_matches_template(sel, tmpl, "spec.template", errs);
  strategy_pod_template_validate(tmpl, "spec.template", errs);
  const json_t *rp = json_path((json_t *)tmpl, "spec.restartPolicy");
  if (json_is_string(rp) && !streq(json_string_value(rp), "Always")) {
    static const char *const always[] = {"Always", NULL};
    strategy_errors_drop(errs, "spec.template.spec.restartPolicy", CAUSE_NOT_SUPPORTED);
    field_errors_not_supported(errs, "spec.template.spec.restartPolicy", rp, always);
  }
  if (json_path((json_t *)tmpl, "spec.activeDeadlineSeconds")) {
    _cleanup_free_ char *msg = xasprintf("activeDeadlineSeconds in %s is not Supported", ads_kind);
    field_errors_forbidden(errs, "spec.template.spec.activeDeadlineSeconds", msg);
  }
}

/* Go's %#v of an intstr.IntOrString. */
static char *go_intstr(const json_t *v) {
  if (json_is_string(v))
    return xasprintf("intstr.IntOrString{Type:1, IntVal:0, StrVal:\"%s\"}", json_string_value(v));
  return xasprintf("intstr.IntOrString{Type:0, IntVal:%lld, StrVal:\"\"}",
                   (long long)json_integer_value(v));
}

/* The value of an int-or-percent as a number; a bad percent counts as 0. */
static long long intstr_value(const json_t *v) {
  if (json_is_integer(v))
    return json_integer_value(v);
  const char *s = json_string_value(v);
  return s ? atoll(s) : 0;
}

static bool valid_percent(const char *s) {
  size_t n = strlen(s);
  if (n < 2 || s[n - 1] != '%')
    return false;
  for (size_t i = 0; i + 1 < n; i++)
    if (!isdigit((unsigned char)s[i]))
      return false;
  return true;
}

static void positive_int_or_percent(const json_t *v, const char *path, struct field_errors *errs) {
  if (json_is_string(v)) {
    if (!valid_percent(json_string_value(v)))
      field_errors_invalid(errs, path, v,
                           "a valid percent string must be a numeric string followed by an ending "
                           "'%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')");
  } else if (json_is_integer(v) && json_integer_value(v) < 0) {
    field_errors_invalid(errs, path, v, "must be greater than or equal to 0");
  }
}

/* maxUnavailable and maxSurge of a rolling update at path, as Deployments and DaemonSets
 * share them. Returns maxUnavailable (borrowed) for the kind's own further checks. */
static const json_t *rolling_update_validate(const json_t *ru, const char *path,
                                             struct field_errors *errs) {
  const json_t *mu = json_object_get(ru, "maxUnavailable"), *ms = json_object_get(ru, "maxSurge");
  _cleanup_free_ char *mu_path = xasprintf("%s.maxUnavailable", path);
  _cleanup_free_ char *ms_path = xasprintf("%s.maxSurge", path);
  positive_int_or_percent(mu, mu_path, errs);
  positive_int_or_percent(ms, ms_path, errs);
  if (intstr_value(mu) == 0 && intstr_value(ms) == 0) {
    _cleanup_free_ char *go = go_intstr(mu);
    field_errors_add(errs, CAUSE_INVALID, mu_path,
                     "Invalid value: %s: may not be 0 when `maxSurge` is 0", go);
  }
  return mu;
}

/* The spec of a workload with its pod template defaulted, or NULL when there is none. */
static json_t *workload_spec_default(json_t *obj) {
  json_t *spec = json_object_get(obj, "spec");
  if (!json_is_object(spec))
    return NULL;
  template_default(obj, "spec.template.spec");
  return spec;
}

/* ---- Deployment ---- */

static void deployment_default(json_t *obj) {
  json_t *spec = workload_spec_default(obj);
  if (!spec)
    return;
  /* kubectl create deployment sends an empty strategy {}: the schema's whole-struct
   * default does not apply then, but the type default and its rollingUpdate do. */
  json_t *strategy = json_object_get(spec, "strategy");
  if (!json_is_object(strategy))
    return; /* the schema default fills in the whole strategy */
  const char *type = str_at(strategy, "type");
  if (!*type) {
    json_object_set_new(strategy, "type", json_string("RollingUpdate"));
    type = "RollingUpdate";
  }
  if (streq(type, "RollingUpdate")) {
    json_t *ru = json_object_ensure(strategy, "rollingUpdate");
    set_if_absent(ru, "maxUnavailable", json_string("25%"));
    set_if_absent(ru, "maxSurge", json_string("25%"));
  }
}

STRATEGY_DEFAULT_ON_WRITE(deployment, deployment_default)

static void deployment_validate(const json_t *obj, const json_t *old, struct field_errors *errs) {
  workload_validate(obj, "deployment", "Deployment", errs);
  const json_t *spec = json_object_get(obj, "spec");
  const json_t *strategy = json_object_get(spec, "strategy");
  const char *type = str_at(strategy, "type");
  const json_t *ru = json_object_get(strategy, "rollingUpdate");
  if (streq(type, "Recreate") && ru && !json_is_null(ru)) {
    field_errors_forbidden(errs, "spec.strategy.rollingUpdate",
                           "may not be specified when strategy `type` is 'Recreate'");
  } else if (streq(type, "RollingUpdate") && json_is_object(ru)) {
    const json_t *mu = rolling_update_validate(ru, "spec.strategy.rollingUpdate", errs);
    if (json_is_string(mu) && valid_percent(json_string_value(mu)) && intstr_value(mu) > 100)
      field_errors_invalid(errs, "spec.strategy.rollingUpdate.maxUnavailable", mu,
                           "must not be greater than 100%");
  }
  const json_t *pds = json_object_get(spec, "progressDeadlineSeconds");
  if (json_is_integer(pds) &&
      json_integer_value(pds) <= json_integer_value(json_object_get(spec, "minReadySeconds")))
    field_errors_invalid(errs, "spec.progressDeadlineSeconds", pds,
                         "must be greater than minReadySeconds");
  if (old)
    selector_immutable(spec, json_object_get(old, "spec"), errs);
}

const struct api_strategy strategy_deployments = {
    .prepare_create = deployment_prepare_create,
    .prepare_update = deployment_prepare_update,
    .validate = deployment_validate,
};

/* ---- ReplicaSet ---- */

static void replicaset_default(json_t *obj) {
  template_default(obj, "spec.template.spec");
}
STRATEGY_DEFAULT_ON_WRITE(replicaset, replicaset_default)

static void replicaset_validate(const json_t *obj, const json_t *old, struct field_errors *errs) {
  /* kube words the ReplicaSet's empty-selector error as the Deployment's. */
  workload_validate(obj, "deployment", "ReplicaSet", errs);
  if (old)
    selector_immutable(json_object_get(obj, "spec"), json_object_get(old, "spec"), errs);
}

const struct api_strategy strategy_replicasets = {
    .prepare_create = replicaset_prepare_create,
    .prepare_update = replicaset_prepare_update,
    .validate = replicaset_validate,
};

/* ---- StatefulSet ---- */

static void statefulset_default(json_t *obj) {
  json_t *spec = workload_spec_default(obj);
  if (!spec)
    return;
  json_t *us = json_object_get(spec, "updateStrategy");
  if (!json_is_object(us))
    return; /* the schema default fills in the whole strategy */
  /* An explicit RollingUpdate type without parameters stays without them; only a
   * defaulted type brings the default partition. */
  if (!*str_at(us, "type")) {
    json_object_set_new(us, "type", json_string("RollingUpdate"));
    json_object_ensure(us, "rollingUpdate");
  }
  json_t *ru = json_object_get(us, "rollingUpdate");
  if (streq(str_at(us, "type"), "RollingUpdate") && json_is_object(ru))
    set_if_absent(ru, "partition", json_integer(0));
}

STRATEGY_DEFAULT_ON_WRITE(statefulset, statefulset_default)

static void statefulset_validate(const json_t *obj, const json_t *old, struct field_errors *errs) {
  /* Containers mount the claims of volumeClaimTemplates as volumes of those names: they
   * are checked as if the template listed them. */
  _cleanup_json_ json_t *with_claims = json_deep_copy(obj);
  json_t *tspec = json_path(with_claims, "spec.template.spec"), *claim;
  size_t ci;
  json_array_foreach(json_path(with_claims, "spec.volumeClaimTemplates"), ci, claim) {
    const char *name = json_path_str(claim, "metadata.name");
    if (!json_is_object(tspec) || !name)
      continue;
    json_array_append_new(json_object_ensure_array(tspec, "volumes"),
                          json_pack("{s:s, s:{s:s}}", "name", name, "persistentVolumeClaim",
                                    "claimName", name));
  }
  workload_validate(with_claims, "statefulset", "StatefulSet", errs);
  const json_t *spec = json_object_get(obj, "spec");
  const json_t *us = json_object_get(spec, "updateStrategy");
  if (streq(str_at(us, "type"), "OnDelete") && json_is_object(json_object_get(us, "rollingUpdate")))
    field_errors_add(
        errs, CAUSE_INVALID, "spec.updateStrategy.rollingUpdate",
        "Invalid value: apps.RollingUpdateStatefulSetStrategy{Partition:%lld, "
        "MaxUnavailable:(*intstr.IntOrString)(nil)}: only allowed for updateStrategy "
        "'RollingUpdate'",
        (long long)json_integer_value(json_path((json_t *)us, "rollingUpdate.partition")));
  if (!old)
    return;
  /* Only these may change; everything else in spec is fixed at creation. */
  _cleanup_json_ json_t *a = json_deep_copy(spec),
                        *b = json_deep_copy(json_object_get(old, "spec"));
  static const char *const mutable_fields[] = {"replicas",
                                               "ordinals",
                                               "template",
                                               "updateStrategy",
                                               "persistentVolumeClaimRetentionPolicy",
                                               "minReadySeconds"};
  for (size_t i = 0; i < ARRAY_SIZE(mutable_fields); i++) {
    json_object_del(a, mutable_fields[i]);
    json_object_del(b, mutable_fields[i]);
  }
  if (!json_equal(a, b))
    field_errors_forbidden(errs, "spec",
                           "updates to statefulset spec for fields other than 'replicas', "
                           "'ordinals', 'template', 'updateStrategy', "
                           "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "
                           "forbidden");
}

const struct api_strategy strategy_statefulsets = {
    .prepare_create = statefulset_prepare_create,
    .prepare_update = statefulset_prepare_update,
    .validate = statefulset_validate,
};

/* ---- DaemonSet ---- */

static void daemonset_default(json_t *obj) {
  json_t *spec = workload_spec_default(obj);
  if (!spec)
    return;
  json_t *us = json_object_get(spec, "updateStrategy");
  if (!json_is_object(us))
    return;
  if (!*str_at(us, "type"))
    json_object_set_new(us, "type", json_string("RollingUpdate"));
  if (streq(str_at(us, "type"), "RollingUpdate")) {
    json_t *ru = json_object_ensure(us, "rollingUpdate");
    set_if_absent(ru, "maxUnavailable", json_integer(1));
    set_if_absent(ru, "maxSurge", json_integer(0));
  }
}

/* apps/v1 keeps the internal spec.templateGeneration in this annotation: 1 at creation,
 * one more whenever the pod template changes; clients cannot set it. */
#define DS_TEMPLATE_GENERATION "deprecated.daemonset.template.generation"

static void set_template_generation(json_t *obj, long long gen) {
  json_t *annotations = json_object_ensure(json_object_ensure(obj, "metadata"), "annotations");
  json_object_set_new(annotations, DS_TEMPLATE_GENERATION, json_sprintf("%lld", gen));
}

static long long template_generation(const json_t *obj) {
  const char *v = json_string_value(
      json_object_get(json_path((json_t *)obj, "metadata.annotations"), DS_TEMPLATE_GENERATION));
  return v ? strtoll(v, NULL, 10) : 0;
}

static void daemonset_prepare_create(json_t *obj) {
  daemonset_default(obj);
  long long gen = template_generation(obj);
  set_template_generation(obj, gen < 1 ? 1 : gen);
}

static void daemonset_prepare_update(json_t *obj, const json_t *old) {
  daemonset_default(obj);
  long long gen = template_generation(old);
  if (!json_equal(json_path(obj, "spec.template"), json_path((json_t *)old, "spec.template")))
    gen++;
  set_template_generation(obj, gen < 1 ? 1 : gen);
}

static void daemonset_validate(const json_t *obj, const json_t *old, struct field_errors *errs) {
  workload_validate(obj, "daemonset", "DaemonSet", errs);
  const json_t *us = json_path((json_t *)obj, "spec.updateStrategy");
  const json_t *ru = json_object_get(us, "rollingUpdate");
  if (streq(str_at(us, "type"), "RollingUpdate") && json_is_object(ru)) {
    rolling_update_validate(ru, "spec.updateStrategy.rollingUpdate", errs);
  }
  if (old)
    selector_immutable(json_object_get(obj, "spec"), json_object_get(old, "spec"), errs);
}

const struct api_strategy strategy_daemonsets = {
    .prepare_create = daemonset_prepare_create,
    .prepare_update = daemonset_prepare_update,
    .validate = daemonset_validate,
};

/* ---- ReplicationController ---- */

/* An RC without a selector selects its template's labels, and an RC without labels
 * takes them from its template too. */
static void rc_default(json_t *obj) {
  json_t *spec = workload_spec_default(obj);
  if (!spec)
    return;
  json_t *labels = json_path(obj, "spec.template.metadata.labels");
  if (!json_is_object(labels))
    return;
  if (json_object_size(json_object_get(spec, "selector")) == 0)
    json_object_set_new(spec, "selector", json_deep_copy(labels));
  json_t *md = json_object_ensure(obj, "metadata");
  if (json_object_size(json_object_get(md, "labels")) == 0)
    json_object_set_new(md, "labels", json_deep_copy(labels));
}

STRATEGY_DEFAULT_ON_WRITE(rc, rc_default)

static void rc_validate(const json_t *obj, const json_t *old, struct field_errors *errs) {
  (void)old;
  const json_t *spec = json_object_get(obj, "spec");
  if (!json_is_object(spec))
    return;
  const json_t *sel = json_object_get(spec, "selector");
  if (json_object_size(sel) == 0)
    field_errors_required(errs, "spec.selector", NULL);
  else
    strategy_labels_validate(sel, "spec.selector", errs);
  const json_t *tmpl = json_object_get(spec, "template");
  if (!json_is_object(tmpl)) {
    field_errors_required(errs, "spec.template", NULL);
    return;
  }
  if (json_object_size(sel) > 0) {
    _cleanup_json_ json_t *ls = json_pack("{s:O}", "matchLabels", sel);
    selector_matches_template(ls, tmpl, "spec.template", errs);
  }
  strategy_pod_template_validate(tmpl, "spec.template", errs);
  const json_t *rp = json_path((json_t *)tmpl, "spec.restartPolicy");
  if (json_is_string(rp) && !streq(json_string_value(rp), "Always")) {
    static const char *const always[] = {"Always", NULL};
    strategy_errors_drop(errs, "spec.template.spec.restartPolicy", CAUSE_NOT_SUPPORTED);
    field_errors_not_supported(errs, "spec.template.spec.restartPolicy", rp, always);
  }
  if (json_path((json_t *)tmpl, "spec.activeDeadlineSeconds"))
    field_errors_forbidden(errs, "spec.template.spec.activeDeadlineSeconds",
                           "activeDeadlineSeconds in ReplicationController is not Supported");
}

const struct api_strategy strategy_replicationcontrollers = {
    .prepare_create = rc_prepare_create,
    .prepare_update = rc_prepare_update,
    .validate = rc_validate,
};

/* ---- Job ---- */

/* SetDefaults_Job. They apply to Jobs only: a CronJob's jobTemplate stays as written
 * (the Job made from it is defaulted when it is created). */
static void job_spec_default(json_t *spec) {
  if (!json_is_object(spec))
    return;
  json_t *completions = json_object_get(spec, "completions");
  json_t *parallelism = json_object_get(spec, "parallelism");
  if ((!completions || json_is_null(completions)) && (!parallelism || json_is_null(parallelism))) {
    json_object_set_new(spec, "completions", json_integer(1));
    json_object_set_new(spec, "parallelism", json_integer(1));
  }
  set_if_absent(spec, "parallelism", json_integer(1));
  if (json_object_get(spec, "backoffLimitPerIndex"))
    set_if_absent(spec, "backoffLimit", json_integer(INT32_MAX));
  else
    set_if_absent(spec, "backoffLimit", json_integer(6));
  set_if_absent(spec, "completionMode", json_string("NonIndexed"));
  set_if_absent(spec, "suspend", json_false());
  json_t *pfp = json_object_get(spec, "podFailurePolicy");
  size_t i, j;
  json_t *rule, *pattern;
  json_array_foreach(json_object_get(pfp, "rules"), i, rule) {
    json_array_foreach(json_object_get(rule, "onPodConditions"), j, pattern)
        set_if_absent(pattern, "status", json_string("True"));
  }
  set_if_absent(spec, "podReplacementPolicy",
                json_string(json_is_object(pfp) ? "Failed" : "TerminatingOrFailed"));
}

/* Unless the client asked to manage the selector itself, a Job selects its pods by its
 * own uid, and its pods carry the uid and the job name as labels. */
static void job_generate_selector(json_t *obj) {
  json_t *spec = json_object_get(obj, "spec");
  if (!json_is_object(spec) || json_is_true(json_object_get(spec, "manualSelector")))
    return;
  const char *name = json_path_str(obj, "metadata.name");
  const char *uid = json_path_str(obj, "metadata.uid");
  json_t *tmpl = json_object_ensure(spec, "template");
  json_t *labels = json_object_ensure(json_object_ensure(tmpl, "metadata"), "labels");
  static const char *const name_labels[] = {"batch.kubernetes.io/job-name", "job-name"};
  static const char *const uid_labels[] = {"batch.kubernetes.io/controller-uid", "controller-uid"};
  for (size_t i = 0; i < 2; i++) {
    if (name)
      set_if_absent(labels, name_labels[i], json_string(name));
    if (uid)
      set_if_absent(labels, uid_labels[i], json_string(uid));
  }
  json_t *ml = json_object_ensure(json_object_ensure(spec, "selector"), "matchLabels");
  if (uid)
    set_if_absent(ml, "batch.kubernetes.io/controller-uid", json_string(uid));
}

/* A Job without labels takes its template's labels. kube does this when it decodes the
 * stored Job, after the selector labels were added; doing it here stores what clients
 * are then shown. */
static void job_labels_from_template(json_t *obj) {
  json_t *labels = json_path(obj, "spec.template.metadata.labels");
  if (!json_is_object(labels))
    return;
  json_t *md = json_object_ensure(obj, "metadata");
  if (json_object_size(json_object_get(md, "labels")) == 0)
    json_object_set_new(md, "labels", json_deep_copy(labels));
}

static void job_prepare_create(json_t *obj) {
  job_spec_default(json_object_get(obj, "spec"));
  template_default(obj, "spec.template.spec");
  job_generate_selector(obj);
  job_labels_from_template(obj);
}

static void job_prepare_update(json_t *obj, const json_t *old) {
  (void)old;
  job_spec_default(json_object_get(obj, "spec"));
  template_default(obj, "spec.template.spec");
  job_labels_from_template(obj);
}

/* validateJobSpec; path is "spec" or "spec.jobTemplate.spec". */
static void job_spec_validate(const json_t *spec, const char *path, bool need_selector,
                              struct field_errors *errs) {
  if (!json_is_object(spec))
    return;
  const json_t *sel = json_object_get(spec, "selector");
  _cleanup_free_ char *selp = xasprintf("%s.selector", path);
  _cleanup_free_ char *tpath = xasprintf("%s.template", path);
  if (need_selector) {
    if (!json_is_object(sel))
      field_errors_required(errs, selp, NULL);
    else
      label_selector_validate(sel, selp, errs);
  }
  const json_t *tmpl = json_object_get(spec, "template");
  if (json_is_object(sel))
    selector_matches_template(sel, tmpl, tpath, errs);
  strategy_pod_template_validate(tmpl, tpath, errs);

  _cleanup_free_ char *rpp = xasprintf("%s.spec.restartPolicy", tpath);
  const char *rp = str_at(json_object_get(tmpl, "spec"), "restartPolicy");
  if (json_is_object(tmpl)) {
    if (!*rp || streq(rp, "Always")) {
      strategy_errors_drop(errs, rpp, CAUSE_NOT_SUPPORTED);
      field_errors_required(errs, rpp, "valid values: \"OnFailure\", \"Never\"");
    } else if (!streq(rp, "OnFailure") && !streq(rp, "Never")) {
      static const char *const ok[] = {"OnFailure", "Never", NULL};
      _cleanup_json_ json_t *v = json_string(rp);
      strategy_errors_drop(errs, rpp, CAUSE_NOT_SUPPORTED);
      field_errors_not_supported(errs, rpp, v, ok);
    } else if (json_is_object(json_object_get(spec, "podFailurePolicy")) && !streq(rp, "Never")) {
      _cleanup_json_ json_t *v = json_string(rp);
      field_errors_invalid(errs, rpp, v,
                           "only \"Never\" is supported when podFailurePolicy is specified");
    }
  }
  bool indexed = streq(str_at(spec, "completionMode"), "Indexed");
  if (indexed && !json_is_integer(json_object_get(spec, "completions"))) {
    _cleanup_free_ char *p = xasprintf("%s.completions", path);
    field_errors_required(errs, p, "when completion mode is Indexed");
  }
  if (!indexed && json_object_get(spec, "backoffLimitPerIndex")) {
    _cleanup_free_ char *p = xasprintf("%s.backoffLimitPerIndex", path);
    field_errors_forbidden(errs, p, "requires indexed completion mode");
  }
}

static void job_validate(const json_t *obj, const json_t *old, struct field_errors *errs) {
  const json_t *spec = json_object_get(obj, "spec");
  job_spec_validate(spec, "spec", true, errs);
  if (!old)
    return;
  const json_t *ospec = json_object_get(old, "spec");
  if (!selector_equal(json_object_get(spec, "selector"), json_object_get(ospec, "selector")))
    selector_immutable(spec, ospec, errs);
  if (!streq(str_at(spec, "completionMode"), "Indexed"))
    strategy_immutable(json_object_get(spec, "completions"), json_object_get(ospec, "completions"),
                       "spec.completions", errs);
  const json_t *t = json_object_get(spec, "template"), *ot = json_object_get(ospec, "template");
  if (t && ot && !json_equal((json_t *)t, (json_t *)ot))
    field_errors_invalid(errs, "spec.template", t, "field is immutable");
}

const struct api_strategy strategy_jobs = {
    .prepare_create = job_prepare_create,
    .prepare_update = job_prepare_update,
    .validate = job_validate,
};

/* ---- CronJob ---- */

static void cronjob_default(json_t *obj) {
  template_default(obj, "spec.jobTemplate.spec.template.spec");
}

STRATEGY_DEFAULT_ON_WRITE(cronjob, cronjob_default)

struct cron_field {
  unsigned min, max;
  const char *const *names; /* index = value - names_base */
  unsigned names_base;
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

/* Parses one number or name of a cron field the way the cron library does; returns an
 * error message (malloc'd) or NULL. */
static char *cron_number(const char *s, const struct cron_field *f, long *ret) {
  for (size_t i = 0; f->names && f->names[i]; i++)
    if (!strcasecmp(s, f->names[i])) {
      *ret = (long)(i + f->names_base);
      return NULL;
    }
  const char *p = s;
  if (*p == '+' || *p == '-')
    p++;
  bool ok = *p != 0;
  for (const char *q = p; *q; q++)
    ok &= isdigit((unsigned char)*q) != 0;
  if (!ok || strlen(p) > 18)
    return xasprintf("failed to parse int from %s: strconv.Atoi: parsing \"%s\": invalid syntax", s,
                     s);
  long n = strtol(s, NULL, 10);
  if (n < 0)
    return xasprintf("negative number (%ld) not allowed: %s", n, s);
  *ret = n;
  return NULL;
}

static char *cron_range(const char *expr, const struct cron_field *f) {
  _cleanup_free_ char *copy = xstrdup(expr);
  char *slash = strchr(copy, '/');
  if (slash && strchr(slash + 1, '/'))
    return xasprintf("too many slashes: %s", expr);
  if (slash)
    *slash = 0;
  long start, end, step = 1;
  char *err;
  bool single = !strchr(copy, '-');
  if (streq(copy, "*") || streq(copy, "?")) {
    start = f->min;
    end = f->max;
  } else {
    char *dash = strchr(copy, '-');
    if (dash && strchr(dash + 1, '-'))
      return xasprintf("too many hyphens: %s", expr);
    if (dash)
      *dash = 0;
    if ((err = cron_number(copy, f, &start)))
      return err;
    end = start;
    if (dash && (err = cron_number(dash + 1, f, &end)))
      return err;
  }
  if (slash) {
    if ((err = cron_number(slash + 1, &(struct cron_field){0}, &step)))
      return err;
    if (single)
      end = f->max;
  }
  if (start < (long)f->min)
    return xasprintf("beginning of range (%ld) below minimum (%u): %s", start, f->min, expr);
  if (end > (long)f->max)
    return xasprintf("end of range (%ld) above maximum (%u): %s", end, f->max, expr);
  if (start > end)
    return xasprintf("beginning of range (%ld) beyond end of range (%ld): %s", start, end, expr);
  if (step == 0)
    return xasprintf("step of range should be a positive number: %s", expr);
  return NULL;
}

/* Go's time.ParseDuration grammar: [-+]? (number unit)+, or "0". */
static bool go_duration_valid(const char *s) {
  if (*s == '-' || *s == '+')
    s++;
  if (streq(s, "0"))
    return true;
  if (!*s)
    return false;
  static const char *const units[] = {"ns", "us", "\xc2\xb5s", "\xce\xbcs", "ms", "s", "m", "h"};
  while (*s) {
    bool digits = false;
    while (isdigit((unsigned char)*s))
      s++, digits = true;
    if (*s == '.') {
      s++;
      while (isdigit((unsigned char)*s))
        s++, digits = true;
    }
    if (!digits)
      return false;
    size_t best = 0;
    for (size_t i = 0; i < ARRAY_SIZE(units); i++)
      if (startswith(s, units[i]) && strlen(units[i]) > best)
        best = strlen(units[i]);
    if (!best)
      return false;
    s += best;
  }
  return true;
}

/* The schedule syntax the cron library accepts: five fields, or a descriptor.
 * Returns NULL or a malloc'd message in its words. */
static char *cron_check(const char *schedule) {
  _cleanup_free_ char *spec = xstrdup(schedule);
  char *s = spec;
  while (isspace((unsigned char)*s))
    s++;
  for (char *e = s + strlen(s); e > s && isspace((unsigned char)e[-1]);)
    *--e = 0;
  if (!*s)
    return xstrdup("empty spec string");
  if (startswith(s, "TZ=") || startswith(s, "CRON_TZ=")) {
    char *sp = s;
    while (*sp && !isspace((unsigned char)*sp))
      sp++;
    while (isspace((unsigned char)*sp))
      sp++;
    s = sp;
  }
  if (*s == '@') {
    static const char *const descriptors[] = {"@yearly", "@annually", "@monthly", "@weekly",
                                              "@daily",  "@midnight", "@hourly"};
    for (size_t i = 0; i < ARRAY_SIZE(descriptors); i++)
      if (streq(s, descriptors[i]))
        return NULL;
    if (startswith(s, "@every ")) {
      const char *d = s + 7;
      if (!go_duration_valid(d))
        return xasprintf("failed to parse duration %s: time: invalid duration \"%s\"", s, d);
      return NULL;
    }
    return xasprintf("unrecognized descriptor: %s", s);
  }
  char *fields[8];
  size_t n = 0;
  char *save = NULL;
  for (char *t = strtok_r(s, " \t\n\r\v\f", &save); t; t = strtok_r(NULL, " \t\n\r\v\f", &save)) {
    if (n < ARRAY_SIZE(fields))
      fields[n] = t;
    n++;
  }
  if (n != 5) {
    /* Go prints the fields as [a b c]. */
    _cleanup_free_ char *copy = xstrdup(schedule);
    char *list = xstrdup("");
    char *save2 = NULL;
    bool first = true;
    for (char *t = strtok_r(copy, " \t\n\r\v\f", &save2); t;
         t = strtok_r(NULL, " \t\n\r\v\f", &save2)) {
      char *next = xasprintf("%s%s%s", list, first ? "" : " ", t);
      free(list);
      list = next;
      first = false;
    }
    char *msg = xasprintf("expected exactly 5 fields, found %zu: [%s]", n, list);
    free(list);
    return msg;
  }
  const struct cron_field defs[5] = {{0, 59, NULL, 0},
                                     {0, 23, NULL, 0},
                                     {1, 31, NULL, 0},
                                     {1, 12, month_names, 1},
                                     {0, 6, dow_names, 0}};
  for (size_t i = 0; i < 5; i++) {
    char *save3 = NULL;
    for (char *part = strtok_r(fields[i], ",", &save3); part; part = strtok_r(NULL, ",", &save3)) {
      char *err = cron_range(part, &defs[i]);
      if (err)
        return err;
    }
  }
  return NULL;
}

static bool tz_part_valid(const char *p) {
  size_t n = strlen(p);
  if (n < 1 || n > 14 || streq(p, ".") || streq(p, "..") || *p == '-')
    return false;
  for (; *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr(".-_+", *p))
      return false;
  return true;
}

static void timezone_validate(const json_t *tz, struct field_errors *errs) {
  const char *s = json_string_value(tz);
  if (!s)
    return;
  if (!*s) {
    field_errors_invalid(errs, "spec.timeZone", tz, "timeZone must be nil or non-empty string");
    return;
  }
  _cleanup_free_ char *copy = xstrdup(s);
  _cleanup_free_ char *unknown = xasprintf("unknown time zone %s", s);
  char *save = NULL;
  for (char *part = strtok_r(copy, "/", &save); part; part = strtok_r(NULL, "/", &save))
    if (!tz_part_valid(part)) {
      field_errors_invalid(errs, "spec.timeZone", tz, unknown);
      return;
    }
  if (strchr(s, '/') == s || (strlen(s) && s[strlen(s) - 1] == '/') || strstr(s, "//")) {
    field_errors_invalid(errs, "spec.timeZone", tz, unknown);
    return;
  }
  if (!strcasecmp(s, "Local")) {
    field_errors_invalid(
        errs, "spec.timeZone", tz,
        "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones");
    return;
  }
  /* The zones Go knows: UTC, and the system's tz database. */
  if (streq(s, "UTC"))
    return;
  _cleanup_free_ char *path = xasprintf("/usr/share/zoneinfo/%s", s);
  struct stat st;
  if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
    field_errors_invalid(errs, "spec.timeZone", tz, unknown);
}

static void cronjob_validate(const json_t *obj, const json_t *old, struct field_errors *errs) {
  (void)old;
  /* Job names get an 11-character suffix and must stay a DNS label. */
  const json_t *name = json_path((json_t *)obj, "metadata.name");
  if (json_is_string(name) && strlen(json_string_value(name)) > 52)
    field_errors_invalid(errs, "metadata.name", name, "must be no more than 52 characters");
  const json_t *spec = json_object_get(obj, "spec");
  if (!json_is_object(spec))
    return;
  const json_t *schedule = json_object_get(spec, "schedule");
  const json_t *tz = json_object_get(spec, "timeZone");
  if (json_is_string(schedule) && *json_string_value(schedule)) {
    _cleanup_free_ char *err = cron_check(json_string_value(schedule));
    if (err)
      field_errors_invalid(errs, "spec.schedule", schedule, err);
    if (strstr(json_string_value(schedule), "TZ"))
      field_errors_invalid(errs, "spec.schedule", schedule,
                           tz ? "cannot use both timeZone field and TZ or CRON_TZ in schedule"
                              : "cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
  }
  timezone_validate(tz, errs);
  const json_t *jt = json_object_get(spec, "jobTemplate");
  const json_t *jspec = json_object_get(jt, "spec");
  job_spec_validate(jspec, "spec.jobTemplate.spec", false, errs);
  const json_t *sel = json_object_get(jspec, "selector");
  if (sel && !json_is_null(sel)) {
    _cleanup_free_ char *go = strategy_go_label_selector(sel);
    field_errors_add(errs, CAUSE_INVALID, "spec.jobTemplate.spec.selector",
                     "Invalid value: %s: `selector` will be auto-generated", go);
  }
  const json_t *ms = json_object_get(jspec, "manualSelector");
  if (json_is_true(ms)) {
    static const char *const ok[] = {"nil", "false", NULL};
    field_errors_not_supported(errs, "spec.jobTemplate.spec.manualSelector", ms, ok);
  }
}

const struct api_strategy strategy_cronjobs = {
    .prepare_create = cronjob_prepare_create,
    .prepare_update = cronjob_prepare_update,
    .validate = cronjob_validate,
};
