/* SPDX-License-Identifier: Apache-2.0
 *
 * test_oci.c: the OCI config parser's verdicts (accepted, ignored, tainted, refused, malformed)
 * on the seed corpus files and small inline documents, container ids, and the state record:
 * save/load round trip, the live status of a record whose supervisor is gone, the OCI state
 * JSON. No privileges needed.
 */
#include <errno.h>
#include <jansson.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metanode/bytes.h"
#include "metanode/docklock.h"
#include "metanode/oci.h"
#include "mn_test.h"

static mn_oci_config cfg;

static int parse_file(const char *name, mn_err *err)
{
    char rel[256];
    snprintf(rel, sizeof(rel), "tests/regress/oci_config/%s", name);
    uint8_t *data;
    size_t len;
    ASSERT_OK(mn_file_read(mn_test_source_path(rel), 0, &data, &len, err), err);
    int rc = mn_oci_config_parse(data, len, &cfg, err);
    free(data);
    return rc;
}

static int parse_text(const char *text, mn_err *err)
{
    return mn_oci_config_parse((const uint8_t *)text, strlen(text), &cfg, err);
}

static void full_relaxed(void)
{
    mn_err err;
    ASSERT_OK(parse_file("full.json", &err), &err);
    ASSERT_TRUE(cfg.relaxed);
    ASSERT_EQ(cfg.argc, 1u);
    ASSERT_STR_EQ(cfg.args[0], "sh");
    ASSERT_EQ(cfg.envc, 2u);
    ASSERT_EQ(cfg.mountc, 7u);
    ASSERT_STR_EQ(cfg.mounts[6].type, "bind");
    ASSERT_EQ(cfg.memory_limit, 104857600);
    ASSERT_EQ(cfg.cpu_quota, 50000);
    ASSERT_U64_EQ(cfg.cpu_period, 100000u);
    ASSERT_EQ(cfg.pids_limit, 64);
    ASSERT_EQ(cfg.uid_mapc, 1u);
    ASSERT_EQ(cfg.uid_map[0].host_id, 1000u);
    ASSERT_TRUE(cfg.namespaces & MN_OCI_NS_USER);
    ASSERT_EQ(cfg.hookc[MN_OCI_HOOK_PRESTART], 1u);
    ASSERT_EQ(cfg.hooks[MN_OCI_HOOK_PRESTART][0].timeout_s, 5);
    ASSERT_EQ(cfg.hookc[MN_OCI_HOOK_POSTSTOP], 1u);
    ASSERT_STR_EQ(cfg.witness, "/var/tmp/w");
    ASSERT_U64_EQ(cfg.epoch_ns, 0u);
    ASSERT_EQ(cfg.annc, 4u);
    ASSERT_EQ(cfg.taintc, 1u); /* the user namespace */
    ASSERT_TRUE(strstr(cfg.taints[0], "user namespace") != NULL);
    ASSERT_TRUE(cfg.ignoredc >= 8u);
    ASSERT_TRUE(cfg.has_seccomp);
    /* how each mount is made */
    ASSERT_EQ(cfg.mounts[0].kind, (uint32_t)MN_OCI_MOUNT_SKIP); /* /proc: the cage's own */
    ASSERT_EQ(cfg.mounts[1].kind, (uint32_t)MN_OCI_MOUNT_SKIP); /* /dev */
    ASSERT_EQ(cfg.mounts[2].kind, (uint32_t)MN_DL_MOUNT_DEVPTS);
    ASSERT_STR_EQ(cfg.mounts[2].data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
    ASSERT_TRUE((cfg.mounts[2].flags & (MS_NOSUID | MS_NOEXEC)) == (MS_NOSUID | MS_NOEXEC));
    ASSERT_EQ(cfg.mounts[3].kind, (uint32_t)MN_DL_MOUNT_TMPFS);
    ASSERT_EQ(cfg.mounts[4].kind, (uint32_t)MN_DL_MOUNT_MQUEUE);
    ASSERT_EQ(cfg.mounts[5].kind, (uint32_t)MN_DL_MOUNT_SYSFS);
    ASSERT_TRUE(cfg.mounts[5].flags & MS_RDONLY);
    ASSERT_EQ(cfg.mounts[6].kind, (uint32_t)MN_DL_MOUNT_BIND);
    ASSERT_TRUE((cfg.mounts[6].flags & (MS_RDONLY | MS_REC)) == (MS_RDONLY | MS_REC));
    ASSERT_STR_EQ(cfg.mounts[6].data, "");
    ASSERT_EQ(cfg.additional_gids, 2u);
    ASSERT_EQ(cfg.groups[1], 2u);
    ASSERT_STR_EQ(cfg.hostname, "runc");
    ASSERT_EQ(cfg.maskedc, 2u);
    ASSERT_EQ(cfg.readonlyc, 1u);
    ASSERT_EQ(cfg.sc_default, (uint32_t)SECCOMP_RET_ERRNO | EPERM);
    mn_oci_config_deinit(&cfg);
}

/* cwd, user, hostname and the seccomp profile are honoured now (once refused). */
static void settings(void)
{
    mn_err err;
    ASSERT_OK(parse_text("{\"ociVersion\":\"1.0.0\",\"process\":{\"args\":[\"a\"],\"cwd\":"
                         "\"/work\",\"user\":{\"uid\":1000,\"gid\":100,\"additionalGids\":[10]}}"
                         ",\"root\":{\"path\":\"r\"},\"hostname\":\"h\",\"linux\":{\"seccomp\":"
                         "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                         "[\"mkdir\","
                         "\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13},{\"names\":"
                         "[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
                         "\"value\":8,\"op\":\"SCMP_CMP_EQ\"}]}]}}}", &err), &err);
    ASSERT_STR_EQ(cfg.cwd, "/work");
    ASSERT_EQ(cfg.uid, 1000u);
    ASSERT_EQ(cfg.gid, 100u);
    ASSERT_EQ(cfg.groups[0], 10u);
    ASSERT_EQ(cfg.taintc, 0u);
    ASSERT_EQ(cfg.sc_default, (uint32_t)SECCOMP_RET_ALLOW);
    ASSERT_EQ(cfg.sc_rulec, 3u);
    ASSERT_STR_EQ(cfg.sc_names[1], "mkdirat");
    ASSERT_EQ(cfg.sc_actions[1], (uint32_t)SECCOMP_RET_ERRNO | 13u);
    ASSERT_EQ(cfg.sc_argc[2], 1u);
    ASSERT_EQ(cfg.sc_args[2][0].op, 4u); /* SCMP_CMP_EQ */
    ASSERT_U64_EQ(cfg.sc_args[2][0].value, 8u);
    uint8_t digest[32];
    memcpy(digest, cfg.sc_digest, 32);
    mn_oci_config_deinit(&cfg);
    /* the same profile with keys in another order has the same identity */
    ASSERT_OK(parse_text("{\"ociVersion\":\"1.0.0\",\"process\":{\"args\":[\"a\"],\"cwd\":"
                         "\"/\"},\"root\":{\"path\":\"r\"},\"linux\":{\"seccomp\":{\"syscalls\":"
                         "[{\"action\":\"SCMP_ACT_ERRNO\",\"names\":[\"mkdir\",\"mkdirat\"],"
                         "\"errnoRet\":13},{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW"
                         "\",\"args\":[{\"op\":\"SCMP_CMP_EQ\",\"index\":0,\"value\":8}]}],"
                         "\"defaultAction\":\"SCMP_ACT_ALLOW\"}}}", &err), &err);
    ASSERT_TRUE(memcmp(digest, cfg.sc_digest, 32) == 0);
    mn_oci_config_deinit(&cfg);
    /* a listener or a TRACE/NOTIFY action is refused even in relaxed mode */
    static const char *const never[] = {
        "{\"ociVersion\":\"1.0.0\",\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"},\"root\":"
        "{\"path\":\"r\"},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
        "\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}},"
        "\"annotations\":{\"org.metanode.docklock.mode\":\"relaxed\"}}",
        "{\"ociVersion\":\"1.0.0\",\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"},\"root\":"
        "{\"path\":\"r\"},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_TRACE\"}}}",
        "{\"ociVersion\":\"1.0.0\",\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"},\"root\":"
        "{\"path\":\"r\"},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
        "\"listenerPath\":\"/run/agent.sock\"}}}",
    };
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
        ASSERT_EQ(parse_text(never[i], &err), -MN_EUNSUPPORTED);
        mn_oci_config_deinit(&cfg);
    }
    /* a cwd leaving the root, masked paths that are not absolute, a mount on / */
    static const char *const bad[] = {
        "{\"ociVersion\":\"1.0.0\",\"process\":{\"args\":[\"a\"],\"cwd\":\"/a/../..\"},"
        "\"root\":{\"path\":\"r\"}}",
        "{\"ociVersion\":\"1.0.0\",\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"},\"root\":"
        "{\"path\":\"r\"},\"linux\":{\"maskedPaths\":[\"proc/kcore\"]}}",
        "{\"ociVersion\":\"1.0.0\",\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"},\"root\":"
        "{\"path\":\"r\"},\"mounts\":[{\"destination\":\"/\",\"type\":\"bind\",\"source\":"
        "\"/\"}]}",
        "{\"ociVersion\":\"1.0.0\",\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"},\"root\":"
        "{\"path\":\"r\"},\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\"}]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ASSERT_EQ(parse_text(bad[i], &err), -MN_EINVAL);
        mn_oci_config_deinit(&cfg);
    }
}

