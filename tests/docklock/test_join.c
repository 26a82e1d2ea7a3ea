/* SPDX-License-Identifier: Apache-2.0
 *
 * Tests of what the OCI stdio and exec work reads from untrusted bytes without running
 * anything: the exec request (mn_docklock_join_encode/decode: round trip, canonical form,
 * every refusal), and the live-input and JOIN records of a witness as replay reads them
 * (mn_replay_config_init: mode, deliveries in order with their positions, joins; a bad mode,
 * a second mode record and a delivery without a mode are refused).
 */
#include <stdlib.h>

#include "metanode/docklock.h"
#include "metanode/replay.h"
#include "metanode/witness.h"
#include "mn_test.h"

static char store[MN_WITNESS_INLINE_BYTES_MAX + MN_DOCKLOCK_JOIN_ARGS_MAX +
                  MN_DOCKLOCK_JOIN_ENV_MAX + 1];

static void encode(const mn_docklock_join *j, mn_buf *out)
{
    mn_err err;
    mn_buf_init(out, 0);
    ASSERT_EQ(mn_docklock_join_encode(j, out, &err), 0);
}

static void join_round_trip(void)
{
    mn_docklock_join j = {.argv = {"/bin/echo", "a b", ""}, .argc = 3,
                          .env = {"PATH=/bin", "X="}, .envc = 2, .cwd = "/tmp"};
    mn_buf b;
    encode(&j, &b);
    mn_docklock_join back;
    mn_err err;
    ASSERT_EQ(mn_docklock_join_decode(b.data, b.len, &back, store, sizeof(store), &err), 0);
    ASSERT_EQ(back.argc, 3u);
    ASSERT_EQ(back.envc, 2u);
    ASSERT_STR_EQ(back.argv[1], "a b");
    ASSERT_STR_EQ(back.argv[2], "");
    ASSERT_TRUE(back.argv[3] == NULL && back.env[2] == NULL);
    ASSERT_STR_EQ(back.env[1], "X=");
    ASSERT_STR_EQ(back.cwd, "/tmp");
    /* a trailing byte, a cut, and a store too small are refused */
    uint8_t longer[256];
    ASSERT_TRUE(b.len + 1 <= sizeof(longer));
    memcpy(longer, b.data, b.len);
    longer[b.len] = 0;
    ASSERT_TRUE(mn_docklock_join_decode(longer, b.len + 1, &back, store, sizeof(store), &err) < 0);
    ASSERT_TRUE(mn_docklock_join_decode(b.data, b.len - 1, &back, store, sizeof(store), &err) < 0);
    ASSERT_EQ(mn_docklock_join_decode(b.data, b.len, &back, store, 8, &err), -MN_ELIMIT);
    mn_buf_deinit(&b);
}

static void join_refusals(void)
{
    static const mn_docklock_join bad[] = {
        {.argv = {"sh"}, .argc = 1, .cwd = "tmp"},           /* cwd not absolute */
        {.argc = 0, .cwd = "/"},                             /* no program */
        {.argv = {""}, .argc = 1, .cwd = "/"},               /* empty program */
        {.argv = {"sh"}, .argc = 1, .env = {"NOEQ"}, .envc = 1, .cwd = "/"},
    };
    mn_err err;
    mn_docklock_join back;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mn_buf b;
        encode(&bad[i], &b);
        ASSERT_EQ(mn_docklock_join_decode(b.data, b.len, &back, store, sizeof(store), &err),
                  -MN_ECORRUPT);
        mn_buf_deinit(&b);
    }
    /* a NUL inside an argument: {1: [h'6100'], 2: [], 3: h'2f'} */
    static const uint8_t nul[] = {0xa3, 0x01, 0x81, 0x42, 0x61, 0x00, 0x02, 0x80, 0x03, 0x41, 0x2f};
    ASSERT_EQ(mn_docklock_join_decode(nul, sizeof(nul), &back, store, sizeof(store), &err),
              -MN_ECORRUPT);
    /* more arguments than the limit */
    static const char *many[MN_DOCKLOCK_JOIN_ARGS_MAX + 1];
    mn_docklock_join j = {.cwd = "/"};
    for (uint32_t i = 0; i <= MN_DOCKLOCK_JOIN_ARGS_MAX; i++)
        many[i] = "x";
    memcpy(j.argv, many, sizeof(char *) * MN_DOCKLOCK_JOIN_ARGS_MAX);
    j.argc = MN_DOCKLOCK_JOIN_ARGS_MAX;
    mn_buf b;
    encode(&j, &b);
    ASSERT_EQ(mn_docklock_join_decode(b.data, b.len, &back, store, sizeof(store), &err), 0);
    /* the array header says 65 entries: patch it (0x98 0x40 is array(64)) */
    ASSERT_EQ(b.data[2], 0x98);
    ASSERT_EQ(b.data[3], MN_DOCKLOCK_JOIN_ARGS_MAX);
    b.data[3] = MN_DOCKLOCK_JOIN_ARGS_MAX + 1;
    ASSERT_TRUE(mn_docklock_join_decode(b.data, b.len, &back, store, sizeof(store), &err) < 0);
    mn_buf_deinit(&b);
}

/* A witness: header, then records of (kind, nr, args[0..2], inline), then a trailer. */
typedef struct rec {
    mn_witness_kind kind;
    uint32_t nr;
    uint64_t a0, a1, a2;
    const char *data;
} rec;

