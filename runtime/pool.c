/*
 * pool.c - the thread pool that splits each step's work items.
 *
 * Created once per run with T threads: T - 1 workers plus the calling
 * thread, which works too. rt_pool_run() publishes one job (a kernel, its
 * arguments, the batch size and the item range [0, total)) and returns only
 * when every item is done: that return is the barrier between steps. Threads
 * claim contiguous chunks from the front of the range with a compare-and-swap,
 * each a 1/(2T) share of the items still unclaimed (at least one item): large
 * chunks first, single items at the end, so one claim covers much of a big
 * step while the threads finish within about one item of each other (fixed
 * chunks of total/(4T) left one thread up to a whole chunk, an eighth of the
 * step at T = 2, alone at the end). Which items a thread gets varies from run
 * to run; what an item computes does not. With T = 1 nothing is created and
 * kernels run inline.
 *
 * The barrier counts items, not threads: rt_pool_run() returns when the job's
 * `done` count reaches its total, so a worker that is asleep, or wakes up
 * late, never holds up a step it took no part in. A claim is a
 * compare-and-swap on one word holding the job's generation and its next
 * item, so a late worker can only claim items of the job that is current;
 * jobs alternate between two slots, so the slot a late worker may still be
 * reading is not the one being written (work() says why what it read is
 * then never used). Before, the caller waited for every worker to leave the
 * job: a worker asleep between runs made the first step of every run wait
 * for its wake-up (0.3-0.6 ms on the 2-core machines, 5x net3's input
 * reorder at 2 threads), and the --profile FMA probe measured one thread's
 * peak as both threads'. tests/runtime/pool-stress.test runs thousands of
 * small jobs with sleeps between them, also under ThreadSanitizer.
 *
 * Hand-off: a network runs one job per step, back to back, so a worker that
 * finished a job first spins for up to SPIN_SECONDS on the claim word before
 * it sleeps on a condition variable, and the calling thread spins as long on
 * the job's `done` count before it sleeps. A sleeping thread costs a futex
 * wake-up per step; a spinning one sees the next job within a microsecond
 * (spinning for 2 ms instead of 50 us made net3 at 2 threads slower, not
 * faster: medians of 4.1-4.6 ms against 3.3-4.3). The spin calls
 * sched_yield(), not a pause: when the machine has more runnable threads
 * than cores, the two threads of a pool often share one core, and a thread
 * that spins without yielding keeps the one it waits for off that core
 * (measured on a 2-core machine under load: a pause loop of 5 us made a
 * 200-step network 3-10x slower, a pause loop of 50 us 60x; the yielding
 * spin made it faster than sleeping at once). Both sleep after the spin, so
 * an idle pool (between runs, or the program at rest) does not burn a core.
 * The mutex only guards sleeping: `sleepers` counts workers on `start`, so a
 * job is broadcast only when someone sleeps; whoever finishes the job's last
 * item signals `done` under the mutex, under which the caller re-checks the
 * count before it waits.
 */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008, whatever flags the compiler gets */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt_internal.h"

enum { SHARES_PER_THREAD = 2, SPINS_PER_CLOCK = 16 };
#define SPIN_SECONDS 50e-6

/* The claim word: the job's generation in the high half, the first item not
 * claimed yet in the low half. A claim is a compare-and-swap on the whole
 * word, so it can only take items of the job its thread read. */
#define ITEM_BITS 32
#define ITEM_MASK ((UINT64_C(1) << ITEM_BITS) - 1)
#define WORD(gen, item) ((uint64_t)(gen) << ITEM_BITS | (uint64_t)(item))
#define WORD_GEN(w) ((uint32_t)((w) >> ITEM_BITS))
#define WORD_ITEM(w) ((int64_t)((w) & ITEM_MASK))

