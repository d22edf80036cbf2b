/* patch.c — JSON merge patch (RFC 7386), the patch media types and the resourceVersion
 * precondition. JSON patch lives in jsonpatch.c, strategic merge patch in smpatch.c. */
#include "api/patch.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "lib/json.h"
#include "lib/macro.h"

int patch_type_from_media_type(const char *content_type) {
  static const struct {
    const char *media_type;
    enum patch_type type;
  } types[] = {
      {"application/json-patch+json", PATCH_TYPE_JSON},
      {"application/merge-patch+json", PATCH_TYPE_MERGE},
      {"application/strategic-merge-patch+json", PATCH_TYPE_STRATEGIC},
      {"application/apply-patch+yaml", PATCH_TYPE_APPLY},
  };
  if (!content_type)
    return -EOPNOTSUPP;
  while (isspace((unsigned char)*content_type))
    content_type++;
  size_t n = strcspn(content_type, ";");
  while (n > 0 && isspace((unsigned char)content_type[n - 1]))
    n--;
  for (size_t i = 0; i < ARRAY_SIZE(types); i++)
    if (strlen(types[i].media_type) == n && strncasecmp(types[i].media_type, content_type, n) == 0)
      return (int)types[i].type;
  return -EOPNOTSUPP;
}

/* A copy of a patch value with the null members of its objects dropped, at any depth. Null
 * elements of arrays stay: json-patch v4, which kube-apiserver merges with, keeps them. */
static json_t *pruned_copy(const json_t *v) {
  if (json_is_object(v)) {
    json_t *out = json_object();
    const char *k;
    json_t *child;
    json_object_foreach((json_t *)v, k, child) {
      if (!json_is_null(child))
        json_object_set_new(out, k, pruned_copy(child));
    }
    return out;
  }
  if (json_is_array(v)) {
    json_t *out = json_array();
    size_t i;
    json_t *child;
    json_array_foreach(v, i, child) json_array_append_new(out, pruned_copy(child));
    return out;
  }
  return json_deep_copy(v);
}

static void merge_objects(json_t *doc, const json_t *patch) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)patch, k, v) {
    json_t *cur = json_object_get(doc, k);
    if (json_is_null(v))
      json_object_del(doc, k);
    else if (json_is_object(cur) && json_is_object(v))
      merge_objects(cur, v);
    else if (json_is_object(cur))
      /* An object replaced by a non-object takes the patch value as written, nulls
       * included, as json-patch v4 does. */
      json_object_set_new(doc, k, json_deep_copy(v));
    else
      json_object_set_new(doc, k, pruned_copy(v));
  }
}

int patch_merge(const json_t *doc, const json_t *patch, json_t **ret, struct api_error *err) {
  if (!json_is_object(patch)) {
    /* kube-apiserver would answer an array patch with a decoding error of the patched object;
     * a non-object can never yield an object, so it is refused up front. */
    if (err)
      return api_error_bad_request(err, "Invalid JSON Patch");
    return -EINVAL;
  }
  if (!json_is_object(doc)) {
    *ret = pruned_copy(patch);
    return 0;
  }
  json_t *out = json_deep_copy(doc);
  merge_objects(out, patch);
  *ret = out;
  return 0;
}

const char *patch_requested_resource_version(const json_t *current, const json_t *patched) {
  const char *want = json_path_str((json_t *)patched, "metadata.resourceVersion");
  if (!want || !*want)
    return NULL;
  const char *have = json_path_str((json_t *)current, "metadata.resourceVersion");
  if (have && streq(have, want))
    return NULL;
  return want;
}
