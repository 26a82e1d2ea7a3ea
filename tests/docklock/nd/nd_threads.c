/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_threads.c: four threads race on an unprotected counter and log who ran when.
 */
#include <pthread.h>
#include <stdio.h>

#define ITER 2000000

static volatile long counter;
static char order[64];
static volatile int order_len;

static void *worker(void *arg)
{
    for (long i = 0; i < ITER; i++) {
        counter = counter + 1;
        if (i % (ITER / 4) == 0 && order_len < 60)
            order[order_len++] = (char)('a' + (long)arg);
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
    order[order_len] = 0;
    printf("counter %ld order %s\n", counter, order);
    return 0;
}