/* One job, written by rt_pool_run before it publishes the job's generation.
 * Two slots alternate (generation g uses slot g % 2): a thread still reading
 * the slot of job g when job g + 2 is written into it can no longer claim
 * anything of job g (the claim word has moved on), so what it read is
 * dropped. With one slot, a worker that read the word after the last claim
 * of job g (next == total) could read job g + 1's larger total before the
 * word moves on and claim g + 1's items under g. The fields are atomics
 * read relaxed for that reason only. */
typedef struct {
    _Atomic(RtKernel) fn;
    _Atomic(float *const *) args;
    atomic_int_fast64_t total, batch;
    atomic_int_fast64_t done; /* items finished */
} Job;

struct RtPool {
    int nthreads;
    pthread_t *workers;       /* nthreads - 1 of them */
    pthread_mutex_t mu;
    pthread_cond_t start, done;
    int sleepers;             /* workers waiting on start, under mu */
    atomic_uint_fast64_t word; /* WORD(generation, next unclaimed item) */
    atomic_bool quit;
    uint32_t generation;      /* the current job's, written by the calling thread only */
    Job jobs[2];
};

#ifdef RT_POOL_TEST_DELAY
void RT_POOL_TEST_DELAY(void); /* pool-stress.test: a pause between reading a job and claiming */
#else
#define RT_POOL_TEST_DELAY() ((void)0)
#endif

/* Claims items of job gen until it has none left or another job replaced
 * it: [next, next + max(1, (total - next) / share)) at a time. */
static void work(RtPool *p, uint32_t gen)
{
    Job *j = &p->jobs[gen % 2];
    int64_t share = (int64_t)p->nthreads * SHARES_PER_THREAD;
    for (;;) {
        uint64_t w = atomic_load_explicit(&p->word, memory_order_acquire);
        if (WORD_GEN(w) != gen)
            return;
        int64_t begin = WORD_ITEM(w);
        int64_t total = atomic_load_explicit(&j->total, memory_order_relaxed);
        if (begin >= total)
            return;
        int64_t n = (total - begin) / share, end = begin + (n > 1 ? n : 1);
        RtKernel fn = atomic_load_explicit(&j->fn, memory_order_relaxed);
        float *const *args = atomic_load_explicit(&j->args, memory_order_relaxed);
        int64_t batch = atomic_load_explicit(&j->batch, memory_order_relaxed);
        /* Whatever was read above belongs to job gen if the claim succeeds:
         * the slot is rewritten (for gen + 2) only after the word has left
         * gen, and if a read above saw such a rewrite, this fence and the
         * release fence in rt_pool_run make the claim see the word's move,
         * so it fails. */
        RT_POOL_TEST_DELAY();
        atomic_thread_fence(memory_order_acquire);
        if (!atomic_compare_exchange_strong_explicit(&p->word, &w, WORD(gen, end), memory_order_acq_rel,
                                                     memory_order_relaxed))
            continue;
        fn(args, begin, end, batch);
        if (atomic_fetch_add_explicit(&j->done, end - begin, memory_order_acq_rel) + (end - begin) == total) {
            pthread_mutex_lock(&p->mu); /* the caller may sleep on done */
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

/* Spins until done(p, arg) or SPIN_SECONDS pass; whether it became done. */
static bool spin_until(RtPool *p, bool (*done)(RtPool *, uint64_t), uint64_t arg)
{
    double limit = 0;
    for (int i = 0;; i++) {
        if (done(p, arg))
            return true;
        if (i % SPINS_PER_CLOCK == 0) {
            double now = rt_now_seconds();
            if (limit == 0)
                limit = now + SPIN_SECONDS;
            else if (now > limit)
                return false;
        }
        sched_yield();
    }
}

static bool new_job(RtPool *p, uint64_t seen)
{
    return WORD_GEN(atomic_load_explicit(&p->word, memory_order_acquire)) != (uint32_t)seen ||
           atomic_load_explicit(&p->quit, memory_order_relaxed);
}

static bool all_done(RtPool *p, uint64_t gen)
{
    const Job *j = &p->jobs[gen % 2];
    return atomic_load_explicit(&j->done, memory_order_acquire) == atomic_load_explicit(&j->total, memory_order_relaxed);
}

static void *worker_main(void *arg)
{
    RtPool *p = arg;
    uint32_t seen = 0;
    for (;;) {
        if (!spin_until(p, new_job, seen)) {
            pthread_mutex_lock(&p->mu);
            p->sleepers++;
            while (!new_job(p, seen))
                pthread_cond_wait(&p->start, &p->mu);
            p->sleepers--;
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->quit))
            return NULL;
        seen = WORD_GEN(atomic_load_explicit(&p->word, memory_order_acquire));
        work(p, seen);
    }
}

static void stop_workers(RtPool *p, int started)
{
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->quit, true);
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < started; i++)
        pthread_join(p->workers[i], NULL);
}

