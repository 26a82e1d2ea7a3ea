/* SPDX-License-Identifier: Apache-2.0
 *
 * oci_main.c: the runc-compatible global options of docklock (--root, --log, --log-format,
 * --systemd-cgroup, --debug, --rootless, --version), runc-style error reporting, and the
 * `features` verb. Not here: the verbs themselves (oci_create.c, oci_verbs.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dl.h"
#include "oci_cli.h"

oci_globals oci_g = {"/run/docklock", NULL, false, false, false, false};

#define DOCKLOCK_VERSION "0.1.0"

static void log_line(const char *level, const char *msg)
{
    if (oci_g.log == NULL)
        return;
    FILE *f = fopen(oci_g.log, "a");
    if (f == NULL)
        return;
    char ts[40];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (oci_g.log_json) {
        fprintf(f, "{\"level\":\"%s\",\"msg\":\"", level);
        for (const char *p = msg; *p != '\0'; p++) {
            if (*p == '"' || *p == '\\')
                fprintf(f, "\\%c", *p);
            else if ((unsigned char)*p < 0x20)
                fprintf(f, "\\u%04x", (unsigned char)*p);
            else
                fputc(*p, f);
        }
        fprintf(f, "\",\"time\":\"%s\"}\n", ts);
    } else {
        fprintf(f, "time=\"%s\" level=%s msg=\"%s\"\n", ts, level, msg);
    }
    fclose(f);
}

int oci_fail(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "docklock: %s\n", msg);
    log_line("error", msg);
    return 1;
}

void oci_warn(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (oci_g.debug || oci_g.log == NULL)
        fprintf(stderr, "docklock: %s\n", msg);
    log_line("warning", msg);
}

int oci_fail_err(const char *verb, const mn_err *err)
{
    return oci_fail("%s: %s", verb, err->msg);
}

static const char version_text[] = "docklock version " DOCKLOCK_VERSION "\n"
                                   "spec: " MN_OCI_VERSION "\n";

int oci_parse_globals(int argc, char **argv, int *exit_now)
{
    int i = 1;
    *exit_now = -1;
    while (i < argc && argv[i][0] == '-') {
        const char *a = argv[i];
        const char *val = strchr(a, '=');
        size_t name_len = val != NULL ? (size_t)(val - a) : strlen(a);
        bool takes = false;
#define IS(s) (name_len == strlen(s) && strncmp(a, s, name_len) == 0)
        if (IS("--version") || IS("-v")) {
            fputs(version_text, stdout);
            *exit_now = 0;
            return -1;
        }
        if (IS("--help") || IS("-h"))
            return i; /* main prints the verb list */
        if (IS("--root") || IS("--log") || IS("--log-format") || IS("--criu") ||
            IS("--rootless"))
            takes = true;
        else if (!(IS("--systemd-cgroup") || IS("--debug") || IS("--no-pivot")))
            return i; /* not a global option: let the verb table judge */
        const char *v = val != NULL ? val + 1 : NULL;
        if (takes && v == NULL) {
            if (i + 1 >= argc) {
                fprintf(stderr, "docklock: option %s needs a value\n", a);
                *exit_now = DL_USAGE;
                return -1;
            }
            v = argv[++i];
        }
        if (IS("--root"))
            oci_g.root = v;
        else if (IS("--log"))
            oci_g.log = v;
        else if (IS("--log-format")) {
            if (strcmp(v, "json") != 0 && strcmp(v, "text") != 0) {
                fprintf(stderr, "docklock: --log-format must be text or json\n");
                *exit_now = DL_USAGE;
                return -1;
            }
            oci_g.log_json = strcmp(v, "json") == 0;
        } else if (IS("--systemd-cgroup"))
            oci_g.systemd_cgroup = true;
        else if (IS("--debug"))
            oci_g.debug = true;
#undef IS
        oci_g.seen = true;
        i++;
    }
    return i;
}

bool oci_run_is_oci(int argc, char **argv)
{
    if (oci_g.seen)
        return true;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "-b") == 0 || strcmp(argv[i], "--bundle") == 0 ||
            strncmp(argv[i], "--bundle=", 9) == 0 || strcmp(argv[i], "-d") == 0 ||
            strcmp(argv[i], "--detach") == 0)
            return true;
    }
    return false;
}

int oci_features(int argc, char **argv)
{
    (void)argv;
    if (argc > 1)
        return oci_fail("features takes no arguments");
    fputs("{\n"
          "  \"ociVersionMin\": \"1.0.0\",\n"
          "  \"ociVersionMax\": \"" MN_OCI_VERSION "\",\n"
          "  \"hooks\": [\"prestart\", \"createRuntime\", \"createContainer\", "
          "\"startContainer\", \"poststart\", \"poststop\"],\n"
          "  \"mountOptions\": [\"bind\", \"rbind\", \"ro\", \"rw\", \"rro\", \"rrw\", \"nosuid\", "
          "\"suid\", \"nodev\", \"dev\", \"noexec\", \"exec\", \"defaults\"],\n"
          "  \"linux\": {\n"
          "    \"namespaces\": [\"pid\", \"network\", \"mount\", \"ipc\", \"uts\"],\n"
          "    \"capabilities\": [],\n"
          "    \"cgroup\": {\"v1\": true, \"v2\": false, \"systemd\": false, "
          "\"systemdUser\": false},\n"
          "    \"seccomp\": {\"enabled\": true, \"actions\": [\"SCMP_ACT_ALLOW\", "
          "\"SCMP_ACT_ERRNO\", \"SCMP_ACT_KILL\", \"SCMP_ACT_KILL_PROCESS\", "
          "\"SCMP_ACT_KILL_THREAD\", \"SCMP_ACT_LOG\", \"SCMP_ACT_TRAP\"], \"operators\": ["
          "\"SCMP_CMP_NE\", "
          "\"SCMP_CMP_LT\", \"SCMP_CMP_LE\", \"SCMP_CMP_EQ\", \"SCMP_CMP_GE\", \"SCMP_CMP_GT\", "
          "\"SCMP_CMP_MASKED_EQ\"], "
          "\"archs\": [\"SCMP_ARCH_X86_64\"]},\n"
          "    \"apparmor\": {\"enabled\": false},\n"
          "    \"selinux\": {\"enabled\": false}\n"
          "  },\n"
          "  \"annotations\": {\n"
          "    \"org.metanode.docklock.version\": \"" DOCKLOCK_VERSION "\",\n"
          "    \"org.metanode.docklock.annotations\": \"seed key witness receipt mode epoch\"\n"
          "  }\n"
          "}\n",
          stdout);
    return 0;
}
