/* SPDX-License-Identifier: Apache-2.0
 *
 * state.c: the state directory of the OCI runtime: ROOT/ID/state.json holds one container's
 * record (bundle, supervisor pid and its start time, last written status, exit status, the
 * witness/receipt/key paths and the bundle's annotations). Writes are atomic (mn_file_write:
 * temporary file + rename), so a reader sees the old or the new record; commands on one id
 * serialise with flock on the directory. The live status is derived: a record saying created
 * or running whose supervisor no longer exists (or is another process with the same pid)
 * reads as stopped. Also the OCI state JSON that `docklock state` prints (its pid is the
 * cage's pid 1, the container's process).
 * Not here: creating or removing the directory (the create and delete verbs).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "metanode/bytes.h"
#include "metanode/oci.h"

static const char *const status_names[] = {"creating", "created", "running", "stopped"};

const char *mn_oci_status_name(mn_oci_status s)
{
    return (unsigned)s < 4 ? status_names[s] : "unknown";
}

int mn_oci_state_dir(const char *root, const char *id, char *out, size_t len, mn_err *err)
{
    MN_TRY(mn_oci_id_check(id, err));
    if ((size_t)snprintf(out, len, "%s/%s", root, id) >= len)
        return mn_err_set(err, MN_EINVAL, 0, "state path %s/%s is too long", root, id);
    return 0;
}

uint64_t mn_oci_pid_start(int32_t pid)
{
    char path[64], buf[1024];
    if (pid <= 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* Field 22 (starttime) counts from after the ")" that ends the command name. */
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return 0;
    char state = p[2];
    if (state == 'Z' || state == 'X')
        return 0; /* exited, not yet reaped: gone for our purposes */
    int field = 2;
    for (; *p != '\0' && field < 22; p++)
        if (*p == ' ')
            field++;
    return strtoull(p, NULL, 10);
}

static json_t *record_json(const mn_oci_state *st, bool oci)
{
    json_t *ann = json_object();
    for (uint32_t i = 0; i < st->annc; i++)
        json_object_set_new(ann, st->ann_keys[i], json_string(st->ann_values[i]));
    json_t *o = json_object();
    if (oci) {
        json_object_set_new(o, "ociVersion", json_string(MN_OCI_VERSION));
        json_object_set_new(o, "id", json_string(st->id));
        json_object_set_new(o, "status", json_string(mn_oci_status_name(st->status)));
        if (st->status == MN_OCI_CREATED || st->status == MN_OCI_RUNNING)
            json_object_set_new(o, "pid", json_integer(st->cage_pid > 0 ? st->cage_pid
                                                                          : st->pid));
        json_object_set_new(o, "bundle", json_string(st->bundle));
        /* Where this run's evidence goes (also when the bundle chose the place). */
        json_object_set_new(ann, MN_OCI_ANN_WITNESS, json_string(st->witness));
        json_object_set_new(ann, MN_OCI_ANN_RECEIPT, json_string(st->receipt));
        json_object_set_new(ann, MN_OCI_ANN_KEY, json_string(st->key));
        json_object_set_new(o, "annotations", ann);
        return o;
    }
    json_object_set_new(o, "id", json_string(st->id));
    json_object_set_new(o, "bundle", json_string(st->bundle));
    json_object_set_new(o, "pid", json_integer(st->pid));
    json_object_set_new(o, "pidStart", json_integer((json_int_t)st->pid_start));
    json_object_set_new(o, "cagePid", json_integer(st->cage_pid));
    json_object_set_new(o, "cageStart", json_integer((json_int_t)st->cage_start));
    json_object_set_new(o, "status", json_string(mn_oci_status_name(st->status)));
    json_object_set_new(o, "exitStatus", json_integer(st->exit_status));
    json_object_set_new(o, "witness", json_string(st->witness));
    json_object_set_new(o, "receipt", json_string(st->receipt));
    json_object_set_new(o, "key", json_string(st->key));
    json_object_set_new(o, "annotations", ann);
    return o;
}

char *mn_oci_state_json(const mn_oci_state *st)
{
    json_t *o = record_json(st, true);
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    MN_ASSERT(s != NULL);
    return s;
}

int mn_oci_state_save(const char *root, const mn_oci_state *st, mn_err *err)
{
    char dir[MN_OCI_PATH_BYTES_MAX], path[MN_OCI_PATH_BYTES_MAX + 16];
    MN_TRY(mn_oci_state_dir(root, st->id, dir, sizeof(dir), err));
    snprintf(path, sizeof(path), "%s/state.json", dir);
    json_t *o = record_json(st, false);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    MN_ASSERT(s != NULL);
    int rc = mn_file_write(path, s, strlen(s), 0600, true, err);
    free(s);
    return rc;
}

