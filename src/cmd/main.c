/* ckube — one binary, many roles: `ckube <command> [flags]`. */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "apiserver/apiserver.h"
#include "apiserver/discovery.h"
#include "cmd/agent.h"
#include "cmd/bench.h"
#include "cmd/controlplane.h"
#include "cmd/signals.h"
#include "controllers/controller.h"
#include "lib/macro.h"
#include "lib/timeutil.h"

static int usage(FILE *f) {
  fputs("Usage: ckube COMMAND [FLAGS]\n"
        "\n"
        "Commands:\n"
        "  server      run the Kubernetes API server, controllers and scheduler\n"
        "  controller-manager  run the controllers on their own (--kubeconfig FILE)\n"
        "  scheduler   run the scheduler on its own (--kubeconfig FILE)\n"
        "  agent       node agent (`ckube agent --hollow --count N`: simulated nodes)\n"
        "  kubeconfig  print the admin kubeconfig of a server's data directory\n"
        "  bench       benchmarks (`ckube bench api --kubeconfig FILE`)\n"
        "  version     print the version\n"
        "\n"
        "Run 'ckube COMMAND --help' for the flags of a command.\n",
        f);
  return f == stdout ? 0 : 2;
}

static int cmd_version(int argc, char **argv) {
  (void)argc;
  (void)argv;
  printf("ckube version %s\n", CKUBE_GIT_VERSION);
  return 0;
}

static void server_usage(FILE *f) {
  fputs("Usage: ckube server [FLAGS]\n"
        "\n"
        "  --data-dir DIR              state and certificates (default /var/lib/ckube)\n"
        "  --bind-address ADDR         address to listen on (default 127.0.0.1)\n"
        "  --https-listen-port PORT    HTTPS port (default 6443)\n"
        "  --write-kubeconfig FILE     admin kubeconfig (default DATA-DIR/kubeconfig.yaml)\n"
        "  --datastore-endpoint URL    empty: SQLite in DATA-DIR; http://h:p[,...]: etcd v3\n"
        "  --token-file FILE           static bearer tokens (token,user,uid,\"group,...\")\n"
        "  --disable-agent             run no node agent on this machine\n"
        "  --controllers LIST          controllers to run: '*' all, 'foo' on, '-foo' off\n"
        "                              (default '*'; names: see --help-controllers)\n"
        "  --disable-controller-manager  run no controllers\n"
        "  --disable-scheduler         run no scheduler\n"
        "  --leader-elect[=BOOL]       controllers and scheduler run only while holding\n"
        "                              their Lease (default true)\n"
        "  --cluster-cidr CIDR         pod network, one /24 per node (default 10.42.0.0/16)\n"
        "  --node-monitor-grace-period DURATION  a node is NotReady after its heartbeats\n"
        "                              stop for this long (default 40s)\n",
        f);
}