int rt_pool_create(RtPool **out, int nthreads)
{
    RtPool *p = calloc(1, sizeof *p);
    if (!p || !(p->workers = calloc((size_t)nthreads, sizeof *p->workers))) {
        free(p);
        return rt_error(RT_EXIT_RUNTIME, "out of memory creating the thread pool");
    }
    p->nthreads = nthreads;
    atomic_init(&p->word, WORD(0, 0));
    atomic_init(&p->quit, false);
    for (int i = 0; i < 2; i++) {
        atomic_init(&p->jobs[i].fn, NULL);
        atomic_init(&p->jobs[i].args, NULL);
        atomic_init(&p->jobs[i].total, 0);
        atomic_init(&p->jobs[i].batch, 0);
        atomic_init(&p->jobs[i].done, 0);
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->start, NULL);
    pthread_cond_init(&p->done, NULL);
    /* Workers inherit a mask with every asynchronous signal blocked, so
     * signals reach the main thread, where output.c keeps its table. */
    sigset_t old;
    rt_signals_block(&old);
    for (int i = 0; i < nthreads - 1; i++) {
        int err = pthread_create(&p->workers[i], NULL, worker_main, p);
        if (err) {
            rt_signals_restore(&old);
            stop_workers(p, i);
            p->nthreads = 0;
            rt_pool_destroy(p);
            return rt_error(RT_EXIT_RUNTIME, "cannot create thread %d of %d: %s", i + 2, nthreads, strerror(err));
        }
    }
    rt_signals_restore(&old);
    *out = p;
    return 0;
}

void rt_pool_run(RtPool *p, RtKernel fn, float *const *args, int64_t total, int64_t batch)
{
    if (total <= 0)
        return;
    if (p->nthreads <= 1 || total == 1 || total > (int64_t)ITEM_MASK) { /* the last: never seen */
        fn(args, 0, total, batch);
        return;
    }
    uint32_t gen = ++p->generation;
    Job *j = &p->jobs[gen % 2];
    atomic_thread_fence(memory_order_release); /* the word's earlier moves before the slot's new fields (work) */
    atomic_store_explicit(&j->fn, fn, memory_order_relaxed);
    atomic_store_explicit(&j->args, args, memory_order_relaxed);
    atomic_store_explicit(&j->total, total, memory_order_relaxed);
    atomic_store_explicit(&j->batch, batch, memory_order_relaxed);
    atomic_store_explicit(&j->done, 0, memory_order_relaxed);
    atomic_store_explicit(&p->word, WORD(gen, 0), memory_order_release);
    pthread_mutex_lock(&p->mu);
    if (p->sleepers)
        pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    work(p, gen);
    if (!spin_until(p, all_done, gen)) {
        pthread_mutex_lock(&p->mu);
        while (!all_done(p, gen))
            pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}

void rt_pool_destroy(RtPool *p)
{
    if (!p)
        return;
    if (p->nthreads > 1)
        stop_workers(p, p->nthreads - 1);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->done);
    free(p->workers);
    free(p);
}
