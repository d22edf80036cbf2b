/* podstatus.h — a pod's status as the kubelet reports it, computed from the pod's spec and
 * what the runtime says about each container: phase (kubelet's getPhase, restart policy
 * included), the conditions PodReadyToStartContainers, Initialized, Ready,
 * ContainersReady and PodScheduled with kube's reasons and messages, container statuses,
 * host and pod IPs, startTime and qosClass.
 *
 * Pure functions over JSON: no I/O, no global state, thread-safe. Nothing here logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lib/json.h"

enum podstatus_state {
  PODSTATUS_WAITING,
  PODSTATUS_RUNNING,
  PODSTATUS_TERMINATED,
};

/* One termination of a container (its current or its last state). */
struct podstatus_termination {
  int exit_code;
  const char *reason; /* NULL: "Completed" for exit code 0, "Error" otherwise */
  time_t started_at;
  time_t finished_at;
};

/* What the runtime says about one container. Strings are borrowed. */
struct podstatus_container {
  const char *name; /* the spec container it reports on */
  enum podstatus_state state;
  const char *waiting_reason; /* PODSTATUS_WAITING: "ContainerCreating", ... */
  const char *waiting_message;
  time_t running_since;                    /* PODSTATUS_RUNNING */
  struct podstatus_termination terminated; /* PODSTATUS_TERMINATED */
  bool has_last;                           /* lastState.terminated is `last` */
  struct podstatus_termination last;
  int restart_count;
  bool ready;
  bool started;
  const char *container_id; /* "hollow://0123..." or NULL (not created yet) */
  const char *image_id;     /* NULL = "" */
};

struct podstatus_input {
  const json_t *pod; /* the pod (spec, and the status it has now, read for
                        lastTransitionTime and startTime); borrowed */
  const struct podstatus_container *init_containers; /* in spec order; may be partial */
  size_t n_init;
  const struct podstatus_container *containers;
  size_t n_containers;
  bool sandbox_ready;  /* PodReadyToStartContainers */
  bool terminal;       /* the pod will run nothing more (kubelet's podIsTerminal) */
  const char *host_ip; /* NULL = leave out */
  const char *pod_ip;  /* NULL = leave out */
  time_t start_time;   /* when the kubelet accepted the pod; 0 = leave out */
  time_t now;          /* for lastTransitionTime of conditions that change */
};

/* The phase by kubelet's getPhase(): "Pending", "Running", "Succeeded" or "Failed".
 * Containers of the spec without an entry in `in` count as unknown. Static string. */
const char *podstatus_phase(const struct podstatus_input *in);

/* The QoS class of a pod spec (core/v1 PodSpec JSON), by kube's ComputePodQOS:
 * "Guaranteed", "Burstable" or "BestEffort". Static string. */
const char *podstatus_qos_class(const json_t *spec);

/* The image reference as container runtimes report it, registry and tag spelled out:
 * "nginx" → "docker.io/library/nginx:latest". Caller frees; "" for NULL. */
char *podstatus_image_name(const char *image);

/* The whole pod status object: new reference in *ret. A condition keeps the
 * lastTransitionTime the pod's current status has for it while its status does not change.
 * 0, or -EINVAL when in->pod has no spec. */
int podstatus_compute(const struct podstatus_input *in, json_t **ret);

/* Whether two status objects differ, ignoring members whose value is null (the API server
 * may drop them): decides whether a status write is needed. Either may be NULL. */
bool podstatus_changed(const json_t *old_status, const json_t *new_status);
