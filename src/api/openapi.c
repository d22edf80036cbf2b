/* openapi.c — OpenAPI v3 documents from the registry and schemas. */
#include "api/openapi.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "api/registry.h"
#include "api/schema.h"
#include "lib/json.h"

#define REF_PREFIX "#/components/schemas/"

/* ---- schemas -------------------------------------------------------------------- */

struct type_set {
  const struct schema_type **items;
  size_t n, cap;
};

static bool type_set_add(struct type_set *s, const struct schema_type *t) {
  for (size_t i = 0; i < s->n; i++)
    if (s->items[i] == t)
      return false;
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 64;
    s->items = xrealloc(s->items, s->cap * sizeof(*s->items));
  }
  s->items[s->n++] = t;
  return true;
}

static void collect_ref(struct type_set *s, const struct schema_ref *ref);

static void collect_type(struct type_set *s, const struct schema_type *t) {
  if (!t || !type_set_add(s, t))
    return;
  for (size_t i = 0; i < t->n_fields; i++)
    collect_ref(s, t->fields[i].ref);
}

static void collect_ref(struct type_set *s, const struct schema_ref *ref) {
  if (ref->type)
    collect_type(s, ref->type);
  if (ref->elem)
    collect_ref(s, ref->elem);
}

static json_t *ref_object(const struct schema_type *t) {
  _cleanup_free_ char *r = xasprintf(REF_PREFIX "%s", t->full_name);
  return json_pack("{s:s}", "$ref", r);
}

static void set_scalar(json_t *o, enum schema_kind kind) {
  switch (kind) {
  case SCHEMA_STRING: json_object_set_new(o, "type", json_string("string")); break;
  case SCHEMA_INTEGER:
    json_object_set_new(o, "type", json_string("integer"));
    json_object_set_new(o, "format", json_string("int64"));
    break;
  case SCHEMA_INT32:
    json_object_set_new(o, "type", json_string("integer"));
    json_object_set_new(o, "format", json_string("int32"));
    break;
  case SCHEMA_NUMBER:
    json_object_set_new(o, "type", json_string("number"));
    json_object_set_new(o, "format", json_string("double"));
    break;
  case SCHEMA_BOOLEAN: json_object_set_new(o, "type", json_string("boolean")); break;
  case SCHEMA_QUANTITY:
    json_object_set_new(o, "type", json_string("string"));
    json_object_set_new(o, "format", json_string("quantity"));
    break;
  case SCHEMA_INTSTR:
    json_object_set_new(o, "type", json_string("string"));
    json_object_set_new(o, "format", json_string("int-or-string"));
    json_object_set_new(o, "x-kubernetes-int-or-string", json_true());
    break;
  case SCHEMA_TIME:
  case SCHEMA_MICROTIME:
    json_object_set_new(o, "type", json_string("string"));
    json_object_set_new(o, "format", json_string("date-time"));
    break;
  case SCHEMA_BYTES:
    json_object_set_new(o, "type", json_string("string"));
    json_object_set_new(o, "format", json_string("byte"));
    break;
  case SCHEMA_ANY:
    json_object_set_new(o, "type", json_string("object"));
    json_object_set_new(o, "x-kubernetes-preserve-unknown-fields", json_true());
    break;
  default: break;
  }
}

/* The schema of a value of type ref. Named types (structs and scalar aliases) are
 * referenced through allOf, as kube-apiserver's v3 documents do, so siblings such as
 * description and default can sit next to the reference. */
static json_t *ref_schema(const struct schema_ref *ref) {
  json_t *o = json_object();
  if (ref->type) {
    json_object_set_new(o, "allOf", json_pack("[o]", ref_object(ref->type)));
    return o;
  }
  switch (ref->kind) {
  case SCHEMA_LIST:
    json_object_set_new(o, "type", json_string("array"));
    json_object_set_new(o, "items", ref_schema(ref->elem));
    break;
  case SCHEMA_MAP:
    json_object_set_new(o, "type", json_string("object"));
    json_object_set_new(o, "additionalProperties", ref_schema(ref->elem));
    break;
  default: set_scalar(o, ref->kind); break;
  }
  return o;
}

