/* SPDX-License-Identifier: Apache-2.0 — tests of mn_buf, hex, endian helpers and file I/O. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metanode/bytes.h"
#include "mn_test.h"

static void buf_grows_and_caps(void)
{
    mn_buf buf;
    mn_err err;
    mn_buf_init(&buf, 100);
    for (int i = 0; i < 100; i++)
        ASSERT_OK(mn_buf_append_byte(&buf, (uint8_t)i, &err), &err);
    ASSERT_EQ(buf.len, 100);
    ASSERT_EQ(buf.data[99], 99);
    ASSERT_EQ(mn_buf_append_byte(&buf, 1, &err), -MN_ELIMIT);
    ASSERT_EQ(buf.len, 100);
    size_t len;
    uint8_t *taken = mn_buf_take(&buf, &len);
    ASSERT_EQ(len, 100);
    ASSERT_TRUE(buf.data == NULL);
    free(taken);
    mn_buf_deinit(&buf);
}

static void hex_round_trip_and_rejects(void)
{
    uint8_t in[4] = {0x00, 0xab, 0xcd, 0xff}, out[4];
    char hex[9];
    mn_err err;
    mn_hex_encode(hex, in, 4);
    ASSERT_STR_EQ(hex, "00abcdff");
    ASSERT_OK(mn_hex_decode(out, 4, "00ABcdFF", &err), &err);
    ASSERT_MEM_EQ(in, out, 4);
    ASSERT_EQ(mn_hex_decode(out, 4, "00abcdf", &err), -MN_EINVAL);
    ASSERT_EQ(mn_hex_decode(out, 4, "00abcdfg", &err), -MN_EINVAL);
    ASSERT_EQ(mn_hex_decode(out, 4, "00abcdff00", &err), -MN_EINVAL);
    uint8_t *dyn;
    size_t len;
    ASSERT_OK(mn_hex_decode_alloc("", &dyn, &len, &err), &err);
    ASSERT_EQ(len, 0);
    ASSERT_EQ(mn_hex_decode_alloc("abc", &dyn, &len, &err), -MN_EINVAL);
}

static void endian_helpers(void)
{
    uint8_t b[8];
    mn_store_u64_be(b, 0x0102030405060708u);
    ASSERT_EQ(b[0], 1);
    ASSERT_U64_EQ(mn_load_u64_be(b), 0x0102030405060708u);
    mn_store_u64_le(b, 0x0102030405060708u);
    ASSERT_EQ(b[0], 8);
    ASSERT_U64_EQ(mn_load_u64_le(b), 0x0102030405060708u);
    mn_store_u32_le(b, 0xa1b2c3d4u);
    ASSERT_EQ(b[0], 0xd4);
    ASSERT_U64_EQ(mn_load_u32_le(b), 0xa1b2c3d4u);
}

static void file_write_read_mode(void)
{
    char dir[] = "/tmp/mn_test_bytes_XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof(path), "%s/f", dir);
    mn_err err;
    umask(022);
    ASSERT_OK(mn_file_write(path, "hello", 5, 0600, false, &err), &err);
    struct stat st;
    ASSERT_EQ(stat(path, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0600);
    ASSERT_EQ(mn_file_write(path, "x", 1, 0600, false, &err), -MN_EEXIST);
    ASSERT_OK(mn_file_write(path, "bye", 3, 0644, true, &err), &err);
    uint8_t *data;
    size_t len;
    ASSERT_OK(mn_file_read(path, 0, &data, &len, &err), &err);
    ASSERT_EQ(len, 3);
    ASSERT_MEM_EQ(data, "bye", 4); /* includes the NUL terminator */
    free(data);
    ASSERT_EQ(mn_file_read(path, 2, &data, &len, &err), -MN_ELIMIT);
    unlink(path);
    ASSERT_EQ(mn_file_read(path, 0, &data, &len, &err), -MN_ENOTFOUND);
    rmdir(dir);
}

MN_TEST_MAIN("core.bytes", MN_TEST(buf_grows_and_caps), MN_TEST(hex_round_trip_and_rejects),
             MN_TEST(endian_helpers), MN_TEST(file_write_read_mode))
