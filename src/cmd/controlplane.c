#include "cmd/controlplane.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/kubeconfig.h"
#include "client/leaderelect.h"
#include "client/rest.h"
#include "cmd/signals.h"
#include "controllers/controller.h"
#include "lib/pki.h"
#include "lib/timeutil.h"
#include "scheduler/scheduler.h"

/* One component: what it is called, whom it authenticates as, and how it runs. */
struct component_def {
  const char *name;      /* also the Lease name */
  const char *cert_name; /* file stem in <data_dir>/tls */
  const char *user;      /* certificate CN */
  int (*start)(struct controlplane *cp, struct rest_client *client, void **ret, char **ret_err);
  void (*stop)(void *handle);
};

struct component {
  const struct component_def *def;
  struct controlplane *cp;
  struct rest_client *client;
  struct leader_elector *elector;
  pthread_t thread;
  bool thread_started;
  pthread_mutex_t mu;
  pthread_cond_t cond;
  bool want_running, quit;
};

struct controlplane {
  struct controlplane_config cfg;
  char *data_dir, *controllers, *cluster_cidr, *identity;
  struct component comps[2];
  size_t n;
};

static int start_controller_manager(struct controlplane *cp, struct rest_client *client,
                                    void **ret, char **ret_err) {
  struct ctrl_env env = {
      .client = client,
      .cluster_cidr = cp->cluster_cidr,
      .node_monitor_grace_ms = cp->cfg.node_monitor_grace_ms,
      .pod_eviction_timeout_ms = 300000,
      .data_dir = cp->data_dir,
  };
  struct controller_manager *m = NULL;
  int r = controller_manager_new(&env, cp->controllers, &m, ret_err);
  if (r < 0)
    return r;
  if ((r = controller_manager_start(m, ret_err)) < 0) {
    controller_manager_free(m);
    return r;
  }
  *ret = m;
  return 0;
}

static void stop_controller_manager(void *h) { controller_manager_free(h); }

static int start_scheduler(struct controlplane *cp, struct rest_client *client, void **ret,
                           char **ret_err) {
  (void)cp;
  struct scheduler *s = NULL;
  int r = scheduler_start(client, &s, ret_err);
  if (r < 0)
    return r;
  *ret = s;
  return 0;
}

static void stop_scheduler(void *h) { scheduler_stop(h); }

static const struct component_def component_defs[] = {
    {"kube-controller-manager", "controller-manager", "system:kube-controller-manager",
     start_controller_manager, stop_controller_manager},
    {"kube-scheduler", "scheduler", "system:kube-scheduler", start_scheduler, stop_scheduler},
};

/* Runs the component whenever it should (it leads), stops it when it should not. The
 * elector's callbacks only flip want_running: starting a component waits for its
 * informers to sync, which must not hold up the Lease renewals. */
static void *component_main(void *p) {
  struct component *c = p;
  void *handle = NULL;
  pthread_mutex_lock(&c->mu);
  for (;;) {
    while (!c->quit && c->want_running == (handle != NULL))
      pthread_cond_wait(&c->cond, &c->mu);
    bool run = c->want_running && !c->quit;
    pthread_mutex_unlock(&c->mu);
    if (run && !handle) {
      _cleanup_free_ char *err = NULL;
      if (c->def->start(c->cp, c->client, &handle, &err) < 0) {
        fprintf(stderr, "ckube server: %s: %s\n", c->def->name, err ? err : "failed");
        handle = NULL;
        sleep(1);
      } else {
        fprintf(stderr, "ckube server: %s started\n", c->def->name);
      }
    } else if (!run && handle) {
      c->def->stop(handle);
      handle = NULL;
      fprintf(stderr, "ckube server: %s stopped\n", c->def->name);
    }
    pthread_mutex_lock(&c->mu);
    if (c->quit && !handle)
      break;
  }
  pthread_mutex_unlock(&c->mu);
  return NULL;
}

static void want(struct component *c, bool running) {
  pthread_mutex_lock(&c->mu);
  c->want_running = running;
  pthread_cond_signal(&c->cond);
  pthread_mutex_unlock(&c->mu);
}

static void on_started(void *ud) { want(ud, true); }
static void on_stopped(void *ud) { want(ud, false); }

