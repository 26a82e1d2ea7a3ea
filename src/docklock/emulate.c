/* SPDX-License-Identifier: Apache-2.0
 *
 * emulate.c: the supervisor's answers to the syscalls the cage models, and to rdtsc/rdtscp.
 * At a seccomp-trace stop the call is either emulated (the syscall is skipped by setting
 * orig_rax to -1 and the guest sees our rax; its output buffer is written from here), passed
 * through after an argument check (socket: AF_UNIX only), or, when nobody modelled it, the run
 * is stopped with the call's name: the cage fails closed. Each answer advances the logical
 * clock by one tick and is recorded in the witness with the injected bytes inline.
 * Clocks: REALTIME = epoch + logical time; MONOTONIC/BOOTTIME = 1 s + logical time; the
 * virtual TSC runs at 1 GHz on the monotonic clock. Randomness: per-task ChaCha20 streams
 * keyed by (seed, label, vtid). The stat family and getdents64 are handed to fsmeta.c.
 * Readiness waits (poll, select, epoll_wait) run in the kernel with their timeout turned
 * into a logical deadline, as futex waits with others alive. Not here: blocking calls (they
 * run in the kernel; the turn scheduler in supervisor.c makes their order deterministic).
 */
#include <errno.h>
#include <linux/sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <time.h>

#include "internal.h"
#include "metanode/clock.h"
#include "metanode/hash.h"
#include "metanode/tags.h"

/* What one emulated call produced: the result and the bytes written into the guest. */
typedef struct answer {
    int64_t result;
    bool skip;          /* emulate (skip the real call) rather than let it run */
    uint8_t out[512];   /* staging for small outputs; getrandom uses big */
    size_t out_len;
    uint64_t out_addr;
    const uint8_t *big; /* larger outputs (getrandom) */
    bool set_regs;      /* let the call run with the registers as changed (futex, getdents) */
    bool at_exit;       /* recorded at the syscall-exit stop (fsmeta.c), not now */
} answer;

void mn__dl_stream_key(const uint8_t seed[32], const char *label, uint32_t vtid,
                       uint8_t key[32])
{
    uint8_t v[4];
    mn_store_u32_le(v, vtid);
    mn_sha256_ctx h;
    mn_sha256_tagged_init(&h, MN_TAG_DOCKLOCK_STREAM);
    mn_sha256_update(&h, seed, 32);
    mn_sha256_update(&h, label, strlen(label));
    mn_sha256_update(&h, v, sizeof(v));
    mn_sha256_final(&h, key);
}

void mn__dl_random(const mn__dl_sup *s, uint32_t vtid, const char *label, uint64_t *counter,
                   uint8_t *out, size_t len)
{
    uint8_t key[32];
    mn__dl_stream_key(s->cfg->seed, label, vtid, key);
    mn_rng rng;
    mn_rng_seeded_init(&rng, key);
    rng.counter = *counter;
    rng.fill(&rng, out, len);
    *counter = rng.counter;
}

static uint64_t mono_ns(const mn__dl_sup *s)
{
    return MN__DL_MONO_START_NS + s->ltime_ns;
}

static uint64_t real_ns(const mn__dl_sup *s)
{
    return s->cfg->epoch_ns + s->ltime_ns;
}

static void put_out(answer *a, uint64_t addr, const void *data, size_t len)
{
    MN_ASSERT(len <= sizeof(a->out));
    memcpy(a->out, data, len);
    a->out_len = len;
    a->out_addr = addr;
}

static int clock_value(const mn__dl_sup *s, int64_t clk, uint64_t *ns)
{
    switch (clk) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_TAI:
        *ns = real_ns(s);
        return 0;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
        *ns = mono_ns(s);
        return 0;
    case CLOCK_PROCESS_CPUTIME_ID:
    case CLOCK_THREAD_CPUTIME_ID:
        *ns = s->ltime_ns;
        return 0;
    default:
        if (clk < 0 && clk > INT32_MIN) { /* CPU clocks of another process or thread */
            *ns = s->ltime_ns;
            return 0;
        }
        return -EINVAL;
    }
}

static void do_clock_gettime(const mn__dl_sup *s, const uint64_t *a, answer *r)
{
    uint64_t ns;
    if ((r->result = clock_value(s, (int64_t)a[0], &ns)) != 0)
        return;
    int64_t ts[2] = {(int64_t)(ns / 1000000000u), (int64_t)(ns % 1000000000u)};
    put_out(r, a[1], ts, sizeof(ts));
}

