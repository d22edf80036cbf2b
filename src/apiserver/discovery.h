/* discovery.h — /version, /api, /apis and the group-version resource lists, in the
 * aggregated (apidiscovery.k8s.io/v2 and v2beta1) and legacy forms, built from the
 * registry. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#define CKUBE_K8S_MAJOR "1"
#define CKUBE_K8S_MINOR "32"
#define CKUBE_GIT_VERSION "v1.32.4+ckube"

json_t *discovery_version(void);

/* For /api (core = true) or /apis. accept is the request's Accept header: when it asks
 * for an APIGroupDiscoveryList, the aggregated form is returned and *ret_content_type is
 * set to the exact media type kubectl requires; else the legacy form and
 * "application/json". */
json_t *discovery_root(bool core, const char *accept, const char **ret_content_type);

/* /apis/<group>: the APIGroup, NULL when unknown. */
json_t *discovery_group(const char *group);

/* /api/v1 or /apis/<group>/<version>: the APIResourceList, NULL when unknown. */
json_t *discovery_resources(const char *group, const char *version);
