#define _GNU_SOURCE
#include "watchdog.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

berth_watchdog_state berth_watchdog;

static uint32_t tick_ms;
static int channel_fd = -1;
static int timeout_exit_code;

/* Set on `sequence` when the watchdog claims a request: disarm's swap then
 * fails, whatever the worker thread expected. */
#define CLAIMED (UINT64_C(1) << 63)

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Writes every buffer to the non-blocking fd, waiting for room until
 * `deadline`: a client that stopped reading cannot hold the exit up. */
static void write_all(int fd, struct iovec *iov, int count, uint64_t deadline) {
    while (count > 0) {
        ssize_t n = writev(fd, iov, count);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) return;
            uint64_t now = now_ms();
            if (now >= deadline) return;
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            poll(&p, 1, (int)(deadline - now));
            continue;
        }
        while (count > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            count--;
        }
        if (count > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
}

/* Answers the claimed request, reports to the host and ends the worker. */
static void answer_and_exit(void) __attribute__((noreturn));
static void answer_and_exit(void) {
    const berth_watchdog_route *route = __atomic_load_n(&berth_watchdog.route, __ATOMIC_RELAXED);
    const uint8_t *id = __atomic_load_n(&berth_watchdog.id, __ATOMIC_RELAXED);
    size_t id_len = __atomic_load_n(&berth_watchdog.id_len, __ATOMIC_RELAXED);
    static const char head[] = "{\"id\":";
    static const char null_id[] = "null";
    struct iovec iov[4] = {
        {.iov_base = (void *)__atomic_load_n(&berth_watchdog.pending, __ATOMIC_RELAXED),
         .iov_len = __atomic_load_n(&berth_watchdog.pending_len, __ATOMIC_RELAXED)},
        {.iov_base = (void *)head, .iov_len = sizeof head - 1},
        {.iov_base = id_len ? (void *)id : (void *)null_id, .iov_len = id_len ? id_len : sizeof null_id - 1},
        {.iov_base = (void *)route->answer_tail, .iov_len = route->answer_tail_len},
    };
    int first = iov[0].iov_len ? 0 : 1;
    write_all(__atomic_load_n(&berth_watchdog.fd, __ATOMIC_RELAXED), iov + first, 4 - first, now_ms() + 1000);
    send(channel_fd, route->report, route->report_len, MSG_NOSIGNAL);
    _exit(timeout_exit_code);
}

static void *watch(void *unused) {
    (void)unused;
    /* Signals are for the worker thread's signalfd, not for this one. */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    uint64_t seen = 0, seen_at = 0;
    uint32_t limit = 0;
    struct timespec tick = {.tv_sec = tick_ms / 1000, .tv_nsec = (long)(tick_ms % 1000) * 1000000L};
    for (;;) {
        nanosleep(&tick, NULL);
        uint64_t sequence = __atomic_load_n(&berth_watchdog.sequence, __ATOMIC_ACQUIRE);
        if ((sequence & 1) == 0) continue;
        uint64_t now = now_ms();
        if (sequence != seen) {
            /* First sight of this request: it started within the last tick,
             * so measuring from now never fires early (at most one tick late). */
            const berth_watchdog_route *route = __atomic_load_n(&berth_watchdog.route, __ATOMIC_RELAXED);
            if (__atomic_load_n(&berth_watchdog.sequence, __ATOMIC_ACQUIRE) != sequence) continue;
            seen = sequence;
            seen_at = now;
            limit = route->timeout_ms;
            continue;
        }
        if (now - seen_at < limit) continue;
        uint64_t expected = sequence;
        if (__atomic_compare_exchange_n(&berth_watchdog.sequence, &expected, sequence | CLAIMED, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            answer_and_exit();
        }
    }
    return NULL;
}

int berth_watchdog_start(uint32_t tick, int channel, int exit_code) {
    tick_ms = tick ? tick : 1;
    channel_fd = channel;
    timeout_exit_code = exit_code;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attributes, 64 * 1024);
    pthread_t thread;
    int rc = pthread_create(&thread, &attributes, watch, NULL);
    pthread_attr_destroy(&attributes);
    return rc;
}

void berth_watchdog_lost(void) {
    for (;;) pause();
}