static void do_clock_getres(const mn__dl_sup *s, const uint64_t *a, answer *r)
{
    uint64_t ns;
    if ((r->result = clock_value(s, (int64_t)a[0], &ns)) != 0 || a[1] == 0)
        return;
    int64_t ts[2] = {0, 1};
    put_out(r, a[1], ts, sizeof(ts));
}

static void do_gettimeofday(const mn__dl_sup *s, const uint64_t *a, answer *r)
{
    uint64_t ns = real_ns(s);
    int64_t tv[2] = {(int64_t)(ns / 1000000000u), (int64_t)(ns % 1000000000u / 1000u)};
    if (a[0] != 0)
        put_out(r, a[0], tv, sizeof(tv));
    r->result = 0; /* the timezone argument is obsolete; left untouched */
}

static void do_time(const mn__dl_sup *s, const uint64_t *a, answer *r)
{
    int64_t t = (int64_t)(real_ns(s) / 1000000000u);
    if (a[0] != 0)
        put_out(r, a[0], &t, sizeof(t));
    r->result = t;
}

/* A sleep takes no wall time: logical time jumps by the requested amount. */
static void sleep_for(mn__dl_sup *s, pid_t pid, uint64_t req_addr, bool absolute, int64_t clk,
                      answer *r)
{
    int64_t ts[2];
    if (mn__dl_read_mem(pid, req_addr, ts, sizeof(ts)) != 0) {
        r->result = -EFAULT;
        return;
    }
    if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000) {
        r->result = -EINVAL;
        return;
    }
    uint64_t req = (uint64_t)ts[0] * 1000000000u + (uint64_t)ts[1], now;
    if (absolute) {
        if ((r->result = clock_value(s, clk, &now)) != 0)
            return;
        req = req > now ? req - now : 0;
    }
    s->ltime_ns += req;
    r->result = 0;
}

static void do_uname(const mn__dl_sup *s, const uint64_t *a, answer *r)
{
    struct utsname u;
    memset(&u, 0, sizeof(u));
    snprintf(u.sysname, sizeof(u.sysname), "Linux");
    snprintf(u.nodename, sizeof(u.nodename), "%s",
             s->cfg->hostname != NULL ? s->cfg->hostname : "docklock");
    snprintf(u.release, sizeof(u.release), "6.1.0-docklock");
    snprintf(u.version, sizeof(u.version), "#1 SMP PREEMPT_DYNAMIC docklock");
    snprintf(u.machine, sizeof(u.machine), "x86_64");
    snprintf(u.domainname, sizeof(u.domainname), "(none)");
    put_out(r, a[0], &u, sizeof(u));
    r->result = 0;
}

static void do_sysinfo(const mn__dl_sup *s, const uint64_t *a, answer *r)
{
    struct sysinfo si;
    memset(&si, 0, sizeof(si));
    si.uptime = (long)(mono_ns(s) / 1000000000u);
    si.totalram = 4ul << 30;
    si.freeram = 2ul << 30;
    si.procs = (unsigned short)s->live;
    si.mem_unit = 1;
    put_out(r, a[0], &si, sizeof(si));
    r->result = 0;
}

static void do_affinity(const uint64_t *a, answer *r)
{
    if (a[1] < 8) {
        r->result = -EINVAL;
        return;
    }
    uint64_t mask = 1; /* one CPU: the guest runs serialised on one */
    put_out(r, a[2], &mask, sizeof(mask));
    r->result = 8;
}

static void do_getcpu(const uint64_t *a, answer *r)
{
    uint32_t zero = 0;
    if (a[0] != 0)
        put_out(r, a[0], &zero, sizeof(zero));
    else if (a[1] != 0)
        put_out(r, a[1], &zero, sizeof(zero));
    r->result = 0; /* a NUMA node asked for together with the CPU is left as is: rare */
}

static void do_times(const mn__dl_sup *s, const uint64_t *a, answer *r)
{
    struct tms t;
    memset(&t, 0, sizeof(t));
    if (a[0] != 0)
        put_out(r, a[0], &t, sizeof(t));
    r->result = (int64_t)(mono_ns(s) / 10000000u); /* USER_HZ = 100 */
}

static void do_getrusage(const uint64_t *a, answer *r)
{
    struct rusage u;
    memset(&u, 0, sizeof(u));
    put_out(r, a[1], &u, sizeof(u));
    r->result = 0;
}

