/* deployment_rollout.c — the rollout arithmetic of the Deployment controller; see
 * deployment_rollout.h. */
#include "controllers/deployment_rollout.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/macro.h"

int deploy_scaled_value(const json_t *v, int total, bool round_up, int *ret) {
  if (!v || json_is_null(v)) {
    *ret = 0;
    return 0;
  }
  if (json_is_integer(v)) {
    json_int_t i = json_integer_value(v);
    if (i < INT_MIN || i > INT_MAX)
      return -EINVAL;
    *ret = (int)i;
    return 0;
  }
  if (!json_is_string(v))
    return -EINVAL;
  const char *s = json_string_value(v);
  size_t len = strlen(s);
  if (len < 2 || s[len - 1] != '%')
    return -EINVAL;
  long pct = 0;
  for (size_t i = 0; i + 1 < len; i++) {
    if (s[i] < '0' || s[i] > '9' || pct > 1000000)
      return -EINVAL;
    pct = pct * 10 + (s[i] - '0');
  }
  double scaled = (double)pct * (double)total / 100.0;
  double r = round_up ? ceil(scaled) : floor(scaled);
  if (r > INT_MAX || r < INT_MIN)
    return -EINVAL;
  *ret = (int)r;
  return 0;
}

void deploy_resolve_fenceposts(const json_t *max_surge, const json_t *max_unavailable, int desired,
                               int *ret_surge, int *ret_unavailable) {
  int surge = 0, unavailable = 0;
  if (deploy_scaled_value(max_surge, desired, true, &surge) < 0)
    surge = 0;
  if (deploy_scaled_value(max_unavailable, desired, false, &unavailable) < 0)
    unavailable = 0;
  /* Validation forbids both being 0, but rounding a percentage down can get there: one
   * unavailable replica lets the rollout move even where quota blocks a surge. */
  if (surge == 0 && unavailable == 0)
    unavailable = 1;
  *ret_surge = surge;
  *ret_unavailable = unavailable;
}

int deploy_max_surge(const struct deploy_spec *d) {
  if (!d->rolling)
    return 0;
  int surge, unavailable;
  deploy_resolve_fenceposts(d->max_surge, d->max_unavailable, d->replicas, &surge, &unavailable);
  return surge;
}

int deploy_max_unavailable(const struct deploy_spec *d) {
  if (!d->rolling || d->replicas == 0)
    return 0;
  int surge, unavailable;
  deploy_resolve_fenceposts(d->max_surge, d->max_unavailable, d->replicas, &surge, &unavailable);
  return unavailable > d->replicas ? d->replicas : unavailable;
}

int deploy_new_rs_replicas(const struct deploy_spec *d, int current_total, int new_replicas) {
  if (!d->rolling)
    return d->replicas;
  /* kube reads maxSurge directly here, without the fencepost adjustment. */
  int surge = 0;
  if (deploy_scaled_value(d->max_surge, d->replicas, true, &surge) < 0)
    return new_replicas;
  int max_total = d->replicas + surge;
  if (current_total >= max_total)
    return new_replicas;
  int up = max_total - current_total;
  if (up > d->replicas - new_replicas)
    up = d->replicas - new_replicas;
  return new_replicas + up;
}

static int cmp_creation(const struct deploy_rs *a, const struct deploy_rs *b) {
  if (a->created != b->created)
    return a->created < b->created ? -1 : 1;
  int c = strcmp(a->name ? a->name : "", b->name ? b->name : "");
  if (c)
    return c;
  return a->index < b->index ? -1 : a->index > b->index;
}

static int qcmp_creation(const void *a, const void *b) {
  return cmp_creation(a, b);
}

/* Largest first; equal sizes newest first (scaling up hits newer ReplicaSets first). */
static int qcmp_size_newer(const void *pa, const void *pb) {
  const struct deploy_rs *a = pa, *b = pb;
  if (a->replicas != b->replicas)
    return a->replicas > b->replicas ? -1 : 1;
  return cmp_creation(b, a);
}

/* Largest first; equal sizes oldest first (scaling down hits older ReplicaSets first). */
static int qcmp_size_older(const void *pa, const void *pb) {
  const struct deploy_rs *a = pa, *b = pb;
  if (a->replicas != b->replicas)
    return a->replicas > b->replicas ? -1 : 1;
  return cmp_creation(a, b);
}

void deploy_sort_by_creation(struct deploy_rs *rs, size_t n) {
  if (n > 1)
    qsort(rs, n, sizeof(*rs), qcmp_creation);
}

