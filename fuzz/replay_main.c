/* SPDX-License-Identifier: Apache-2.0
 *
 * replay_main.c: runs a fuzz target's LLVMFuzzerTestOneInput over every file of a corpus
 * directory (sorted by name, so runs are reproducible), like a libFuzzer binary run on a
 * directory without mutation. An empty or missing corpus is an error: a regression test that
 * runs nothing proves nothing.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metanode/bytes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int not_hidden(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    struct dirent **names;
    int n = scandir(argv[1], &names, not_hidden, by_name);
    if (n <= 0) {
        fprintf(stderr, "%s: corpus %s is missing or empty\n", argv[0], argv[1]);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", argv[1], names[i]->d_name);
        uint8_t *data;
        size_t len;
        mn_err err;
        if (mn_file_read(path, 0, &data, &len, &err) != 0) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        LLVMFuzzerTestOneInput(data, len);
        free(data);
        free(names[i]);
    }
    free(names);
    printf("%d passed, 0 failed\n", n);
    return 0;
}
