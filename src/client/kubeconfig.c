#include "client/kubeconfig.h"

#include <libgen.h>
#include <stdio.h>
#include <yaml.h>

#include "lib/base64.h"
#include "lib/fileio.h"

/* Referenced credential files are small; a cap keeps a hostile path (/dev/zero) from
 * exhausting memory. */
#define MAX_REF_FILE (4 * 1024 * 1024)

/* ---- writing ---- */

/* A plain YAML scalar needs no quoting when it holds only URL-ish characters. */
static bool plain_safe(const char *s) {
  if (!s[0])
    return false;
  for (const char *p = s; *p; p++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:/.[]%_-", *p))
      return false;
  return true;
}

static char *yaml_quote(const char *s) {
  size_t n = strlen(s);
  char *out = xmalloc(2 * n + 3), *o = out;
  *o++ = '"';
  for (const char *p = s; *p; p++) {
    if (*p == '"' || *p == '\\')
      *o++ = '\\';
    *o++ = *p;
  }
  *o++ = '"';
  *o = '\0';
  return out;
}

char *kubeconfig_render_admin(const char *server, const char *ca_pem, const char *cert_pem,
                              const char *key_pem) {
  if (!server)
    server = KUBECONFIG_DEFAULT_SERVER;
  if (strpbrk(server, "\r\n"))
    return NULL;
  _cleanup_free_ char *srv = plain_safe(server) ? xstrdup(server) : yaml_quote(server);
  _cleanup_free_ char *ca = base64_encode(ca_pem, strlen(ca_pem));
  _cleanup_free_ char *cert = base64_encode(cert_pem, strlen(cert_pem));
  _cleanup_free_ char *key = base64_encode(key_pem, strlen(key_pem));
  return xasprintf("apiVersion: v1\n"
                   "clusters:\n"
                   "- cluster:\n"
                   "    certificate-authority-data: %s\n"
                   "    server: %s\n"
                   "  name: default\n"
                   "contexts:\n"
                   "- context:\n"
                   "    cluster: default\n"
                   "    user: default\n"
                   "  name: default\n"
                   "current-context: default\n"
                   "kind: Config\n"
                   "preferences: {}\n"
                   "users:\n"
                   "- name: default\n"
                   "  user:\n"
                   "    client-certificate-data: %s\n"
                   "    client-key-data: %s\n",
                   ca, srv, cert, key);
}

int kubeconfig_write_admin(const char *path, const char *server, const char *ca_pem,
                           const char *cert_pem, const char *key_pem, char **ret_err) {
  _cleanup_free_ char *text = kubeconfig_render_admin(server, ca_pem, cert_pem, key_pem);
  if (!text)
    return set_error(ret_err, -EINVAL, "invalid server URL");
  int r = fileio_write_atomic(path, text, strlen(text), 0600);
  if (r < 0)
    return set_error(ret_err, r, "cannot write %s: %s", path, strerror(-r));
  return 0;
}

/* ---- reading: a walk over libyaml's document tree; only a few fixed paths matter ---- */

static yaml_node_t *node(yaml_document_t *d, int id) { return yaml_document_get_node(d, id); }

static const char *scalar(yaml_node_t *n) {
  if (!n || n->type != YAML_SCALAR_NODE)
    return NULL;
  /* C strings cannot carry NULs; a scalar holding one is treated as absent. */
  if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
    return NULL;
  return (const char *)n->data.scalar.value;
}

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *m, const char *key) {
  if (!m || m->type != YAML_MAPPING_NODE)
    return NULL;
  for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
    const char *k = scalar(node(d, p->key));
    if (k && streq(k, key))
      return node(d, p->value);
  }
  return NULL;
}

static const char *map_str(yaml_document_t *d, yaml_node_t *m, const char *key) {
  return scalar(map_get(d, m, key));
}

/* The `field` object of the entry named `name` in the list at root[list]. */
static yaml_node_t *named(yaml_document_t *d, yaml_node_t *root, const char *list, const char *name,
                          const char *field) {
  yaml_node_t *seq = map_get(d, root, list);
  if (!seq || seq->type != YAML_SEQUENCE_NODE)
    return NULL;
  for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top;
       i++) {
    yaml_node_t *e = node(d, *i);
    const char *n = map_str(d, e, "name");
    if (n && streq(n, name)) {
      yaml_node_t *f = map_get(d, e, field);
      return f && f->type == YAML_MAPPING_NODE ? f : NULL;
    }
  }
  return NULL;
}

static int read_path(const char *path, char **ret, char **ret_err) {
  int r = fileio_read_all(path, MAX_REF_FILE, ret, NULL);
  if (r == -EFBIG)
    return set_error(ret_err, r, "%s is too large", path);
  if (r < 0)
    return set_error(ret_err, r, "cannot read %s: %s", path, strerror(-r));
  return 0;
}

static int read_ref(const char *base_dir, const char *file, char **ret, char **ret_err) {
  if (!base_dir)
    return set_error(ret_err, -EINVAL, "file reference \"%s\" not allowed here", file);
  _cleanup_free_ char *path = file[0] == '/' ? xstrdup(file) : xasprintf("%s/%s", base_dir, file);
  return read_path(path, ret, ret_err);
}