static json_t *field_schema(const struct schema_field *f) {
  json_t *o = ref_schema(f->ref);
  if (f->ref->kind == SCHEMA_LIST && f->ref->elem->kind == SCHEMA_STRUCT)
    json_object_set_new(json_object_get(o, "items"), "default", json_object());
  if (f->doc && *f->doc)
    json_object_set_new(o, "description", json_string(f->doc));
  if (f->default_value)
    json_object_set(o, "default", f->default_value);
  if (f->enum_values) {
    json_t *e = json_array();
    for (size_t i = 0; f->enum_values[i]; i++)
      json_array_append_new(e, json_string(f->enum_values[i]));
    json_object_set_new(o, "enum", e);
  }
  if (f->patch_strategy) {
    char buf[64] = "";
    if (f->patch_strategy & SCHEMA_PATCH_MERGE)
      strcat(buf, "merge");
    if (f->patch_strategy & SCHEMA_PATCH_REPLACE)
      strcat(buf, *buf ? ",replace" : "replace");
    if (f->patch_strategy & SCHEMA_PATCH_RETAIN_KEYS)
      strcat(buf, *buf ? ",retainKeys" : "retainKeys");
    json_object_set_new(o, "x-kubernetes-patch-strategy", json_string(buf));
  }
  if (f->merge_key)
    json_object_set_new(o, "x-kubernetes-patch-merge-key", json_string(f->merge_key));
  if (f->ref->kind == SCHEMA_LIST) {
    static const char *const names[] = {"atomic", "set", "map"};
    json_object_set_new(o, "x-kubernetes-list-type", json_string(names[f->list_type]));
    if (f->list_type == SCHEMA_LIST_MAP && f->list_keys) {
      json_t *k = json_array();
      for (size_t i = 0; f->list_keys[i]; i++)
        json_array_append_new(k, json_string(f->list_keys[i]));
      json_object_set_new(o, "x-kubernetes-list-map-keys", k);
    }
  }
  if (f->map_atomic)
    json_object_set_new(o, "x-kubernetes-map-type", json_string("atomic"));
  return o;
}

static json_t *type_schema(const struct schema_type *t) {
  json_t *o = json_object();
  if (t->doc && *t->doc)
    json_object_set_new(o, "description", json_string(t->doc));
  if (t->scalar != SCHEMA_STRUCT) {
    set_scalar(o, t->scalar);
    return o;
  }
  json_object_set_new(o, "type", json_string("object"));
  json_t *props = json_object();
  json_t *required = json_array();
  for (size_t i = 0; i < t->n_fields; i++) {
    const struct schema_field *f = &t->fields[i];
    json_object_set_new(props, f->name, field_schema(f));
    if (f->required)
      json_array_append_new(required, json_string(f->name));
  }
  if (json_object_size(props))
    json_object_set_new(o, "properties", props);
  else
    json_decref(props);
  if (json_array_size(required))
    json_object_set_new(o, "required", required);
  else
    json_decref(required);
  if (t->n_gvks) {
    json_t *g = json_array();
    for (size_t i = 0; i < t->n_gvks; i++)
      json_array_append_new(g, json_pack("{s:s,s:s,s:s}", "group", t->gvks[i].group, "kind",
                                         t->gvks[i].kind, "version", t->gvks[i].version));
    json_object_set_new(o, "x-kubernetes-group-version-kind", g);
  }
  return o;
}

/* ---- paths ---------------------------------------------------------------------- */

/* "" → "Core", "rbac.authorization.k8s.io" → "RbacAuthorization": operation ids and tags. */
static char *group_camel(const char *group, bool upper_first) {
  if (!*group)
    return xstrdup(upper_first ? "Core" : "core");
  _cleanup_free_ char *g = xstrdup(group);
  char *suffix = strstr(g, ".k8s.io");
  if (suffix && suffix[7] == 0)
    *suffix = 0;
  char *out = xmalloc(strlen(g) + 1);
  size_t n = 0;
  bool up = upper_first;
  for (char *c = g; *c; c++) {
    if (*c == '.' || *c == '-') {
      up = true;
      continue;
    }
    out[n++] = up ? (char)toupper((unsigned char)*c) : *c;
    up = false;
  }
  out[n] = 0;
  return out;
}

static json_t *param(const char *name, const char *in, const char *desc, const char *type,
                     bool required) {
  json_t *p = json_pack("{s:s,s:s,s:s,s:{s:s,s:b}}", "name", name, "in", in, "description", desc,
                        "schema", "type", type, "uniqueItems", true);
  if (required)
    json_object_set_new(p, "required", json_true());
  return p;
}

