/* apiserver.h — the Kubernetes API server: TLS listener, authentication, the request
 * pipeline, discovery, OpenAPI, the generic resource handlers and watches, over a store.
 */
#pragma once

#include <stdbool.h>

struct apiserver_config {
  const char *data_dir;           /* certificates live in <data_dir>/tls */
  const char *bind_address;       /* "127.0.0.1" */
  unsigned port;                  /* 6443; 0 = any free port */
  const char *datastore_endpoint; /* "" = SQLite in data_dir */
  const char *token_file;         /* static token CSV, or NULL */
  const char *kubeconfig_path;    /* where the admin kubeconfig is written; NULL = none */
};

struct apiserver;

/* Opens the store, makes sure the certificates exist, creates the built-in namespaces
 * and the kubernetes Service, writes the kubeconfig and starts serving. Returns 0, or a
 * negative errno with a malloc'd message. */
int apiserver_start(const struct apiserver_config *cfg, struct apiserver **ret, char **ret_err);

/* The port actually bound. */
unsigned apiserver_port(const struct apiserver *s);

/* Stops serving, ends every watch, closes the store. Accepts NULL. */
void apiserver_stop(struct apiserver *s);
