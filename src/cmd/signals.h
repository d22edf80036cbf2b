/* signals.h — how every long-running ckube command (server, controller-manager, scheduler,
 * agent) waits to be told to stop: SIGTERM and SIGINT are blocked in all threads and taken
 * synchronously by the main thread with sigwait(), so shutdown runs as ordinary code rather
 * than in a signal handler; SIGPIPE is ignored, because a peer that closes its connection
 * while we write must cost a failed write, not the process. */
#pragma once

/* Blocks SIGTERM and SIGINT in the calling thread and ignores SIGPIPE. Call it from the
 * main thread before any thread is started: threads inherit the blocked mask, which is what
 * keeps the signals for signals_wait(). Never fails. */
void signals_block(void);

/* Waits until SIGTERM or SIGINT arrives (after signals_block()) and returns its number.
 * Only the main thread may call it. */
int signals_wait(void);
