/* SPDX-License-Identifier: Apache-2.0
 *
 * test_node_home.c: node home directories (node_home.h): init writes keys with mode 0600 and a
 * config that loads back (with or without an ASN map); a second init refuses to overwrite keys; a key readable by others,
 * a Noise key whose public half does not match, and a config with an unknown key are refused;
 * free-port search returns bindable ports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metanode/bytes.h"
#include "metanode/bpci.h"
#include "metanode/node_home.h"
#include "mn_test.h"

static char dir[256];

static void fresh_dir(void)
{
    snprintf(dir, sizeof(dir), "%s/mn-home-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ASSERT_TRUE(mkdtemp(dir) != NULL);
}

static void cleanup(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ASSERT_EQ(system(cmd), 0);
}

static void write_text(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/home/%s", dir, name);
    FILE *f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    fputs(text, f);
    fclose(f);
    chmod(path, 0600);
}

static void test_init_and_load(void)
{
    fresh_dir();
    char home[300];
    snprintf(home, sizeof(home), "%s/home", dir);
    mn_home_config cfg = {.listen = "127.0.0.1:1", .api = "127.0.0.1:2", .log_level = "debug",
                          .peer_count = 1};
    strcpy(cfg.peers[0], "127.0.0.1:3");
    mn_home_keys k, k2;
    mn_err err;
    ASSERT_OK(mn_home_init(home, &cfg, &k, &err), &err);
    char path[512];
    struct stat st;
    const char *files[] = {"node_key.json", "vrf_key.json", "config.json"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", home, files[i]);
        ASSERT_EQ(stat(path, &st), 0);
        ASSERT_EQ(st.st_mode & 0777, 0600);
    }
    ASSERT_OK(mn_home_load_keys(home, &k2, &err), &err);
    ASSERT_MEM_EQ(k.key.pk, k2.key.pk, 32);
    ASSERT_MEM_EQ(k.vrf_pk, k2.vrf_pk, 32);
    ASSERT_MEM_EQ(k.noise_pub, k2.noise_pub, 32);
    mn_home_config back;
    ASSERT_OK(mn_home_load_config(home, &back, &err), &err);
    ASSERT_STR_EQ(back.listen, "127.0.0.1:1");
    ASSERT_STR_EQ(back.api, "127.0.0.1:2");
    ASSERT_EQ(back.peer_count, 1);
    ASSERT_STR_EQ(back.peers[0], "127.0.0.1:3");
    ASSERT_STR_EQ(back.asmap, ""); /* optional, absent */
    /* an ASN map named by the config is kept through save and load */
    strcpy(cfg.asmap, "asmap.txt");
    ASSERT_OK(mn_home_save_config(home, &cfg, true, &err), &err);
    ASSERT_OK(mn_home_load_config(home, &back, &err), &err);
    ASSERT_STR_EQ(back.asmap, "asmap.txt");
    ASSERT_STR_EQ(back.listen, "127.0.0.1:1");
    /* a second init never replaces keys */
    ASSERT_EQ(mn_home_init(home, &cfg, NULL, &err), -MN_EEXIST);
    /* the Noise static key is the one derived from the identity key (no file of its own) */
    uint8_t want[32];
    mn_bpci_noise_static_public(want, k.key.sk); /* sk = seed || pk */
    ASSERT_MEM_EQ(k2.noise_pub, want, 32);
    /* a key readable by others is refused */
    snprintf(path, sizeof(path), "%s/node_key.json", home);
    chmod(path, 0644);
    ASSERT_EQ(mn_home_load_keys(home, &k2, &err), -MN_EPERM);
    chmod(path, 0600);
    /* a config with an unknown key */
    write_text("config.json", "{\"listen\": \"a:1\", \"api\": \"b:2\", \"peers\": [], "
                              "\"log_level\": \"info\", \"extra\": 1}");
    ASSERT_EQ(mn_home_load_config(home, &back, &err), -MN_EINVAL);
    write_text("config.json", "{\"listen\": \"a:1\", \"api\": \"b:2\", \"peers\": [7], "
                              "\"log_level\": \"info\"}");
    ASSERT_EQ(mn_home_load_config(home, &back, &err), -MN_EINVAL);
    write_text("config.json", "{\"listen\": \"a:1\", \"api\": \"b:2\", \"peers\": [], "
                              "\"log_level\": \"info\", \"asmap\": 5}");
    ASSERT_EQ(mn_home_load_config(home, &back, &err), -MN_EINVAL);
    mn_home_keys_wipe(&k);
    mn_home_keys_wipe(&k2);
    cleanup();
}

static void test_free_ports(void)
{
    uint32_t base;
    mn_err err;
    unsigned lo = 32768, hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f != NULL) {
        ASSERT_EQ(fscanf(f, "%u %u", &lo, &hi), 2);
        fclose(f);
    }
    /* Never inside the ephemeral range: an outgoing connection could take the port (as its
     * local port) before the node listens on it. Many seeds: the whole search is covered. */
    for (uint32_t seed = 0; seed < 200; seed++) {
        ASSERT_OK(mn_home_free_ports(10, seed * 7919u + (uint32_t)getpid(), &base, &err), &err);
        ASSERT_TRUE(base >= 10000 && base + 10 < 65536); /* callers check base + count <= 65535 */
        ASSERT_TRUE(base + 10 <= lo || base > hi);
    }
}

MN_TEST_MAIN("node.home", MN_TEST(test_init_and_load), MN_TEST(test_free_ports))
