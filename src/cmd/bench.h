/* bench.h — `ckube bench`: benchmarks that drive a running cluster through its API.
 *
 *   ckube bench api --kubeconfig FILE [flags]   API load: create/get/list/update/delete
 *                                               rates and latencies, watch delivery
 *                                               latency, the server's memory
 *   ckube bench scheduler --kubeconfig FILE     pods bound per second
 *   ckube bench deployment --kubeconfig FILE    Deployment create → all available
 *
 * Prints its figures on stdout and progress on stderr. */
#pragma once

#include <stdbool.h>

/* The `ckube bench` command. Takes the command table's argument vector: argv[0] is
 * "bench", argv[1] the benchmark ("api"), then its flags. Returns the process exit
 * status: 0 when the run completed and cleaned up, 1 when the run failed (API errors,
 * lost watch events, leftover objects), 2 for a usage error. Not thread-safe (getopt). */
int cmd_bench(int argc, char **argv);

/* `ckube bench scheduler` (deployment == false) and `ckube bench deployment`: argv[0] is
 * the benchmark name. Returns the exit status as cmd_bench(). */
int bench_control_plane(int argc, char **argv, bool deployment);
