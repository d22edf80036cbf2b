/* controlplane.h — the components `ckube server` runs next to the API server: the
 * controller manager and the scheduler. Each is a client of the API like any other: it
 * gets its own client certificate (CN system:kube-controller-manager /
 * system:kube-scheduler), reaches the API server over HTTPS, and, with leader election
 * on, runs only while its process holds the component's Lease in kube-system, so several
 * servers on one etcd run one active controller manager and one scheduler. */
#pragma once

#include <stdbool.h>

struct controlplane_config {
  const char *data_dir;   /* the server's: certificates are in <data_dir>/tls */
  const char *server_url; /* https://127.0.0.1:6443 */
  /* Instead of the two above: reach the API with this kubeconfig's credentials (the
   * standalone `ckube controller-manager` / `ckube scheduler`). */
  const char *kubeconfig;
  const char *controllers;      /* --controllers, NULL = all */
  bool disable_controller_manager;
  bool disable_scheduler;
  bool leader_elect;
  const char *cluster_cidr;     /* NULL = 10.42.0.0/16 */
  long node_monitor_grace_ms;   /* 0 = 40 s */
};

struct controlplane;

/* Starts the enabled components (in the background: they begin work once they lead).
 * 0, or -errno with a malloc'd message. */
int controlplane_start(const struct controlplane_config *cfg, struct controlplane **ret,
                       char **ret_err);

/* Stops every component (a leader hands its Lease back) and frees. Accepts NULL. */
void controlplane_stop(struct controlplane *cp);

/* `ckube controller-manager` and `ckube scheduler`: one component on its own, reaching
 * the API server through --kubeconfig, until SIGTERM/SIGINT. argv[0] names the command.
 * Returns the exit status. */
int cmd_controller_manager(int argc, char **argv);
int cmd_scheduler(int argc, char **argv);
