/* SPDX-License-Identifier: Apache-2.0
 *
 * tree.c: the tree hash of a run's output directory, the receipt's fsdiff root. Every entry
 * below the directory (not the directory itself) is one leaf of an RFC 9162 tree, in
 * depth-first order with the entries of each directory sorted by their bytes (strcmp, never
 * the locale), so the root depends only on names, kinds, permission bits and contents: never
 * on inode numbers, timestamps, owners or readdir order. Leaf data is the canonical CBOR array
 * [relative path (bytes), kind (0 file, 1 directory, 2 symlink), mode & 07777, SHA-256 of the
 * contents (files) or of the target (symlinks), empty for directories]. Other kinds (devices,
 * fifos, sockets) are refused. The walk keeps an explicit stack; it does not recurse.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium/crypto_hash_sha256.h>

#include "internal.h"
#include "metanode/cbor.h"
#include "metanode/hash.h"

/* Bounds of an output tree: entries in all, and depth. */
#define TREE_ENTRIES_MAX (1u << 20)
#define TREE_DEPTH_MAX 64u

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int hash_file(int dirfd, const char *name, uint8_t out[32], mn_err *err)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return mn_err_set(err, MN_ESYS, errno, "open output %s", name);
    crypto_hash_sha256_state h; /* plain SHA-256 of the bytes, as `sha256sum` shows it */
    crypto_hash_sha256_init(&h);
    static uint8_t buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        crypto_hash_sha256_update(&h, buf, (size_t)n);
    close(fd);
    if (n < 0)
        return mn_err_set(err, MN_ESYS, errno, "read output %s", name);
    crypto_hash_sha256_final(&h, out);
    return 0;
}

static int leaf(mn_merkle_builder *b, const char *path, int kind, unsigned mode,
                const uint8_t *digest, mn_err *err)
{
    mn_buf buf;
    mn_buf_init(&buf, 0);
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, &buf);
    mn_cbor_put_array(&e, 4);
    mn_cbor_put_bytes(&e, path, strlen(path));
    mn_cbor_put_uint(&e, (uint64_t)kind);
    mn_cbor_put_uint(&e, mode & 07777u);
    mn_cbor_put_bytes(&e, digest, digest != NULL ? 32 : 0);
    int rc = mn_cbor_enc_finish(&e, err);
    if (rc == 0)
        mn_merkle_builder_append(b, buf.data, buf.len);
    mn_buf_deinit(&buf);
    return rc;
}

/* Sorted names of the entries of dir (without . and ..), in a new array of new strings. */
static int list_dir(const char *dir, char ***names, size_t *count, mn_err *err)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return mn_err_set(err, MN_ESYS, errno, "opendir %s", dir);
    size_t n = 0, cap = 16;
    char **v = malloc(cap * sizeof(*v));
    struct dirent *e;
    while (v != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            char **grown = n < TREE_ENTRIES_MAX ? realloc(v, 2 * cap * sizeof(*v)) : NULL;
            if (grown == NULL)
                break;
            v = grown;
            cap *= 2;
        }
        v[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (v == NULL || (n == cap && e != NULL))
        return mn_err_set(err, MN_ELIMIT, 0, "output directory %s too large", dir);
    qsort(v, n, sizeof(*v), cmp_names);
    *names = v;
    *count = n;
    return 0;
}

static void free_names(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

typedef struct frame {
    char **names;
    size_t count, next;
    char rel[PATH_MAX]; /* path of this directory relative to the root, "" for the root */
} frame;

/* One entry: its leaf, and for a directory the frame to descend into (*push). */
static int visit(const char *root, frame *f, const char *name, frame *child, bool *push,
                 mn_merkle_builder *b, mn_err *err)
{
    char rel[PATH_MAX], abs[PATH_MAX * 2];
    int n1 = snprintf(rel, sizeof(rel), "%s%s%s", f->rel, f->rel[0] ? "/" : "", name);
    int n2 = snprintf(abs, sizeof(abs), "%s/%s", root, rel);
    if (n1 < 0 || (size_t)n1 >= sizeof(rel) || n2 < 0 || (size_t)n2 >= sizeof(abs))
        return mn_err_set(err, MN_ELIMIT, 0, "output path too long under %s", f->rel);
    struct stat st;
    uint8_t digest[32];
    *push = false;
    if (lstat(abs, &st) != 0)
        return mn_err_set(err, MN_ESYS, errno, "lstat %s", abs);
    if (S_ISREG(st.st_mode)) {
        int rc = hash_file(AT_FDCWD, abs, digest, err);
        return rc != 0 ? rc : leaf(b, rel, 0, st.st_mode, digest, err);
    }
    if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlink(abs, target, sizeof(target));
        if (n < 0)
            return mn_err_set(err, MN_ESYS, errno, "readlink %s", abs);
        mn_sha256(digest, target, (size_t)n);
        return leaf(b, rel, 2, st.st_mode, digest, err);
    }
    if (!S_ISDIR(st.st_mode))
        return mn_err_set(err, MN_EUNSUPPORTED, 0, "output %s is not a file, directory or link",
                          rel);
    int rc = leaf(b, rel, 1, st.st_mode, NULL, err);
    if (rc == 0)
        rc = list_dir(abs, &child->names, &child->count, err);
    if (rc == 0) {
        child->next = 0;
        memcpy(child->rel, rel, sizeof(child->rel));
        *push = true;
    }
    return rc;
}

int mn__dl_tree_root(const char *root, uint8_t out[32], mn_err *err)
{
    mn_merkle_builder b;
    mn_merkle_builder_init(&b);
    frame *stack = calloc(TREE_DEPTH_MAX, sizeof(*stack));
    if (stack == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "tree walk");
    uint32_t depth = 1;
    int rc = list_dir(root, &stack[0].names, &stack[0].count, err);
    if (rc != 0)
        depth = 0;
    while (rc == 0 && depth > 0) {
        frame *f = &stack[depth - 1];
        if (f->next == f->count) {
            free_names(f->names, f->count);
            depth--;
            continue;
        }
        if (mn_merkle_builder_count(&b) >= TREE_ENTRIES_MAX || depth == TREE_DEPTH_MAX) {
            rc = mn_err_set(err, MN_ELIMIT, 0, "output tree too large or too deep");
            break;
        }
        bool push = false;
        rc = visit(root, f, f->names[f->next++], &stack[depth], &push, &b, err);
        depth += push;
    }
    for (; depth > 0; depth--)
        free_names(stack[depth - 1].names, stack[depth - 1].count);
    free(stack);
    if (rc == 0)
        mn_merkle_builder_root(&b, out);
    return rc;
}
