#include "lib/coro.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/macro.h"

#if defined(__SANITIZE_ADDRESS__)
#define CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORO_ASAN 1
#endif
#endif

#ifdef CORO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define DEFAULT_STACK (512 * 1024)
#else
#define DEFAULT_STACK (256 * 1024)
#endif

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

struct coro {
  void *map; /* guard page + stack */
  size_t map_size;
  char *stack; /* lowest usable address */
  size_t stack_size;
  coro_fn fn;
  void *arg;
  struct coro_sched *sched;
  bool finished;
#if defined(__x86_64__)
  void *sp;        /* the coroutine's saved stack pointer while it is not running */
  void *caller_sp; /* the resumer's, while it runs */
#else
  ucontext_t ctx, caller_ctx;
#endif
#ifdef CORO_ASAN
  void *fake_stack; /* ASan's fake stack of the side that switched away */
  const void *caller_bottom;
  size_t caller_size;
#endif
};

static __thread struct coro *current;
static __thread unsigned nosuspend;

#define MAX_DEFERRED 8
struct deferred {
  void (*fn)(void *);
  void *arg;
};
static __thread struct deferred deferred[MAX_DEFERRED];
static __thread unsigned n_deferred;

#if defined(__x86_64__)
/* Saves the callee-saved registers on the current stack, stores the stack pointer in
 * *save and continues on the stack `to` (whose top holds the same layout). */
void ckube_coro_switch(void **save, void *to);
__asm__(".text\n"
        ".globl ckube_coro_switch\n"
        ".type ckube_coro_switch,@function\n"
        "ckube_coro_switch:\n"
        "  pushq %rbp\n"
        "  pushq %rbx\n"
        "  pushq %r12\n"
        "  pushq %r13\n"
        "  pushq %r14\n"
        "  pushq %r15\n"
        "  movq %rsp, (%rdi)\n"
        "  movq %rsi, %rsp\n"
        "  popq %r15\n"
        "  popq %r14\n"
        "  popq %r13\n"
        "  popq %r12\n"
        "  popq %rbx\n"
        "  popq %rbp\n"
        "  ret\n"
        ".size ckube_coro_switch,.-ckube_coro_switch\n"
        /* First entry: r12 holds the argument, r13 the function; never returns. */
        ".globl ckube_coro_trampoline\n"
        ".type ckube_coro_trampoline,@function\n"
        "ckube_coro_trampoline:\n"
        "  movq %r12, %rdi\n"
        "  callq *%r13\n"
        "  ud2\n"
        ".size ckube_coro_trampoline,.-ckube_coro_trampoline\n");
void ckube_coro_trampoline(void);
#endif

struct coro *coro_new(size_t stack_size) {
  if (stack_size == 0)
    stack_size = DEFAULT_STACK;
  long page = sysconf(_SC_PAGESIZE);
  stack_size = (stack_size + (size_t)page - 1) & ~((size_t)page - 1);
  size_t map_size = stack_size + (size_t)page;
  void *map = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                   -1, 0);
  if (map == MAP_FAILED)
    return NULL;
  /* The guard page turns a stack overflow into a fault rather than silent corruption. */
  if (mprotect(map, (size_t)page, PROT_NONE) < 0) {
    munmap(map, map_size);
    return NULL;
  }
  struct coro *co = xcalloc(1, sizeof(*co));
  co->map = map;
  co->map_size = map_size;
  co->stack = (char *)map + page;
  co->stack_size = stack_size;
  co->finished = true;
  return co;
}

void coro_free(struct coro *co) {
  if (!co)
    return;
  munmap(co->map, co->map_size);
  free(co);
}

/* Runs on the coroutine's stack; leaves for good once the function returned. */
static void coro_entry(void *arg) {
  struct coro *co = arg;
#ifdef CORO_ASAN
  __sanitizer_finish_switch_fiber(NULL, &co->caller_bottom, &co->caller_size);
#endif
  co->fn(co->arg);
  co->finished = true;
#ifdef CORO_ASAN
  /* NULL: this fiber's fake stack may be destroyed, the stack is done with. */
  __sanitizer_start_switch_fiber(NULL, co->caller_bottom, co->caller_size);
#endif
#if defined(__x86_64__)
  void *dead;
  ckube_coro_switch(&dead, co->caller_sp);
#else
  setcontext(&co->caller_ctx);
#endif
  abort();
}

