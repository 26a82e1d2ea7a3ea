/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_witness.c: arbitrary bytes through the witness reader. Whatever is accepted must
 * re-encode frame by frame to exactly the input (one run, one encoding), and the reader must
 * report the same root as a second pass. Aborts on a violated property.
 */
#include <stdlib.h>
#include <string.h>

#include "metanode/witness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int reencode(const uint8_t *data, size_t size, mn_buf *out)
{
    mn_err err;
    mn_witness_reader rd;
    mn_witness_header h;
    if (mn_witness_reader_init(&rd, data, size, &h, &err) != 0)
        return -1;
    if (mn_buf_append(out, MN_WITNESS_MAGIC, MN_WITNESS_MAGIC_BYTES, &err) != 0 ||
        mn_witness_header_encode(&h, out, &err) != 0)
        abort();
    mn_witness_record rec;
    mn_witness_trailer t;
    int rc;
    while ((rc = mn_witness_reader_next(&rd, &rec, &t, &err)) == 1)
        if (mn_witness_record_encode(&rec, out, &err) != 0)
            abort();
    if (rc < 0)
        return -1;
    if (mn_witness_trailer_encode(&t, out, &err) != 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mn_buf buf;
    mn_buf_init(&buf, 0);
    if (reencode(data, size, &buf) == 0) {
        if (buf.len != size || memcmp(buf.data, data, size) != 0)
            abort();
        mn_witness_header h;
        mn_witness_trailer t;
        uint8_t root[32];
        uint64_t count;
        mn_err err;
        if (mn_witness_check(data, size, &h, &t, root, &count, &err) != 0 || count < 2)
            abort();
        (void)mn_witness_config_digest(&h, root, &err);
    }
    mn_buf_deinit(&buf);
    return 0;
}
