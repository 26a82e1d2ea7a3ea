/* SPDX-License-Identifier: Apache-2.0
 *
 * assert.h: always-on assertions for programmer errors. MN_ASSERT stays on in release builds:
 * a validator that has lost an invariant must stop rather than sign. MN_DASSERT is for checks
 * too costly for release (enabled when MN_DEBUG_ASSERTS is defined, as in dev and asan builds).
 * Never assert on the content of untrusted bytes: return an mn_err instead.
 */
#ifndef METANODE_ASSERT_H
#define METANODE_ASSERT_H

_Noreturn void mn_panic(const char *file, int line, const char *expr);

#define MN_ASSERT(e) ((e) ? (void)0 : mn_panic(__FILE__, __LINE__, #e))
#ifdef MN_DEBUG_ASSERTS
#define MN_DASSERT(e) MN_ASSERT(e)
#else
#define MN_DASSERT(e) ((void)sizeof(e))
#endif
#define MN_STATIC_ASSERT(e) _Static_assert(e, #e)
#define MN_UNREACHABLE() mn_panic(__FILE__, __LINE__, "unreachable")

#define MN_MUST_CHECK __attribute__((warn_unused_result))
#define MN_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
