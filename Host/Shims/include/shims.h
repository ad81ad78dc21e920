/* Linux calls the Swift Glibc module does not export (epoll, signalfd,
 * memfd, prctl, fd passing) and the stats block shared by host and workers.
 * Thin on purpose: the typed wrappers live in BerthPOSIX. */
#ifndef BERTH_SHIMS_H
#define BERTH_SHIMS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <spawn.h>
#include <signal.h>

/* The worker's watchdog thread; included here so that a build that already
 * has this module rebuilds it when the watchdog header appears or changes. */
#include "watchdog.h"
/* The request path's string scan (PlainBytes). */
#include "json_bytes.h"

typedef struct berth_epoll_event {
    uint32_t events;
    uint64_t data;
} berth_epoll_event;

int berth_epoll_create(void);
int berth_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
int berth_epoll_wait(int epfd, berth_epoll_event *events, int max, int timeout_ms);

extern const uint32_t BERTH_EPOLLIN, BERTH_EPOLLOUT, BERTH_EPOLLERR, BERTH_EPOLLHUP, BERTH_EPOLLRDHUP;
extern const int BERTH_EPOLL_CTL_ADD, BERTH_EPOLL_CTL_MOD, BERTH_EPOLL_CTL_DEL;

/* signalfd over `mask`; returns the fd, reads one signal number at a time. */
int berth_signalfd(const sigset_t *mask);
int berth_signalfd_read(int fd); /* signal number, -1 with errno on error */

int berth_memfd_create(const char *name);
int berth_set_parent_death_signal(int sig);
int berth_set_process_name(const char *name);
/* Replaces the command line ps shows with `length` bytes of NUL-separated
 * words (cut to the length of the arguments the process started with). */
int berth_set_command_line(const char *words, size_t length);
int berth_set_no_new_privileges(void);

/* posix_spawn helpers glibc has but Swift's module map hides. */
int berth_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/* Send / receive one datagram on a SOCK_SEQPACKET with at most one fd.
 * `dont_wait`: MSG_DONTWAIT (EAGAIN instead of blocking). A datagram larger
 * than `cap` is an error (EMSGSIZE), never a silent cut; a received fd then
 * is closed. */
ssize_t berth_send_with_fd(int sock, const void *buf, size_t len, int fd_to_send, int dont_wait);
ssize_t berth_recv_with_fd(int sock, void *buf, size_t cap, int *received_fd, int dont_wait);

/* GNU extensions the Glibc module hides. */
int berth_accept_nonblocking(int listener);
/* SO_PEERCRED of a connected AF_UNIX socket: 0, or -1 with errno. */
int berth_peer_credentials(int fd, int32_t *pid, uint32_t *uid, uint32_t *gid);
ssize_t berth_getrandom(void *buf, size_t len);

/* Counters a worker keeps for the host, in a MAP_SHARED page the host
 * created. The worker is the only writer; both sides use relaxed atomics so
 * the host can read at any time without tearing. */
#define BERTH_LATENCY_BUCKETS 48
typedef struct berth_worker_stats {
    uint64_t requests;
    uint64_t errors;
    uint64_t latency_total_ns;
    /* bucket i counts requests that took [2^i, 2^(i+1)) nanoseconds */
    uint64_t latency_buckets[BERTH_LATENCY_BUCKETS];
} berth_worker_stats;

static inline void berth_stat_add(uint64_t *counter, uint64_t n) {
    __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}
static inline uint64_t berth_stat_load(const uint64_t *counter) {
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/* inotify, for `berth serve --watch`. */
int berth_inotify_watch_directory(const char *path, int *watch_fd);
/* Reads and discards pending events; returns how many bytes were read. */
ssize_t berth_inotify_drain(int fd);
/* SHA-256 of `len` bytes into `out` (32 bytes). */
void berth_sha256(const void *data, size_t len, uint8_t out[32]);

#endif