static int client_for(struct controlplane *cp, const struct component_def *def,
                      struct rest_client **ret, char **ret_err) {
  if (cp->cfg.kubeconfig) {
    _cleanup_kubeconfig_creds_ struct kubeconfig_creds *creds = NULL;
    int r = kubeconfig_load(cp->cfg.kubeconfig, NULL, &creds, ret_err);
    return r < 0 ? r : rest_client_new_from_creds(creds, ret, ret_err);
  }
  _cleanup_free_ char *tls = xasprintf("%s/tls", cp->data_dir);
  _cleanup_pki_ca_ struct pki_ca *ca = NULL;
  int r = pki_ca_ensure(tls, &ca, ret_err);
  if (r < 0)
    return r;
  struct pki_subject subj = {.cn = def->user};
  if ((r = pki_ensure_client(ca, tls, def->cert_name, &subj, ret_err)) < 0)
    return r;
  _cleanup_free_ char *cert = NULL, *key = NULL;
  if ((r = pki_read_pair(tls, def->cert_name, &cert, &key)) < 0) {
    if (ret_err)
      *ret_err = xasprintf("reading %s/%s.crt: %s", tls, def->cert_name, strerror(-r));
    return r;
  }
  _cleanup_free_ char *ua = xasprintf("ckube/%s", def->name);
  struct rest_client_config rc = {.server = cp->cfg.server_url,
                                  .ca_pem = pki_ca_cert_pem(ca),
                                  .cert_pem = cert,
                                  .key_pem = key,
                                  .user_agent = ua};
  return rest_client_new(&rc, ret, ret_err);
}

int controlplane_start(const struct controlplane_config *cfg, struct controlplane **ret,
                       char **ret_err) {
  struct controlplane *cp = xcalloc(1, sizeof(*cp));
  cp->cfg = *cfg;
  cp->data_dir = xstrdup(cfg->data_dir ? cfg->data_dir : "/var/lib/ckube");
  cp->controllers = cfg->controllers ? xstrdup(cfg->controllers) : NULL;
  cp->cluster_cidr = xstrdup(cfg->cluster_cidr ? cfg->cluster_cidr : "10.42.0.0/16");
  if (!cp->cfg.node_monitor_grace_ms)
    cp->cfg.node_monitor_grace_ms = 40000;
  char host[256] = "";
  gethostname(host, sizeof(host) - 1);
  unsigned char rnd[8];
  FILE *f = fopen("/dev/urandom", "re");
  if (!f || fread(rnd, 1, sizeof(rnd), f) != sizeof(rnd))
    memset(rnd, getpid() & 0xff, sizeof(rnd));
  if (f)
    fclose(f);
  cp->identity = xasprintf("%s_%02x%02x%02x%02x-%02x%02x-%02x%02x", host, rnd[0], rnd[1], rnd[2],
                           rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
  for (size_t i = 0; i < ARRAY_SIZE(component_defs); i++) {
    const struct component_def *def = &component_defs[i];
    if ((i == 0 && cfg->disable_controller_manager) || (i == 1 && cfg->disable_scheduler))
      continue;
    struct component *c = &cp->comps[cp->n];
    c->def = def;
    c->cp = cp;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cond, NULL);
    int r = client_for(cp, def, &c->client, ret_err);
    if (r < 0) {
      controlplane_stop(cp);
      return r;
    }
    cp->n++;
    if (pthread_create(&c->thread, NULL, component_main, c) != 0) {
      controlplane_stop(cp);
      if (ret_err)
        *ret_err = xstrdup("starting a control-plane thread failed");
      return -EAGAIN;
    }
    c->thread_started = true;
    if (!cfg->leader_elect) {
      want(c, true);
      continue;
    }
    /* Shorter than kube-controller-manager's 15 s lease so that a new leader takes over
     * within 15 s of the old one's death, counting the up to 2 s until a candidate next
     * looks at the Lease. */
    struct leader_elector_config lc = {.name = def->name, .identity = cp->identity,
                                       .lease_ms = 12000, .renew_deadline_ms = 8000,
                                       .retry_ms = 2000, .on_started = on_started,
                                       .on_stopped = on_stopped, .userdata = c};
    if ((r = leader_elector_start(c->client, &lc, &c->elector)) < 0) {
      controlplane_stop(cp);
      if (ret_err)
        *ret_err = xasprintf("starting leader election: %s", strerror(-r));
      return r;
    }
  }
  *ret = cp;
  return 0;
}

