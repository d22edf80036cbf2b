/* podstatus.c — kubelet's pod status rules (pkg/kubelet/kubelet_pods.go getPhase,
 * pkg/kubelet/status/generate.go, pkg/apis/core/helper/qos). */
#include "agent/podstatus.h"

#include <errno.h>
#include <string.h>

#include "lib/quantity.h"
#include "lib/strbuf.h"
#include "lib/timeutil.h"

static const char *str_of(const json_t *obj, const char *key) {
  const json_t *v = json_object_get(obj, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A sidecar: an init container with restartPolicy Always runs beside the main ones. */
/* A JSON string from a malloc'd C string, which it frees. */
static json_t *json_string_take(char *s) {
  json_t *v = json_string(s);
  free(s);
  return v;
}

static bool is_restartable_init(const json_t *container) {
  const char *p = str_of(container, "restartPolicy");
  return p && streq(p, "Always");
}

static const struct podstatus_container *find_status(const struct podstatus_container *v, size_t n,
                                                     const char *name) {
  if (!name)
    return NULL;
  for (size_t i = 0; i < n; i++)
    if (v[i].name && streq(v[i].name, name))
      return &v[i];
  return NULL;
}

static json_t *spec_list(const struct podstatus_input *in, const char *key) {
  return json_object_get(json_object_get(in->pod, "spec"), key);
}

/* kubecontainer.HasAnyRegularContainerStarted. */
static bool any_regular_started(const struct podstatus_input *in) {
  size_t i;
  json_t *c;
  json_array_foreach(spec_list(in, "containers"), i, c) {
    const struct podstatus_container *s =
        find_status(in->containers, in->n_containers, str_of(c, "name"));
    if (!s)
      continue;
    if (s->state == PODSTATUS_RUNNING || s->state == PODSTATUS_TERMINATED ||
        (s->state == PODSTATUS_WAITING && s->has_last))
      return true;
  }
  return false;
}

const char *podstatus_phase(const struct podstatus_input *in) {
  const char *policy = str_of(json_object_get(in->pod, "spec"), "restartPolicy");
  if (!policy)
    policy = "Always";
  int pending_init = 0, failed_init = 0;
  int unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0;
  size_t i;
  json_t *c;
  json_array_foreach(spec_list(in, "initContainers"), i, c) {
    const struct podstatus_container *s =
        find_status(in->init_containers, in->n_init, str_of(c, "name"));
    if (is_restartable_init(c)) {
      if (!s) {
        unknown++;
        continue;
      }
      switch (s->state) {
      case PODSTATUS_RUNNING:
        if (!s->started)
          pending_init++;
        running++;
        break;
      case PODSTATUS_TERMINATED:
        /* A stopped sidecar is neither running nor stopped for the phase. */
        break;
      case PODSTATUS_WAITING:
        if (!s->has_last) {
          pending_init++;
          waiting++;
        }
        break;
      }
      continue;
    }
    if (!s) {
      pending_init++;
      continue;
    }
    switch (s->state) {
    case PODSTATUS_RUNNING:
      pending_init++;
      break;
    case PODSTATUS_TERMINATED:
      if (s->terminated.exit_code != 0)
        failed_init++;
      break;
    case PODSTATUS_WAITING:
      if (s->has_last) {
        if (s->last.exit_code != 0)
          failed_init++;
      } else {
        pending_init++;
      }
      break;
    }
  }
  json_array_foreach(spec_list(in, "containers"), i, c) {
    const struct podstatus_container *s =
        find_status(in->containers, in->n_containers, str_of(c, "name"));
    if (!s) {
      unknown++;
      continue;
    }
    switch (s->state) {
    case PODSTATUS_RUNNING:
      running++;
      break;
    case PODSTATUS_TERMINATED:
      stopped++;
      if (s->terminated.exit_code == 0)
        succeeded++;
      break;
    case PODSTATUS_WAITING:
      if (s->has_last)
        stopped++;
      else
        waiting++;
      break;
    }
  }
  if (failed_init > 0 && streq(policy, "Never"))
    return "Failed";
  if ((pending_init > 0 && !any_regular_started(in)) || waiting > 0)
    return "Pending";
  if (running > 0 && unknown == 0)
    return "Running";
  if (running == 0 && stopped > 0 && unknown == 0) {
    if (in->terminal)
      return stopped == succeeded ? "Succeeded" : "Failed";
    if (streq(policy, "Always"))
      return "Running";
    if (stopped == succeeded)
      return "Succeeded";
    if (streq(policy, "Never"))
      return "Failed";
    return "Running";
  }
  return "Pending";
}

/* ---- QoS ---- */

struct qos_sum {
  quantity_t cpu, memory;
  bool has_cpu, has_memory;
};

static void qos_add(struct qos_sum *sum, const json_t *list, bool *ret_cpu, bool *ret_memory) {
  const char *name;
  json_t *v;
  json_object_foreach((json_t *)list, name, v) {
    bool cpu = streq(name, "cpu");
    if (!cpu && !streq(name, "memory"))
      continue;
    quantity_t q;
    if (!json_is_string(v) || quantity_parse(json_string_value(v), &q, NULL) < 0 ||
        quantity_sign(&q) <= 0)
      continue;
    if (cpu) {
      if (!sum->has_cpu)
        sum->cpu = q;
      else
        quantity_add(&sum->cpu, &q);
      sum->has_cpu = true;
      *ret_cpu = true;
    } else {
      if (!sum->has_memory)
        sum->memory = q;
      else
        quantity_add(&sum->memory, &q);
      sum->has_memory = true;
      *ret_memory = true;
    }
  }
}

static bool qos_container(const json_t *c, struct qos_sum *req, struct qos_sum *lim) {
  const json_t *res = json_object_get(c, "resources");
  bool rc = false, rm = false, lc = false, lm = false;
  qos_add(req, json_object_get(res, "requests"), &rc, &rm);
  qos_add(lim, json_object_get(res, "limits"), &lc, &lm);
  return lc && lm;
}

const char *podstatus_qos_class(const json_t *spec) {
  struct qos_sum req = {0}, lim = {0};
  bool guaranteed = true;
  static const char *const lists[] = {"containers", "initContainers"};
  for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(spec, lists[l]), i, c) {
      if (!qos_container(c, &req, &lim))
        guaranteed = false;
    }
  }
  if (!req.has_cpu && !req.has_memory && !lim.has_cpu && !lim.has_memory)
    return "BestEffort";
  if (guaranteed) {
    if (req.has_cpu && quantity_cmp(&req.cpu, &lim.cpu) != 0)
      guaranteed = false;
    if (req.has_memory && quantity_cmp(&req.memory, &lim.memory) != 0)
      guaranteed = false;
  }
  /* Guaranteed also needs requests for every limited resource. */
  if (guaranteed && req.has_cpu == lim.has_cpu && req.has_memory == lim.has_memory)
    return "Guaranteed";
  return "Burstable";
}

