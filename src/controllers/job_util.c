/* job_util.c — the Job controller's pure helpers (job.h): pod-failure back-off,
 * completed-index lists, and completion-index naming. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/job.h"
#include "lib/macro.h"

#define BACKOFF_BASE_MS 10000L
#define BACKOFF_MAX_MS 360000L

long job_backoff_delay_ms(unsigned failures) {
  if (failures == 0)
    return 0;
  long d = BACKOFF_BASE_MS;
  for (unsigned i = 1; i < failures; i++) {
    d *= 2;
    if (d >= BACKOFF_MAX_MS)
      return BACKOFF_MAX_MS;
  }
  return d;
}

long job_backoff_remaining_ms(unsigned failures, int64_t last_failure_ms, int64_t now_ms) {
  long d = job_backoff_delay_ms(failures);
  int64_t elapsed = now_ms - last_failure_ms;
  if (d == 0 || elapsed >= d)
    return 0;
  return (long)(d - elapsed);
}

void job_indexes_clear(struct job_indexes *s) {
  free(s->iv);
  *s = (struct job_indexes){0};
}

void job_indexes_append(struct job_indexes *s, int first, int last) {
  if (s->n > 0 && s->iv[s->n - 1].last >= first - 1) {
    if (last > s->iv[s->n - 1].last)
      s->iv[s->n - 1].last = last;
    return;
  }
  s->iv = xgrow(s->iv, s->n, &s->cap, sizeof(*s->iv));
  s->iv[s->n++] = (struct job_interval){first, last};
}

static bool parse_index(const char *s, size_t len, int *ret) {
  if (len == 0 || len > 9)
    return false;
  int v = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (s[i] - '0');
  }
  *ret = v;
  return true;
}

void job_indexes_parse(const char *str, int completions, struct job_indexes *s) {
  s->n = 0;
  if (!str)
    return;
  const char *p = str;
  while (*p) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    const char *dash = memchr(p, '-', len);
    int first, last;
    bool ok;
    if (dash) {
      ok = parse_index(p, (size_t)(dash - p), &first) &&
           parse_index(dash + 1, len - (size_t)(dash - p) - 1, &last) && last >= first;
    } else {
      ok = parse_index(p, len, &first);
      last = first;
    }
    if (ok) {
      if (first >= completions)
        break;
      if (last >= completions)
        last = completions - 1;
      /* Out-of-order parts are ignored, as kube's parser only appends. */
      if (s->n == 0 || first > s->iv[s->n - 1].last)
        job_indexes_append(s, first, last);
    }
    if (!end)
      break;
    p = end + 1;
  }
}

bool job_indexes_has(const struct job_indexes *s, int ix) {
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->iv[mid].last >= ix)
      hi = mid;
    else
      lo = mid + 1;
  }
  return hi < s->n && s->iv[hi].first <= ix;
}

void job_indexes_add(struct job_indexes *s, int ix) {
  if (ix < 0 || job_indexes_has(s, ix))
    return;
  size_t pos = 0;
  while (pos < s->n && s->iv[pos].last < ix)
    pos++;
  bool join_prev = pos > 0 && s->iv[pos - 1].last == ix - 1;
  bool join_next = pos < s->n && s->iv[pos].first == ix + 1;
  if (join_prev && join_next) {
    s->iv[pos - 1].last = s->iv[pos].last;
    memmove(&s->iv[pos], &s->iv[pos + 1], (s->n - pos - 1) * sizeof(*s->iv));
    s->n--;
  } else if (join_prev) {
    s->iv[pos - 1].last = ix;
  } else if (join_next) {
    s->iv[pos].first = ix;
  } else {
    s->iv = xgrow(s->iv, s->n, &s->cap, sizeof(*s->iv));
    memmove(&s->iv[pos + 1], &s->iv[pos], (s->n - pos) * sizeof(*s->iv));
    s->iv[pos] = (struct job_interval){ix, ix};
    s->n++;
  }
}

long job_indexes_total(const struct job_indexes *s) {
  long t = 0;
  for (size_t i = 0; i < s->n; i++)
    t += (long)s->iv[i].last - s->iv[i].first + 1;
  return t;
}

char *job_indexes_format(const struct job_indexes *s) {
  size_t cap = s->n * 24 + 1, len = 0;
  char *out = xmalloc(cap);
  out[0] = '\0';
  for (size_t i = 0; i < s->n; i++) {
    const struct job_interval *v = &s->iv[i];
    len += (size_t)snprintf(out + len, cap - len, "%s%d", i ? "," : "", v->first);
    if (v->last > v->first)
      len += (size_t)snprintf(out + len, cap - len, "%c%d", v->last == v->first + 1 ? ',' : '-',
                              v->last);
  }
  return out;
}

int job_pod_completion_index(const json_t *pod) {
  /* Not json_path: the annotation key has dots. */
  const json_t *ann = json_path((json_t *)pod, "metadata.annotations");
  const char *v = json_string_value(json_object_get(ann, JOB_INDEX_KEY));
  int ix;
  if (!v || !parse_index(v, strlen(v), &ix))
    return -1;
  return ix;
}

char *job_pod_generate_name(const char *job_name, int index) {
  char suffix[24];
  int n = snprintf(suffix, sizeof(suffix), "-%d-", index);
  size_t keep = strlen(job_name);
  if (keep + (size_t)n > 58)
    keep = 58 - (size_t)n;
  return xasprintf("%.*s%s", (int)keep, job_name, suffix);
}

