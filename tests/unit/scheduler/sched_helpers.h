/* Builders for scheduler unit tests: JSON written with single quotes for readability. */
#pragma once

#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "scheduler/framework.h"

/* Parses JSON text in which ' stands for ". Aborts the test on bad input. */
static inline json_t *J(const char *text) {
  char *s = xstrdup(text);
  for (char *p = s; *p; p++)
    if (*p == '\'')
      *p = '"';
  json_error_t err;
  json_t *v = json_loads(s, 0, &err);
  if (!v) {
    fprintf(stderr, "bad test JSON: %s: %s\n", err.text, s);
    abort();
  }
  free(s);
  return v;
}

/* A node with the given allocatable, plus extra JSON merged into the object (metadata
 * labels, spec taints...). */
static inline json_t *make_node(const char *name, const char *cpu, const char *mem,
                                const char *pods, const char *labels, const char *spec) {
  char *text = xasprintf("{'metadata':{'name':'%s','labels':%s},'spec':%s,"
                         "'status':{'allocatable':{'cpu':'%s','memory':'%s','pods':'%s'}}}",
                         name, labels ? labels : "{}", spec ? spec : "{}", cpu, mem, pods);
  json_t *n = J(text);
  free(text);
  return n;
}

/* A pod with one container requesting cpu/mem (NULL = no request), labels and extra spec
 * fields merged into spec. */
static inline json_t *make_pod(const char *ns, const char *name, const char *cpu, const char *mem,
                               const char *labels, const char *spec) {
  char req[200] = "";
  if (cpu && mem)
    snprintf(req, sizeof(req), "'cpu':'%s','memory':'%s'", cpu, mem);
  else if (cpu)
    snprintf(req, sizeof(req), "'cpu':'%s'", cpu);
  else if (mem)
    snprintf(req, sizeof(req), "'memory':'%s'", mem);
  char *text = xasprintf("{'metadata':{'name':'%s','namespace':'%s','labels':%s},"
                         "'spec':{'containers':[{'name':'c','image':'x',"
                         "'resources':{'requests':{%s}}}]}}",
                         name, ns, labels ? labels : "{}", req);
  json_t *p = J(text);
  free(text);
  if (spec) {
    json_t *extra = J(spec);
    json_object_update(json_object_get(p, "spec"), extra);
    json_decref(extra);
  }
  return p;
}

/* Adds a pod bound to node to the snapshot (reference consumed). */
static inline void bind_pod(struct sched_snapshot *s, json_t *pod, const char *node) {
  json_object_set_new(json_object_get(pod, "spec"), "nodeName", json_string(node));
  if (sched_snapshot_add_pod(s, pod) < 0)
    abort();
  json_decref(pod);
}

static inline void add_node(struct sched_snapshot *s, json_t *node) {
  if (sched_snapshot_set_node(s, node) < 0)
    abort();
  json_decref(node);
}