/* ---- container statuses ---- */

char *podstatus_image_name(const char *image) {
  if (!image || !*image)
    return xstrdup("");
  const char *slash = strchr(image, '/');
  bool has_registry = false;
  if (slash) {
    size_t n = (size_t)(slash - image);
    has_registry = memchr(image, '.', n) || memchr(image, ':', n) ||
                   (n == 9 && strncmp(image, "localhost", 9) == 0);
  }
  const char *last = strrchr(image, '/');
  const char *tail = last ? last + 1 : image;
  bool has_tag = strchr(tail, ':') || strchr(image, '@');
  return xasprintf("%s%s%s%s", has_registry ? "" : "docker.io/",
                   (!has_registry && !slash) ? "library/" : "", image, has_tag ? "" : ":latest");
}

static json_t *termination_json(const struct podstatus_termination *t, const char *container_id) {
  json_t *o = json_object();
  json_object_set_new(o, "exitCode", json_integer(t->exit_code));
  json_object_set_new(o, "reason",
                      json_string(t->reason      ? t->reason
                                  : t->exit_code ? "Error"
                                                 : "Completed"));
  if (t->started_at)
    json_object_set_new(o, "startedAt", json_string_take(timeutil_format(t->started_at)));
  if (t->finished_at)
    json_object_set_new(o, "finishedAt", json_string_take(timeutil_format(t->finished_at)));
  if (container_id)
    json_object_set_new(o, "containerID", json_string(container_id));
  return o;
}

