/* Requests that act rather than store: access and token reviews answered from the
 * request itself, and the subresources that change another object (pods/binding,
 * pods/eviction, namespaces/finalize). One table lists them all. */
#include <stdio.h>

#include "apiserver/admission.h"
#include "apiserver/authn.h"
#include "apiserver/body.h"
#include "apiserver/object.h"
#include "apiserver/resource.h"
#include "lib/json.h"

/* An action answers with (code, object) or fails with err. */
typedef int (*action_fn)(struct resource_context *ctx, const struct resource_request *req,
                         json_t *body, json_t **ret, int *ret_code, struct api_error *err);

static json_t *user_info_json(const struct authn_user *u) {
  json_t *groups = json_array();
  for (size_t i = 0; u && i < u->n_groups; i++)
    json_array_append_new(groups, json_string(u->groups[i]));
  json_t *info = json_pack("{s:s,s:o}", "username", u ? u->name : "system:anonymous", "groups",
                           groups);
  if (u && u->uid && *u->uid)
    json_object_set_new(info, "uid", json_string(u->uid));
  return info;
}

/* Authorization is "every authenticated user may do everything" until RBAC arrives, so
 * every access review is allowed; the reason says why, as an authorizer would. */
static int access_review(struct resource_context *ctx, const struct resource_request *req,
                         json_t *body, json_t **ret, int *ret_code, struct api_error *err) {
  (void)ctx;
  (void)req;
  (void)err;
  json_object_set_new(body, "status", json_pack("{s:b,s:s}", "allowed", 1, "reason",
                                                "all authenticated users are allowed"));
  *ret = json_incref(body);
  *ret_code = 201;
  return 0;
}

static int rules_review(struct resource_context *ctx, const struct resource_request *req,
                        json_t *body, json_t **ret, int *ret_code, struct api_error *err) {
  (void)ctx;
  (void)req;
  (void)err;
  json_object_set_new(
      body, "status",
      json_pack("{s:[{s:[s],s:[s],s:[s]}],s:[{s:[s],s:[s]}],s:b}", "resourceRules", "verbs", "*",
                "apiGroups", "*", "resources", "*", "nonResourceRules", "verbs", "*",
                "nonResourceURLs", "*", "incomplete", 0));
  *ret = json_incref(body);
  *ret_code = 201;
  return 0;
}

static int self_subject_review(struct resource_context *ctx, const struct resource_request *req,
                               json_t *body, json_t **ret, int *ret_code,
                               struct api_error *err) {
  (void)ctx;
  (void)err;
  json_object_set_new(body, "status", json_pack("{s:o}", "userInfo", user_info_json(req->user)));
  *ret = json_incref(body);
  *ret_code = 201;
  return 0;
}

static int token_review(struct resource_context *ctx, const struct resource_request *req,
                        json_t *body, json_t **ret, int *ret_code, struct api_error *err) {
  (void)req;
  const char *token = json_path_str(body, "spec.token");
  if (!token || !*token)
    return api_error_set(err, -EINVAL, 422, "Invalid",
                         "TokenReview.authentication.k8s.io \"\" is invalid: spec.token: "
                         "Required value: token must not be empty");
  const struct authn_user *u = NULL;
  json_t *status;
  if (ctx->tokens && authn_tokens_lookup(ctx->tokens, token, &u) == 0) {
    json_t *info = user_info_json(u);
    json_array_append_new(json_object_get(info, "groups"), json_string("system:authenticated"));
    status = json_pack("{s:b,s:o}", "authenticated", 1, "user", info);
  } else {
    status = json_pack("{s:b,s:{}}", "authenticated", 0, "user");
  }
  json_object_set_new(body, "status", status);
  *ret = json_incref(body);
  *ret_code = 201;
  return 0;
}

static const struct api_resource *pods(void) { return api_registry_find("", "v1", "pods"); }

/* Binding a pod to a node: the scheduler's write. A pod is bound once. */
static int bind_pod(struct resource_context *ctx, const struct resource_request *req,
                    json_t *body, json_t **ret, int *ret_code, struct api_error *err) {
  const char *name = req->info.subresource ? req->info.name : json_path_str(body, "metadata.name");
  const char *node = json_path_str(body, "target.name");
  if (!name || !*name)
    return api_error_bad_request(err, "binding has no pod name");
  if (!node || !*node)
    return api_error_set(err, -EINVAL, 422, "Invalid",
                         "Binding \"%s\" is invalid: target.name: Required value", name);
  for (int attempt = 0; attempt < 5; attempt++) {
    _cleanup_json_ json_t *pod = NULL;
    int64_t rev;
    int rc = resource_load(ctx, pods(), req->info.namespace_, name, &pod, &rev, err);
    if (rc < 0)
      return rc;
    if (json_path(pod, "metadata.deletionTimestamp"))
      return api_error_conflict(err, "", "pods/binding", name, "pod is being deleted");
    const char *cur = json_path_str(pod, "spec.nodeName");
    if (cur && *cur) {
      _cleanup_free_ char *detail = xasprintf("pod %s is already assigned to node \"%s\"", name, cur);
      return api_error_conflict(err, "", "pods/binding", name, detail);
    }
    json_object_set_new(json_object_ensure(pod, "spec"), "nodeName", json_string(node));
    /* kube-apiserver records the binding as PodScheduled=True */
    char now[32];
    object_now(now);
    json_t *conds = json_object_ensure_array(json_object_ensure(pod, "status"), "conditions");
    json_array_append_new(conds, json_pack("{s:s,s:s,s:n,s:s}", "type", "PodScheduled", "status",
                                           "True", "lastProbeTime", "lastTransitionTime", now));
    rc = resource_store_update(ctx, pods(), pod, rev, err);
    if (rc == -ESTALE) {
      api_error_clear(err);
      continue;
    }
    if (rc < 0)
      return rc;
    *ret = json_pack("{s:s,s:s,s:{},s:s,s:i}", "kind", "Status", "apiVersion", "v1", "metadata",
                     "status", "Success", "code", 201);
    *ret_code = 201;
    return 0;
  }
  return api_error_conflict(err, "", "pods/binding", name, "the pod kept changing");
}