static int cmd_server(int argc, char **argv) {
  /* glibc hands free memory back to the kernel as soon as an arena's top passes 128 KiB,
   * and then faults it in again on the next request: at thousands of requests a second
   * that cost a seventh of the server's CPU. The server trims by itself instead, when
   * idle (every 30 s) and after bursts of closing connections. */
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  enum {
    O_DATA = 1, O_BIND, O_PORT, O_KUBECONFIG, O_DATASTORE, O_TOKEN, O_NOAGENT, O_HELP,
    O_CONTROLLERS, O_NO_CM, O_NO_SCHED, O_LEADER, O_CIDR, O_GRACE, O_HELP_CTRL
  };
  static const struct option opts[] = {
      {"data-dir", required_argument, NULL, O_DATA},
      {"bind-address", required_argument, NULL, O_BIND},
      {"https-listen-port", required_argument, NULL, O_PORT},
      {"write-kubeconfig", required_argument, NULL, O_KUBECONFIG},
      {"datastore-endpoint", required_argument, NULL, O_DATASTORE},
      {"token-file", required_argument, NULL, O_TOKEN},
      {"disable-agent", no_argument, NULL, O_NOAGENT},
      {"help", no_argument, NULL, O_HELP},
      {"controllers", required_argument, NULL, O_CONTROLLERS},
      {"disable-controller-manager", no_argument, NULL, O_NO_CM},
      {"disable-scheduler", no_argument, NULL, O_NO_SCHED},
      {"leader-elect", optional_argument, NULL, O_LEADER},
      {"cluster-cidr", required_argument, NULL, O_CIDR},
      {"node-monitor-grace-period", required_argument, NULL, O_GRACE},
      {"help-controllers", no_argument, NULL, O_HELP_CTRL},
      {NULL, 0, NULL, 0}};
  struct controlplane_config cp = {.leader_elect = true};
  struct apiserver_config cfg = {.data_dir = "/var/lib/ckube", .bind_address = "127.0.0.1",
                                 .port = 6443, .datastore_endpoint = ""};
  const char *kubeconfig = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case O_DATA:
      cfg.data_dir = optarg;
      break;
    case O_BIND:
      cfg.bind_address = optarg;
      break;
    case O_PORT: {
      char *end;
      long p = strtol(optarg, &end, 10);
      if (*end || p < 0 || p > 65535) {
        fprintf(stderr, "ckube server: invalid --https-listen-port %s\n", optarg);
        return 2;
      }
      cfg.port = (unsigned)p;
      break;
    }
    case O_KUBECONFIG:
      kubeconfig = optarg;
      break;
    case O_DATASTORE:
      cfg.datastore_endpoint = optarg;
      break;
    case O_TOKEN:
      cfg.token_file = optarg;
      break;
    case O_NOAGENT:
      /* The node agent is not part of this build yet: the server never starts one. */
      break;
    case O_CONTROLLERS:
      cp.controllers = optarg;
      break;
    case O_NO_CM:
      cp.disable_controller_manager = true;
      break;
    case O_NO_SCHED:
      cp.disable_scheduler = true;
      break;
    case O_LEADER:
      if (optarg && !streq(optarg, "true") && !streq(optarg, "false")) {
        fprintf(stderr, "ckube server: invalid --leader-elect %s (true or false)\n", optarg);
        return 2;
      }
      cp.leader_elect = !optarg || streq(optarg, "true");
      break;
    case O_CIDR:
      cp.cluster_cidr = optarg;
      break;
    case O_GRACE: {
      int64_t ns;
      if (timeutil_parse_duration(optarg, &ns) < 0 || ns <= 0) {
        fprintf(stderr, "ckube server: invalid --node-monitor-grace-period %s\n", optarg);
        return 2;
      }
      cp.node_monitor_grace_ms = ns / 1000000;
      break;
    }
    case O_HELP_CTRL:
      for (const char *const *n = controller_names(); *n; n++)
        puts(*n);
      return 0;
    case O_HELP:
      server_usage(stdout);
      return 0;
    default:
      server_usage(stderr);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "ckube server: unexpected argument %s\n", argv[optind]);
    return 2;
  }
  _cleanup_free_ char *bad = controller_unknown(cp.controllers);
  if (bad) {
    fprintf(stderr, "ckube server: --controllers: \"%s\" is not in the list of known "
                    "controllers (see --help-controllers)\n", bad);
    return 2;
  }
  _cleanup_free_ char *default_kc = xasprintf("%s/kubeconfig.yaml", cfg.data_dir);
  cfg.kubeconfig_path = kubeconfig ? kubeconfig : default_kc;

  signals_block();

  struct apiserver *srv = NULL;
  _cleanup_free_ char *err = NULL;
  if (apiserver_start(&cfg, &srv, &err) < 0) {
    fprintf(stderr, "ckube server: %s\n", err);
    return 1;
  }
  fprintf(stderr, "ckube server: serving on https://%s:%u\n", cfg.bind_address,
          apiserver_port(srv));
  fprintf(stderr, "ckube server: kubeconfig written to %s\n", cfg.kubeconfig_path);
  fprintf(stderr, "ckube server: try: KUBECONFIG=%s kubectl get ns\n", cfg.kubeconfig_path);
  _cleanup_free_ char *url = xasprintf(
      "https://%s:%u", streq(cfg.bind_address, "0.0.0.0") ? "127.0.0.1" : cfg.bind_address,
      apiserver_port(srv));
  cp.data_dir = cfg.data_dir;
  cp.server_url = url;
  struct controlplane *plane = NULL;
  if (controlplane_start(&cp, &plane, &err) < 0) {
    fprintf(stderr, "ckube server: %s\n", err);
    apiserver_stop(srv);
    return 1;
  }
  int sig = signals_wait();
  fprintf(stderr, "ckube server: %s received, shutting down\n", strsignal(sig));
  controlplane_stop(plane);
  apiserver_stop(srv);
  return 0;
}

static int cmd_kubeconfig(int argc, char **argv) {
  const char *data_dir = "/var/lib/ckube";
  static const struct option opts[] = {{"data-dir", required_argument, NULL, 'd'},
                                       {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (c != 'd') {
      fputs("Usage: ckube kubeconfig [--data-dir DIR]\n", stderr);
      return 2;
    }
    data_dir = optarg;
  }
  _cleanup_free_ char *path = xasprintf("%s/kubeconfig.yaml", data_dir);
  FILE *f = fopen(path, "re");
  if (!f) {
    fprintf(stderr, "ckube kubeconfig: %s: %s (has the server run with this --data-dir?)\n",
            path, strerror(errno));
    return 1;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
    fwrite(buf, 1, n, stdout);
  fclose(f);
  return 0;
}

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
} commands[] = {
    {"server", cmd_server},
    {"controller-manager", cmd_controller_manager},
    {"scheduler", cmd_scheduler},
    {"agent", cmd_agent},
    {"bench", cmd_bench},
    {"kubeconfig", cmd_kubeconfig},
    {"version", cmd_version},
};

int main(int argc, char **argv) {
  /* Few malloc arenas: glibc's default (8 per core) spreads bursts over arenas that
   * trimming does not give back. The API server's loops, store writer and watch threads
   * allocate all the time, though: with 2 arenas they contended on arena locks for most
   * of their futex calls (measured: a quarter more creates/s with 4). */
  mallopt(M_ARENA_MAX, 4);
  if (argc < 2)
    return usage(stderr);
  if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help"))
    return usage(stdout);
  for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
    if (streq(argv[1], commands[i].name))
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "ckube: unknown command \"%s\"\n", argv[1]);
  return usage(stderr);
}
