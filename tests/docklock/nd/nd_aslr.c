/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_aslr.c: addresses of the stack, the heap, an anonymous mapping and libc code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

int main(void)
{
    int local = 0;
    void *heap = malloc(64);
    void *map = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("stack %p heap %p mmap %p libc %p\n", (void *)&local, heap, map, (void *)&printf);
    free(heap);
    return 0;
}