/* An eviction is a delete that respects disruption budgets; with no PodDisruptionBudget
 * controller yet, every eviction is allowed. */
static int evict_pod(struct resource_context *ctx, const struct resource_request *req,
                     json_t *body, json_t **ret, int *ret_code, struct api_error *err) {
  const char *name = json_path_str(body, "metadata.name");
  if (name && *name && !streq(name, req->info.name))
    return api_error_bad_request(err, "name in URL does not match name in Eviction object");
  _cleanup_json_ json_t *obj = NULL;
  bool kept;
  int rc = resource_delete(ctx, pods(), req->info.namespace_, req->info.name,
                           json_object_get(body, "deleteOptions"), &obj, &kept, err);
  if (rc < 0)
    return rc;
  *ret = json_pack("{s:s,s:s,s:{},s:s,s:i}", "kind", "Status", "apiVersion", "v1", "metadata",
                   "status", "Success", "code", 201);
  *ret_code = 201;
  return 0;
}

/* namespaces/finalize replaces spec.finalizers; a terminating namespace with none left
 * is removed. */
static int finalize_namespace(struct resource_context *ctx, const struct resource_request *req,
                              json_t *body, json_t **ret, int *ret_code, struct api_error *err) {
  const struct api_resource *nsr = api_registry_find("", "v1", "namespaces");
  for (int attempt = 0; attempt < 5; attempt++) {
    _cleanup_json_ json_t *ns = NULL;
    int64_t rev;
    int rc = resource_load(ctx, nsr, NULL, req->info.name, &ns, &rev, err);
    if (rc < 0)
      return rc;
    json_t *fin = json_path(body, "spec.finalizers");
    json_object_set_new(json_object_ensure(ns, "spec"), "finalizers",
                        fin ? json_incref(fin) : json_array());
    rc = resource_store_update(ctx, nsr, ns, rev, err);
    if (rc == -ESTALE) {
      api_error_clear(err);
      continue;
    }
    if (rc < 0)
      return rc;
    /* Stored first: the delete reads the namespace back and refuses while spec.finalizers
     * still lists anything. */
    if (json_path(ns, "metadata.deletionTimestamp") && json_array_size(fin) == 0 &&
        json_array_size(json_path(ns, "metadata.finalizers")) == 0) {
      _cleanup_json_ json_t *gone = NULL;
      bool kept;
      rc = resource_delete(ctx, nsr, NULL, req->info.name, NULL, &gone, &kept, err);
      if (rc < 0 && rc != -ENOENT)
        return rc;
      api_error_clear(err);
    }
    *ret = json_incref(ns);
    *ret_code = 200;
    return 0;
  }
  return api_error_conflict(err, "", "namespaces", req->info.name, "the namespace kept changing");
}

static const struct action {
  const char *group, *resource, *subresource, *verb;
  action_fn run;
} actions[] = {
    {"authorization.k8s.io", "selfsubjectaccessreviews", NULL, "create", access_review},
    {"authorization.k8s.io", "subjectaccessreviews", NULL, "create", access_review},
    {"authorization.k8s.io", "localsubjectaccessreviews", NULL, "create", access_review},
    {"authorization.k8s.io", "selfsubjectrulesreviews", NULL, "create", rules_review},
    {"authentication.k8s.io", "selfsubjectreviews", NULL, "create", self_subject_review},
    {"authentication.k8s.io", "tokenreviews", NULL, "create", token_review},
    {"", "bindings", NULL, "create", bind_pod},
    {"", "pods", "binding", "create", bind_pod},
    {"", "pods", "eviction", "create", evict_pod},
    {"", "namespaces", "finalize", "update", finalize_namespace},
};

bool resource_action(struct resource_context *ctx, const struct resource_request *req,
                     struct resource_response *resp) {
  const struct request_info *info = &req->info;
  const struct action *a = NULL;
  for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
    if (streq(actions[i].group, info->group) && streq(actions[i].resource, info->resource) &&
        streq_ptr(actions[i].subresource, info->subresource) && streq(actions[i].verb, info->verb))
      a = &actions[i];
  if (!a)
    return false;
  _cleanup_api_error_ struct api_error err = {0};
  _cleanup_json_ json_t *body = NULL, *out = NULL;
  /* The body's kind is the subresource's (Binding, Eviction) or the review's own. */
  const struct api_resource *kind_of = info->res;
  for (const struct api_subresource *s = info->res->subresources; info->subresource && s && s->name; s++)
    if (streq(s->name, info->subresource))
      kind_of = api_registry_find_kind(s->group, s->version, s->kind);
  int code = 200;
  int rc = body_decode(kind_of ? kind_of : info->res, req->content_type, req->body,
                       req->body_len, &body, &err);
  if (rc == 0)
    rc = a->run(ctx, req, body, &out, &code, &err);
  if (rc < 0) {
    _cleanup_json_ json_t *st = api_error_to_status(&err);
    resp->code = err.code ? err.code : 500;
    resp->body = json_encode(st);
  } else {
    resp->code = code;
    resp->body = json_encode(out);
  }
  resp->len = strlen(resp->body);
  resp->content_type = "application/json";
  return true;
}
