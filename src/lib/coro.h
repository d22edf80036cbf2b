/* coro.h — stackful coroutines, so that code written as plain blocking calls can wait
 * without holding its thread.
 *
 * A coroutine runs a function on a stack of its own, on whichever thread resumes it.
 * Inside, code may call coro_suspend(): control returns to the coro_resume() that ran it,
 * and the thread goes on with other work. Any thread makes a suspended coroutine
 * runnable again with coro_wake(), which hands it to the scheduler given at coro_start()
 * (an event loop, which resumes it on its own thread later).
 *
 * Waiting code decides at run time how to wait: coro_waitable() is the running
 * coroutine when there is one that may suspend, NULL on an ordinary thread (which then
 * blocks on a condition variable as before). A coroutine must never suspend while it
 * holds a lock another coroutine of the same thread could want: that thread would then
 * block forever. Code that must wait under such a lock brackets it with
 * coro_nosuspend_begin()/end(), which makes coro_waitable() NULL meanwhile.
 *
 * Stacks are mmap'd with a guard page below them; pages are only committed when touched.
 * x86-64 switches with a few instructions (no system call); other architectures use
 * ucontext. AddressSanitizer is told about every switch. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct coro;
typedef void (*coro_fn)(void *arg);

/* Whoever resumes coroutines: post() is called (from any thread, possibly while the
 * coroutine is still on its way to suspend) to ask for coro_resume(co) on the
 * scheduler's own thread once the current coroutine there has returned to it. */
struct coro_sched {
  void (*post)(struct coro_sched *sched, struct coro *co);
};

/* A coroutine with a stack of at least stack_size bytes (0 = 256 KiB; doubled under
 * AddressSanitizer, whose frames are larger). Returns NULL when the stack cannot be
 * mapped. A coroutine is reusable: coro_start() it again once it has finished. */
struct coro *coro_new(size_t stack_size);
/* Frees a coroutine that is not running or suspended. Accepts NULL. */
void coro_free(struct coro *co);

/* Prepares co to run fn(arg) at its next coro_resume(). co must be new or finished. */
void coro_start(struct coro *co, coro_fn fn, void *arg, struct coro_sched *sched);

/* Runs co on the calling thread until it suspends or its function returns. Returns true
 * when it has finished. Must not be called from inside a coroutine. */
bool coro_resume(struct coro *co);

/* The argument given to coro_start(). */
void *coro_arg(const struct coro *co);

/* The coroutine running on this thread, or NULL. */
struct coro *coro_current(void);

/* The running coroutine if it may suspend now (not between nosuspend_begin/end), else
 * NULL: the caller then waits by blocking the thread. */
struct coro *coro_waitable(void);

/* Suspends the running coroutine; returns after someone called coro_wake() on it and its
 * scheduler resumed it. A wake that came before the suspend is not lost: the scheduler
 * resumes only coroutines that have returned to it. Must be called inside a coroutine. */
void coro_suspend(void);

/* Makes co runnable through its scheduler. Thread-safe. */
void coro_wake(struct coro *co);

/* Deferred work: runs fn(arg) on this thread once its scheduler is about to wait
 * (coro_run_deferred()), instead of now. Lets a coroutine that queued work for another
 * thread wake that thread once for everything the scheduler's current round queues. A
 * registration equal to a pending one is dropped. Outside a coroutine fn runs at once. */
void coro_defer(void (*fn)(void *arg), void *arg);
/* Runs and forgets this thread's deferred work. Schedulers call it before they wait. */
void coro_run_deferred(void);

/* Forbid / allow suspending on this thread; nests. */
void coro_nosuspend_begin(void);
void coro_nosuspend_end(void);