static void refusals(void)
{
    mn_err err;
    ASSERT_EQ(parse_file("strict_refused.json", &err), -MN_EUNSUPPORTED);
    ASSERT_TRUE(strstr(err.msg, "relaxed") != NULL);
    mn_oci_config_deinit(&cfg);
    static const char *const refused[] = {
        "{\"ociVersion\":\"1.0.0\",\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"},"
        "\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":\"/n\",\"type\":\"nfs\"}]}",
        "{\"ociVersion\":\"1.0.0\",\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"},\"root\":{\"path"
        "\":\"r\"},\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"}"
        "]}}",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        ASSERT_EQ(parse_text(refused[i], &err), -MN_EUNSUPPORTED);
        mn_oci_config_deinit(&cfg);
    }
}

/* A terminal is live input recorded in the witness: accepted (create wants a console). */
static void terminal_accepted(void)
{
    mn_err err;
    ASSERT_EQ(parse_text("{\"ociVersion\":\"1.0.0\",\"process\":{\"args\":[\"a\"],\"cwd\":"
                         "\"/\",\"terminal\":true},\"root\":{\"path\":\"r\"}}", &err), 0);
    ASSERT_TRUE(cfg.terminal);
    mn_oci_config_deinit(&cfg);
}

static void malformed(void)
{
    mn_err err;
    ASSERT_EQ(parse_file("no_args.json", &err), -MN_EINVAL);
    mn_oci_config_deinit(&cfg);
    ASSERT_EQ(parse_file("unknown_annotation.json", &err), -MN_EINVAL);
    ASSERT_TRUE(strstr(err.msg, "bogus") != NULL);
    mn_oci_config_deinit(&cfg);
    ASSERT_EQ(parse_file("duplicate_key.json", &err), -MN_ECORRUPT);
    mn_oci_config_deinit(&cfg);
    ASSERT_EQ(parse_file("dotdot_mount.json", &err), -MN_EINVAL);
    mn_oci_config_deinit(&cfg);
    ASSERT_EQ(parse_file("version2", &err), -MN_EUNSUPPORTED);
    mn_oci_config_deinit(&cfg);
    ASSERT_EQ(parse_text("{\"ociVersion\":\"1.0.0\",\"process\":{\"args\":\"sh\",\"cwd\":\"/\"}"
                         ",\"root\":{\"path\":\"r\"}}", &err), -MN_ECORRUPT);
    ASSERT_TRUE(strstr(err.msg, "process.args") != NULL);
    mn_oci_config_deinit(&cfg);
    ASSERT_EQ(parse_text("{\"ociVersion\":\"1.0.0\",\"process\":{\"args\":[\"a\"],\"cwd\":\"/\","
                         "\"env\":[\"NOEQUALS\"]},\"root\":{\"path\":\"r\"}}", &err), -MN_EINVAL);
    mn_oci_config_deinit(&cfg);
    ASSERT_EQ(parse_text("{\"ociVersion\":\"1.0.0\",\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"}"
                         ",\"root\":{\"path\":\"r\"},\"annotations\":{\"org.metanode.docklock."
                         "seed\":\"12\"}}", &err), -MN_EINVAL);
    mn_oci_config_deinit(&cfg);
    ASSERT_EQ(parse_text("{\"ociVersion\":\"1.0.0\",\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"}"
                         "}", &err), -MN_ECORRUPT); /* no root */
    mn_oci_config_deinit(&cfg);
}

