#define _GNU_SOURCE
#include "shims.h"

#include <errno.h>
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

int berth_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

ssize_t berth_send_with_fd(int sock, const void *buf, size_t len, int fd_to_send) {
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
    return sendmsg(sock, &msg, MSG_NOSIGNAL);
}

ssize_t berth_recv_with_fd(int sock, void *buf, size_t cap, int *received_fd) {
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    union { struct cmsghdr align; char bytes[CMSG_SPACE(sizeof(int))]; } control;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = control.bytes, .msg_controllen = sizeof control.bytes};
    *received_fd = -1;
    ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            memcpy(received_fd, CMSG_DATA(c), sizeof(int));
        }
    }
    return n;
}

int berth_peer_pid(int sock) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
    return cred.pid;
}

int berth_accept_nonblocking(int listener) {
    return accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
}

ssize_t berth_getrandom(void *buf, size_t len) { return getrandom(buf, len, 0); }
