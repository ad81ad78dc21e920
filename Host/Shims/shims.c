#define _GNU_SOURCE
#include "shims.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

const uint32_t BERTH_EPOLLIN = EPOLLIN, BERTH_EPOLLOUT = EPOLLOUT, BERTH_EPOLLERR = EPOLLERR,
               BERTH_EPOLLHUP = EPOLLHUP, BERTH_EPOLLRDHUP = EPOLLRDHUP;
const int BERTH_EPOLL_CTL_ADD = EPOLL_CTL_ADD, BERTH_EPOLL_CTL_MOD = EPOLL_CTL_MOD,
          BERTH_EPOLL_CTL_DEL = EPOLL_CTL_DEL;

int berth_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int berth_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(epfd, op, fd, &ev);
}

int berth_epoll_wait(int epfd, berth_epoll_event *out, int max, int timeout_ms) {
    struct epoll_event evs[256];
    if (max > 256) max = 256;
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        out[i].events = evs[i].events;
        out[i].data = evs[i].data.u64;
    }
    return n;
}

int berth_signalfd(const sigset_t *mask) { return signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK); }

int berth_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof info);
    if (n != (ssize_t)sizeof info) return -1;
    return (int)info.ssi_signo;
}

int berth_memfd_create(const char *name) { return memfd_create(name, MFD_CLOEXEC); }

int berth_set_parent_death_signal(int sig) { return prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0); }

int berth_set_process_name(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }

/* The command line `ps -ef`, `ps aux` and /proc/<pid>/cmdline show is the
 * memory that held the arguments at exec (arg_start to arg_end in
 * /proc/self/stat, fields 48 and 49); overwriting it in place is how
 * setproctitle works. `words` is the new command line, NUL-separated.
 * Padding with NULs, the last byte included, makes the kernel show only
 * it, not the environment after it. */
int berth_set_command_line(const char *words, size_t length) {
    char stat[4096];
    FILE *file = fopen("/proc/self/stat", "re");
    if (!file) return -1;
    size_t n = fread(stat, 1, sizeof stat - 1, file);
    fclose(file);
    stat[n] = 0;
    /* The command name (field 2) may hold spaces and parentheses: count
     * fields from the last ')'. */
    char *cursor = strrchr(stat, ')');
    if (!cursor) return -1;
    unsigned long long start = 0, end = 0;
    for (int field = 3; field <= 49 && cursor; field++) {
        cursor = strchr(cursor, ' ');
        if (!cursor) return -1;
        cursor++;
        if (field == 48) start = strtoull(cursor, NULL, 10);
        if (field == 49) end = strtoull(cursor, NULL, 10);
    }
    if (start == 0 || end <= start) return -1;
    size_t room = (size_t)(end - start);
    if (length > room - 1) length = room - 1;
    char *arguments = (char *)(uintptr_t)start;
    memset(arguments, 0, room);
    memcpy(arguments, words, length);
    return 0;
}

int berth_set_no_new_privileges(void) { return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); }

int berth_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

ssize_t berth_send_with_fd(int sock, const void *buf, size_t len, int fd_to_send, int dont_wait) {
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    union { struct cmsghdr align; char bytes[CMSG_SPACE(sizeof(int))]; } control;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd_to_send >= 0) {
        memset(&control, 0, sizeof control);
        msg.msg_control = control.bytes;
        msg.msg_controllen = sizeof control.bytes;
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &fd_to_send, sizeof(int));
    }
    return sendmsg(sock, &msg, MSG_NOSIGNAL | (dont_wait ? MSG_DONTWAIT : 0));
}

ssize_t berth_recv_with_fd(int sock, void *buf, size_t cap, int *received_fd, int dont_wait) {
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    union { struct cmsghdr align; char bytes[CMSG_SPACE(sizeof(int))]; } control;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = control.bytes, .msg_controllen = sizeof control.bytes};
    *received_fd = -1;
    ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | (dont_wait ? MSG_DONTWAIT : 0));
    if (n < 0) return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            memcpy(received_fd, CMSG_DATA(c), sizeof(int));
        }
    }
    if (msg.msg_flags & MSG_TRUNC) {
        if (*received_fd >= 0) close(*received_fd);
        *received_fd = -1;
        errno = EMSGSIZE;
        return -1;
    }
    return n;
}


int berth_accept_nonblocking(int listener) {
    return accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
}

int berth_peer_credentials(int fd, int32_t *pid, uint32_t *uid, uint32_t *gid) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
    *pid = cred.pid;
    *uid = cred.uid;
    *gid = cred.gid;
    return 0;
}

ssize_t berth_getrandom(void *buf, size_t len) { return getrandom(buf, len, 0); }

#include <sys/inotify.h>

int berth_inotify_watch_directory(const char *path, int *watch_fd) {
    int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd < 0) return -1;
    int wd = inotify_add_watch(fd, path, IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ATTRIB);
    if (wd < 0) { int saved = errno; close(fd); errno = saved; return -1; }
    *watch_fd = wd;
    return fd;
}

ssize_t berth_inotify_drain(int fd) {
    char buffer[8192];
    ssize_t total = 0, n;
    while ((n = read(fd, buffer, sizeof buffer)) > 0) total += n;
    return total;
}

/* SHA-256 (FIPS 180-4). In C because the host hashes every plugin file on
 * each reload, and unoptimised debug Swift took ~100 ms for 400 KB. */
static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const uint8_t *p) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + sha256_k[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

void berth_sha256(const void *data, size_t len, uint8_t out[32]) {
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const uint8_t *p = data;
    size_t whole = len / 64 * 64;
    for (size_t i = 0; i < whole; i += 64) sha256_block(h, p + i);
    uint8_t tail[128] = {0};
    size_t rest = len - whole;
    memcpy(tail, p + whole, rest);
    tail[rest] = 0x80;
    size_t tail_len = rest + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++) tail[tail_len - 1 - i] = (uint8_t)(bits >> (8 * i));
    sha256_block(h, tail);
    if (tail_len == 128) sha256_block(h, tail + 64);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(h[i] >> 24); out[4 * i + 1] = (uint8_t)(h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h[i] >> 8); out[4 * i + 3] = (uint8_t)h[i];
    }
}