static json_t *write_params(bool patch) {
  json_t *a = json_array();
  json_array_append_new(a, param("dryRun", "query",
                                 "When present, the change is not persisted; All runs every "
                                 "stage without storing the result.",
                                 "string", false));
  json_array_append_new(a, param("fieldManager", "query",
                                 "The name of the actor making the change, for field ownership.",
                                 "string", false));
  json_array_append_new(a, param("fieldValidation", "query",
                                 "How to treat unknown and duplicate fields in the body: Ignore "
                                 "drops them, Warn (the default) drops them with a warning, "
                                 "Strict fails the request.",
                                 "string", false));
  if (patch)
    json_array_append_new(a, param("force", "query",
                                   "Apply requests only: take ownership of conflicting fields.",
                                   "boolean", false));
  return a;
}

static json_t *content_of(const struct schema_type *t) {
  json_t *c = json_object();
  static const char *const types[] = {"application/json", "application/yaml",
                                      "application/vnd.kubernetes.protobuf"};
  for (size_t i = 0; i < ARRAY_SIZE(types); i++)
    json_object_set_new(c, types[i], json_pack("{s:o}", "schema", ref_object(t)));
  return c;
}

static json_t *responses(const struct schema_type *t, const char *const *codes) {
  json_t *r = json_object();
  for (size_t i = 0; codes[i]; i++) {
    const char *desc = streq(codes[i], "200")   ? "OK"
                       : streq(codes[i], "201") ? "Created"
                                                : "Accepted";
    json_t *resp = json_pack("{s:s}", "description", desc);
    if (t)
      json_object_set_new(resp, "content", content_of(t));
    json_object_set_new(r, codes[i], resp);
  }
  json_object_set_new(r, "401", json_pack("{s:s}", "description", "Unauthorized"));
  return r;
}

struct op_ctx {
  const struct api_resource *res;
  const struct schema_type *kind_type; /* the kind the operation returns */
  const char *kind;                    /* its kind name */
  const char *group, *version;         /* its gvk */
  const char *tag;
  const char *id_middle; /* "CoreV1Namespaced" */
  const char *suffix;    /* "Status", "" */
};

static json_t *operation(const struct op_ctx *c, const char *verb, const char *action,
                         const char *description) {
  _cleanup_free_ char *id = xasprintf("%s%s%s%s", verb, c->id_middle, c->kind, c->suffix);
  json_t *op = json_pack("{s:[s],s:s,s:s}", "tags", c->tag, "description", description,
                         "operationId", id);
  json_object_set_new(op, "x-kubernetes-action", json_string(action));
  json_object_set_new(op, "x-kubernetes-group-version-kind",
                      json_pack("{s:s,s:s,s:s}", "group", c->group, "version", c->version, "kind",
                                c->kind));
  return op;
}

static json_t *patch_op(const struct op_ctx *c, const struct schema_set *set, const char *what) {
  _cleanup_free_ char *d = xasprintf("partially update %s of the specified %s", what, c->kind);
  json_t *op = operation(c, "patch", "patch", d);
  json_object_set_new(op, "parameters", write_params(true));
  const struct schema_type *patch = schema_find(set, "io.k8s.apimachinery.pkg.apis.meta.v1.Patch");
  json_t *content = json_object();
  static const char *const types[] = {"application/apply-patch+yaml", "application/json-patch+json",
                                      "application/merge-patch+json",
                                      "application/strategic-merge-patch+json"};
  for (size_t i = 0; i < ARRAY_SIZE(types); i++)
    json_object_set_new(content, types[i],
                        patch ? json_pack("{s:o}", "schema", ref_object(patch)) : json_object());
  json_object_set_new(op, "requestBody", json_pack("{s:o,s:b}", "content", content, "required", 1));
  json_object_set_new(op, "responses",
                      responses(c->kind_type, (const char *const[]){"200", "201", NULL}));
  return op;
}

static json_t *put_op(const struct op_ctx *c, const char *what) {
  _cleanup_free_ char *d = xasprintf("replace %s of the specified %s", what, c->kind);
  json_t *op = operation(c, "replace", "put", d);
  json_object_set_new(op, "parameters", write_params(false));
  json_object_set_new(op, "requestBody",
                      json_pack("{s:o,s:b}", "content", content_of(c->kind_type), "required", 1));
  json_object_set_new(op, "responses",
                      responses(c->kind_type, (const char *const[]){"200", "201", NULL}));
  return op;
}

