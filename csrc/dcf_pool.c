/* A process-wide pool of C worker threads: see dcf_pool.h. */
#include "dcf_pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield" ::: "memory")
#else
#define cpu_relax() ((void)0)
#endif

/* How long a worker stays awake after a job (or a prewake) before it sleeps,
 * and how long the caller spins for the last worker before it sleeps. Waking
 * a sleeping thread costs 20-60 us on the VMs we measured (an idle vCPU must
 * be woken by the hypervisor), a third of a 512x512 RLE frame; a loader asking
 * for batch after batch finds the workers still spinning. Short enough that
 * an idle pool costs nothing measurable. */
#define WORKER_SPIN_NS 200000L
#define CALLER_SPIN_NS 500000L

static struct {
    pthread_mutex_t run_lock;  /* held by the caller of the job in flight */
    pthread_mutex_t lock;      /* guards what follows, and the two conditions */
    pthread_cond_t wake;       /* where workers sleep */
    pthread_cond_t done;       /* where the caller sleeps */
    unsigned started;          /* worker threads created: ids 1..started */
    unsigned sleeping;         /* workers waiting on `wake` */
    unsigned long job;         /* number of the last job published */
    dcf_pool_task task;        /* the last job */
    void *context;
    unsigned workers;          /* threads taking part in it, the caller's included */
    unsigned long pokes;       /* prewakes so far */
    unsigned poke_workers;     /* how many threads the last prewake was for */
    unsigned long birth_job[DCF_POOL_MAX_WORKERS + 1]; /* `job` when each worker was made */
    atomic_ulong signal;       /* bumped on every job and prewake: what spinners watch */
    atomic_uint pending;       /* workers of the job in flight still running it */
} pool = {
    .run_lock = PTHREAD_MUTEX_INITIALIZER,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER,
};

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Spin until `signal` moves away from `seen` (returns 1) or `ns` have passed (0). */
static int spin_for_signal(unsigned long seen, long ns)
{
    const long long deadline = now_ns() + ns;
    for (;;) {
        for (int i = 0; i < 64; i++) {
            if (atomic_load_explicit(&pool.signal, memory_order_acquire) != seen)
                return 1;
            cpu_relax();
        }
        if (now_ns() >= deadline)
            return 0;
    }
}

static void finish_part(void)
{
    if (atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_acq_rel) == 1) {
        pthread_mutex_lock(&pool.lock);
        pthread_cond_signal(&pool.done);
        pthread_mutex_unlock(&pool.lock);
    }
}

static void *worker_main(void *arg)
{
    const unsigned id = (unsigned)(uintptr_t)arg;
    pthread_mutex_lock(&pool.lock);
    unsigned long seen_job = pool.birth_job[id];
    unsigned long seen_pokes = pool.pokes;
    int awake = 1; /* made for a job: it is about to come */
    for (;;) {
        /* pool.lock is held here */
        if (pool.job != seen_job) {
            seen_job = pool.job;
            const dcf_pool_task task = pool.task;
            void *const context = pool.context;
            const unsigned workers = pool.workers;
            pthread_mutex_unlock(&pool.lock);
            awake = id < workers;
            if (awake) {
                task(context, id, workers);
                finish_part();
            }
        } else {
            if (pool.pokes != seen_pokes) {
                seen_pokes = pool.pokes;
                awake = awake || id < pool.poke_workers;
            }
            if (!awake) {
                pool.sleeping++;
                while (pool.job == seen_job && pool.pokes == seen_pokes)
                    pthread_cond_wait(&pool.wake, &pool.lock);
                pool.sleeping--;
                continue;
            }
            pthread_mutex_unlock(&pool.lock);
        }
        /* Awake: spin a while for the next job before sleeping. */
        const unsigned long signal = atomic_load_explicit(&pool.signal, memory_order_acquire);
        pthread_mutex_lock(&pool.lock);
        const int moved = pool.job != seen_job || pool.pokes != seen_pokes;
        pthread_mutex_unlock(&pool.lock);
        if (!moved && awake)
            spin_for_signal(signal, WORKER_SPIN_NS);
        awake = 0;
        pthread_mutex_lock(&pool.lock);
    }
    return NULL;
}

