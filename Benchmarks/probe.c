/* probe: how long until every socket answers a request with MATCH.
 *
 *   probe [-k PID] [-a EPOCH] [-m MATCH] [-t TIMEOUT] [-i POLL_MS] -r LINE SOCK...
 *
 *   -k PID    send SIGHUP to PID, and time from that moment (reload)
 *   -a EPOCH  time from this wall-clock instant, e.g. bash's $EPOCHREALTIME
 *             taken just before `berth serve &` (start-up)
 *   -m MATCH  text the answer must contain (default "status":200)
 *
 * Polls the sockets with one-shot requests (connect, send, read one line,
 * close) until each has answered with MATCH, and prints ms=... for when the
 * last one did, and answered=K/N. A request that connects waits for its
 * answer: an accepted socket with no worker behind it yet is "not
 * answering", not an error. Exit status 1 when some socket did not answer
 * within the timeout (ms is then when the last of the others did).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char last[512];

static int usage(void) {
    fprintf(stderr, "usage: probe [-k PID] [-a EPOCH] [-m MATCH] [-t TIMEOUT] [-i POLL_MS] -r LINE SOCK...\n");
    return 64;
}

/* One request; 1 when the answer contains match. */
static int ask(const char *path, const char *line, const char *match, double deadline) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        snprintf(last, sizeof last, "connect %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return 0;
    }
    size_t len = strlen(line);
    int ok = write(fd, line, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
    size_t got = 0;
    last[0] = 0;
    while (ok && got < sizeof last - 1 && !memchr(last, '\n', got)) {
        int wait_ms = (int)((deadline - wall()) * 1000);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (wait_ms <= 0 || poll(&p, 1, wait_ms) <= 0) {
            snprintf(last, sizeof last, "%s: no answer", path);
            ok = 0;
            break;
        }
        ssize_t n = read(fd, last + got, sizeof last - 1 - got);
        if (n <= 0) {
            ok = 0;
            break;
        }
        got += (size_t)n;
        last[got] = 0;
    }
    close(fd);
    return ok && strstr(last, match) != NULL;
}

int main(int argc, char **argv) {
    const char *line = NULL, *match = "\"status\":200";
    double since = 0, timeout = 30, poll_ms = 0.5;
    pid_t pid = 0;
    int ch;
    while ((ch = getopt(argc, argv, "k:a:m:t:i:r:")) != -1) {
        switch (ch) {
        case 'k': pid = atoi(optarg); break;
        case 'a': since = atof(optarg); break;
        case 'm': match = optarg; break;
        case 't': timeout = atof(optarg); break;
        case 'i': poll_ms = atof(optarg); break;
        case 'r': line = optarg; break;
        default: return usage();
        }
    }
    if (!line || optind >= argc) return usage();
    signal(SIGPIPE, SIG_IGN);

    double t0 = since > 0 ? since : wall();
    if (pid > 0) {
        t0 = wall();
        if (kill(pid, SIGHUP) < 0) {
            perror("probe: kill");
            return 1;
        }
    }
    double deadline = wall() + timeout, last_answer = t0;
    int count = argc - optind, answered = 0;
    char *done = calloc((size_t)count, 1);
    /* Round-robin, so one socket that never answers (a plugin that failed
     * to load) still lets the others be timed. */
    while (answered < count && wall() < deadline) {
        for (int i = 0; i < count; i++) {
            if (done[i] || !ask(argv[optind + i], line, match, deadline)) continue;
            done[i] = 1;
            answered++;
            last_answer = wall();
        }
        /* Sleeping between polls leaves the CPU to what is being timed. */
        struct timespec pause = {0, (long)(poll_ms * 1e6)};
        if (answered < count) nanosleep(&pause, NULL);
    }
    for (int i = 0; i < count; i++) {
        if (!done[i]) fprintf(stderr, "probe: %s did not answer with %s within %.0f s\n", argv[optind + i], match, timeout);
    }
    if (answered < count) fprintf(stderr, "probe: last: %s\n", last);
    printf("ms=%.2f answered=%d/%d\n", (last_answer - t0) * 1000, answered, count);
    return answered == count ? 0 : 1;
}
