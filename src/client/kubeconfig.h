/* kubeconfig.h — kubeconfig files: writing the admin kubeconfig the server hands out (the
 * layout k3s writes: cluster, user and context all named "default") and reading the
 * credentials of a context for the REST client.
 *
 * Nothing here logs. Functions return 0 or a negative errno; with a non-NULL ret_err a
 * failing call stores a malloc'd message there. All functions are thread-safe (they
 * share no state). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/macro.h"

#define KUBECONFIG_DEFAULT_SERVER "https://127.0.0.1:6443"

/* The admin kubeconfig as YAML text (malloc'd). `server` NULL means
 * KUBECONFIG_DEFAULT_SERVER; the PEM texts are embedded base64-encoded
 * (certificate-authority-data, client-certificate-data, client-key-data). Returns NULL
 * when `server` holds a line break. */
char *kubeconfig_render_admin(const char *server, const char *ca_pem, const char *cert_pem,
                              const char *key_pem);

/* Writes kubeconfig_render_admin()'s text to `path` atomically with mode 0600.
 * -EINVAL for an unusable server URL; other -errno from the filesystem. */
int kubeconfig_write_admin(const char *path, const char *server, const char *ca_pem,
                           const char *cert_pem, const char *key_pem, char **ret_err);

/* What a client needs to reach and authenticate to the API server. Strings are
 * malloc'd, NULL when absent. File references (certificate-authority, client-certificate,
 * client-key, tokenFile) are read and returned as contents. */
struct kubeconfig_creds {
  char *context;
  char *server;
  char *ca_pem;
  char *tls_server_name;
  bool insecure_skip_tls_verify;
  char *cert_pem;
  char *key_pem;
  char *token;
};

void kubeconfig_creds_free(struct kubeconfig_creds *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct kubeconfig_creds *, kubeconfig_creds_free)
#define _cleanup_kubeconfig_creds_ _cleanup_(kubeconfig_creds_freep)

/* Parses kubeconfig text (YAML or JSON) and resolves `context` (NULL = current-context)
 * to its cluster and user. Relative file references resolve against `base_dir`; with
 * `base_dir` NULL any file reference is refused (-EINVAL), which suits untrusted input.
 * -EINVAL for malformed YAML, a missing context/cluster/user, a cluster without server,
 * or base64 that does not decode; -errno when a referenced file cannot be read. */
int kubeconfig_parse(const char *buf, size_t len, const char *base_dir, const char *context,
                     struct kubeconfig_creds **ret, char **ret_err);

/* Reads the file at `path` and parses it with its directory as base_dir. */
int kubeconfig_load(const char *path, const char *context, struct kubeconfig_creds **ret,
                    char **ret_err);