static void witness(const rec *recs, size_t n, mn_buf *out)
{
    mn_err err;
    mn_buf_init(out, MN_WITNESS_FILE_BYTES_MAX);
    mn_witness_header h;
    memset(&h, 0, sizeof(h));
    static const char *const argv_[] = {"/bin/sh"};
    h.version = MN_WITNESS_VERSION;
    h.argc = 1;
    h.argv[0] = (mn_witness_str){(const uint8_t *)argv_[0], strlen(argv_[0])};
    ASSERT_EQ(mn_buf_append(out, MN_WITNESS_MAGIC, MN_WITNESS_MAGIC_BYTES, &err), 0);
    ASSERT_EQ(mn_witness_header_encode(&h, out, &err), 0);
    for (size_t i = 0; i < n; i++) {
        mn_witness_record r;
        memset(&r, 0, sizeof(r));
        r.seq = i;
        r.kind = recs[i].kind;
        r.nr = recs[i].nr;
        r.args[0] = recs[i].a0;
        r.args[1] = recs[i].a1;
        r.args[2] = recs[i].a2;
        size_t len = recs[i].data != NULL ? strlen(recs[i].data) : 0;
        r.inline_data = (mn_witness_str){(const uint8_t *)recs[i].data, len};
        r.result = (int64_t)len;
        ASSERT_EQ(mn_witness_record_encode(&r, out, &err), 0);
    }
    mn_witness_trailer t;
    memset(&t, 0, sizeof(t));
    t.records = n;
    ASSERT_EQ(mn_witness_trailer_encode(&t, out, &err), 0);
}

static void replay_live_input(void)
{
    mn_docklock_join j = {.argv = {"/bin/echo", "hi"}, .argc = 2, .cwd = "/"};
    mn_buf req;
    encode(&j, &req);
    char reqtext[256];
    ASSERT_TRUE(req.len < sizeof(reqtext));
    memcpy(reqtext, req.data, req.len);
    reqtext[req.len] = '\0'; /* no NUL inside this request: it is a C string too */
    ASSERT_EQ(strlen(reqtext), req.len);
    const rec recs[] = {
        {MN_WK_INPUT, 2, 2, 30, 100, NULL},         /* a 30 x 100 terminal */
        {MN_WK_EXEC, 0, 0, 0, 0, "/bin/sh"},
        {MN_WK_INPUT, 1, 0, 0, 3, "ls\n"},
        {MN_WK_JOIN, 1, 0, 0, 0, reqtext},
        {MN_WK_INPUT, 1, 0, 3, 0, NULL},            /* the end */
    };
    mn_buf w;
    witness(recs, 5, &w);
    static mn_replay_config c;
    mn_err err;
    ASSERT_EQ(mn_replay_config_init(&c, w.data, w.len, &err), 0);
    ASSERT_TRUE(c.cfg.io != NULL && c.cfg.io->live_in && c.cfg.io->terminal);
    ASSERT_EQ(c.cfg.io->rows, 30u);
    ASSERT_EQ(c.cfg.io->cols, 100u);
    ASSERT_EQ(c.cfg.io->feedc, 2u);
    ASSERT_EQ(c.cfg.io->feed[0].seq, 2u);
    ASSERT_EQ(c.cfg.io->feed[0].len, 3u);
    ASSERT_TRUE(memcmp(c.cfg.io->feed[0].data, "ls\n", 3) == 0);
    ASSERT_EQ(c.cfg.io->feed[1].seq, 4u);
    ASSERT_EQ(c.cfg.io->feed[1].len, 0u);
    ASSERT_EQ(c.cfg.io->joinc, 1u);
    ASSERT_EQ(c.cfg.io->joins[0].seq, 3u);
    ASSERT_EQ(c.cfg.io->joins[0].len, req.len);
    ASSERT_EQ(c.cfg.io->in_fd, -1);
    ASSERT_EQ(c.cfg.io->ctl_fd, -1);
    ASSERT_EQ(c.cfg.stdin_len, 0u);
    mn_replay_config_deinit(&c);
    mn_buf_deinit(&w);
    mn_buf_deinit(&req);
    /* refused: a bad mode, two mode records, a delivery without a mode, an unknown nr */
    const rec bad[][2] = {
        {{MN_WK_INPUT, 2, 3, 0, 0, NULL}, {MN_WK_EXEC, 0, 0, 0, 0, "x"}},
        {{MN_WK_INPUT, 2, 1, 0, 0, NULL}, {MN_WK_INPUT, 2, 1, 0, 0, NULL}},
        {{MN_WK_INPUT, 1, 0, 0, 1, "x"}, {MN_WK_EXEC, 0, 0, 0, 0, "x"}},
        {{MN_WK_INPUT, 7, 0, 0, 1, "x"}, {MN_WK_EXEC, 0, 0, 0, 0, "x"}},
        {{MN_WK_INPUT, 2, 2, 70000, 80, NULL}, {MN_WK_EXEC, 0, 0, 0, 0, "x"}},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        witness(bad[i], 2, &w);
        ASSERT_EQ(mn_replay_config_init(&c, w.data, w.len, &err), -MN_ECORRUPT);
        mn_replay_config_deinit(&c);
        mn_buf_deinit(&w);
    }
    /* whole stdin (nr 0) and no live input: no io, as before */
    const rec whole[] = {{MN_WK_INPUT, 0, 0, 0, 2, "ab"}, {MN_WK_EXEC, 0, 0, 0, 0, "x"}};
    witness(whole, 2, &w);
    ASSERT_EQ(mn_replay_config_init(&c, w.data, w.len, &err), 0);
    ASSERT_TRUE(c.cfg.io == NULL);
    ASSERT_EQ(c.cfg.stdin_len, 2u);
    mn_replay_config_deinit(&c);
    mn_buf_deinit(&w);
}

MN_TEST_MAIN("docklock.join", MN_TEST(join_round_trip), MN_TEST(join_refusals),
             MN_TEST(replay_live_input))
