/* baseline: the least a server on this protocol can do, to measure Berth
 * against. One process, one epoll loop, non-blocking AF_UNIX stream sockets;
 * every '\n'-terminated line gets the same fixed answer. Like a Berth
 * worker, it does one read per readable event and one write for all the
 * answers that read produced, so the two differ only in per-request work.
 *
 *     baseline SOCKET-PATH
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char answer[] = "{\"id\":null,\"status\":200,\"data\":{\"ok\":true}}\n";
#define ANSWER_LEN (sizeof answer - 1)

/* Many copies of the answer back to back, so a whole batch is one write. */
#define COPIES 1024
static char answers[ANSWER_LEN * COPIES];

typedef struct {
    size_t owed;     /* bytes of answers not yet written */
    size_t offset;   /* where in one answer the next byte comes from */
    int writing;     /* registered for EPOLLOUT (and not EPOLLIN) */
} conn;

static conn *conns;
static size_t conn_cap;
static int ep;

static conn *conn_for(int fd) {
    if ((size_t)fd >= conn_cap) {
        size_t cap = conn_cap ? conn_cap : 256;
        while (cap <= (size_t)fd) cap *= 2;
        conns = realloc(conns, cap * sizeof *conns);
        if (!conns) { perror("realloc"); exit(1); }
        memset(conns + conn_cap, 0, (cap - conn_cap) * sizeof *conns);
        conn_cap = cap;
    }
    return &conns[fd];
}

static void drop(int fd) {
    memset(conn_for(fd), 0, sizeof(conn));
    close(fd); /* also leaves the epoll set */
}

static void watch(int fd, unsigned events) {
    struct epoll_event ev = {.events = events, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

/* Returns -1 when the peer is gone. */
static int flush(int fd) {
    conn *c = conn_for(fd);
    while (c->owed > 0) {
        size_t room = sizeof answers - c->offset;
        size_t n = c->owed < room ? c->owed : room;
        ssize_t w = write(fd, answers + c->offset, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                /* A client that does not read stops being read from. */
                if (!c->writing) watch(fd, EPOLLOUT);
                c->writing = 1;
                return 0;
            }
            return -1;
        }
        c->owed -= (size_t)w;
        c->offset = (c->offset + (size_t)w) % ANSWER_LEN;
    }
    if (c->writing) watch(fd, EPOLLIN);
    c->writing = 0;
    return 0;
}

static void readable(int fd) {
    static char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) return drop(fd);
    size_t lines = 0;
    for (char *p = buf, *end = buf + n; (p = memchr(p, '\n', (size_t)(end - p))); p++) lines++;
    conn_for(fd)->owed += lines * ANSWER_LEN;
    if (flush(fd) < 0) drop(fd);
}

int main(int argc, char **argv) {
    if (argc != 2 || argv[1][0] == '-') { /* not a socket named "--help" */
        fprintf(stderr, "usage: baseline SOCKET-PATH\n");
        return 64;
    }
    /* A client closing with answers unread must not end the server. */
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < COPIES; i++) memcpy(answers + i * ANSWER_LEN, answer, ANSWER_LEN);

    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(argv[1]) >= sizeof addr.sun_path) {
        fprintf(stderr, "baseline: socket path too long\n");
        return 64;
    }
    strcpy(addr.sun_path, argv[1]);
    unlink(argv[1]);
    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    /* Same backlog as Berth's plugin sockets. */
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 1024) < 0) {
        perror("baseline: listen");
        return 1;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = listener};
    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);

    struct epoll_event events[128];
    for (;;) {
        int n = epoll_wait(ep, events, 128, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { perror("epoll_wait"); return 1; }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == listener) {
                int client;
                while ((client = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    conn_for(client);
                    struct epoll_event cev = {.events = EPOLLIN, .data.fd = client};
                    epoll_ctl(ep, EPOLL_CTL_ADD, client, &cev);
                }
            } else if (conn_for(fd)->writing) {
                if (events[i].events & (EPOLLERR | EPOLLHUP) || flush(fd) < 0) drop(fd);
            } else {
                readable(fd);
            }
        }
    }
}
