/* leaderelect.h — leader election over a coordination.k8s.io/v1 Lease, as client-go's
 * leaderelection package does it: among processes using the same Lease, one holds it
 * (holderIdentity) and renews renewTime every retry period; the others try to take it
 * when it has not been renewed for leaseDurationSeconds. A leader that cannot renew
 * within the renew deadline stops leading (its callback runs) before anyone else may take
 * over, so two leaders never act at once as long as clocks advance at the same rate.
 *
 * Defaults are kube-controller-manager's: lease 15 s, renew deadline 10 s, retry 2 s.
 * Thread-safe. Nothing here logs. */
#pragma once

#include <stdbool.h>

#include "client/rest.h"
#include "lib/macro.h"

struct leader_elector;

struct leader_elector_config {
  const char *ns;       /* Lease namespace; NULL = "kube-system" */
  const char *name;     /* Lease name, e.g. "kube-controller-manager" (required) */
  const char *identity; /* holder identity, unique per process (required) */
  long lease_ms, renew_deadline_ms, retry_ms; /* 0 = defaults */
  /* Called from the elector thread when this process becomes leader, and when it stops
   * being leader (lost the lease or stopping). Either may be NULL. */
  void (*on_started)(void *userdata);
  void (*on_stopped)(void *userdata);
  void *userdata;
};

/* Starts the election thread. The client must outlive the elector. */
int leader_elector_start(struct rest_client *client, const struct leader_elector_config *cfg,
                         struct leader_elector **ret);

bool leader_elector_is_leader(struct leader_elector *e);

/* Stops campaigning; a leader releases the Lease (clears holderIdentity) so another can
 * take over at once, and on_stopped runs. Then frees. Accepts NULL. */
void leader_elector_free(struct leader_elector *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct leader_elector *, leader_elector_free)
