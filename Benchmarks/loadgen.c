/* loadgen: closed-loop load on an AF_UNIX socket speaking one JSON line per
 * request. Single-threaded epoll, so on a 2-core machine it takes one core
 * and leaves the other to the server. It batches like the servers do (one
 * read, then one write that refills every answered slot), so that it can keep
 * up with the baseline; server_cpu (-p) shows whether it did. Latency runs
 * from the write of a request (one-shot: from its connect) to its answer.
 *
 *   loadgen -s SOCK (-w L1|L16|P16|O16 | -c CONNS -d DEPTH [-o])
 *           [-t SECONDS] [-W WARMUP] (-r LINE | -f FILE) [-m MATCH] [-p PID]...
 *
 *   -o      one-shot clients: connect, one request, read the answer, close
 *   -m      text every good answer contains (default "status":200)
 *   -p      a server process: its CPU use per second joins the result, to
 *           tell a server-bound run from a client-bound one
 *
 * Prints one line: rps p50_us p99_us max_us requests errors busy secs cpu
 * (this process) server_cpu (the -p processes; all on one core is 1.00).
 * Throughput and latency count only after the warm-up; errors count over the
 * whole run: failed connects, resets, closes before an answer, answers
 * without MATCH. SIGTERM or SIGINT ends the run early and still prints
 * (the reload benchmark runs a load until the reloads are over).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define HEAD 256          /* bytes of an answer kept to look for MATCH */
#define BACKOFF_NS 1000000 /* after an error, so a dead server is not spun on */

typedef struct {
    int fd;                 /* -1: not connected */
    int inflight;           /* requests written or queued, not yet answered */
    size_t unsent;          /* queued request bytes not yet written */
    size_t offset;          /* position within one request of the next byte */
    int want_out;           /* registered for EPOLLOUT */
    uint64_t *stamps;       /* ring of send times, one per request in flight */
    int ring_head;
    char head[HEAD];        /* start of the answer being read */
    int head_len;
    uint64_t retry_at;      /* not connected until then (0: now) */
} conn;

static struct {
    const char *sock;
    int conns, depth, oneshot;
    double seconds, warmup;
    char *line;
    size_t line_len;
    const char *match;
} opt = {.conns = 1, .depth = 1, .seconds = 5, .warmup = 1, .match = "\"status\":200"};

static char *pattern;     /* the request repeated: any run of requests is one write */
static size_t pattern_len;
static struct sockaddr_un addr;
static int ep;
static conn *conns;
static volatile sig_atomic_t stop;

static int measuring;
static uint64_t answered, errors, busy;
/* Log-linear latency histogram in ns: exact below 128, then 64 buckets per
 * power of two (about 1.6% resolution). */
#define BUCKETS 4096
static uint64_t hist[BUCKETS];
static uint64_t max_ns;

static pid_t servers[8];
static int server_count;

/* CPU seconds the -p processes have used so far (all their threads). */
static double server_seconds(void) {
    double total = 0;
    for (int i = 0; i < server_count; i++) {
        char path[64], text[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)servers[i]);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[n] = 0;
        /* The name in parentheses may hold spaces; fields 14 and 15 follow it. */
        char *after = strrchr(text, ')');
        unsigned long long user, system;
        if (after && sscanf(after + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &user, &system) == 2)
            total += (double)(user + system) / (double)sysconf(_SC_CLK_TCK);
    }
    return total;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int bucket_of(uint64_t v) {
    if (v < 128) return (int)v;
    int shift = 63 - __builtin_clzll(v) - 6;
    int b = 64 * shift + (int)(v >> shift);
    return b < BUCKETS ? b : BUCKETS - 1;
}

static double value_of(int b) {
    if (b < 128) return b;
    int shift = b / 64 - 1;
    uint64_t low = (uint64_t)(b - 64 * shift) << shift;
    return (double)low + (double)(1ull << shift) / 2;
}

static double percentile(double p) {
    uint64_t total = 0, seen = 0;
    for (int b = 0; b < BUCKETS; b++) total += hist[b];
    if (total == 0) return 0;
    uint64_t rank = (uint64_t)(p * (double)total);
    if (rank >= total) rank = total - 1;
    for (int b = 0; b < BUCKETS; b++) {
        seen += hist[b];
        if (seen > rank) return value_of(b);
    }
    return 0;
}

static void record(uint64_t ns) {
    if (!measuring) return;
    answered++;
    hist[bucket_of(ns)]++;
    if (ns > max_ns) max_ns = ns;
}

static void set_events(conn *c, int out) {
    struct epoll_event ev = {.events = out ? EPOLLOUT | EPOLLIN : EPOLLIN, .data.u32 = (uint32_t)(c - conns)};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = out;
}

