/* endpoints_util.h — the pure rules shared by the endpoints and endpointslice
 * controllers: which pods back a Service, which port of a pod a service port reaches, and
 * how kube packs Endpoints subsets.
 *
 * Every function is pure (reads its JSON arguments only, never keeps them) and
 * thread-safe, except the two pod-event helpers at the end, which enqueue work on a
 * controller. Objects are core/v1 Pods and Services as the API serves them. Nothing
 * here logs. */
#pragma once

#include <stdbool.h>

#include "client/informer.h"
#include "controllers/controller.h"
#include "lib/json.h"

/* Whether the pod's Ready condition is True (podutil.IsPodReady). */
bool ep_pod_ready(const json_t *pod);

/* Whether the pod belongs in a Service's endpoints at all (ShouldPodBeInEndpoints): not
 * terminal (Succeeded/Failed), has an IP, and is not being deleted unless
 * include_terminating. */
bool ep_pod_in_endpoints(const json_t *pod, bool include_terminating);

/* The pod's IPv4 address (status.podIPs, else status.podIP), borrowed; NULL when none. */
const char *ep_pod_ipv4(const json_t *pod);

/* Whether the Service has a non-empty selector and every selector label is on the pod. */
bool ep_service_selects(const json_t *svc, const json_t *pod);

/* Whether the Service's selector is set at all (Services without one are left to their
 * owners). */
bool ep_service_has_selector(const json_t *svc);

/* Whether the Service is headless (spec.clusterIP "None"). */
bool ep_service_headless(const json_t *svc);

/* The pod port a service port reaches (podutil.FindPort): a numeric targetPort as is
 * (the service port when targetPort is absent), a named one looked up among the pod's
 * containers' ports of the same protocol. 0 and *ret_port, or -ENOENT when the pod has
 * no port of that name. */
int ep_find_port(const json_t *pod, const json_t *service_port, int *ret_port);

/* Whether an endpoint of the pod gets a hostname for this Service: the pod names a
 * hostname, its subdomain is the Service's name, and they share the namespace. */
bool ep_should_set_hostname(const json_t *pod, const json_t *svc);

/* Packs subsets as kube's RepackSubsets does: every (address, port) pair is regrouped so
 * that addresses offering the same ports (with the same readiness) share one subset;
 * addresses are keyed by ip and targetRef.uid, a ready entry wins over a not-ready one.
 * Addresses are sorted by IP then uid, ports by name then number, subsets by their first
 * address. Returns a new array; `subsets` is not changed. */
json_t *ep_repack_subsets(const json_t *subsets);

/* Truncates subsets in place so they hold at most `max` addresses, ready ones first, and
 * returns whether anything was dropped (the Endpoints over-capacity rule). */
bool ep_truncate_subsets(json_t *subsets, size_t max);

/* Whether two subsets arrays are equal (order included), ignoring targetRef
 * resourceVersions. */
bool ep_subsets_equal(const json_t *a, const json_t *b);

/* Whether a pod update can change the endpoints of the Services it belongs to (deletion,
 * readiness, phase, IPs, node), as kube's podEndpointsChanged judges; *ret_labels_changed
 * tells whether the set of Services it belongs to may have changed (labels, hostname,
 * subdomain), in which case the old pod's Services need a look too. */
bool ep_pod_endpoints_changed(const json_t *old, const json_t *pod, bool *ret_labels_changed);

/* ---- pod events, as both controllers react to them ---- */

/* Enqueues on c (controller_enqueue_obj) every Service of the `services` informer in the
 * pod's namespace that selects it. For a pod added or deleted. Thread-safe. */
void ep_enqueue_services_of(struct controller *c, struct informer *services, const json_t *pod);
/* For a pod updated: the Services of pod when its endpoints may have changed
 * (ep_pod_endpoints_changed), and those of old as well when the set of Services it
 * belongs to may have. Thread-safe. */
void ep_enqueue_for_pod_update(struct controller *c, struct informer *services, const json_t *old,
                               const json_t *pod);
