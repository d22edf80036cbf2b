#include "cmd/signals.h"

#include <pthread.h>
#include <signal.h>

static void stop_signals(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGINT);
}

void signals_block(void) {
  sigset_t set;
  stop_signals(&set);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
}

int signals_wait(void) {
  sigset_t set;
  stop_signals(&set);
  int sig = 0;
  /* sigwait fails only for an invalid set; retry rather than report a signal never sent. */
  while (sigwait(&set, &sig) != 0)
    ;
  return sig;
}
