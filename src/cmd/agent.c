/* agent.c — `ckube agent` (see agent.h). */
#include "cmd/agent.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/hollow.h"
#include "cmd/signals.h"
#include "lib/macro.h"

static void agent_usage(FILE *f) {
  fputs("Usage: ckube agent --hollow --count N --kubeconfig FILE [FLAGS]\n"
        "\n"
        "  --hollow                 simulated nodes with a fake runtime (the only mode yet)\n"
        "  --count N                how many nodes (default 1)\n"
        "  --first-index K          nodes are named hollow-K ... (default 0)\n"
        "  --kubeconfig FILE        credentials for the API server\n"
        "  --node-labels k=v,...    extra labels for every node\n"
        "  --node-taints k=v:E,...  taints to register the nodes with\n"
        "  --cpu Q                  CPU capacity (default 4)\n"
        "  --memory Q               memory capacity (default 16Gi)\n"
        "  --pods N                 pod capacity (default 110)\n"
        "  --workers N              pod workers (default 4)\n",
        f);
}

static int parse_uint(const char *flag, const char *v, unsigned max, unsigned *ret) {
  char *end;
  errno = 0;
  unsigned long n = strtoul(v, &end, 10);
  if (!*v || *end || errno || n > max || v[0] == '-') {
    fprintf(stderr, "ckube agent: invalid --%s %s\n", flag, v);
    return -EINVAL;
  }
  *ret = (unsigned)n;
  return 0;
}

int cmd_agent(int argc, char **argv) {
  enum {
    O_HOLLOW = 1,
    O_COUNT,
    O_FIRST,
    O_KUBECONFIG,
    O_LABELS,
    O_TAINTS,
    O_CPU,
    O_MEMORY,
    O_PODS,
    O_WORKERS,
    O_HELP
  };
  static const struct option opts[] = {{"hollow", no_argument, NULL, O_HOLLOW},
                                       {"count", required_argument, NULL, O_COUNT},
                                       {"first-index", required_argument, NULL, O_FIRST},
                                       {"kubeconfig", required_argument, NULL, O_KUBECONFIG},
                                       {"node-labels", required_argument, NULL, O_LABELS},
                                       {"node-taints", required_argument, NULL, O_TAINTS},
                                       {"cpu", required_argument, NULL, O_CPU},
                                       {"memory", required_argument, NULL, O_MEMORY},
                                       {"pods", required_argument, NULL, O_PODS},
                                       {"workers", required_argument, NULL, O_WORKERS},
                                       {"help", no_argument, NULL, O_HELP},
                                       {NULL, 0, NULL, 0}};
  struct hollow_config cfg = {.count = 1};
  bool hollow = false;
  unsigned workers = 0;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case O_HOLLOW:
      hollow = true;
      break;
    case O_COUNT:
      if (parse_uint("count", optarg, 1000000, &cfg.count) < 0)
        return 2;
      break;
    case O_FIRST:
      if (parse_uint("first-index", optarg, 100000000, &cfg.first_index) < 0)
        return 2;
      break;
    case O_KUBECONFIG:
      cfg.kubeconfig = optarg;
      break;
    case O_LABELS:
      cfg.node_labels = optarg;
      break;
    case O_TAINTS:
      cfg.node_taints = optarg;
      break;
    case O_CPU:
      cfg.cpu = optarg;
      break;
    case O_MEMORY:
      cfg.memory = optarg;
      break;
    case O_PODS:
      cfg.pods = optarg;
      break;
    case O_WORKERS:
      if (parse_uint("workers", optarg, 256, &workers) < 0)
        return 2;
      cfg.workers = (int)workers;
      break;
    case O_HELP:
      agent_usage(stdout);
      return 0;
    default:
      agent_usage(stderr);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "ckube agent: unexpected argument %s\n", argv[optind]);
    return 2;
  }
  if (!hollow) {
    fputs("ckube agent: only --hollow nodes are supported by this build\n", stderr);
    return 2;
  }
  if (!cfg.kubeconfig) {
    fputs("ckube agent: --kubeconfig is required\n", stderr);
    return 2;
  }

  signals_block();

  struct hollow *h = NULL;
  _cleanup_free_ char *err = NULL;
  int r = hollow_start(&cfg, &h, &err);
  if (r < 0) {
    fprintf(stderr, "ckube agent: %s\n", err ? err : strerror(-r));
    return r == -EINVAL ? 2 : 1;
  }
  fprintf(stderr, "ckube agent: %u hollow node(s) hollow-%u..hollow-%u registered\n", cfg.count,
          cfg.first_index, cfg.first_index + cfg.count - 1);
  int sig = signals_wait();
  fprintf(stderr, "ckube agent: %s received, stopping\n", strsignal(sig));
  hollow_stop(h);
  return 0;
}