static json_t *container_status_json(const json_t *spec_c, const struct podstatus_container *s,
                                     bool init) {
  json_t *o = json_object();
  json_object_set_new(o, "name", json_string(str_of(spec_c, "name")));
  json_t *state = json_object();
  switch (s ? s->state : PODSTATUS_WAITING) {
  case PODSTATUS_WAITING: {
    json_t *w = json_object();
    const char *reason = s && s->waiting_reason ? s->waiting_reason
                         : init                 ? "PodInitializing"
                                                : "ContainerCreating";
    json_object_set_new(w, "reason", json_string(reason));
    if (s && s->waiting_message)
      json_object_set_new(w, "message", json_string(s->waiting_message));
    json_object_set_new(state, "waiting", w);
    break;
  }
  case PODSTATUS_RUNNING: {
    json_t *r = json_object();
    json_object_set_new(r, "startedAt", json_string_take(timeutil_format(s->running_since)));
    json_object_set_new(state, "running", r);
    break;
  }
  case PODSTATUS_TERMINATED:
    json_object_set_new(state, "terminated", termination_json(&s->terminated, s->container_id));
    break;
  }
  json_object_set_new(o, "state", state);
  json_t *last = json_object();
  if (s && s->has_last)
    json_object_set_new(last, "terminated", termination_json(&s->last, NULL));
  json_object_set_new(o, "lastState", last);
  json_object_set_new(o, "ready", json_boolean(s && s->ready));
  json_object_set_new(o, "restartCount", json_integer(s ? s->restart_count : 0));
  json_object_set_new(o, "image", json_string_take(podstatus_image_name(str_of(spec_c, "image"))));
  json_object_set_new(o, "imageID", json_string(s && s->image_id ? s->image_id : ""));
  if (s && s->container_id)
    json_object_set_new(o, "containerID", json_string(s->container_id));
  json_object_set_new(o, "started", json_boolean(s && s->started));
  return o;
}

/* ---- conditions ---- */

struct cond {
  const char *type;
  const char *status;
  const char *reason;
  char *message;
};

/* Go's %s of a []string: "[a b]". */
static void names_append(struct strbuf *sb, const char *what, json_t *names) {
  if (json_array_size(names) == 0)
    return;
  if (sb->len)
    strbuf_appends(sb, ", ");
  strbuf_appendf(sb, "containers with %s status: [", what);
  size_t i;
  json_t *n;
  json_array_foreach(names, i, n) strbuf_appendf(sb, "%s%s", i ? " " : "", json_string_value(n));
  strbuf_appends(sb, "]");
}

static char *take_message(struct strbuf *sb) {
  if (!sb->len) {
    strbuf_clear(sb);
    return NULL;
  }
  return strbuf_take(sb, NULL);
}

static struct cond containers_ready(const struct podstatus_input *in, const char *phase) {
  _cleanup_json_ json_t *unknown = json_array(), *unready = json_array();
  static const char *const lists[] = {"initContainers", "containers"};
  for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
    size_t i;
    json_t *c;
    json_array_foreach(spec_list(in, lists[l]), i, c) {
      if (l == 0 && !is_restartable_init(c))
        continue;
      const char *name = str_of(c, "name");
      const struct podstatus_container *s =
          l == 0 ? find_status(in->init_containers, in->n_init, name)
                 : find_status(in->containers, in->n_containers, name);
      if (!s)
        json_array_append_new(unknown, json_string(name ? name : ""));
      else if (!s->ready)
        json_array_append_new(unready, json_string(name ? name : ""));
    }
  }
  if (streq(phase, "Succeeded") && json_array_size(unknown) == 0)
    return (struct cond){"ContainersReady", "False", "PodCompleted", NULL};
  if (streq(phase, "Failed"))
    return (struct cond){"ContainersReady", "False", "PodFailed", NULL};
  struct strbuf sb = {0};
  names_append(&sb, "unknown", unknown);
  names_append(&sb, "unready", unready);
  char *msg = take_message(&sb);
  if (msg)
    return (struct cond){"ContainersReady", "False", "ContainersNotReady", msg};
  return (struct cond){"ContainersReady", "True", NULL, NULL};
}