static void after_fork_in_child(void)
{
    /* Only the forking thread exists in the child: the workers, and any job
     * another thread had in flight, are gone. Start afresh. The locks may have
     * been held at the fork: they are initialised again, which glibc allows
     * (POSIX leaves it undefined; there is nothing better to do in a child of a
     * threaded process). A batch another thread had in flight never returns
     * in the child: its buffers stay exported there. */
    pthread_mutex_init(&pool.run_lock, NULL);
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pthread_cond_init(&pool.done, NULL);
    pool.started = 0;
    pool.sleeping = 0;
    atomic_store(&pool.pending, 0);
}

static pthread_once_t fork_handler_once = PTHREAD_ONCE_INIT;

static void register_fork_handler(void)
{
    pthread_atfork(NULL, NULL, after_fork_in_child);
}

/* Create workers up to ids 1..wanted; pool.lock held. Workers start with
 * the asynchronous signals blocked (they belong to the interpreter's main
 * thread); the synchronous ones a fault raises in the faulting thread stay
 * open, so that a handler (Python's faulthandler) still reports a crash. */
static void start_workers(unsigned wanted)
{
    if (wanted > DCF_POOL_MAX_WORKERS)
        wanted = DCF_POOL_MAX_WORKERS;
    if (pool.started >= wanted)
        return;
    sigset_t all, old;
    sigfillset(&all);
    static const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS};
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++)
        sigdelset(&all, faults[i]);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    while (pool.started < wanted) {
        const unsigned id = pool.started + 1;
        pthread_t thread;
        pool.birth_job[id] = pool.job;
        if (pthread_create(&thread, &attr, worker_main, (void *)(uintptr_t)id) != 0)
            break;
        pool.started = id;
    }
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

unsigned dcf_pool_run(dcf_pool_task task, void *context, unsigned workers)
{
    if (workers <= 1 || pthread_mutex_trylock(&pool.run_lock) != 0) {
        task(context, 0, 1);
        return 1;
    }
    pthread_once(&fork_handler_once, register_fork_handler);
    pthread_mutex_lock(&pool.lock);
    start_workers(workers - 1);
    if (workers > pool.started + 1)
        workers = pool.started + 1;
    if (workers <= 1) {
        pthread_mutex_unlock(&pool.lock);
        pthread_mutex_unlock(&pool.run_lock);
        task(context, 0, 1);
        return 1;
    }
    pool.task = task;
    pool.context = context;
    pool.workers = workers;
    atomic_store_explicit(&pool.pending, workers - 1, memory_order_relaxed);
    pool.job++;
    atomic_fetch_add_explicit(&pool.signal, 1, memory_order_release);
    if (pool.sleeping)
        pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);

    task(context, 0, workers);

    const long long deadline = now_ns() + CALLER_SPIN_NS;
    while (atomic_load_explicit(&pool.pending, memory_order_acquire) != 0) {
        cpu_relax();
        if (now_ns() >= deadline) {
            pthread_mutex_lock(&pool.lock);
            while (atomic_load_explicit(&pool.pending, memory_order_acquire) != 0)
                pthread_cond_wait(&pool.done, &pool.lock);
            pthread_mutex_unlock(&pool.lock);
            break;
        }
    }
    pthread_mutex_unlock(&pool.run_lock);
    return workers;
}

void dcf_pool_prewake(unsigned workers)
{
    if (workers <= 1)
        return;
    pthread_mutex_lock(&pool.lock);
    if (pool.started > 0) {
        pool.pokes++;
        pool.poke_workers = workers;
        atomic_fetch_add_explicit(&pool.signal, 1, memory_order_release);
        if (pool.sleeping)
            pthread_cond_broadcast(&pool.wake);
    }
    pthread_mutex_unlock(&pool.lock);
}
