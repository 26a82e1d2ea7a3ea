/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_threads.c: four threads race on an unprotected counter and log, every 1000 iterations,
 * which thread ran; the counter and a hash of the interleaving are printed.
 */
#include <pthread.h>
#include <stdio.h>

#define ITER 2000000
#define LOG_MAX (4 * ITER / 1000)

static volatile long counter;
static volatile unsigned char order[LOG_MAX];
static volatile int order_len;

static void *worker(void *arg)
{
    for (long i = 0; i < ITER; i++) {
        counter = counter + 1;
        int n = order_len;
        if (i % 1000 == 0 && n < LOG_MAX) {
            order[n] = (unsigned char)(long)arg;
            order_len = n + 1;
        }
    }
    return NULL;
}

int main(void)
{
    pthread_t t[4];
    for (long i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    unsigned long h = 1469598103934665603ul; /* FNV-1a over the interleaving */
    for (int i = 0; i < order_len; i++)
        h = (h ^ order[i]) * 1099511628211ul;
    printf("counter %ld interleaving %016lx (%d entries)\n", counter, h, order_len);
    return 0;
}
