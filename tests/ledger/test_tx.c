/* SPDX-License-Identifier: Apache-2.0
 *
 * test_tx.c: the transaction codec (round trip, tamper, every non-canonical form we can name)
 * and genesis.json (round trip, hash, strictness).
 */
#include "fixture.h"

static fx F;

static void valid_note(mn_buf *out)
{
    fx_note(&F, &F.val[0], 1, 16, out);
}

static void expect_bad(const uint8_t *data, size_t len, int code)
{
    mn_tx tx;
    mn_err err;
    const int rc = mn_tx_decode(&tx, data, len, &err);
    if (rc != -code)
        mn_test_fail(__FILE__, __LINE__, "decode gave %d, wanted %d (%s)", rc, -code, err.msg);
}

/* Replaces bytes [at, at + n) of a copy of src by rep (m bytes) and expects rejection. */
static void splice_bad(const mn_buf *src, size_t at, size_t n, const uint8_t *rep, size_t m,
                       int code)
{
    uint8_t buf[MN_TX_BYTES_MAX + 64];
    ASSERT_TRUE(src->len - n + m <= sizeof buf);
    memcpy(buf, src->data, at);
    memcpy(buf + at, rep, m);
    memcpy(buf + at + m, src->data + at + n, src->len - at - n);
    expect_bad(buf, src->len - n + m, code);
}

static void test_round_trip(void)
{
    mn_buf b;
    mn_err err;
    mn_buf_init(&b, 0);
    valid_note(&b);
    mn_tx tx;
    ASSERT_OK(mn_tx_decode(&tx, b.data, b.len, &err), &err);
    ASSERT_EQ(tx.type, MN_TX_NOTE);
    ASSERT_STR_EQ(tx.chain_id, "test-chain");
    ASSERT_U64_EQ(tx.nonce, 1);
    ASSERT_MEM_EQ(tx.sender, F.val[0].pk, 32);
    ASSERT_OK(mn_tx_verify(&tx, b.data, b.len, &err), &err);
    /* re-encoding the decoded tx gives the same bytes (Ed25519 is deterministic) */
    mn_buf c;
    mn_buf_init(&c, 0);
    mn_tx again = tx;
    ASSERT_OK(mn_tx_sign_encode(&again, &F.val[0], &c, &err), &err);
    ASSERT_EQ(c.len, b.len);
    ASSERT_MEM_EQ(c.data, b.data, b.len);
    uint8_t h1[32], h2[32];
    mn_tx_hash(h1, b.data, b.len);
    mn_sha256_tagged(h2, MN_TAG_TX_ID, b.data, b.len);
    ASSERT_MEM_EQ(h1, h2, 32);
    mn_buf_deinit(&b);
    mn_buf_deinit(&c);
}