static const json_t *old_condition(const json_t *pod, const char *type) {
  size_t i;
  json_t *c;
  json_array_foreach(json_path((json_t *)pod, "status.conditions"), i, c) {
    const char *t = str_of(c, "type");
    if (t && streq(t, type))
      return c;
  }
  return NULL;
}

static struct cond pod_ready(const struct podstatus_input *in, const struct cond *cr) {
  if (!streq(cr->status, "True"))
    return (struct cond){"Ready", cr->status, cr->reason,
                         cr->message ? xstrdup(cr->message) : NULL};
  struct strbuf sb = {0};
  size_t i;
  json_t *g;
  json_array_foreach(spec_list(in, "readinessGates"), i, g) {
    const char *type = str_of(g, "conditionType");
    if (!type)
      continue;
    const json_t *c = old_condition(in->pod, type);
    const char *status = c ? str_of(c, "status") : NULL;
    if (c && streq_ptr(status, "True"))
      continue;
    if (sb.len)
      strbuf_appends(&sb, ", ");
    if (!c)
      strbuf_appendf(&sb, "corresponding condition of pod readiness gate \"%s\" does not exist.",
                     type);
    else
      strbuf_appendf(&sb, "the status of pod readiness gate \"%s\" is not \"True\", but %s", type,
                     status ? status : "");
  }
  char *msg = take_message(&sb);
  if (msg)
    return (struct cond){"Ready", "False", "ReadinessGatesNotReady", msg};
  return (struct cond){"Ready", "True", NULL, NULL};
}

static struct cond initialized(const struct podstatus_input *in, const char *phase) {
  json_t *inits = spec_list(in, "initContainers");
  _cleanup_json_ json_t *unknown = json_array(), *incomplete = json_array();
  size_t i;
  json_t *c;
  json_array_foreach(inits, i, c) {
    const char *name = str_of(c, "name");
    const struct podstatus_container *s = find_status(in->init_containers, in->n_init, name);
    if (!s) {
      json_array_append_new(unknown, json_string(name ? name : ""));
      continue;
    }
    if (is_restartable_init(c)) {
      if (!s->started)
        json_array_append_new(incomplete, json_string(name ? name : ""));
      continue;
    }
    if (s->state != PODSTATUS_TERMINATED || s->terminated.exit_code != 0)
      json_array_append_new(incomplete, json_string(name ? name : ""));
  }
  if (streq(phase, "Succeeded") && json_array_size(unknown) == 0)
    return (struct cond){"Initialized", "True", "PodCompleted", NULL};
  if (any_regular_started(in))
    return (struct cond){"Initialized", "True", NULL, NULL};
  struct strbuf sb = {0};
  names_append(&sb, "unknown", unknown);
  names_append(&sb, "incomplete", incomplete);
  char *msg = take_message(&sb);
  if (msg)
    return (struct cond){"Initialized", "False", "ContainersNotInitialized", msg};
  return (struct cond){"Initialized", "True", NULL, NULL};
}

static json_t *condition_json(const struct podstatus_input *in, struct cond *c) {
  json_t *o = json_object();
  json_object_set_new(o, "type", json_string(c->type));
  json_object_set_new(o, "status", json_string(c->status));
  json_object_set_new(o, "lastProbeTime", json_null());
  const json_t *old = old_condition(in->pod, c->type);
  const char *old_time = str_of(old, "lastTransitionTime");
  if (old && old_time && streq_ptr(str_of(old, "status"), c->status))
    json_object_set_new(o, "lastTransitionTime", json_string(old_time));
  else
    json_object_set_new(o, "lastTransitionTime", json_string_take(timeutil_format(in->now)));
  if (c->reason)
    json_object_set_new(o, "reason", json_string(c->reason));
  if (c->message)
    json_object_set_new(o, "message", json_string(c->message));
  free(c->message);
  c->message = NULL;
  return o;
}

static bool kubelet_owned(const char *type) {
  static const char *const owned[] = {"PodReadyToStartContainers", "Initialized", "Ready",
                                      "ContainersReady", "PodScheduled"};
  for (size_t i = 0; i < ARRAY_SIZE(owned); i++)
    if (streq(type, owned[i]))
      return true;
  return false;
}

