/* job.h — the pure parts of the Job controller (src/controllers/job.c), exported so that
 * they can be tested on their own: the pod-failure back-off and the compressed index
 * lists of Indexed Jobs ("0-2,4,6,7" in status.completedIndexes).
 *
 * The controllers themselves ("job" and "ttl-after-finished") register with
 * CONTROLLER_REGISTER and have no public API. Everything here is thread-safe (no shared
 * state). Nothing here logs. */
#pragma once

/* The annotation and label holding an Indexed Job pod's completion index. */
#define JOB_INDEX_KEY "batch.kubernetes.io/job-completion-index"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/json.h"

/* The back-off before a Job makes new pods after `failures` consecutive pod failures
 * (failures after the last success): 10 s · 2^(failures-1), capped at 6 minutes; 0 when
 * failures is 0. */
long job_backoff_delay_ms(unsigned failures);

/* How long the back-off still lasts at now_ms when the last of `failures` failures
 * happened at last_failure_ms (both in ms since the epoch): 0 once it has passed. */
long job_backoff_remaining_ms(unsigned failures, int64_t last_failure_ms, int64_t now_ms);

/* A set of completion indexes as sorted, disjoint, non-adjacent closed intervals. */
struct job_interval {
  int first, last;
};
struct job_indexes {
  struct job_interval *iv;
  size_t n, cap;
};

/* Frees the intervals and empties the set. */
void job_indexes_clear(struct job_indexes *s);

/* Parses a compressed list as kube's job controller reads status.completedIndexes:
 * comma-separated "a" or "a-b" parts in increasing order; parts that do not parse are
 * skipped, indexes >= completions are dropped. Replaces the contents of *s. Never fails
 * (bad input gives fewer indexes). */
void job_indexes_parse(const char *str, int completions, struct job_indexes *s);

/* Adds one index (>= 0); no-op when present. */
void job_indexes_add(struct job_indexes *s, int ix);
/* Appends the interval first..last, which must not start before the last one; it merges
 * with the last interval when they touch or overlap. */
void job_indexes_append(struct job_indexes *s, int first, int last);

bool job_indexes_has(const struct job_indexes *s, int ix);

/* How many indexes the set holds. */
long job_indexes_total(const struct job_indexes *s);

/* The compressed form kube writes: intervals of three or more as "a-b", two as "a,b",
 * one as "a", joined by ','; "" for the empty set. Caller frees. */
char *job_indexes_format(const struct job_indexes *s);

/* The completion index of a pod from its batch.kubernetes.io/job-completion-index
 * annotation: a decimal integer >= 0, or -1 when absent or malformed. */
int job_pod_completion_index(const json_t *pod);

/* The generateName of an Indexed Job's pod: "<job>-<index>-", the job name cut so that
 * the prefix fits kube's 58-character limit for generated-name prefixes. Caller frees. */
char *job_pod_generate_name(const char *job_name, int index);

/* Whether the Job has a Complete or Failed condition that is True. */
bool job_finished(const json_t *job);

/* When the Job finished (ms since the epoch): the lastTransitionTime of that condition;
 * -1 when it has not finished. */
int64_t job_finish_ms(const json_t *job);