static void disconnect(conn *c, uint64_t now, int failed) {
    /* A request the server never answered failed, even if it was only queued. */
    errors += (uint64_t)(failed ? (c->inflight > 0 ? c->inflight : 1) : 0);
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    c->inflight = 0;
    c->unsent = 0;
    c->offset = 0;
    c->want_out = 0;
    c->head_len = 0;
    c->retry_at = failed ? now + BACKOFF_NS : 0;
}

/* Writes queued bytes; returns -1 when the connection broke. */
static int flush(conn *c) {
    while (c->unsent > 0) {
        size_t room = pattern_len - c->offset;
        ssize_t w = write(c->fd, pattern + c->offset, c->unsent < room ? c->unsent : room);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                if (!c->want_out) set_events(c, 1);
                return 0;
            }
            return -1;
        }
        c->unsent -= (size_t)w;
        c->offset = (c->offset + (size_t)w) % opt.line_len;
    }
    if (c->want_out) set_events(c, 0);
    return 0;
}

/* Fills every free slot of the connection's depth with a new request. */
static void refill(conn *c, uint64_t now) {
    while (c->inflight < opt.depth) {
        c->stamps[(c->ring_head + c->inflight) % opt.depth] = now;
        c->inflight++;
        c->unsent += opt.line_len;
    }
    if (flush(c) < 0) disconnect(c, now, 1);
}

static void start(conn *c, uint64_t now) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) { perror("socket"); exit(1); }
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        int why = errno;
        close(fd);
        /* A full backlog: a blocking client would wait, so this is no failure. */
        if (why == EAGAIN) {
            busy++;
            c->retry_at = now;
        } else {
            c->fd = -1;
            disconnect(c, now, 1);
        }
        return;
    }
    c->fd = fd;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)(c - conns)};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    c->retry_at = 0;
    c->ring_head = 0;
    refill(c, now);
}

/* The first good answer's bytes up to the end of MATCH. A later answer that
 * starts with them is good without a search: a pipelined baseline answers
 * millions of lines a second, and checking them must not cost more than
 * serving them. */
static char good_prefix[HEAD];
static size_t good_prefix_len;

static int is_good(const char *line, size_t len) {
    if (good_prefix_len && len >= good_prefix_len && !memcmp(line, good_prefix, good_prefix_len)) return 1;
    size_t match_len = strlen(opt.match);
    const char *hit = memmem(line, len < HEAD ? len : HEAD, opt.match, match_len);
    if (!hit) return 0;
    if (!good_prefix_len) {
        good_prefix_len = (size_t)(hit - line) + match_len;
        memcpy(good_prefix, line, good_prefix_len);
    }
    return 1;
}

static void answer_done(conn *c, const char *line, size_t len, uint64_t now) {
    if (c->inflight == 0) {
        /* More answers than requests: the server is broken. */
        errors++;
        return;
    }
    if (is_good(line, len)) {
        record(now - c->stamps[c->ring_head]);
    } else {
        errors++;
        if (errors <= 3) fprintf(stderr, "loadgen: unexpected answer: %.*s\n", (int)(len < HEAD ? len : HEAD), line);
    }
    c->ring_head = (c->ring_head + 1) % opt.depth;
    c->inflight--;
}

/* Appends to the start of an answer split across reads. */
static void keep_head(conn *c, const char *p, size_t n) {
    size_t room = (size_t)(HEAD - c->head_len);
    if (n > room) n = room;
    memcpy(c->head + c->head_len, p, n);
    c->head_len += (int)n;
}

static void readable(conn *c) {
    static char buf[65536];
    ssize_t n = read(c->fd, buf, sizeof buf);
    uint64_t now = now_ns();
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) return disconnect(c, now, 1);
    char *p = buf, *end = buf + n;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            keep_head(c, p, (size_t)(end - p));
            break;
        }
        if (c->head_len > 0) {
            keep_head(c, p, (size_t)(nl - p));
            answer_done(c, c->head, (size_t)c->head_len, now);
            c->head_len = 0;
        } else {
            answer_done(c, p, (size_t)(nl - p), now);
        }
        p = nl + 1;
        if (opt.oneshot) {
            disconnect(c, now, 0);
            start(c, now);
            return;
        }
    }
    refill(c, now);
}

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

static int usage(void) {
    fprintf(stderr, "usage: loadgen -s SOCK (-w L1|L16|P16|O16 | -c CONNS -d DEPTH [-o]) [-t SECONDS] [-W WARMUP]\n"
                    "               (-r LINE | -f FILE) [-m MATCH] [-p PID]...\n");
    return 64;
}

