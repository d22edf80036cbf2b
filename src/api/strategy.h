/* strategy.h — per-kind behaviour that the schema cannot express: creation-time
 * defaults, cross-field validation and field-selector attributes, referenced from the
 * registry. Generic behaviour (status reset, generation) lives in the API server. */
#pragma once

#include "api/registry.h"

extern const struct api_strategy strategy_pods;
extern const struct api_strategy strategy_namespaces;
extern const struct api_strategy strategy_nodes;
extern const struct api_strategy strategy_services;
extern const struct api_strategy strategy_secrets;
extern const struct api_strategy strategy_events;