static json_t *get_op(const struct op_ctx *c, const char *what) {
  _cleanup_free_ char *d = xasprintf("read %s of the specified %s", what, c->kind);
  json_t *op = operation(c, "read", "get", d);
  json_object_set_new(op, "responses", responses(c->kind_type, (const char *const[]){"200", NULL}));
  return op;
}

static json_t *path_params(bool namespaced, bool named) {
  json_t *a = json_array();
  if (named)
    json_array_append_new(a, param("name", "path", "name of the object", "string", true));
  if (namespaced)
    json_array_append_new(a, param("namespace", "path", "object name and auth scope, such as for "
                                   "teams and projects", "string", true));
  json_array_append_new(a, param("pretty", "query", "If 'true', the output is pretty printed.",
                                 "string", false));
  return a;
}

static void add_resource_paths(json_t *paths, const struct api_resource *r,
                               const struct schema_set *set, struct type_set *types) {
  const char *root = *r->group ? "/apis" : "/api";
  _cleanup_free_ char *gv = *r->group ? xasprintf("%s/%s", r->group, r->version)
                                      : xstrdup(r->version);
  _cleanup_free_ char *tag_group = group_camel(r->group, false);
  _cleanup_free_ char *tag = xasprintf("%s_%s", tag_group, r->version);
  _cleanup_free_ char *camel = group_camel(r->group, true);
  _cleanup_free_ char *ver = xstrdup(r->version);
  ver[0] = (char)toupper((unsigned char)ver[0]);
  _cleanup_free_ char *middle = xasprintf("%s%s%s", camel, ver, r->namespaced ? "Namespaced" : "");
  _cleanup_free_ char *collection =
      r->namespaced ? xasprintf("%s/%s/namespaces/{namespace}/%s", root, gv, r->plural)
                    : xasprintf("%s/%s/%s", root, gv, r->plural);
  _cleanup_free_ char *item = xasprintf("%s/{name}", collection);
  _cleanup_free_ char *list_kind = xasprintf("%sList", r->kind);
  const struct schema_type *list_type = schema_find_gvk(set, r->group, r->version, list_kind);
  const struct schema_type *status =
      schema_find(set, "io.k8s.apimachinery.pkg.apis.meta.v1.Status");
  const struct schema_type *delete_opts =
      schema_find(set, "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions");
  collect_type(types, r->schema);
  collect_type(types, list_type);
  collect_type(types, status);
  collect_type(types, delete_opts);
  collect_type(types, schema_find(set, "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"));

  struct op_ctx c = {.res = r, .kind_type = r->schema, .kind = r->kind, .group = r->group,
                     .version = r->version, .tag = tag, .id_middle = middle, .suffix = ""};
  json_t *coll = json_object();
  if (r->verbs & VERB_LIST) {
    _cleanup_free_ char *d = xasprintf("list or watch objects of kind %s", r->kind);
    json_t *op = operation(&c, "list", "list", d);
    json_object_set_new(op, "responses", responses(list_type, (const char *const[]){"200", NULL}));
    json_object_set_new(coll, "get", op);
  }
  if (r->verbs & VERB_CREATE) {
    _cleanup_free_ char *d = xasprintf("create %s %s", strchr("AEIOU", r->kind[0]) ? "an" : "a",
                                       r->kind);
    json_t *op = operation(&c, "create", "post", d);
    json_object_set_new(op, "parameters", write_params(false));
    json_object_set_new(op, "requestBody",
                        json_pack("{s:o,s:b}", "content", content_of(r->schema), "required", 1));
    json_object_set_new(op, "responses",
                        responses(r->schema, (const char *const[]){"200", "201", "202", NULL}));
    json_object_set_new(coll, "post", op);
  }
  if (r->verbs & VERB_DELETECOLLECTION) {
    _cleanup_free_ char *d = xasprintf("delete collection of %s", r->kind);
    c.suffix = "";
    json_t *op = operation(&c, "deletecollection", "deletecollection", d);
    json_object_set_new(op, "responses", responses(status, (const char *const[]){"200", NULL}));
    json_object_set_new(coll, "delete", op);
  }
  if (json_object_size(coll)) {
    json_object_set_new(coll, "parameters", path_params(r->namespaced, false));
    json_object_set_new(paths, collection, coll);
  } else {
    json_decref(coll);
  }

  json_t *it = json_object();
  if (r->verbs & VERB_GET)
    json_object_set_new(it, "get", get_op(&c, r->kind));
  if (r->verbs & VERB_UPDATE)
    json_object_set_new(it, "put", put_op(&c, r->kind));
  if (r->verbs & VERB_PATCH)
    json_object_set_new(it, "patch", patch_op(&c, set, r->kind));
  if (r->verbs & VERB_DELETE) {
    _cleanup_free_ char *d = xasprintf("delete %s %s", strchr("AEIOU", r->kind[0]) ? "an" : "a",
                                       r->kind);
    json_t *op = operation(&c, "delete", "delete", d);
    if (delete_opts)
      json_object_set_new(op, "requestBody",
                          json_pack("{s:o}", "content", content_of(delete_opts)));
    json_object_set_new(op, "responses",
                        responses(r->schema, (const char *const[]){"200", "202", NULL}));
    json_object_set_new(it, "delete", op);
  }
  if (json_object_size(it)) {
    json_object_set_new(it, "parameters", path_params(r->namespaced, true));
    json_object_set_new(paths, item, it);
  } else {
    json_decref(it);
  }

  if (r->namespaced && (r->verbs & VERB_LIST)) {
    _cleanup_free_ char *all = xasprintf("%s/%s/%s", root, gv, r->plural);
    _cleanup_free_ char *mid = xasprintf("%s%s", camel, ver);
    struct op_ctx ac = c;
    ac.id_middle = mid;
    ac.suffix = "ForAllNamespaces";
    _cleanup_free_ char *d = xasprintf("list or watch objects of kind %s", r->kind);
    json_t *op = operation(&ac, "list", "list", d);
    json_object_set_new(op, "responses", responses(list_type, (const char *const[]){"200", NULL}));
    json_object_set_new(paths, all,
                        json_pack("{s:o,s:o}", "get", op, "parameters", path_params(false, false)));
  }

  /* Subresources served as objects (status, scale, ...); connect-style ones (log, exec,
   * proxy) carry no schema and are left out, as kubectl does not look them up here. */
  for (const struct api_subresource *s = r->subresources; s && s->name; s++) {
    const struct schema_type *st = schema_find_gvk(set, s->group ? s->group : r->group,
                                                   s->version ? s->version : r->version,
                                                   s->kind ? s->kind : r->kind);
    if (!st || !(s->verbs & (VERB_GET | VERB_UPDATE | VERB_PATCH | VERB_CREATE)))
      continue;
    collect_type(types, st);
    _cleanup_free_ char *sp = xasprintf("%s/%s", item, s->name);
    _cleanup_free_ char *suffix = xstrdup(s->name);
    suffix[0] = (char)toupper((unsigned char)suffix[0]);
    _cleanup_free_ char *what = xasprintf("%s of", s->name);
    struct op_ctx sc = c;
    sc.kind_type = st;
    sc.kind = st->n_gvks ? st->gvks[0].kind : r->kind;
    sc.group = st->n_gvks ? st->gvks[0].group : r->group;
    sc.version = st->n_gvks ? st->gvks[0].version : r->version;
    sc.suffix = suffix;
    json_t *sub = json_object();
    if (s->verbs & VERB_GET)
      json_object_set_new(sub, "get", get_op(&sc, what));
    if (s->verbs & VERB_UPDATE)
      json_object_set_new(sub, "put", put_op(&sc, what));
    if (s->verbs & VERB_PATCH)
      json_object_set_new(sub, "patch", patch_op(&sc, set, what));
    if (s->verbs & VERB_CREATE) {
      _cleanup_free_ char *d = xasprintf("create %s of a %s", s->name, r->kind);
      json_t *op = operation(&sc, "create", "post", d);
      json_object_set_new(op, "parameters", write_params(false));
      json_object_set_new(op, "requestBody",
                          json_pack("{s:o,s:b}", "content", content_of(st), "required", 1));
      json_object_set_new(op, "responses",
                          responses(st, (const char *const[]){"200", "201", "202", NULL}));
      json_object_set_new(sub, "post", op);
    }
    json_object_set_new(sub, "parameters", path_params(r->namespaced, true));
    json_object_set_new(paths, sp, sub);
  }
}

