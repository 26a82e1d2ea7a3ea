/* SPDX-License-Identifier: Apache-2.0
 *
 * Tests of key files: mode 0600 on write, refusal of files readable by others, of mismatched
 * or malformed content, of the wrong key type, and no overwriting.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metanode/bytes.h"
#include "metanode/keyfile.h"
#include "mn_test.h"

static char dir[] = "/tmp/mn_test_keyfile_XXXXXX";

static const char *path_in_dir(const char *name)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return path;
}

static void write_then_read_back(void)
{
    mn_keyfile kf, back;
    mn_err err;
    umask(0); /* even with a permissive umask the file must be 0600 */
    mn_keyfile_generate(&kf, MN_KEY_ED25519);
    const char *p = path_in_dir("a.key");
    ASSERT_OK(mn_keyfile_write(p, &kf, &err), &err);
    struct stat st;
    ASSERT_EQ(stat(p, &st), 0);
    ASSERT_EQ(st.st_mode & 07777, 0600);
    ASSERT_OK(mn_keyfile_read(p, MN_KEY_ED25519, &back, &err), &err);
    ASSERT_MEM_EQ(back.seed, kf.seed, 32);
    ASSERT_MEM_EQ(back.public_key, kf.public_key, 32);
    ASSERT_EQ(mn_keyfile_write(p, &kf, &err), -MN_EEXIST);
    ASSERT_EQ(mn_keyfile_read(p, MN_KEY_VRF, &back, &err), -MN_EINVAL);
    ASSERT_TRUE(strstr(err.msg, "vrf key is needed") != NULL);
    umask(022);
}

static void refuses_group_or_other_access(void)
{
    mn_keyfile kf, back;
    mn_err err;
    mn_keyfile_generate(&kf, MN_KEY_VRF);
    const char *p = path_in_dir("b.key");
    ASSERT_OK(mn_keyfile_write(p, &kf, &err), &err);
    static const unsigned bad_modes[] = {0644, 0640, 0604, 0602, 0620, 0660};
    for (size_t i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
        ASSERT_EQ(chmod(p, bad_modes[i]), 0);
        ASSERT_EQ(mn_keyfile_read(p, 0, &back, &err), -MN_EPERM);
        ASSERT_TRUE(strstr(err.msg, "chmod 600") != NULL);
    }
    ASSERT_EQ(chmod(p, 0400), 0);
    ASSERT_OK(mn_keyfile_read(p, 0, &back, &err), &err);
    ASSERT_EQ(back.type, MN_KEY_VRF);
}

static void write_raw(const char *name, const char *text)
{
    mn_err err;
    ASSERT_OK(mn_file_write(path_in_dir(name), text, strlen(text), 0600, true, &err), &err);
}

static void refuses_malformed_content(void)
{
    mn_keyfile kf;
    mn_err err;
    const char *good_pk = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    const char *seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    char text[512];
    snprintf(text, sizeof(text),
             "{\"type\":\"ed25519\",\"version\":1,\"seed\":\"%s\",\"public_key\":\"%s\"}", seed,
             good_pk);
    write_raw("ok.key", text);
    ASSERT_OK(mn_keyfile_read(path_in_dir("ok.key"), 0, &kf, &err), &err);
    /* public key of another seed */
    snprintf(text, sizeof(text),
             "{\"type\":\"ed25519\",\"version\":1,\"seed\":\"%s\",\"public_key\":\"%s\"}", good_pk,
             good_pk);
    write_raw("mismatch.key", text);
    ASSERT_EQ(mn_keyfile_read(path_in_dir("mismatch.key"), 0, &kf, &err), -MN_ECORRUPT);
    static const char *const bad[] = {
        "", "not json", "{}", "[1,2]",
        "{\"type\":\"rsa\",\"version\":1,\"seed\":\"00\",\"public_key\":\"00\"}",
        "{\"type\":\"ed25519\",\"version\":1,\"seed\":\"00\",\"public_key\":\"00\"}",
        "{\"type\":\"ed25519\",\"version\":1,\"seed\":\"zz\",\"public_key\":\"00\",\"x\":1}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_raw("bad.key", bad[i]);
        int rc = mn_keyfile_read(path_in_dir("bad.key"), 0, &kf, &err);
        ASSERT_TRUE(rc == -MN_ECORRUPT || rc == -MN_EINVAL);
    }
    snprintf(text, sizeof(text),
             "{\"type\":\"ed25519\",\"version\":2,\"seed\":\"%s\",\"public_key\":\"%s\"}", seed,
             good_pk);
    write_raw("v2.key", text);
    ASSERT_EQ(mn_keyfile_read(path_in_dir("v2.key"), 0, &kf, &err), -MN_EUNSUPPORTED);
    ASSERT_EQ(mn_keyfile_read(path_in_dir("missing.key"), 0, &kf, &err), -MN_ENOTFOUND);
}

static void cleanup(void)
{
    static const char *const names[] = {"a.key", "b.key", "ok.key", "mismatch.key", "bad.key",
                                        "v2.key"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        unlink(path_in_dir(names[i]));
    ASSERT_EQ(rmdir(dir), 0);
}

static void setup(void)
{
    ASSERT_TRUE(mkdtemp(dir) != NULL);
}

MN_TEST_MAIN("crypto.keyfile", MN_TEST(setup), MN_TEST(write_then_read_back),
             MN_TEST(refuses_group_or_other_access), MN_TEST(refuses_malformed_content),
             MN_TEST(cleanup))