static int workload(const char *w) {
    if (!strcmp(w, "L1")) opt.conns = 1, opt.depth = 1;
    else if (!strcmp(w, "L16")) opt.conns = 16, opt.depth = 1;
    else if (!strcmp(w, "P16")) opt.conns = 16, opt.depth = 32;
    else if (!strcmp(w, "O16")) opt.conns = 16, opt.depth = 1, opt.oneshot = 1;
    else return -1;
    return 0;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    return strdup(text);
}

int main(int argc, char **argv) {
    int ch;
    while ((ch = getopt(argc, argv, "s:w:c:d:ot:W:r:f:m:p:")) != -1) {
        switch (ch) {
        case 's': opt.sock = optarg; break;
        case 'w': if (workload(optarg) < 0) return usage(); break;
        case 'c': opt.conns = atoi(optarg); break;
        case 'd': opt.depth = atoi(optarg); break;
        case 'o': opt.oneshot = 1; break;
        case 't': opt.seconds = atof(optarg); break;
        case 'W': opt.warmup = atof(optarg); break;
        case 'r': opt.line = strdup(optarg); break;
        case 'f': opt.line = read_file(optarg); break;
        case 'm': opt.match = optarg; break;
        case 'p': if (server_count < 8) servers[server_count++] = atoi(optarg); break;
        default: return usage();
        }
    }
    if (!opt.sock || !opt.line || opt.conns < 1 || opt.depth < 1 || (opt.oneshot && opt.depth != 1)) return usage();
    if (strlen(opt.sock) >= sizeof addr.sun_path) {
        fprintf(stderr, "loadgen: socket path too long\n");
        return 64;
    }
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, opt.sock);

    /* The request is one line: exactly one '\n', at the end. */
    size_t len = strcspn(opt.line, "\n");
    opt.line[len] = '\n';
    opt.line_len = len + 1;
    size_t copies = (size_t)opt.depth + 1;
    while (copies * opt.line_len < 65536) copies++;
    pattern_len = copies * opt.line_len;
    pattern = malloc(pattern_len);
    for (size_t i = 0; i < copies; i++) memcpy(pattern + i * opt.line_len, opt.line, opt.line_len);

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    ep = epoll_create1(EPOLL_CLOEXEC);
    conns = calloc((size_t)opt.conns, sizeof *conns);
    uint64_t t0 = now_ns();
    for (int i = 0; i < opt.conns; i++) {
        conns[i].fd = -1;
        conns[i].stamps = calloc((size_t)opt.depth, sizeof(uint64_t));
        start(&conns[i], t0);
    }

    uint64_t measure_from = t0 + (uint64_t)(opt.warmup * 1e9);
    uint64_t end = measure_from + (uint64_t)(opt.seconds * 1e9);
    measuring = opt.warmup <= 0;
    uint64_t measured_at = measuring ? t0 : 0;
    struct rusage ru0;
    getrusage(RUSAGE_SELF, &ru0);
    double server0 = server_seconds();
    struct epoll_event events[256];
    uint64_t now = t0;
    while (!stop && now < end) {
        int waiting = 0;
        for (int i = 0; i < opt.conns; i++) {
            if (conns[i].fd < 0 && conns[i].retry_at <= now) start(&conns[i], now);
            if (conns[i].fd < 0) waiting = 1;
        }
        int timeout = waiting ? 1 : 50;
        int n = epoll_wait(ep, events, 256, timeout);
        if (n < 0 && errno != EINTR) { perror("epoll_wait"); return 1; }
        for (int i = 0; i < n; i++) {
            conn *c = &conns[events[i].data.u32];
            if (c->fd < 0) continue;
            if (events[i].events & EPOLLOUT && flush(c) < 0) {
                disconnect(c, now_ns(), 1);
                continue;
            }
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) readable(c);
        }
        now = now_ns();
        if (!measuring && now >= measure_from) {
            measuring = 1;
            measured_at = now;
            getrusage(RUSAGE_SELF, &ru0);
            server0 = server_seconds();
        }
    }
    now = now_ns();
    struct rusage ru1;
    getrusage(RUSAGE_SELF, &ru1);
    double server = server_seconds() - server0;
    double secs = measuring ? (double)(now - measured_at) / 1e9 : 0;
    double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec)
               + (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    printf("rps=%.0f p50_us=%.1f p99_us=%.1f max_us=%.1f requests=%llu errors=%llu busy=%llu secs=%.3f cpu=%.2f",
           secs > 0 ? (double)answered / secs : 0, percentile(0.50) / 1e3, percentile(0.99) / 1e3, (double)max_ns / 1e3,
           (unsigned long long)answered, (unsigned long long)errors, (unsigned long long)busy, secs,
           secs > 0 ? cpu / secs : 0);
    if (server_count > 0) printf(" server_cpu=%.2f", secs > 0 ? server / secs : 0);
    printf("\n");
    return 0;
}