static json_t *build_group_version(const char *group, const char *version) {
  if (api_registry_init(NULL) < 0)
    return NULL;
  const struct schema_set *set = schema_builtin();
  json_t *paths = json_object();
  struct type_set types = {0};
  size_t found = 0;
  for (size_t i = 0; i < api_registry_count(); i++) {
    const struct api_resource *r = api_registry_at(i);
    if (!r->schema || !streq(r->group, group) || !streq(r->version, version))
      continue;
    add_resource_paths(paths, r, set, &types);
    found++;
  }
  if (!found) {
    json_decref(paths);
    free(types.items);
    return NULL;
  }
  json_t *schemas = json_object();
  for (size_t i = 0; i < types.n; i++)
    json_object_set_new(schemas, types.items[i]->full_name, type_schema(types.items[i]));
  free(types.items);
  json_object_set_new(schemas, "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
                      json_pack("{s:s,s:s}", "description",
                                "A patch body; its format depends on the request's content type.",
                                "type", "object"));
  return json_pack(
      "{s:s,s:{s:s,s:s},s:o,s:{s:o,s:{s:{s:s,s:s,s:s,s:s}}}}", "openapi", "3.0.0", "info",
      "title", "Kubernetes", "version", "v1.32.0", "paths", paths, "components", "schemas", schemas,
      "securitySchemes", "BearerToken", "type", "apiKey", "description",
      "Bearer Token authentication", "name", "authorization", "in", "header");
}

