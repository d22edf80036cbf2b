#include "api/warnings.h"

#include <stdio.h>

#include "lib/json.h"
#include "lib/strbuf.h"

/* A field path with "[*]" for every list item, relative to a pod spec; a key in brackets
 * names a map entry ("nodeSelector[beta.kubernetes.io/os]"). */
static const struct {
  const char *path;
  const char *message;
} pod_spec_warnings[] = {
    {"volumes[*].gitRepo", "deprecated in v1.11"},
    {"volumes[*].photonPersistentDisk", "deprecated in v1.11, non-functional in v1.16+"},
    {"volumes[*].quobyte", "deprecated in v1.22, non-functional in v1.25+"},
    {"volumes[*].scaleIO", "deprecated in v1.16, non-functional in v1.22+"},
    {"volumes[*].storageos", "deprecated in v1.22, non-functional in v1.25+"},
    {"volumes[*].flocker", "deprecated in v1.22, non-functional in v1.25+"},
    {"volumes[*].glusterfs", "deprecated in v1.25, non-functional in v1.26+"},
    {"nodeSelector[beta.kubernetes.io/os]", "deprecated since v1.14; use \"kubernetes.io/os\" instead"},
    {"nodeSelector[beta.kubernetes.io/arch]",
     "deprecated since v1.14; use \"kubernetes.io/arch\" instead"},
};

/* Where a pod spec sits in each kind that has one. */
static const struct {
  const char *plural;
  const char *spec_path; /* dotted, from the object root */
  const char *prefix;    /* as kube prints it */
} pod_specs[] = {
    {"pods", "spec", "spec"},
    {"podtemplates", "template.spec", "template.spec"},
    {"replicationcontrollers", "spec.template.spec", "spec.template.spec"},
    {"replicasets", "spec.template.spec", "spec.template.spec"},
    {"deployments", "spec.template.spec", "spec.template.spec"},
    {"statefulsets", "spec.template.spec", "spec.template.spec"},
    {"daemonsets", "spec.template.spec", "spec.template.spec"},
    {"jobs", "spec.template.spec", "spec.template.spec"},
    {"cronjobs", "spec.jobTemplate.spec.template.spec", "spec.jobTemplate.spec.template.spec"},
};

static void add(char ***list, size_t *n, const char *text) {
  *list = xrealloc(*list, (*n + 1) * sizeof(char *));
  (*list)[(*n)++] = xstrdup(text);
}

/* Walks `path` (the rest of a pattern) under v, printing matched places under `at`. */
static void walk(const json_t *v, const char *path, struct strbuf *at, const char *message,
                 char ***list, size_t *n) {
  if (!*path) {
    size_t len = at->len;
    strbuf_appendf(at, ": %s", message);
    add(list, n, at->s);
    at->len = len;
    at->s[len] = 0;
    return;
  }
  size_t seg = strcspn(path, ".[");
  size_t len = at->len;
  if (seg > 0) {
    _cleanup_free_ char *name = xstrndup(path, seg);
    json_t *child = json_object_get(v, name);
    if (child) {
      strbuf_appendf(at, "%s%s", len ? "." : "", name);
      walk(child, path + seg + (path[seg] == '.'), at, message, list, n);
    }
  } else if (startswith(path, "[*]")) {
    const char *rest = path + 3 + (path[3] == '.');
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
      strbuf_appendf(at, "[%zu]", i);
      walk(item, rest, at, message, list, n);
      at->len = len;
      at->s[len] = 0;
    }
  } else if (path[0] == '[') {
    size_t k = strcspn(path + 1, "]");
    _cleanup_free_ char *key = xstrndup(path + 1, k);
    json_t *child = json_object_get(v, key);
    if (child) {
      strbuf_appendf(at, "[%s]", key);
      const char *rest = path + k + 2;
      walk(child, rest + (*rest == '.'), at, message, list, n);
    }
  }
  at->len = len;
  if (at->s)
    at->s[len] = 0;
}

void warnings_for(const struct api_resource *r, const json_t *obj, char ***list, size_t *n) {
  for (size_t i = 0; i < sizeof(pod_specs) / sizeof(pod_specs[0]); i++) {
    if (!streq(r->plural, pod_specs[i].plural))
      continue;
    json_t *spec = json_path((json_t *)obj, pod_specs[i].spec_path);
    if (!spec)
      return;
    for (size_t w = 0; w < sizeof(pod_spec_warnings) / sizeof(pod_spec_warnings[0]); w++) {
      struct strbuf at = {0};
      strbuf_appends(&at, pod_specs[i].prefix);
      walk(spec, pod_spec_warnings[w].path, &at, pod_spec_warnings[w].message, list, n);
      strbuf_clear(&at);
    }
  }
}
