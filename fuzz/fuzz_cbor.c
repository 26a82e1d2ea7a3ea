/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_cbor.c: fuzz target for the canonical CBOR decoder. Arbitrary bytes are decoded
 * and re-encoded by mn_cbor_copy_document (a generic walk: peek, then the matching getter, every
 * item re-emitted through the encoder). If decoding and mn_cbor_dec_finish succeed, the
 * re-encoded bytes must equal the input byte for byte: the decoder accepts only canonical
 * documents, so one value has one encoding. The same input is then consumed with mn_cbor_skip
 * alone, which must reach the same verdict with the same error code. Any disagreement aborts.
 * It deliberately checks no error message text, only codes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metanode/cbor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(e)                                                                               \
    do {                                                                                       \
        if (!(e)) {                                                                            \
            fprintf(stderr, "fuzz_cbor: check failed at line %d: %s\n", __LINE__, #e);          \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

static int skip_document(const uint8_t *data, size_t size, mn_err *err)
{
    mn_cbor_dec dec;
    mn_cbor_dec_init(&dec, data, size);
    int rc = mn_cbor_skip(&dec, err);
    if (rc != 0)
        return rc;
    CHECK(mn_cbor_dec_at_top(&dec));
    return mn_cbor_dec_finish(&dec, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mn_buf out;
    mn_err err, skip_err;
    mn_buf_init(&out, 0);
    int rc = mn_cbor_copy_document(data, size, &out, &err);
    if (rc == 0) {
        CHECK(out.len == size);
        CHECK(size == 0 || memcmp(out.data, data, size) == 0);
    } else {
        CHECK(err.code == MN_ECORRUPT || err.code == MN_ELIMIT);
    }
    mn_buf_deinit(&out);
    int skip_rc = skip_document(data, size, &skip_err);
    CHECK(skip_rc == rc);
    return 0;
}