static void ids(void)
{
    mn_err err;
    ASSERT_OK(mn_oci_id_check("abc-1.2_x+y", &err), &err);
    ASSERT_EQ(mn_oci_id_check("", &err), -MN_EINVAL);
    ASSERT_EQ(mn_oci_id_check("..", &err), -MN_EINVAL);
    ASSERT_EQ(mn_oci_id_check("a/b", &err), -MN_EINVAL);
    ASSERT_EQ(mn_oci_id_check("a b", &err), -MN_EINVAL);
}

static mn_oci_state st, back;

static void state_round_trip(void)
{
    mn_err err;
    char root[] = "/tmp/mn-oci-state.XXXXXX";
    ASSERT_TRUE(mkdtemp(root) != NULL);
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/c1", root);
    ASSERT_EQ(mkdir(dir, 0700), 0);
    memset(&st, 0, sizeof(st));
    snprintf(st.id, sizeof(st.id), "c1");
    snprintf(st.bundle, sizeof(st.bundle), "/b");
    snprintf(st.witness, sizeof(st.witness), "/w");
    snprintf(st.receipt, sizeof(st.receipt), "/r");
    snprintf(st.key, sizeof(st.key), "/k");
    st.status = MN_OCI_RUNNING;
    st.pid = getpid();
    st.pid_start = mn_oci_pid_start(st.pid);
    ASSERT_TRUE(st.pid_start != 0);
    st.annc = 1;
    snprintf(st.ann_keys[0], MN_OCI_ANN_BYTES_MAX, "k");
    snprintf(st.ann_values[0], MN_OCI_ANN_BYTES_MAX, "v");
    ASSERT_OK(mn_oci_state_save(root, &st, &err), &err);
    ASSERT_OK(mn_oci_state_load(root, "c1", &back, &err), &err);
    ASSERT_EQ(back.status, MN_OCI_RUNNING);
    ASSERT_EQ(back.pid, st.pid);
    ASSERT_STR_EQ(back.ann_values[0], "v");
    char *json = mn_oci_state_json(&back);
    json_error_t jerr;
    json_t *o = json_loads(json, 0, &jerr);
    ASSERT_TRUE(o != NULL);
    ASSERT_STR_EQ(json_string_value(json_object_get(o, "status")), "running");
    ASSERT_STR_EQ(json_string_value(json_object_get(o, "id")), "c1");
    ASSERT_EQ(json_integer_value(json_object_get(o, "pid")), getpid());
    ASSERT_STR_EQ(json_string_value(json_object_get(o, "ociVersion")), MN_OCI_VERSION);
    json_t *ann = json_object_get(o, "annotations");
    ASSERT_STR_EQ(json_string_value(json_object_get(ann, MN_OCI_ANN_WITNESS)), "/w");
    json_decref(o);
    free(json);
    /* A supervisor that is gone (another start time) reads as stopped. */
    st.pid_start += 1;
    ASSERT_OK(mn_oci_state_save(root, &st, &err), &err);
    ASSERT_OK(mn_oci_state_load(root, "c1", &back, &err), &err);
    ASSERT_EQ(back.status, MN_OCI_STOPPED);
    int fd;
    ASSERT_OK(mn_oci_state_lock(root, "c1", &fd, &err), &err);
    close(fd);
    ASSERT_EQ(mn_oci_state_load(root, "nope", &back, &err), -MN_ENOTFOUND);
    ASSERT_EQ(mn_oci_state_lock(root, "nope", &fd, &err), -MN_ENOTFOUND);
    /* A damaged record is an error, not a crash. */
    char path[700];
    snprintf(path, sizeof(path), "%s/state.json", dir);
    ASSERT_OK(mn_file_write(path, "{\"id\":1}", 8, 0600, true, &err), &err);
    ASSERT_EQ(mn_oci_state_load(root, "c1", &back, &err), -MN_ECORRUPT);
    unlink(path);
    rmdir(dir);
    rmdir(root);
}

MN_TEST_MAIN("oci", MN_TEST(full_relaxed), MN_TEST(settings), MN_TEST(refusals),
             MN_TEST(terminal_accepted), MN_TEST(malformed), MN_TEST(ids),
             MN_TEST(state_round_trip))
