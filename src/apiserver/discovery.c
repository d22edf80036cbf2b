#include "apiserver/discovery.h"

#include "api/registry.h"
#include "lib/json.h"

json_t *discovery_version(void) {
  return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "major", CKUBE_K8S_MAJOR, "minor",
                   CKUBE_K8S_MINOR, "gitVersion", CKUBE_GIT_VERSION, "gitCommit",
                   "0000000000000000000000000000000000000000", "gitTreeState", "clean",
                   "buildDate", __DATE__ " " __TIME__, "goVersion", "none", "compiler", "gcc",
                   "platform", "linux/amd64");
}

static json_t *names_json(const char *const *names) {
  json_t *a = json_array();
  for (size_t i = 0; names && names[i]; i++)
    json_array_append_new(a, json_string(names[i]));
  return a;
}

static json_t *kind_json(const char *group, const char *version, const char *kind) {
  return json_pack("{s:s,s:s,s:s}", "group", group, "version", version, "kind", kind);
}

/* Distinct groups in registry order; versions of a group in registry order (preferred
 * first). */
static json_t *groups_in_order(bool core) {
  json_t *groups = json_array(); /* [ {name, versions:[...]}, ... ] */
  for (size_t i = 0; i < api_registry_count(); i++) {
    const struct api_resource *r = api_registry_at(i);
    if (core != (*r->group == 0))
      continue;
    json_t *g = NULL;
    size_t j;
    json_t *x;
    json_array_foreach(groups, j, x) if (streq(json_string_value(json_object_get(x, "name")),
                                               r->group)) g = x;
    if (!g) {
      g = json_pack("{s:s,s:[]}", "name", r->group, "versions");
      json_array_append_new(groups, g);
    }
    json_t *versions = json_object_get(g, "versions");
    bool seen = false;
    json_array_foreach(versions, j, x) if (streq(json_string_value(x), r->version)) seen = true;
    if (!seen)
      json_array_append_new(versions, json_string(r->version));
  }
  return groups;
}

static json_t *aggregated_resource(const struct api_resource *r) {
  json_t *res = json_pack("{s:s,s:o,s:s,s:s,s:o}", "resource", r->plural, "responseKind",
                          kind_json(r->group, r->version, r->kind), "scope",
                          r->namespaced ? "Namespaced" : "Cluster", "singularResource",
                          r->singular, "verbs", api_verbs_json(r->verbs));
  if (r->short_names)
    json_object_set_new(res, "shortNames", names_json(r->short_names));
  if (r->categories)
    json_object_set_new(res, "categories", names_json(r->categories));
  if (r->subresources) {
    json_t *subs = json_array();
    for (const struct api_subresource *s = r->subresources; s->name; s++)
      json_array_append_new(subs, json_pack("{s:s,s:o,s:o}", "subresource", s->name,
                                            "responseKind",
                                            kind_json(s->group, s->version, s->kind), "verbs",
                                            api_verbs_json(s->verbs)));
    json_object_set_new(res, "subresources", subs);
  }
  return res;
}

static json_t *aggregated(bool core, const char *api_version) {
  json_t *items = json_array();
  _cleanup_json_ json_t *groups = groups_in_order(core);
  size_t i;
  json_t *g;
  json_array_foreach(groups, i, g) {
    const char *group = json_string_value(json_object_get(g, "name"));
    json_t *versions = json_array();
    size_t j;
    json_t *v;
    json_array_foreach(json_object_get(g, "versions"), j, v) {
      json_t *resources = json_array();
      for (size_t k = 0; k < api_registry_count(); k++) {
        const struct api_resource *r = api_registry_at(k);
        if (streq(r->group, group) && streq(r->version, json_string_value(v)))
          json_array_append_new(resources, aggregated_resource(r));
      }
      json_array_append_new(versions, json_pack("{s:O,s:o,s:s}", "version", v, "resources",
                                                resources, "freshness", "Current"));
    }
    json_t *item = json_pack("{s:{},s:o}", "metadata", "versions", versions);
    if (*group)
      json_object_set_new(json_object_get(item, "metadata"), "name", json_string(group));
    json_array_append_new(items, item);
  }
  return json_pack("{s:s,s:s,s:{},s:o}", "kind", "APIGroupDiscoveryList", "apiVersion",
                   api_version, "metadata", "items", items);
}