/* Fills *ret from `<key>-data` (base64) or `<key>` (a file); NULL when neither. */
static int data_or_file(yaml_document_t *d, yaml_node_t *m, const char *key, const char *base_dir,
                        char **ret, char **ret_err) {
  _cleanup_free_ char *dkey = xasprintf("%s-data", key);
  const char *data = map_str(d, m, dkey);
  if (data && data[0]) {
    char *out;
    long n = base64_decode(data, strlen(data), &out);
    if (n < 0)
      return set_error(ret_err, -EINVAL, "%s is not valid base64", dkey);
    *ret = out;
    return 0;
  }
  const char *file = map_str(d, m, key);
  if (file && file[0])
    return read_ref(base_dir, file, ret, ret_err);
  return 0;
}

void kubeconfig_creds_free(struct kubeconfig_creds *c) {
  if (!c)
    return;
  free(c->context);
  free(c->server);
  free(c->ca_pem);
  free(c->tls_server_name);
  free(c->cert_pem);
  free(c->key_pem);
  free(c->token);
  free(c);
}

static int resolve(yaml_document_t *d, const char *base_dir, const char *context,
                   struct kubeconfig_creds **ret, char **ret_err) {
  yaml_node_t *root = yaml_document_get_root_node(d);
  if (!root || root->type != YAML_MAPPING_NODE)
    return set_error(ret_err, -EINVAL, "kubeconfig is not a mapping");
  if (!context || !context[0])
    context = map_str(d, root, "current-context");
  if (!context || !context[0])
    return set_error(ret_err, -EINVAL, "current-context is not set");
  yaml_node_t *ctx = named(d, root, "contexts", context, "context");
  if (!ctx)
    return set_error(ret_err, -EINVAL, "context was not found for specified context: %s", context);
  const char *cluster_name = map_str(d, ctx, "cluster");
  const char *user_name = map_str(d, ctx, "user");
  yaml_node_t *cluster = cluster_name ? named(d, root, "clusters", cluster_name, "cluster") : NULL;
  if (!cluster)
    return set_error(ret_err, -EINVAL, "cluster \"%s\" was not found for context \"%s\"",
                     cluster_name ? cluster_name : "", context);
  const char *server = map_str(d, cluster, "server");
  if (!server || !server[0])
    return set_error(ret_err, -EINVAL, "cluster \"%s\" has no server defined", cluster_name);

  _cleanup_kubeconfig_creds_ struct kubeconfig_creds *c = xcalloc(1, sizeof(*c));
  c->context = xstrdup(context);
  c->server = xstrdup(server);
  const char *insecure = map_str(d, cluster, "insecure-skip-tls-verify");
  c->insecure_skip_tls_verify = insecure && streq(insecure, "true");
  const char *sni = map_str(d, cluster, "tls-server-name");
  c->tls_server_name = sni && sni[0] ? xstrdup(sni) : NULL;
  int r = data_or_file(d, cluster, "certificate-authority", base_dir, &c->ca_pem, ret_err);
  if (r < 0)
    return r;

  /* kubectl accepts a context without a user: no client credentials then. */
  if (user_name && user_name[0]) {
    yaml_node_t *user = named(d, root, "users", user_name, "user");
    if (!user)
      return set_error(ret_err, -EINVAL, "user \"%s\" was not found for context \"%s\"", user_name,
                       context);
    r = data_or_file(d, user, "client-certificate", base_dir, &c->cert_pem, ret_err);
    if (r < 0)
      return r;
    r = data_or_file(d, user, "client-key", base_dir, &c->key_pem, ret_err);
    if (r < 0)
      return r;
    const char *token = map_str(d, user, "token");
    if (token && token[0]) {
      c->token = xstrdup(token);
    } else {
      const char *token_file = map_str(d, user, "tokenFile");
      if (token_file && token_file[0]) {
        r = read_ref(base_dir, token_file, &c->token, ret_err);
        if (r < 0)
          return r;
        c->token[strcspn(c->token, "\r\n")] = '\0';
      }
    }
  }
  *ret = TAKE_PTR(c);
  return 0;
}

int kubeconfig_parse(const char *buf, size_t len, const char *base_dir, const char *context,
                     struct kubeconfig_creds **ret, char **ret_err) {
  yaml_parser_t parser;
  yaml_document_t doc;
  if (!yaml_parser_initialize(&parser))
    return set_error(ret_err, -ENOMEM, "cannot initialise YAML parser");
  yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
  if (!yaml_parser_load(&parser, &doc)) {
    int r =
        set_error(ret_err, -EINVAL, "invalid kubeconfig: line %zu: %s",
                  parser.problem_mark.line + 1, parser.problem ? parser.problem : "parse error");
    yaml_parser_delete(&parser);
    return r;
  }
  int r = resolve(&doc, base_dir, context, ret, ret_err);
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  return r;
}

int kubeconfig_load(const char *path, const char *context, struct kubeconfig_creds **ret,
                    char **ret_err) {
  _cleanup_free_ char *dircopy = xstrdup(path);
  const char *dir = dirname(dircopy);
  _cleanup_free_ char *text = NULL;
  int r = read_path(path, &text, ret_err);
  if (r < 0)
    return r;
  return kubeconfig_parse(text, strlen(text), dir, context, ret, ret_err);
}
