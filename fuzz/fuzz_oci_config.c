/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_oci_config.c: arbitrary bytes through the OCI config.json parser. Properties: it
 * returns 0 or an error code with a message, never crashes; what it accepts is consistent
 * (non-empty args, absolute cwd, counts within their arrays, every note a non-empty string);
 * and parsing the same bytes twice gives the same verdict. Aborts on a violated property.
 */
#include <stdlib.h>
#include <string.h>

#include "metanode/oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mn_oci_config a, b; /* big: static */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mn_err err;
    int rc = mn_oci_config_parse(data, size, &a, &err);
    if (rc != 0 && err.msg[0] == '\0')
        abort();
    if (rc == 0) {
        if (a.argc == 0 || a.argc > MN_WITNESS_ARGV_MAX || a.cwd == NULL || a.cwd[0] != '/' ||
            a.root_path == NULL || a.mountc > MN_OCI_MOUNTS_MAX ||
            a.annc > MN_OCI_ANNOTATIONS_MAX || a.ignoredc > MN_OCI_NOTES_MAX)
            abort();
        for (uint32_t i = 0; i < a.argc; i++)
            if (a.args[i] == NULL)
                abort();
        for (uint32_t i = 0; i < a.ignoredc; i++)
            if (a.ignored[i] == NULL || a.ignored[i][0] == '\0')
                abort();
        if (a.taintc > 0 && !a.relaxed)
            abort();
    }
    mn_err err2;
    int rc2 = mn_oci_config_parse(data, size, &b, &err2);
    if (rc2 != rc || (rc == 0 && (b.argc != a.argc || b.mountc != a.mountc)))
        abort();
    mn_oci_config_deinit(&a);
    mn_oci_config_deinit(&b);
    return 0;
}
