/* A process-wide pool of C worker threads for batches of short tasks.
 *
 * Why not the Python pool: a batch of four 512x512 RLE frames takes about
 * 0.7 ms on one thread, and handing half of it to a Python pool thread costs
 * 0.1 ms more (a future, a queue put, waking a sleeping thread, taking the
 * GIL, waking the caller again at the end). Here a job is published with one
 * store and a broadcast, workers spin briefly before sleeping (so the next
 * job of a loop finds them awake), and the caller spins briefly for the last
 * worker rather than sleeping on it. No Python object is touched.
 *
 * One job runs at a time. A caller that finds the pool busy (another thread's
 * batch, or a task that itself asks for the pool) runs its job alone, as
 * worker 0: tasks must therefore be written so that worker 0 can finish every
 * part of the job (share work through a queue, not by worker number).
 * Workers are created on first use, up to DCF_POOL_MAX_WORKERS, and are
 * forgotten in a forked child (their threads do not exist there).
 *
 * The pool is a static of this file: every binary that links the C core has
 * its own. The Python package calls it from one extension only (_codecs), so
 * a process has one pool. */
#ifndef DCF_POOL_H
#define DCF_POOL_H

#ifdef __cplusplus
extern "C" {
#endif

#define DCF_POOL_MAX_WORKERS 256

/* The task of one job: called once per taking-part worker, `worker` in
 * [0, workers), 0 on the calling thread. */
typedef void (*dcf_pool_task)(void *context, unsigned worker, unsigned workers);

/* Run `task` on up to `workers` threads, the caller's included, and return
 * once every call has returned. Returns the number of threads that took part
 * (1 when the pool was busy or no thread could be started). */
unsigned dcf_pool_run(dcf_pool_task task, void *context, unsigned workers);

/* Ask sleeping workers (up to `workers` - 1 of them) to wake and spin for a
 * while, as a job is about to come: their wake-up then overlaps the caller's
 * preparation. Cheap when they are awake already; never blocks. */
void dcf_pool_prewake(unsigned workers);

#ifdef __cplusplus
}
#endif

#endif /* DCF_POOL_H */