static void do_getrandom(mn__dl_sup *s, mn__dl_task *t, const uint64_t *a, answer *r,
                         uint8_t *big)
{
    size_t len = a[1] < MN_WITNESS_INLINE_BYTES_MAX ? (size_t)a[1] : MN_WITNESS_INLINE_BYTES_MAX;
    if ((a[2] & ~(uint64_t)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) != 0) {
        r->result = -EINVAL;
        return;
    }
    mn__dl_random(s, t->vtid, "getrandom", &t->rng_counter, big, len);
    r->big = big;
    r->out_len = len;
    r->out_addr = a[0];
    r->result = (int64_t)len;
}

/* Marks t as in a wait, passed through untimed, that times out at logical time when. */
static void set_deadline(mn__dl_sup *s, mn__dl_task *t, const struct user_regs_struct *regs,
                         uint64_t when)
{
    t->timed = true;
    t->deadline_ns = when > s->ltime_ns ? when : s->ltime_ns;
    t->timed_nr = (long)regs->orig_rax;
    t->timed_regs[0] = regs->rdi;
    t->timed_regs[1] = regs->rsi;
    t->timed_regs[2] = regs->rdx;
    t->timed_regs[3] = regs->rsp;
}

int64_t mn__dl_timeout_result(long nr)
{
    return nr == SYS_futex ? -ETIMEDOUT : 0; /* poll, select, epoll_wait: 0 ready */
}

/* A readiness wait: poll, ppoll, select, pselect6, epoll_wait, epoll_pwait, epoll_pwait2. It
 * runs in the kernel: under the turn scheduler the readiness it reports is a function of the
 * run. A zero timeout runs as it is; no timeout blocks like a read; a finite timeout becomes
 * no timeout plus a logical deadline, at which the scheduler ends the wait with 0 when every
 * task is blocked (a task alone is watched for that too). arg: the timeout argument's index;
 * ms: it is in milliseconds (int), else a pointer to a timespec (timeval for select). */
static void do_wait(mn__dl_sup *s, mn__dl_task *t, struct user_regs_struct *regs,
                    const uint64_t *a, int arg, bool ms, bool timeval, answer *r)
{
    r->skip = false;
    r->result = 0; /* passed through; the result is not observed */
    uint64_t ns;
    if (ms) {
        int timeout = (int)a[arg];
        if (timeout <= 0)
            return; /* immediate, or no timeout */
        ns = (uint64_t)timeout * 1000000u;
        regs->rdx = arg == 2 ? (uint64_t)-1 : regs->rdx;
        regs->r10 = arg == 3 ? (uint64_t)-1 : regs->r10;
    } else {
        int64_t ts[2];
        if (a[arg] == 0 || mn__dl_read_mem(t->pid, a[arg], ts, sizeof(ts)) != 0)
            return; /* no timeout, or a bad pointer the kernel refuses (EFAULT) */
        uint64_t frac = timeval ? 1000u : 1u, lim = timeval ? 1000000 : 1000000000;
        if (ts[0] < 0 || ts[1] < 0 || ts[1] >= (int64_t)lim)
            return; /* the kernel refuses it (EINVAL) */
        ns = (uint64_t)ts[0] * 1000000000u + (uint64_t)ts[1] * frac;
        if (ns == 0)
            return; /* immediate */
        if (arg == 2)
            regs->rdx = 0;
        else if (arg == 3)
            regs->r10 = 0;
        else
            regs->r8 = 0;
    }
    set_deadline(s, t, regs, s->ltime_ns + ns);
    r->set_regs = true;
}

/* A futex wait with a timeout. Alone, the task can only be ended by the timeout: if the word
 * still holds the expected value, logical time jumps to the deadline and the wait times out.
 * With other tasks alive, the wait runs without its timeout: it ends when another task wakes
 * it, at a point fixed by the serialised execution, never by the host's clock, or, when every
 * task is blocked, the scheduler times out the wait with the earliest logical deadline. */