static void test_tamper(void)
{
    mn_buf b;
    mn_err err;
    mn_buf_init(&b, 0);
    valid_note(&b);
    for (size_t i = 0; i < b.len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            b.data[i] ^= (uint8_t)(1u << bit);
            mn_tx tx;
            if (mn_tx_decode(&tx, b.data, b.len, &err) == 0)
                ASSERT_EQ(mn_tx_verify(&tx, b.data, b.len, &err), -MN_ECRYPTO);
            b.data[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* a valid signature by another key over the same fields */
    mn_tx tx;
    ASSERT_OK(mn_tx_decode(&tx, b.data, b.len, &err), &err);
    memcpy(tx.sender, F.val[1].pk, 32);
    ASSERT_EQ(mn_tx_verify(&tx, b.data, b.len, &err), -MN_ECRYPTO);
    mn_buf_deinit(&b);
}

static void test_non_canonical(void)
{
    mn_buf b;
    mn_buf_init(&b, 0);
    valid_note(&b);
    const uint8_t *d = b.data;
    /* layout: a6 01 05 02 6a "test-chain" 03 58 20 <32> 04 01 05 <body> 06 58 40 <64> */
    ASSERT_EQ(d[0], 0xa6);
    ASSERT_EQ(d[1], 0x01);
    ASSERT_EQ(d[3], 0x02);
    const size_t at_sender = 4 + 1 + 10;
    ASSERT_EQ(d[at_sender], 0x03);
    const size_t at_nonce = at_sender + 3 + 32;
    ASSERT_EQ(d[at_nonce], 0x04);
    const size_t at_sig = b.len - 67;
    ASSERT_EQ(d[at_sig], 0x06);
    uint8_t x[80];
    /* trailing byte */
    uint8_t tb[MN_TX_BYTES_MAX];
    memcpy(tb, d, b.len);
    tb[b.len] = 0;
    expect_bad(tb, b.len + 1, MN_ECORRUPT);
    /* truncated */
    expect_bad(d, b.len - 1, MN_ECORRUPT);
    /* indefinite-length map */
    x[0] = 0xbf;
    splice_bad(&b, 0, 1, x, 1, MN_ECORRUPT);
    /* wrong entry count */
    x[0] = 0xa5;
    splice_bad(&b, 0, 1, x, 1, MN_ECORRUPT);
    x[0] = 0xa7;
    splice_bad(&b, 0, 1, x, 1, MN_ECORRUPT);
    /* non-shortest integers: type 5 as 0x18 0x05, nonce 1 as 0x18 0x01 */
    x[0] = 0x18;
    x[1] = 0x05;
    splice_bad(&b, 2, 1, x, 2, MN_ECORRUPT);
    x[1] = 0x01;
    splice_bad(&b, at_nonce + 1, 1, x, 2, MN_ECORRUPT);
    /* type 0, nonce 0 */
    x[0] = 0x00;
    splice_bad(&b, 2, 1, x, 1, MN_ECORRUPT);
    splice_bad(&b, at_nonce + 1, 1, x, 1, MN_ECORRUPT);
    /* keys out of order: chain id (key 2) before type (key 1) */
    {
        uint8_t r[MN_TX_BYTES_MAX];
        r[0] = 0xa6;
        memcpy(r + 1, d + 3, 12);     /* 02 6a "test-chain" */
        memcpy(r + 13, d + 1, 2);     /* 01 05 */
        memcpy(r + 15, d + 15, b.len - 15);
        expect_bad(r, b.len, MN_ECORRUPT);
    }
    /* unknown key instead of 6 */
    x[0] = 0x07;
    splice_bad(&b, at_sig, 1, x, 1, MN_ECORRUPT);
    /* sender of 31 bytes */
    x[0] = 0x58;
    x[1] = 31;
    {
        uint8_t r[MN_TX_BYTES_MAX];
        memcpy(r, d, at_sender + 1);
        r[at_sender + 1] = 0x58;
        r[at_sender + 2] = 31;
        memcpy(r + at_sender + 3, d + at_sender + 4, b.len - at_sender - 4);
        expect_bad(r, b.len - 1, MN_ECORRUPT);
    }
    /* signature of 63 bytes */
    expect_bad((uint8_t[]){0}, 0, MN_ECORRUPT);
    {
        uint8_t r[MN_TX_BYTES_MAX];
        memcpy(r, d, b.len - 1);
        r[at_sig + 2] = 63;
        expect_bad(r, b.len - 1, MN_ECORRUPT);
    }
    /* chain id as a byte string, or empty */
    x[0] = 0x4a;
    splice_bad(&b, 4, 1, x, 1, MN_ECORRUPT);
    x[0] = 0x60;
    splice_bad(&b, 4, 11, x, 1, MN_ECORRUPT);
    /* oversize */
    uint8_t *big = calloc(1, MN_TX_BYTES_MAX + 1);
    ASSERT_TRUE(big != NULL);
    expect_bad(big, MN_TX_BYTES_MAX + 1, MN_ELIMIT);
    free(big);
    mn_buf_deinit(&b);
}

static void test_sign_oversize(void)
{
    uint8_t *body = calloc(1, MN_TX_BYTES_MAX);
    ASSERT_TRUE(body != NULL);
    mn_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = MN_TX_NOTE;
    snprintf(tx.chain_id, sizeof tx.chain_id, "c");
    tx.nonce = 1;
    tx.body = body;
    tx.body_len = MN_TX_BYTES_MAX;
    mn_buf b;
    mn_err err;
    mn_buf_init(&b, 0);
    ASSERT_EQ(mn_tx_sign_encode(&tx, &F.val[0], &b, &err), -MN_ELIMIT);
    ASSERT_EQ(b.len, 0);
    mn_buf_deinit(&b);
    free(body);
}

/* Copies tmpl into out with every '@' replaced by rep. */
static void subst(char *out, size_t cap, const char *tmpl, const char *rep)
{
    size_t n = 0;
    for (const char *p = tmpl; *p != 0; p++) {
        const char *piece = *p == '@' ? rep : p;
        const size_t len = *p == '@' ? strlen(rep) : 1;
        ASSERT_TRUE(n + len < cap);
        memcpy(out + n, piece, len);
        n += len;
    }
    out[n] = 0;
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    ASSERT_TRUE(fp != NULL);
    fputs(text, fp);
    fclose(fp);
}

static void test_genesis_round_trip(void)
{
    mn_err err;
    const char *path = fx_path(&F, "genesis.json");
    ASSERT_OK(mn_genesis_save(&F.g, path, &err), &err);
    mn_genesis g;
    ASSERT_OK(mn_genesis_load(&g, path, &err), &err);
    uint8_t a[32], b[32];
    mn_genesis_hash(&F.g, a);
    mn_genesis_hash(&g, b);
    ASSERT_MEM_EQ(a, b, 32);
    ASSERT_STR_EQ(g.chain_id, F.g.chain_id);
    ASSERT_EQ(g.validator_count, FX_VALIDATORS);
    ASSERT_STR_EQ(g.validators[2].addr, "127.0.0.1:7002");
    g.validators[1].stake++;
    mn_genesis_hash(&g, b);
    ASSERT_TRUE(memcmp(a, b, 32) != 0);
}

static void test_genesis_strict(void)
{
    mn_err err;
    mn_genesis g;
    const char *path = fx_path(&F, "bad.json");
    char hex[65];
    mn_hex_encode(hex, F.val[0].pk, 32);
    char good_val[512];
    snprintf(good_val, sizeof good_val,
             "{\"pk\":\"%s\",\"vrf_pk\":\"%s\",\"noise_pk\":\"%s\",\"stake\":5,"
             "\"addr\":\"a:1\",\"api\":\"b:2\"}", hex, hex, hex);
    char doc[2048];
    snprintf(doc, sizeof doc,
             "{\"chain_id\":\"c\",\"genesis_time_ms\":0,\"block_max_txs\":0,"
             "\"block_max_bytes\":0,\"validators\":[%s]}", good_val);
    write_text(path, doc);
    ASSERT_OK(mn_genesis_load(&g, path, &err), &err);
    const char *bad[] = {
        /* unknown key */
        "{\"chain_id\":\"c\",\"genesis_time_ms\":0,\"block_max_txs\":0,\"block_max_bytes\":0,"
        "\"validators\":[@],\"x\":1}",
        /* duplicate key */
        "{\"chain_id\":\"c\",\"chain_id\":\"d\",\"genesis_time_ms\":0,\"block_max_txs\":0,"
        "\"block_max_bytes\":0,\"validators\":[@]}",
        /* missing key */
        "{\"chain_id\":\"c\",\"block_max_txs\":0,\"block_max_bytes\":0,\"validators\":[@]}",
        /* duplicate validator */
        "{\"chain_id\":\"c\",\"genesis_time_ms\":0,\"block_max_txs\":0,\"block_max_bytes\":0,"
        "\"validators\":[@,@]}",
        /* empty chain id */
        "{\"chain_id\":\"\",\"genesis_time_ms\":0,\"block_max_txs\":0,\"block_max_bytes\":0,"
        "\"validators\":[@]}",
        /* negative time */
        "{\"chain_id\":\"c\",\"genesis_time_ms\":-1,\"block_max_txs\":0,\"block_max_bytes\":0,"
        "\"validators\":[@]}",
        /* block limit beyond the hard bound */
        "{\"chain_id\":\"c\",\"genesis_time_ms\":0,\"block_max_txs\":99999999,"
        "\"block_max_bytes\":0,\"validators\":[@]}",
        /* no validators */
        "{\"chain_id\":\"c\",\"genesis_time_ms\":0,\"block_max_txs\":0,\"block_max_bytes\":0,"
        "\"validators\":[]}",
    };
    for (size_t i = 0; i < MN_ARRAY_LEN(bad); i++) {
        subst(doc, sizeof doc, bad[i], good_val);
        write_text(path, doc);
        ASSERT_EQ(mn_genesis_load(&g, path, &err), -MN_EINVAL);
    }
    const char *bad_val[] = {
        "{\"pk\":\"@\",\"vrf_pk\":\"@\",\"noise_pk\":\"zz\",\"stake\":5,\"addr\":\"\",\"api\":\"\"}",
        "{\"pk\":\"@\",\"vrf_pk\":\"@\",\"noise_pk\":\"@\",\"stake\":0,\"addr\":\"\",\"api\":\"\"}",
        "{\"pk\":\"@\",\"vrf_pk\":\"@\",\"noise_pk\":\"@\",\"stake\":\"5\",\"addr\":\"\",\"api\":\"\"}",
        "{\"pk\":\"@\",\"vrf_pk\":\"@\",\"noise_pk\":\"@\",\"stake\":5,\"addr\":\"\",\"api\":\"\",\"q\":1}",
    };
    for (size_t i = 0; i < MN_ARRAY_LEN(bad_val); i++) {
        char v[512];
        subst(v, sizeof v, bad_val[i], hex);
        snprintf(doc, sizeof doc,
                 "{\"chain_id\":\"c\",\"genesis_time_ms\":0,\"block_max_txs\":0,"
                 "\"block_max_bytes\":0,\"validators\":[%s]}", v);
        write_text(path, doc);
        ASSERT_EQ(mn_genesis_load(&g, path, &err), -MN_EINVAL);
    }
    write_text(path, "not json");
    ASSERT_EQ(mn_genesis_load(&g, path, &err), -MN_EINVAL);
}

static void setup(void)
{
    fx_init(&F);
}

static void teardown(void)
{
    fx_cleanup(&F);
}

MN_TEST_MAIN("ledger.tx", MN_TEST(setup), MN_TEST(test_round_trip), MN_TEST(test_tamper),
             MN_TEST(test_non_canonical), MN_TEST(test_sign_oversize),
             MN_TEST(test_genesis_round_trip), MN_TEST(test_genesis_strict), MN_TEST(teardown))