#if !defined(__x86_64__)
static void coro_entry_ucontext(unsigned hi, unsigned lo) {
  coro_entry((void *)(((uintptr_t)hi << 32) | (uintptr_t)lo));
}
#endif

void coro_start(struct coro *co, coro_fn fn, void *arg, struct coro_sched *sched) {
  co->fn = fn;
  co->arg = arg;
  co->sched = sched;
  co->finished = false;
#ifdef CORO_ASAN
  /* A reused stack still carries the poisoning of the frames of its last run. */
  ASAN_UNPOISON_MEMORY_REGION(co->stack, co->stack_size);
#endif
#if defined(__x86_64__)
  /* Six saved registers and the return address below a 16-byte aligned top, so the
   * trampoline calls with the stack aligned as the ABI wants. */
  uintptr_t top = ((uintptr_t)co->stack + co->stack_size) & ~(uintptr_t)15;
  void **sp = (void **)(top - 72);
  sp[0] = NULL;                           /* r15 */
  sp[1] = NULL;                           /* r14 */
  sp[2] = (void *)coro_entry;             /* r13: the function */
  sp[3] = co;                             /* r12: its argument */
  sp[4] = NULL;                           /* rbx */
  sp[5] = NULL;                           /* rbp */
  sp[6] = (void *)ckube_coro_trampoline; /* return address */
  sp[7] = NULL;
  co->sp = sp;
#else
  getcontext(&co->ctx);
  co->ctx.uc_stack.ss_sp = co->stack;
  co->ctx.uc_stack.ss_size = co->stack_size;
  co->ctx.uc_link = NULL;
  uintptr_t p = (uintptr_t)co;
  makecontext(&co->ctx, (void (*)(void))coro_entry_ucontext, 2, (unsigned)(p >> 32),
              (unsigned)(p & 0xffffffffu));
#endif
}

bool coro_resume(struct coro *co) {
  struct coro *saved = current;
  current = co;
#ifdef CORO_ASAN
  void *fake = NULL;
  __sanitizer_start_switch_fiber(&fake, co->stack, co->stack_size);
#endif
#if defined(__x86_64__)
  ckube_coro_switch(&co->caller_sp, co->sp);
#else
  swapcontext(&co->caller_ctx, &co->ctx);
#endif
#ifdef CORO_ASAN
  __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
  current = saved;
  return co->finished;
}

void *coro_arg(const struct coro *co) { return co->arg; }

struct coro *coro_current(void) { return current; }

struct coro *coro_waitable(void) { return nosuspend ? NULL : current; }

void coro_suspend(void) {
  struct coro *co = current;
#ifdef CORO_ASAN
  __sanitizer_start_switch_fiber(&co->fake_stack, co->caller_bottom, co->caller_size);
#endif
#if defined(__x86_64__)
  ckube_coro_switch(&co->sp, co->caller_sp);
#else
  swapcontext(&co->ctx, &co->caller_ctx);
#endif
#ifdef CORO_ASAN
  __sanitizer_finish_switch_fiber(co->fake_stack, &co->caller_bottom, &co->caller_size);
#endif
}

void coro_wake(struct coro *co) { co->sched->post(co->sched, co); }

void coro_defer(void (*fn)(void *), void *arg) {
  if (!current) {
    fn(arg);
    return;
  }
  for (unsigned i = 0; i < n_deferred; i++)
    if (deferred[i].fn == fn && deferred[i].arg == arg)
      return;
  if (n_deferred == MAX_DEFERRED) {
    fn(arg);
    return;
  }
  deferred[n_deferred++] = (struct deferred){fn, arg};
}

void coro_run_deferred(void) {
  /* A deferred function may defer again (it runs outside any coroutine, so it would run
   * at once): take the list first. */
  while (n_deferred > 0) {
    struct deferred d = deferred[--n_deferred];
    d.fn(d.arg);
  }
}

void coro_nosuspend_begin(void) { nosuspend++; }
void coro_nosuspend_end(void) { nosuspend--; }