int deploy_scale_down_old(const struct deploy_spec *d, struct deploy_rs *old, size_t n,
                          int new_replicas, int new_available, int *ret_sizes) {
  deploy_sort_by_creation(old, n);
  int old_pods = 0, old_available = 0;
  for (size_t i = 0; i < n; i++) {
    ret_sizes[i] = old[i].replicas;
    old_pods += old[i].replicas;
    old_available += old[i].available;
  }
  if (old_pods == 0)
    return 0;
  int all_pods = old_pods + new_replicas;
  int min_available = d->replicas - deploy_max_unavailable(d);
  int new_unavailable = new_replicas - new_available;
  int max_scaled_down = all_pods - min_available - new_unavailable;
  if (max_scaled_down <= 0)
    return 0;

  /* Unavailable replicas first: removing them costs no availability, and left alone they
   * would block the rollout until it times out. */
  int total = 0;
  for (size_t i = 0; i < n && total < max_scaled_down; i++) {
    if (ret_sizes[i] == 0 || ret_sizes[i] == old[i].available)
      continue;
    int down = ret_sizes[i] - old[i].available;
    if (down > max_scaled_down - total)
      down = max_scaled_down - total;
    if (down <= 0)
      continue;
    ret_sizes[i] -= down;
    total += down;
  }

  int available = old_available + new_available;
  if (available <= min_available)
    return total;
  int budget = available - min_available, done = 0;
  for (size_t i = 0; i < n && done < budget; i++) {
    if (ret_sizes[i] == 0)
      continue;
    int down = ret_sizes[i] < budget - done ? ret_sizes[i] : budget - done;
    ret_sizes[i] -= down;
    done += down;
  }
  return total + done;
}

static int round_to_int(double a) {
  return a < 0 ? (int)(a - 0.5) : (int)(a + 0.5);
}

static int rs_fraction(const struct deploy_spec *d, int status_replicas,
                       const struct deploy_rs *rs) {
  if (d->replicas == 0)
    return -rs->replicas;
  int max_now = d->replicas + deploy_max_surge(d);
  int annotated = rs->max_replicas >= 0 ? rs->max_replicas : status_replicas;
  /* kube divides by zero here and relies on it never happening; keep the size. */
  if (annotated <= 0)
    return 0;
  double size = (double)rs->replicas * (double)max_now / (double)annotated;
  return round_to_int(size) - rs->replicas;
}

int deploy_proportional_scale(const struct deploy_spec *d, int status_replicas,
                              struct deploy_rs *rs, size_t n, int *ret_sizes) {
  int total = 0;
  for (size_t i = 0; i < n; i++)
    total += rs[i].replicas;
  int allowed = d->replicas > 0 ? d->replicas + deploy_max_surge(d) : 0;
  int to_add = allowed - total;
  if (to_add > 0 && n > 1)
    qsort(rs, n, sizeof(*rs), qcmp_size_newer);
  else if (to_add < 0 && n > 1)
    qsort(rs, n, sizeof(*rs), qcmp_size_older);

  int added = 0;
  for (size_t i = 0; i < n; i++) {
    ret_sizes[i] = rs[i].replicas;
    if (to_add == 0 || rs[i].replicas == 0 || to_add == added)
      continue;
    int fraction = rs_fraction(d, status_replicas, &rs[i]);
    int left = to_add - added;
    int p = to_add > 0 ? (fraction < left ? fraction : left) : (fraction > left ? fraction : left);
    ret_sizes[i] += p;
    added += p;
  }
  if (n > 0 && to_add != 0) {
    ret_sizes[0] += to_add - added;
    if (ret_sizes[0] < 0)
      ret_sizes[0] = 0;
  }
  return to_add;
}

char *deploy_revision_history_push(const char *history, const char *old_revision,
                                   size_t limit_chars) {
  if (!history || !*history || *history == ',')
    return xstrdup(old_revision);
  size_t hlen = strlen(history), olen = strlen(old_revision);
  size_t total = hlen + olen + 1;
  const char *start = history;
  /* Drop the oldest entries, each with its comma, until the new one fits. */
  while (total > limit_chars && start) {
    const char *comma = strchr(start, ',');
    size_t elen = comma ? (size_t)(comma - start) : strlen(start);
    total = total >= elen + 1 ? total - elen - 1 : 0;
    start = comma ? comma + 1 : NULL;
  }
  if (total > limit_chars)
    return NULL;
  if (!start)
    return xstrdup(old_revision);
  return xasprintf("%s,%s", start, old_revision);
}
