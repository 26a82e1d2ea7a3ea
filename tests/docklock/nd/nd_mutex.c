/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_mutex.c: four threads append their ids to a shared log under a mutex; half-way each waits
 * until every other thread has come a quarter of the way, spinning with sched_yield. Who gets
 * the lock when, and how often the spin goes round, are up to the scheduler; the log's hash
 * and the spin count are printed. In the cage the spin only ends because sched_yield gives the
 * turn to the next thread.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#define THREADS 4
#define ROUNDS 50000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned char log_ids[THREADS * ROUNDS];
static int log_len;
static volatile int progress[THREADS];
static volatile long spins;

static int slowest_other(int id)
{
    int min = ROUNDS;
    for (int k = 0; k < THREADS; k++)
        if (k != id && progress[k] < min)
            min = progress[k];
    return min;
}

static void *worker(void *arg)
{
    int id = (int)(long)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&mu);
        log_ids[log_len++] = (unsigned char)id;
        for (volatile int k = 0; k < 50; k++) {
        }
        pthread_mutex_unlock(&mu);
        progress[id] = i;
        if (i == ROUNDS / 2)
            while (slowest_other(id) < ROUNDS / 4) {
                spins = spins + 1;
                sched_yield();
            }
    }
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    unsigned long h = 1469598103934665603ul;
    for (int i = 0; i < log_len; i++)
        h = (h ^ log_ids[i]) * 1099511628211ul;
    printf("entries %d order %016lx spins %ld\n", log_len, h, spins);
    return 0;
}