static void do_futex(mn__dl_sup *s, mn__dl_task *t, struct user_regs_struct *regs,
                     const uint64_t *a, answer *r)
{
    unsigned cmd = (unsigned)a[1] & 0x7f;
    if (s->live > 1 || (cmd != 0 && cmd != 9)) { /* FUTEX_WAIT, FUTEX_WAIT_BITSET */
        int64_t ts[2];
        if ((cmd == 0 || cmd == 9) && mn__dl_read_mem(t->pid, a[3], ts, sizeof(ts)) == 0 &&
            ts[0] >= 0 && ts[1] >= 0 && ts[1] < 1000000000) {
            /* The deadline in logical time: the scheduler ends the wait there when every task
             * is blocked (supervisor.c). */
            uint64_t when = (uint64_t)ts[0] * 1000000000u + (uint64_t)ts[1];
            if (cmd == 9) {
                uint64_t base = (a[1] & 256) != 0 ? s->cfg->epoch_ns : MN__DL_MONO_START_NS;
                when = when > base ? when - base : 0;
            } else {
                when += s->ltime_ns;
            }
            set_deadline(s, t, regs, when);
        }
        regs->r10 = 0;
        r->skip = false;
        r->result = 0; /* passed through untimed; the result is not observed */
        r->set_regs = true;
        return;
    }
    uint32_t word;
    int64_t ts[2];
    if (mn__dl_read_mem(t->pid, a[0], &word, 4) != 0 ||
        mn__dl_read_mem(t->pid, a[3], ts, sizeof(ts)) != 0) {
        r->result = -EFAULT;
        return;
    }
    if (word != (uint32_t)a[2]) {
        r->result = -EAGAIN;
        return;
    }
    if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000) {
        r->result = -EINVAL;
        return;
    }
    uint64_t when = (uint64_t)ts[0] * 1000000000u + (uint64_t)ts[1], now;
    if (cmd == 9) { /* absolute, on MONOTONIC or (with FUTEX_CLOCK_REALTIME) REALTIME */
        now = (a[1] & 256) != 0 ? real_ns(s) : mono_ns(s);
        when = when > now ? when - now : 0;
    }
    s->ltime_ns += when;
    r->result = -ETIMEDOUT;
}

/* Only AF_UNIX sockets: the cage has no network (--net none), and an inet socket would let
 * ephemeral port numbers and timing in. */
static void do_socket(const uint64_t *a, answer *r)
{
    if (a[0] == AF_UNIX) {
        r->skip = false;
        r->result = 0; /* passed through; the result is not observed */
        return;
    }
    r->result = -EAFNOSUPPORT;
}

/* The stat family runs in the kernel and is normalised at its exit stop; getdents64 is
 * answered now and, when it copied entries out, finished at the exit stop of an lseek. */
static void do_fsmeta(mn__dl_sup *s, mn__dl_task *t, struct user_regs_struct *regs, long nr,
                      const uint64_t *a, answer *r)
{
    bool lseek_instead = true;
    if (nr == SYS_getdents64)
        mn__dl_getdents_enter(s, t, regs, a, &r->result, &lseek_instead);
    if (!lseek_instead)
        return;
    r->skip = false;
    r->set_regs = nr == SYS_getdents64;
    r->at_exit = true;
    t->pending = true;
    t->pend_nr = nr;
    memcpy(t->pend_args, a, sizeof(t->pend_args));
}

/* Fills *r for a modelled call; returns false for a call the cage does not model. */
static bool dispatch(mn__dl_sup *s, mn__dl_task *t, struct user_regs_struct *regs, long nr,
                     const uint64_t *a, answer *r, uint8_t *big)
{
    if (mn__dl_fsmeta_traps(nr)) {
        do_fsmeta(s, t, regs, nr, a, r);
        return true;
    }
    switch (nr) {
    case SYS_futex: do_futex(s, t, regs, a, r); break;
    case SYS_clock_gettime: do_clock_gettime(s, a, r); break;
    case SYS_clock_getres: do_clock_getres(s, a, r); break;
    case SYS_gettimeofday: do_gettimeofday(s, a, r); break;
    case SYS_time: do_time(s, a, r); break;
    case SYS_nanosleep: sleep_for(s, t->pid, a[0], false, CLOCK_MONOTONIC, r); break;
    case SYS_clock_nanosleep:
        sleep_for(s, t->pid, a[2], (a[1] & TIMER_ABSTIME) != 0, (int64_t)a[0], r);
        break;
    case SYS_getrandom: do_getrandom(s, t, a, r, big); break;
    case SYS_uname: do_uname(s, a, r); break;
    case SYS_sysinfo: do_sysinfo(s, a, r); break;
    case SYS_sched_getaffinity: do_affinity(a, r); break;
    case SYS_getcpu: do_getcpu(a, r); break;
    case SYS_times: do_times(s, a, r); break;
    case SYS_getrusage: do_getrusage(a, r); break;
    case SYS_socket: do_socket(a, r); break;
    case SYS_poll: do_wait(s, t, regs, a, 2, true, false, r); break;
    case SYS_ppoll: do_wait(s, t, regs, a, 2, false, false, r); break;
    case SYS_select: do_wait(s, t, regs, a, 4, false, true, r); break;
    case SYS_pselect6: do_wait(s, t, regs, a, 4, false, false, r); break;
    case SYS_epoll_wait:
    case SYS_epoll_pwait: do_wait(s, t, regs, a, 3, true, false, r); break;
    case SYS_epoll_pwait2: do_wait(s, t, regs, a, 3, false, false, r); break;
    case SYS_sched_yield: /* gives the turn to the next task (supervisor.c) */
        s->yield = true;
        r->result = 0;
        break;
    default: return false;
    }
    return true;
}

