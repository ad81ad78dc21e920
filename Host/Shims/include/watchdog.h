/* The worker's watchdog: a plain C thread that ends the worker when a
 * handler runs past its route's time limit. A hung handler blocks the
 * worker's only Swift thread and cannot be interrupted safely in-process,
 * so the watchdog answers for it (the connection's queued answers, then a
 * 504 with the request's id), tells the host why over the channel, and
 * exits; the host starts a replacement.
 *
 * The request path pays a few stores to arm and one compare-and-swap to
 * disarm: no syscall, no clock read. The thread wakes every tick and
 * measures how long the same armed request has been running itself. */
#ifndef BERTH_WATCHDOG_H
#define BERTH_WATCHDOG_H

#include <stddef.h>
#include <stdint.h>

/* What the watchdog needs for one route, made once when the worker starts
 * serving and kept for the life of the process. */
typedef struct berth_watchdog_route {
    uint32_t timeout_ms;
    /* The 504 answer after its id: ,"status":504,"error":{...}}\n */
    const char *answer_tail;
    size_t answer_tail_len;
    /* The channel message that tells the host which route ran too long. */
    const char *report;
    size_t report_len;
} berth_watchdog_route;

/* The armed request. Written only by the worker thread, except `sequence`,
 * which the watchdog swaps to claim a request it will answer. */
typedef struct berth_watchdog_state {
    uint64_t sequence; /* odd while a handler runs */
    const berth_watchdog_route *route;
    int fd;
    /* Answers to earlier pipelined requests not yet written to fd. */
    const uint8_t *pending;
    size_t pending_len;
    /* The request's raw JSON id (NULL: none). */
    const uint8_t *id;
    size_t id_len;
} berth_watchdog_state;

extern berth_watchdog_state berth_watchdog;

/* Starts the thread. `channel` is the host channel, `exit_code` the status
 * the worker exits with after a timeout. Returns 0 or an errno value. */
int berth_watchdog_start(uint32_t tick_ms, int channel, int exit_code);

/* Called by disarm when the watchdog claimed the request first: the
 * watchdog is answering and about to exit, so the worker thread waits. */
void berth_watchdog_lost(void) __attribute__((noreturn));

/* Before a handler runs. The pointers must stay valid and unchanged until
 * disarm. */
static inline void berth_watchdog_arm(const berth_watchdog_route *route, int fd, const uint8_t *pending,
                                      size_t pending_len, const uint8_t *id, size_t id_len) {
    __atomic_store_n(&berth_watchdog.route, route, __ATOMIC_RELAXED);
    __atomic_store_n(&berth_watchdog.fd, fd, __ATOMIC_RELAXED);
    __atomic_store_n(&berth_watchdog.pending, pending, __ATOMIC_RELAXED);
    __atomic_store_n(&berth_watchdog.pending_len, pending_len, __ATOMIC_RELAXED);
    __atomic_store_n(&berth_watchdog.id, id, __ATOMIC_RELAXED);
    __atomic_store_n(&berth_watchdog.id_len, id_len, __ATOMIC_RELAXED);
    uint64_t sequence = __atomic_load_n(&berth_watchdog.sequence, __ATOMIC_RELAXED);
    __atomic_store_n(&berth_watchdog.sequence, sequence + 1, __ATOMIC_RELEASE);
}

/* After the handler returned. Does not return if the watchdog won. */
static inline void berth_watchdog_disarm(void) {
    uint64_t sequence = __atomic_load_n(&berth_watchdog.sequence, __ATOMIC_RELAXED);
    if (!__atomic_compare_exchange_n(&berth_watchdog.sequence, &sequence, sequence + 1, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED)) {
        berth_watchdog_lost();
    }
}

#endif
