/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_thread_ids.c: the kernel thread ids of three threads, created one after another.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *worker(void *arg)
{
    *(pid_t *)arg = gettid();
    return NULL;
}

int main(void)
{
    pid_t tid[3];
    for (int i = 0; i < 3; i++) {
        pthread_t t;
        pthread_create(&t, NULL, worker, &tid[i]);
        pthread_join(t, NULL);
    }
    printf("main %d threads %d %d %d\n", (int)gettid(), (int)tid[0], (int)tid[1], (int)tid[2]);
    return 0;
}