static json_t *ip_list(const char *ip) {
  json_t *a = json_array();
  json_t *o = json_object();
  json_object_set_new(o, "ip", json_string(ip));
  json_array_append_new(a, o);
  return a;
}

int podstatus_compute(const struct podstatus_input *in, json_t **ret) {
  const json_t *spec = json_object_get(in->pod, "spec");
  if (!json_is_object(spec))
    return -EINVAL;
  const char *phase = podstatus_phase(in);
  _cleanup_json_ json_t *st = json_object();
  json_object_set_new(st, "phase", json_string(phase));

  json_t *conds = json_array();
  json_object_set_new(st, "conditions", conds);
  struct cond cr = containers_ready(in, phase);
  struct cond list[5] = {
      {"PodReadyToStartContainers", in->sandbox_ready ? "True" : "False", NULL, NULL},
      initialized(in, phase),
      pod_ready(in, &cr),
      cr,
      {"PodScheduled", "True", NULL, NULL},
  };
  for (size_t i = 0; i < ARRAY_SIZE(list); i++)
    json_array_append_new(conds, condition_json(in, &list[i]));
  /* Conditions other components own (DisruptionTarget, readiness gates) stay. */
  size_t i;
  json_t *c;
  json_array_foreach(json_path((json_t *)in->pod, "status.conditions"), i, c) {
    const char *t = str_of(c, "type");
    if (t && !kubelet_owned(t))
      json_array_append(conds, c);
  }

  if (in->host_ip) {
    json_object_set_new(st, "hostIP", json_string(in->host_ip));
    json_object_set_new(st, "hostIPs", ip_list(in->host_ip));
  }
  if (in->pod_ip) {
    json_object_set_new(st, "podIP", json_string(in->pod_ip));
    json_object_set_new(st, "podIPs", ip_list(in->pod_ip));
  }
  const char *old_start = json_path_str((json_t *)in->pod, "status.startTime");
  if (old_start)
    json_object_set_new(st, "startTime", json_string(old_start));
  else if (in->start_time)
    json_object_set_new(st, "startTime", json_string_take(timeutil_format(in->start_time)));

  json_t *inits = json_object_get(spec, "initContainers");
  if (json_array_size(inits) > 0) {
    json_t *a = json_array();
    json_array_foreach(inits, i, c) {
      json_array_append_new(
          a, container_status_json(
                 c, find_status(in->init_containers, in->n_init, str_of(c, "name")), true));
    }
    json_object_set_new(st, "initContainerStatuses", a);
  }
  json_t *a = json_array();
  json_array_foreach(json_object_get(spec, "containers"), i, c) {
    const struct podstatus_container *s =
        find_status(in->containers, in->n_containers, str_of(c, "name"));
    /* Main containers wait for the init containers with PodInitializing. */
    bool initializing = !s && json_array_size(inits) > 0;
    json_array_append_new(a, container_status_json(c, s, initializing));
  }
  json_object_set_new(st, "containerStatuses", a);
  json_object_set_new(st, "qosClass", json_string(podstatus_qos_class(spec)));
  *ret = TAKE_PTR(st);
  return 0;
}

/* ---- change detection ---- */

static bool equal_ignoring_null(const json_t *a, const json_t *b) {
  if (json_is_object(a) && json_is_object(b)) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a, k, v) {
      json_t *w = json_object_get(b, k);
      if (json_is_null(v) && (!w || json_is_null(w)))
        continue;
      if (!w || !equal_ignoring_null(v, w))
        return false;
    }
    json_object_foreach((json_t *)b, k, v) {
      if (!json_is_null(v) && !json_object_get(a, k))
        return false;
    }
    return true;
  }
  if (json_is_array(a) && json_is_array(b)) {
    if (json_array_size(a) != json_array_size(b))
      return false;
    for (size_t i = 0; i < json_array_size(a); i++)
      if (!equal_ignoring_null(json_array_get(a, i), json_array_get(b, i)))
        return false;
    return true;
  }
  return json_equal((json_t *)a, (json_t *)b);
}

bool podstatus_changed(const json_t *old_status, const json_t *new_status) {
  if (!old_status || !new_status)
    return old_status != new_status;
  return !equal_ignoring_null(old_status, new_status);
}