static int copy_str(const json_t *o, const char *key, char *out, size_t len, mn_err *err)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v) || json_string_length(v) >= len)
        return mn_err_set(err, MN_ECORRUPT, 0, "state record: bad %s", key);
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static int parse_record(const json_t *o, mn_oci_state *st, mn_err *err)
{
    char status[16];
    MN_TRY(copy_str(o, "id", st->id, sizeof(st->id), err));
    MN_TRY(copy_str(o, "bundle", st->bundle, sizeof(st->bundle), err));
    MN_TRY(copy_str(o, "status", status, sizeof(status), err));
    MN_TRY(copy_str(o, "witness", st->witness, sizeof(st->witness), err));
    MN_TRY(copy_str(o, "receipt", st->receipt, sizeof(st->receipt), err));
    MN_TRY(copy_str(o, "key", st->key, sizeof(st->key), err));
    const json_t *pid = json_object_get(o, "pid"), *start = json_object_get(o, "pidStart"),
                 *exit = json_object_get(o, "exitStatus"), *ann = json_object_get(o, "annotations");
    if (!json_is_integer(pid) || !json_is_integer(start) || !json_is_integer(exit) ||
        !json_is_object(ann) || json_integer_value(pid) < 0 ||
        json_integer_value(pid) > INT32_MAX || json_integer_value(exit) < INT32_MIN ||
        json_integer_value(exit) > INT32_MAX || json_object_size(ann) > MN_OCI_ANNOTATIONS_MAX)
        return mn_err_set(err, MN_ECORRUPT, 0, "state record: bad pid, exit or annotations");
    st->pid = (int32_t)json_integer_value(pid);
    st->pid_start = (uint64_t)json_integer_value(start);
    const json_t *cage = json_object_get(o, "cagePid"); /* absent in older records */
    if (cage != NULL && (!json_is_integer(cage) || json_integer_value(cage) < 0 ||
                         json_integer_value(cage) > INT32_MAX))
        return mn_err_set(err, MN_ECORRUPT, 0, "state record: bad cagePid");
    st->cage_pid = cage != NULL ? (int32_t)json_integer_value(cage) : 0;
    const json_t *cstart = json_object_get(o, "cageStart");
    if (cstart != NULL && (!json_is_integer(cstart) || json_integer_value(cstart) < 0))
        return mn_err_set(err, MN_ECORRUPT, 0, "state record: bad cageStart");
    st->cage_start = cstart != NULL ? (uint64_t)json_integer_value(cstart) : 0;
    st->exit_status = (int32_t)json_integer_value(exit);
    st->status = MN_OCI_STOPPED + 1;
    for (int i = 0; i < 4; i++)
        if (strcmp(status, status_names[i]) == 0)
            st->status = (mn_oci_status)i;
    if (st->status > MN_OCI_STOPPED)
        return mn_err_set(err, MN_ECORRUPT, 0, "state record: bad status %s", status);
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)ann, k, v) {
        if (!json_is_string(v) || strlen(k) >= MN_OCI_ANN_BYTES_MAX ||
            json_string_length(v) >= MN_OCI_ANN_BYTES_MAX)
            return mn_err_set(err, MN_ECORRUPT, 0, "state record: bad annotation");
        snprintf(st->ann_keys[st->annc], MN_OCI_ANN_BYTES_MAX, "%s", k);
        snprintf(st->ann_values[st->annc++], MN_OCI_ANN_BYTES_MAX, "%s", json_string_value(v));
    }
    return 0;
}

int mn_oci_state_load(const char *root, const char *id, mn_oci_state *st, mn_err *err)
{
    char dir[MN_OCI_PATH_BYTES_MAX], path[MN_OCI_PATH_BYTES_MAX + 16];
    MN_TRY(mn_oci_state_dir(root, id, dir, sizeof(dir), err));
    snprintf(path, sizeof(path), "%s/state.json", dir);
    memset(st, 0, sizeof(*st));
    if (access(dir, F_OK) != 0)
        return mn_err_set(err, MN_ENOTFOUND, 0, "container %s does not exist", id);
    uint8_t *data;
    size_t len;
    if (mn_file_read(path, MN_OCI_STATE_BYTES_MAX, &data, &len, err) != 0) {
        if (err->sys_errno == ENOENT)
            return mn_err_set(err, MN_ENOTFOUND, 0, "container %s does not exist", id);
        return -(int)err->code;
    }
    json_error_t jerr;
    json_t *o = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
    free(data);
    int rc = o == NULL || !json_is_object(o)
                 ? mn_err_set(err, MN_ECORRUPT, 0, "state record %s is not JSON", path)
                 : parse_record(o, st, err);
    json_decref(o);
    if (rc != 0)
        return rc;
    if (strcmp(st->id, id) != 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "state record %s names %s", path, st->id);
    bool alive = st->pid > 0 && st->pid_start != 0 && mn_oci_pid_start(st->pid) == st->pid_start;
    if ((st->status == MN_OCI_CREATED || st->status == MN_OCI_RUNNING) && !alive)
        st->status = MN_OCI_STOPPED;
    return 0;
}

int mn_oci_state_lock(const char *root, const char *id, int *fd, mn_err *err)
{
    char dir[MN_OCI_PATH_BYTES_MAX];
    MN_TRY(mn_oci_state_dir(root, id, dir, sizeof(dir), err));
    *fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*fd < 0)
        return errno == ENOENT ? mn_err_set(err, MN_ENOTFOUND, 0, "container %s does not exist", id)
                               : mn_err_set(err, MN_ESYS, errno, "open %s", dir);
    while (flock(*fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            int e = errno;
            close(*fd);
            *fd = -1;
            return mn_err_set(err, MN_ESYS, e, "lock %s", dir);
        }
    }
    return 0;
}
