/* agent.h — `ckube agent`: the node agent. Only the hollow mode exists so far:
 *
 *   ckube agent --hollow --count N --kubeconfig FILE [--first-index K]
 *               [--node-labels k=v,...] [--node-taints k=v:Effect,...]
 *               [--cpu 4] [--memory 16Gi] [--pods 110] [--workers 4]
 *
 * runs N simulated nodes hollow-K … hollow-(K+N-1) (see agent/hollow.h) until SIGTERM or
 * SIGINT. Progress goes to stderr. */
#pragma once

/* The `ckube agent` command. argv[0] is "agent", then its flags. Returns the process exit
 * status: 0 after a clean stop, 1 when the agent could not start, 2 for a usage error.
 * Blocks SIGTERM/SIGINT in the calling thread (and the threads it starts) and waits for
 * them. Not thread-safe (getopt). */
int cmd_agent(int argc, char **argv);