static json_t *legacy_group(json_t *g) {
  const char *name = json_string_value(json_object_get(g, "name"));
  json_t *versions = json_array();
  size_t j;
  json_t *v;
  json_array_foreach(json_object_get(g, "versions"), j, v) {
    _cleanup_free_ char *gv = xasprintf("%s/%s", name, json_string_value(v));
    json_array_append_new(versions, json_pack("{s:s,s:O}", "groupVersion", gv, "version", v));
  }
  json_t *preferred = json_deep_copy(json_array_get(versions, 0));
  return json_pack("{s:s,s:o,s:o}", "name", name, "versions", versions, "preferredVersion",
                   preferred);
}

json_t *discovery_root(bool core, const char *accept, const char **ret_content_type) {
  if (accept && strstr(accept, "as=APIGroupDiscoveryList")) {
    /* kubectl lists v2 before v2beta1; answer the first one it names. */
    const char *v2 = strstr(accept, "v=v2;");
    const char *v2b = strstr(accept, "v=v2beta1");
    bool beta = v2b && (!v2 || v2b < v2);
    *ret_content_type = beta ? "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
                             : "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
    return aggregated(core, beta ? "apidiscovery.k8s.io/v2beta1" : "apidiscovery.k8s.io/v2");
  }
  *ret_content_type = "application/json";
  if (core)
    return json_pack("{s:s,s:[s],s:[{s:s,s:s}]}", "kind", "APIVersions", "versions", "v1",
                     "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0", "serverAddress",
                     "");
  json_t *groups = json_array();
  _cleanup_json_ json_t *gs = groups_in_order(false);
  size_t i;
  json_t *g;
  json_array_foreach(gs, i, g) json_array_append_new(groups, legacy_group(g));
  return json_pack("{s:s,s:s,s:o}", "kind", "APIGroupList", "apiVersion", "v1", "groups", groups);
}

json_t *discovery_group(const char *group) {
  _cleanup_json_ json_t *gs = groups_in_order(false);
  size_t i;
  json_t *g;
  json_array_foreach(gs, i, g) if (streq(json_string_value(json_object_get(g, "name")), group)) {
    json_t *out = legacy_group(g);
    json_object_set_new(out, "kind", json_string("APIGroup"));
    json_object_set_new(out, "apiVersion", json_string("v1"));
    return out;
  }
  return NULL;
}

json_t *discovery_resources(const char *group, const char *version) {
  json_t *resources = json_array();
  for (size_t k = 0; k < api_registry_count(); k++) {
    const struct api_resource *r = api_registry_at(k);
    if (!streq(r->group, group) || !streq(r->version, version))
      continue;
    json_t *res = json_pack("{s:s,s:s,s:b,s:s,s:o}", "name", r->plural, "singularName",
                            r->singular, "namespaced", r->namespaced, "kind", r->kind, "verbs",
                            api_verbs_json(r->verbs));
    if (r->short_names)
      json_object_set_new(res, "shortNames", names_json(r->short_names));
    if (r->categories)
      json_object_set_new(res, "categories", names_json(r->categories));
    json_array_append_new(resources, res);
    for (const struct api_subresource *s = r->subresources; s && s->name; s++) {
      _cleanup_free_ char *name = xasprintf("%s/%s", r->plural, s->name);
      json_t *sub = json_pack("{s:s,s:s,s:b,s:s,s:o}", "name", name, "singularName", "",
                              "namespaced", r->namespaced, "kind", s->kind, "verbs",
                              api_verbs_json(s->verbs));
      if (!streq(s->group, r->group) || !streq(s->version, r->version)) {
        json_object_set_new(sub, "group", json_string(s->group));
        json_object_set_new(sub, "version", json_string(s->version));
      }
      json_array_append_new(resources, sub);
    }
  }
  if (json_array_size(resources) == 0) {
    json_decref(resources);
    return NULL;
  }
  _cleanup_free_ char *gv = *group ? xasprintf("%s/%s", group, version) : xstrdup(version);
  return json_pack("{s:s,s:s,s:s,s:o}", "kind", "APIResourceList", "apiVersion", "v1",
                   "groupVersion", gv, "resources", resources);
}