json_t *openapi_v3_group_version(const char *group, const char *version) {
  return build_group_version(group ? group : "", version ? version : "");
}

/* ---- cache ---------------------------------------------------------------------- */

struct cached_doc {
  char *path; /* "api/v1", "apis/apps/v1"; "" for the root */
  struct openapi_doc doc;
};

static struct cached_doc *cache;
static size_t cache_n;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static char *sha512_hex(const char *data, size_t len) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!EVP_Digest(data, len, md, &n, EVP_sha512(), NULL))
    abort();
  char *hex = xmalloc(n * 2 + 1);
  for (unsigned int i = 0; i < n; i++)
    sprintf(hex + i * 2, "%02X", md[i]);
  return hex;
}

static void cache_add(const char *path, json_t *doc) {
  cache = xrealloc(cache, (cache_n + 1) * sizeof(*cache));
  char *body = json_encode(doc);
  cache[cache_n++] = (struct cached_doc){
      .path = xstrdup(path),
      .doc = {.body = body, .len = strlen(body), .hash = sha512_hex(body, strlen(body))},
  };
}

static json_t *root_from_cache(void) {
  json_t *paths = json_object();
  for (size_t i = 0; i < cache_n; i++) {
    if (!*cache[i].path)
      continue;
    _cleanup_free_ char *url =
        xasprintf("/openapi/v3/%s?hash=%s", cache[i].path, cache[i].doc.hash);
    json_object_set_new(paths, cache[i].path, json_pack("{s:s}", "serverRelativeURL", url));
  }
  return json_pack("{s:o}", "paths", paths);
}

static void cache_init(void) {
  if (api_registry_init(NULL) < 0) {
    json_t *root = json_pack("{s:{}}", "paths");
    cache_add("", root);
    json_decref(root);
    return;
  }
  for (size_t i = 0; i < api_registry_count(); i++) {
    const struct api_resource *r = api_registry_at(i);
    _cleanup_free_ char *path = *r->group ? xasprintf("apis/%s/%s", r->group, r->version)
                                          : xasprintf("api/%s", r->version);
    bool seen = false;
    for (size_t k = 0; k < cache_n && !seen; k++)
      seen = streq(cache[k].path, path);
    if (seen)
      continue;
    json_t *doc = build_group_version(r->group, r->version);
    if (!doc)
      continue;
    cache_add(path, doc);
    json_decref(doc);
  }
  json_t *root = root_from_cache();
  cache_add("", root);
  json_decref(root);
}

const struct openapi_doc *openapi_v3_document(const char *path) {
  pthread_once(&cache_once, cache_init);
  if (!path)
    path = "";
  while (*path == '/')
    path++;
  for (size_t i = 0; i < cache_n; i++)
    if (streq(cache[i].path, path))
      return &cache[i].doc;
  return NULL;
}

json_t *openapi_v3_root(void) {
  pthread_once(&cache_once, cache_init);
  return root_from_cache();
}