static int apply(mn__dl_task *t, struct user_regs_struct *regs, answer *r)
{
    const uint8_t *data = r->big != NULL ? r->big : r->out;
    if (r->result >= 0 && r->out_len > 0 &&
        mn__dl_write_mem(t->pid, r->out_addr, data, r->out_len) != 0) {
        r->result = -EFAULT;
        r->out_len = 0;
    }
    if (!r->skip)
        return r->set_regs ? mn__dl_set_regs(t->pid, regs) : 0;
    regs->orig_rax = (uint64_t)-1;
    regs->rax = (uint64_t)r->result;
    return mn__dl_set_regs(t->pid, regs);
}

int mn__dl_on_syscall(mn__dl_sup *s, mn__dl_task *t, mn_err *err)
{
    struct user_regs_struct regs;
    if (mn__dl_get_regs(t->pid, &regs) != 0)
        return mn_err_set(err, MN_ESYS, errno, "GETREGS of vtid %u", t->vtid);
    long nr = (long)regs.orig_rax;
    uint64_t a[6] = {regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9};
    static uint8_t big[MN_WITNESS_INLINE_BYTES_MAX];
    answer r;
    memset(&r, 0, sizeof(r));
    r.skip = true;
    s->ltime_ns += MN__DL_TICK_NS;
    s->events++;
    if (!dispatch(s, t, &regs, nr, a, &r, big)) {
        mn__dl_syscall_name(nr, s->unmodelled, sizeof(s->unmodelled));
        s->limit_hit = true;
        s->limit = MN_LIMIT_UNMODELLED;
        return mn__dl_record(s, t, MN_WK_SYSCALL, (uint32_t)nr, a, -ENOSYS, NULL, NULL, 0, err);
    }
    if (apply(t, &regs, &r) != 0)
        return mn_err_set(err, MN_ESYS, errno, "SETREGS of vtid %u", t->vtid);
    if (r.at_exit)
        return 0;
    const uint8_t *data = r.big != NULL ? r.big : r.out;
    return mn__dl_record(s, t, MN_WK_SYSCALL, (uint32_t)nr, a, r.result, NULL, data,
                         r.result >= 0 ? r.out_len : 0, err);
}

int mn__dl_on_segv(mn__dl_sup *s, mn__dl_task *t, bool *handled, mn_err *err)
{
    struct user_regs_struct regs;
    uint8_t insn[3] = {0, 0, 0};
    *handled = false;
    if (mn__dl_get_regs(t->pid, &regs) != 0)
        return mn_err_set(err, MN_ESYS, errno, "GETREGS of vtid %u", t->vtid);
    if (mn__dl_read_mem(t->pid, regs.rip, insn, 2) != 0 || insn[0] != 0x0f)
        return 0;
    bool rdtscp = false;
    if (insn[1] == 0x01) {
        if (mn__dl_read_mem(t->pid, regs.rip, insn, 3) != 0 || insn[2] != 0xf9)
            return 0;
        rdtscp = true;
    } else if (insn[1] != 0x31) {
        return 0;
    }
    /* Before the guest's exec it is our own child code (e.g. a sanitizer runtime) reading
     * the counter: answer 0 and leave no trace in the run. */
    bool live = s->started && !t->prexec;
    if (live) {
        s->ltime_ns += MN__DL_TICK_NS;
        s->events++;
    }
    uint64_t tsc = live ? mono_ns(s) : 0;
    regs.rax = tsc & 0xffffffffu;
    regs.rdx = tsc >> 32;
    if (rdtscp)
        regs.rcx = 0; /* TSC_AUX: CPU 0 */
    regs.rip += rdtscp ? 3 : 2;
    if (mn__dl_set_regs(t->pid, &regs) != 0)
        return mn_err_set(err, MN_ESYS, errno, "SETREGS of vtid %u", t->vtid);
    *handled = true;
    if (!live)
        return 0;
    uint64_t args[6] = {rdtscp ? 1u : 0u, 0, 0, 0, 0, 0};
    return mn__dl_record(s, t, MN_WK_RDTSC, 0, args, (int64_t)tsc, NULL, NULL, 0, err);
}