void controlplane_stop(struct controlplane *cp) {
  if (!cp)
    return;
  for (size_t i = 0; i < cp->n; i++) {
    struct component *c = &cp->comps[i];
    /* The elector first: it calls on_stopped and hands the Lease back. */
    leader_elector_free(c->elector);
    if (c->thread_started) {
      pthread_mutex_lock(&c->mu);
      c->want_running = false;
      c->quit = true;
      pthread_cond_signal(&c->cond);
      pthread_mutex_unlock(&c->mu);
      pthread_join(c->thread, NULL);
    }
    rest_client_free(c->client);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->mu);
  }
  free(cp->data_dir);
  free(cp->controllers);
  free(cp->cluster_cidr);
  free(cp->identity);
  free(cp);
}

static int run_alone(int argc, char **argv, bool scheduler) {
  enum { O_KUBECONFIG = 1, O_LEADER, O_CONTROLLERS, O_CIDR, O_GRACE, O_DATA, O_HELP };
  static const struct option opts[] = {
      {"kubeconfig", required_argument, NULL, O_KUBECONFIG},
      {"leader-elect", optional_argument, NULL, O_LEADER},
      {"controllers", required_argument, NULL, O_CONTROLLERS},
      {"cluster-cidr", required_argument, NULL, O_CIDR},
      {"node-monitor-grace-period", required_argument, NULL, O_GRACE},
      {"data-dir", required_argument, NULL, O_DATA},
      {"help", no_argument, NULL, O_HELP},
      {NULL, 0, NULL, 0}};
  struct controlplane_config cfg = {.leader_elect = true,
                                    .disable_scheduler = !scheduler,
                                    .disable_controller_manager = scheduler};
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case O_KUBECONFIG:
      cfg.kubeconfig = optarg;
      break;
    case O_LEADER:
      cfg.leader_elect = !optarg || strcmp(optarg, "true") == 0;
      break;
    case O_CONTROLLERS:
      cfg.controllers = optarg;
      break;
    case O_CIDR:
      cfg.cluster_cidr = optarg;
      break;
    case O_GRACE: {
      int64_t ns;
      if (timeutil_parse_duration(optarg, &ns) < 0 || ns <= 0) {
        fprintf(stderr, "ckube %s: invalid --node-monitor-grace-period %s\n", argv[0], optarg);
        return 2;
      }
      cfg.node_monitor_grace_ms = ns / 1000000;
      break;
    }
    case O_DATA:
      cfg.data_dir = optarg;
      break;
    case O_HELP:
    default:
      fprintf(c == O_HELP ? stdout : stderr,
              "Usage: ckube %s --kubeconfig FILE [--leader-elect=BOOL]%s\n", argv[0],
              scheduler ? ""
                        : " [--controllers LIST] [--cluster-cidr CIDR]\n"
                          "       [--node-monitor-grace-period DURATION] [--data-dir DIR]");
      return c == O_HELP ? 0 : 2;
    }
  }
  if (!cfg.kubeconfig) {
    fprintf(stderr, "ckube %s: --kubeconfig is required\n", argv[0]);
    return 2;
  }
  _cleanup_free_ char *bad = controller_unknown(cfg.controllers);
  if (bad) {
    fprintf(stderr, "ckube %s: --controllers: \"%s\" is not in the list of known controllers\n",
            argv[0], bad);
    return 2;
  }
  signals_block();
  struct controlplane *cp = NULL;
  _cleanup_free_ char *err = NULL;
  if (controlplane_start(&cfg, &cp, &err) < 0) {
    fprintf(stderr, "ckube %s: %s\n", argv[0], err);
    return 1;
  }
  signals_wait();
  controlplane_stop(cp);
  return 0;
}

int cmd_controller_manager(int argc, char **argv) { return run_alone(argc, argv, false); }
int cmd_scheduler(int argc, char **argv) { return run_alone(argc, argv, true); }
