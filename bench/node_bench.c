/* bench/node_bench.c — liaison-node-bench: a load generator for the node.
 *
 * Starts a real node (`liaison serve --demo --data-dir TMP/data --listen
 * 127.0.0.1:0`), takes the demo users' tokens from
 * TMP/data/demo-credentials.json and measures, on loopback only:
 *
 *   1. durable posts/s with C concurrent posters, each on its own keep-alive
 *      connection (a post is acknowledged, 201, only once it is committed);
 *   2. reads/s: GET a channel's items (limit 50) by readers of every demo
 *      clearance;
 *   3. stream deliveries/s: S SSE subscribers (the demo users cycled, so
 *      their clearances are mixed) while posters post at --stream-rate
 *      (4,000/s; 0: flat out); a delivery is an event read by a subscriber. The
 *      node ends a stream that falls 4,096 events behind: such streams
 *      are counted and printed, for a figure is honest only without them;
 *   4. post-to-delivery latency (p50, p99, max) at a steady R posts/s: each
 *      body carries its send time, each subscriber records its receive time.
 *
 * Each figure is the median of several runs; the parameters are printed.
 * Every loop is bounded in count and in time; the node is stopped with
 * SIGTERM at the end. Not a test: a measurement (docs/PERFORMANCE.md).
 *
 *   liaison-node-bench [--liaison PATH] [--seconds S] [--runs N]
 *                      [--posters C[,C...]] [--readers N] [--subscribers N]
 *                      [--rate R] [--pacers N] [--latency-seconds S]
 *                      [--stream-rate R] [--node-threads N] [--store URI] [--users N]
 *                      [--processes N] [--keep]
 *
 * --store URI gives the node that store (e.g. postgresql://...: an empty
 * database; the node's key then goes in TMP/data).
 * --processes N (1-4; needs a --store several processes can share, i.e.
 * PostgreSQL): N `liaison serve` on one data directory and one store, started
 * one after the other (the first seeds the demo); worker and subscriber i
 * talk to process i mod N, and the node CPU figures are the sum of all N.
 * --users N: readers and subscribers cycle the first N demo users only (the
 * demo has gained users since the morning's node: with the same 8, both
 * nodes deliver the same share of posts to the same subscribers).
 *
 * HTTP is spoken over raw blocking sockets (one per worker thread, HTTP/1.1
 * keep-alive, Content-Length framing) and the stream is read by one epoll
 * thread: far cheaper than a client library, so that the load generator
 * takes as little as possible of the CPU it shares with the node. */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#ifndef NODE_BENCH_DEFAULT_LIAISON
#define NODE_BENCH_DEFAULT_LIAISON "liaison"
#endif

#define MAX_RUNS 15
#define MAX_WORKERS 1024
#define MAX_SUBS 2048
#define MAX_USERS 64
#define MAX_NODES 4
#define CONN_BUF 65536
#define POST_CHANNEL "cyber-defence"
/* The author of every post: the demo's NATO staff officer cleared TOP
 * SECRET, so that all three labels below are within her clearance. */
#define POSTER_USER "ingrid.halvorsen"

/* Three labels cycled by the posters, so that the subscribers' filters
 * (mixed clearances) accept some events and refuse others: releasable to
 * every demo nation, releasable to NATO and the AP4, NATO only. */
static const char *const labels[] = {
    "{\"policy\":\"NATO\",\"classification\":\"UNCLASSIFIED\",\"categories\":["
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\",\"KOR\",\"AUS\","
    "\"NZL\",\"FRA\",\"DNK\"]}]}",
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"AUS\",\"JPN\",\"KOR\","
    "\"NZL\"]}]}",
    "{\"policy\":\"NATO\",\"classification\":\"SECRET\",\"categories\":["
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\"]}]}",
};
#define NLABELS (sizeof labels / sizeof labels[0])

/* ---- options and shared state ------------------------------------------ */

typedef struct options {
    const char *liaison;
    double seconds;         /* length of one throughput run */
    int runs;
    int posters[8];
    int nposters;
    int readers;
    int subscribers;
    int rate;               /* posts/s of the latency phase */
    int stream_rate;        /* posts/s of the stream phase (0: flat out) */
    int users;              /* readers and subscribers cycle the first N (0: all) */
    double latency_seconds; /* length of one latency run */
    int pacers;             /* connections that share the steady rate */
    const char *node_threads; /* the node's --threads (NULL: its default) */
    const char *store;        /* the node's --store (NULL: its default) */
    int processes;          /* node processes on that store */
    bool keep;              /* keep the data directory */
} options;

static options opt;
static int node_ports[MAX_NODES];
static pid_t node_pids[MAX_NODES] = {-1, -1, -1, -1};
static int nnodes;
static char tmp_dir[256];
static char *tokens[MAX_USERS], *users[MAX_USERS];
static int nusers;
static const char *poster_token;

static unsigned long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (unsigned long)t.tv_sec * 1000000000ul + (unsigned long)t.tv_nsec;
}

static double now_s(void)
{
    return (double)now_ns() / 1e9;
}

static void sleep_ns(unsigned long ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000ul), (long)(ns % 1000000000ul)};
    nanosleep(&ts, NULL);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_ul(const void *a, const void *b)
{
    unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- the node ------------------------------------------------------------ */

/* Start the node with its output in TMP/node.log and wait (at most 120 s:
 * seeding the demo) for its "listening on" line, which names the port. */
static bool node_start(int k)
{
    char data[300], log[300];
    snprintf(data, sizeof data, "%s/data", tmp_dir);
    if (k == 0)
        snprintf(log, sizeof log, "%s/node.log", tmp_dir);
    else
        snprintf(log, sizeof log, "%s/node-%d.log", tmp_dir, k + 1);
    pid_t node_pid = fork();
    int node_port = 0;
    if (node_pid < 0)
        return false;
    if (node_pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        char *argv[20] = {(char *)opt.liaison, "serve", "--demo", "--data-dir", data,
                          "--listen", "127.0.0.1:0", "--max-connections", "4096",
                          /* every client is 127.0.0.1; no fixed metrics port */
                          "--per-address-connections", "0", "--metrics-listen", "none"};
        int a = 13;
        if (opt.node_threads) {
            argv[a++] = "--threads";
            argv[a++] = (char *)opt.node_threads;
        }
        if (opt.store) {
            argv[a++] = "--store";
            argv[a++] = (char *)opt.store;
        }
        argv[a] = NULL;
        execv(opt.liaison, argv);
        _exit(127);
    }
    static const char key[] = "listening on http://127.0.0.1:";
    for (int i = 0; i < 1200 && !node_port; i++) {
        usleep(100000);
        FILE *f = fopen(log, "r");
        char line[1024];
        while (f && fgets(line, sizeof line, f)) {
            char *l = strstr(line, key);
            if (l)
                node_port = (int)strtol(l + strlen(key), NULL, 10);
        }
        if (f)
            fclose(f);
        if (waitpid(node_pid, NULL, WNOHANG) == node_pid) {
            node_pid = -1;
            break;
        }
    }
    node_pids[k] = node_pid;
    node_ports[k] = node_port;
    nnodes = k + 1;
    return node_port > 0;
}

/* SIGTERM, then wait at most 60 s for process k to finish (SIGKILL after). */
static int node_stop_one(int k)
{
    int status = -1;
    if (node_pids[k] <= 0)
        return -1;
    kill(node_pids[k], SIGTERM);
    for (int i = 0; i < 600; i++) {
        if (waitpid(node_pids[k], &status, WNOHANG) == node_pids[k]) {
            node_pids[k] = -1;
            return status;
        }
        usleep(100000);
    }
    kill(node_pids[k], SIGKILL);
    waitpid(node_pids[k], &status, 0);
    node_pids[k] = -1;
    return status;
}

/* Stop every process; the first status that is not a clean exit, or 0. */
static int node_stop(void)
{
    int worst = 0;
    for (int k = 0; k < nnodes; k++) {
        int st = node_stop_one(k);
        if (worst == 0 && st != 0)
            worst = st;
    }
    return worst;
}

/* Process k's CPU time so far (user + system, all threads), in seconds,
 * from /proc; 0 when it cannot be read. */
static double node_cpu_one_s(pid_t node_pid)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)node_pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    /* fields after the command (which may hold spaces): from the last ')' */
    char *p = strrchr(line, ')');
    unsigned long ut = 0, st = 0;
    for (int field = 3; p && field <= 15; field++) {
        p = strchr(p + 1, ' ');
        if (p && field == 14)
            ut = strtoul(p + 1, NULL, 10);
        if (p && field == 15)
            st = strtoul(p + 1, NULL, 10);
    }
    long hz = sysconf(_SC_CLK_TCK);
    return hz > 0 ? (double)(ut + st) / (double)hz : 0;
}

/* The CPU time of every node process together. */
static double node_cpu_s(void)
{
    double t = 0;
    for (int k = 0; k < nnodes; k++)
        t += node_cpu_one_s(node_pids[k]);
    return t;
}

static bool load_tokens(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/data/demo-credentials.json", tmp_dir);
    json_error_t je;
    json_t *a = json_load_file(path, 0, &je);
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        const char *u = json_string_value(json_object_get(v, "user"));
        const char *t = json_string_value(json_object_get(v, "token"));
        if (!u || !t || nusers >= MAX_USERS)
            continue;
        users[nusers] = strdup(u);
        tokens[nusers] = strdup(t);
        if (!strcmp(u, POSTER_USER))
            poster_token = tokens[nusers];
        nusers++;
    }
    json_decref(a);
    if (opt.users > 0 && opt.users < nusers)
        nusers = opt.users; /* the poster's token is kept whatever its place */
    return nusers > 0 && poster_token;
}

/* ---- a keep-alive HTTP/1.1 client connection ---------------------------- */

typedef struct conn {
    int fd;
    int node; /* the process it talks to, mod nnodes */
    size_t have;
    char buf[CONN_BUF];
} conn;

static int connect_node(int which)
{
    int node_port = node_ports[which % nnodes];
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {30, 0}; /* no request waits longer */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)node_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Send one request and read its response; the body is discarded. Returns
 * the status, or -1 when the connection failed (it is then closed, and
 * reopened by the next call). Only Content-Length framing is expected: the
 * node answers API requests from a buffer. */
static int roundtrip(conn *c, const char *req, size_t len)
{
    if (c->fd < 0) {
        c->fd = connect_node(c->node);
        c->have = 0;
        if (c->fd < 0)
            return -1;
    }
    if (!send_all(c->fd, req, len))
        goto fail;
    char *end = NULL;
    while (!(end = memmem(c->buf, c->have, "\r\n\r\n", 4))) {
        if (c->have >= sizeof c->buf - 1)
            goto fail;
        ssize_t r = recv(c->fd, c->buf + c->have, sizeof c->buf - 1 - c->have, 0);
        if (r <= 0)
            goto fail;
        c->have += (size_t)r;
    }
    *end = '\0';
    int status = 0;
    if (strncmp(c->buf, "HTTP/1.1 ", 9) != 0)
        goto fail;
    status = (int)strtol(c->buf + 9, NULL, 10);
    unsigned long body = 0;
    bool close_after = false;
    for (char *l = strstr(c->buf, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
        if (!strncasecmp(l + 2, "Content-Length:", 15))
            body = strtoul(l + 17, NULL, 10);
        else if (!strncasecmp(l + 2, "Connection: close", 17))
            close_after = true;
    }
    size_t head = (size_t)(end - c->buf) + 4;
    size_t in_buf = c->have - head;
    if (in_buf >= body) {
        /* nothing pipelined: the rest of the buffer is this body */
        c->have = 0;
    } else {
        unsigned long left = body - in_buf;
        c->have = 0;
        while (left) {
            ssize_t r = recv(c->fd, c->buf, left < sizeof c->buf ? left : sizeof c->buf, 0);
            if (r <= 0)
                goto fail;
            left -= (unsigned long)r;
        }
    }
    if (close_after) {
        close(c->fd);
        c->fd = -1;
    }
    return status;
fail:
    close(c->fd);
    c->fd = -1;
    c->have = 0;
    return -1;
}

/* ---- workers: posters and readers --------------------------------------- */

enum { W_POST, W_READ };

typedef struct worker {
    pthread_t t;
    int id;
    int kind;
    int nworkers;
    double deadline;        /* wall clock end (monotonic seconds) */
    unsigned long start_ns; /* paced mode: the first slot */
    long rate;              /* paced mode: posts/s over all workers (0: flat out) */
    long cap;               /* bound on operations per worker */
    long ok, failed;
    long late;              /* paced: posts sent more than 1 ms after their slot */
    conn *c;
} worker;

static pthread_barrier_t start_gate;

static int post_request(char *req, size_t cap, long seq, unsigned long ts)
{
    char body[1024];
    int bl = snprintf(body, sizeof body,
                      "{\"label\":%s,\"body\":\"bench-ts:%lu liaison-node-bench post %ld\"}",
                      labels[(unsigned long)seq % NLABELS], ts, seq);
    return snprintf(req, cap,
                    "POST /api/v1/channels/" POST_CHANNEL "/items HTTP/1.1\r\n"
                    "Host: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                    "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                    poster_token, bl, body);
}

static void *work(void *arg)
{
    worker *w = arg;
    char req[4096];
    pthread_barrier_wait(&start_gate);
    for (long i = 0; i < w->cap && now_s() < w->deadline; i++) {
        int n, want;
        if (w->kind == W_POST) {
            long seq = (long)w->id + i * w->nworkers;
            if (w->rate) {
                /* steady pace: slot seq of the whole schedule */
                unsigned long due = w->start_ns + (unsigned long)((double)seq * 1e9 /
                                                                  (double)w->rate);
                unsigned long t = now_ns();
                if (due > t)
                    sleep_ns(due - t);
                else if (t - due > 1000000ul)
                    w->late++;
                if (now_s() >= w->deadline)
                    break;
            }
            n = post_request(req, sizeof req, seq, now_ns());
            want = 201;
        } else {
            const char *tok = tokens[(w->id + (int)i) % nusers];
            n = snprintf(req, sizeof req,
                         "GET /api/v1/channels/" POST_CHANNEL "/items?limit=50 HTTP/1.1\r\n"
                         "Host: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n", tok);
            want = 200;
        }
        if (n <= 0 || (size_t)n >= sizeof req)
            break;
        int st = roundtrip(w->c, req, (size_t)n);
        if (st == want)
            w->ok++;
        else if (++w->failed > 1000)
            break; /* the node is not answering: stop, the figure will say so */
    }
    return NULL;
}

typedef struct run_result {
    long ok, failed, late;
    double elapsed;
} run_result;

/* Run N workers of one kind for `seconds` (or at `rate`), each bounded to
 * `cap` operations; the rate is completed operations over the time from
 * the start to the last worker's end. */
static run_result run_workers(int kind, int n, double seconds, long rate)
{
    run_result r = {0};
    worker *ws = calloc((size_t)n, sizeof *ws);
    if (!ws)
        return r;
    pthread_barrier_init(&start_gate, NULL, (unsigned)n + 1);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    double t0 = now_s() + 0.05;
    int started = 0;
    for (int i = 0; i < n; i++) {
        ws[i] = (worker){.id = i, .kind = kind, .nworkers = n, .deadline = t0 + seconds,
                         .rate = rate, .cap = 10000000, .c = malloc(sizeof(conn))};
        if (!ws[i].c)
            break;
        ws[i].c->fd = -1;
        ws[i].c->have = 0;
        ws[i].c->node = i;
        /* connect before the clock starts, so that the run measures requests */
        ws[i].c->fd = connect_node(i);
        if (pthread_create(&ws[i].t, &attr, work, &ws[i]) != 0)
            break;
        started++;
    }
    if (started < n) {
        fprintf(stderr, "node-bench: could only start %d of %d workers\n", started, n);
        exit(1);
    }
    unsigned long s0 = now_ns();
    for (int i = 0; i < n; i++)
        ws[i].start_ns = s0 + 20000000ul; /* paced slots start 20 ms later */
    t0 = now_s();
    for (int i = 0; i < n; i++)
        ws[i].deadline = t0 + seconds;
    pthread_barrier_wait(&start_gate);
    for (int i = 0; i < n; i++) {
        pthread_join(ws[i].t, NULL);
        r.ok += ws[i].ok;
        r.failed += ws[i].failed;
        r.late += ws[i].late;
        if (ws[i].c->fd >= 0)
            close(ws[i].c->fd);
        free(ws[i].c);
    }
    r.elapsed = now_s() - t0;
    pthread_attr_destroy(&attr);
    pthread_barrier_destroy(&start_gate);
    free(ws);
    return r;
}

/* ---- stream subscribers ------------------------------------------------- */

/* Per subscriber socket, touched only by the drain thread: undo the
 * chunked framing, count "data: " (one per event), and read the send time
 * after "bench-ts:" in the body. */
typedef struct sub_state {
    int fd;
    int in_body, have_size, match, tsmatch, in_ts, ended;
    unsigned long head, size, chunk_left, ts;
} sub_state;

static sub_state subs[MAX_SUBS];
static int nsubs;
static int sub_ep = -1;
static _Atomic long delivered;
static _Atomic unsigned long last_delivery_ns;
static _Atomic int subs_open;     /* subscribers whose response head arrived */
static _Atomic int subs_ended;    /* streams the node ended (a subscriber that
                                   * fell behind its queue is dropped) */
static _Atomic int drain_stop;
static _Atomic int record_latency;
static _Atomic unsigned long drain_cpu_ns; /* the drain thread's CPU time */
static unsigned long *lat;
static size_t nlat, maxlat;

static void sub_byte(sub_state *s, char ch, long *events)
{
    if (!s->in_body) {
        s->head = (s->head << 8) | (unsigned char)ch;
        if ((s->head & 0xffffffffu) == 0x0d0a0d0au) {
            s->in_body = 1;
            atomic_fetch_add(&subs_open, 1);
        }
        return;
    }
    if (s->chunk_left == 0) {
        /* size line "HEX\r\n", preceded by "\r\n" after a chunk */
        if (ch == '\n') {
            if (s->have_size && s->size == 0 && !s->ended) {
                /* the last chunk: the node ended this stream (the
                 * connection itself may stay open for keep-alive) */
                s->ended = 1;
                atomic_fetch_add(&subs_ended, 1);
            }
            if (s->have_size)
                s->chunk_left = s->size;
            s->size = 0;
            s->have_size = 0;
        } else if (ch != '\r') {
            int d = ch <= '9' ? ch - '0' : (ch | 32) - 'a' + 10;
            s->size = s->size * 16 + (unsigned long)(d & 15);
            s->have_size = 1;
        }
        return;
    }
    s->chunk_left--;
    if (s->in_ts) {
        if (ch >= '0' && ch <= '9') {
            s->ts = s->ts * 10 + (unsigned long)(ch - '0');
            return;
        }
        s->in_ts = 0;
        if (s->ts && atomic_load(&record_latency) && nlat < maxlat)
            lat[nlat++] = now_ns() - s->ts;
    }
    static const char data_pat[] = "data: ";
    if (ch == data_pat[s->match]) {
        if (++s->match == 6) {
            (*events)++;
            s->match = 0;
        }
    } else {
        s->match = ch == 'd';
    }
    static const char ts_pat[] = "bench-ts:";
    if (ch == ts_pat[s->tsmatch]) {
        if (++s->tsmatch == 9) {
            s->tsmatch = 0;
            s->in_ts = 1;
            s->ts = 0;
        }
    } else {
        s->tsmatch = ch == 'b';
    }
}

static void *drain(void *arg)
{
    (void)arg;
    static char buf[1 << 16];
    struct epoll_event ev[64];
    while (!atomic_load(&drain_stop)) {
        int n = epoll_wait(sub_ep, ev, 64, 100);
        for (int i = 0; i < n; i++) {
            sub_state *s = &subs[ev[i].data.u32];
            ssize_t r = recv(s->fd, buf, sizeof buf, MSG_DONTWAIT);
            if (r <= 0) {
                if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                    epoll_ctl(sub_ep, EPOLL_CTL_DEL, s->fd, NULL);
                    if (!s->ended) {
                        s->ended = 1;
                        atomic_fetch_add(&subs_ended, 1);
                    }
                }
                continue;
            }
            long events = 0;
            for (ssize_t k = 0; k < r; k++)
                sub_byte(s, buf[k], &events);
            if (events) {
                atomic_fetch_add(&delivered, events);
                atomic_store(&last_delivery_ns, now_ns());
            }
        }
        struct timespec cpu;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
        atomic_store(&drain_cpu_ns, (unsigned long)cpu.tv_sec * 1000000000ul +
                                        (unsigned long)cpu.tv_nsec);
    }
    return NULL;
}

static pthread_t drain_thread;
static bool drain_running;

/* Open the subscribers (demo users cycled) and wait, at most 10 s, until
 * every stream has answered with its head. */
static bool subs_start(int n)
{
    nsubs = 0;
    atomic_store(&subs_open, 0);
    atomic_store(&subs_ended, 0);
    atomic_store(&drain_stop, 0);
    sub_ep = epoll_create1(EPOLL_CLOEXEC);
    if (sub_ep < 0)
        return false;
    for (int i = 0; i < n; i++) {
        subs[i] = (sub_state){.fd = connect_node(i)};
        if (subs[i].fd < 0)
            return false;
        char req[512];
        int l = snprintf(req, sizeof req,
                         "GET /api/v1/stream?channel=" POST_CHANNEL " HTTP/1.1\r\n"
                         "Host: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                         "Authorization: Bearer %s\r\n\r\n", tokens[i % nusers]);
        if (!send_all(subs[i].fd, req, (size_t)l))
            return false;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(sub_ep, EPOLL_CTL_ADD, subs[i].fd, &ev);
        nsubs++;
    }
    if (pthread_create(&drain_thread, NULL, drain, NULL) != 0)
        return false;
    drain_running = true;
    for (int i = 0; i < 1000 && atomic_load(&subs_open) < n; i++)
        usleep(10000);
    usleep(200000); /* let the node register the last subscriptions */
    return atomic_load(&subs_open) == n;
}

static void subs_stop(void)
{
    atomic_store(&drain_stop, 1);
    if (drain_running)
        pthread_join(drain_thread, NULL);
    drain_running = false;
    for (int i = 0; i < nsubs; i++)
        close(subs[i].fd);
    nsubs = 0;
    close(sub_ep);
    sub_ep = -1;
}

/* Open a run's subscribers; on failure say so, count it and clean up. */
static bool subs_open_or_fail(int n, int *failures)
{
    if (subs_start(n))
        return true;
    fprintf(stderr, "node-bench: %d of %d subscribers opened\n", atomic_load(&subs_open), n);
    (*failures)++;
    if (sub_ep >= 0)
        subs_stop();
    return false;
}

/* Wait until no delivery has arrived for 500 ms (at most 120 s): a phase
 * that posts faster than the stream delivers leaves a backlog, which must
 * not spill into the next measurement. */
static void wait_quiet(void)
{
    unsigned long since = now_ns();
    for (int i = 0; i < 12000; i++) {
        unsigned long last = atomic_load(&last_delivery_ns);
        if (last < since)
            last = since; /* nothing delivered yet counts from the call */
        if (now_ns() - last > 500000000ul)
            return;
        usleep(10000);
    }
}

/* ---- the measurements --------------------------------------------------- */

static bool parse_args(int argc, char **argv)
{
    opt = (options){.liaison = NODE_BENCH_DEFAULT_LIAISON, .seconds = 5, .runs = 3,
                    .posters = {64, 256}, .nposters = 2, .readers = 32, .subscribers = 100,
                    .rate = 1000, .latency_seconds = 10, .pacers = 64,
                    /* Paced: flat out (0) the node now posts faster than one
                     * client thread reads 100 streams, and the node rightly
                     * ends the streams that fall behind. */
                    .stream_rate = 4000, .processes = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (!strcmp(a, "--keep")) {
            opt.keep = true;
            continue;
        }
        if (!v)
            return false;
        i++;
        errno = 0;
        if (!strcmp(a, "--liaison")) {
            opt.liaison = v;
            end = (char *)v + strlen(v);
        } else if (!strcmp(a, "--seconds")) {
            opt.seconds = strtod(v, &end);
        } else if (!strcmp(a, "--latency-seconds")) {
            opt.latency_seconds = strtod(v, &end);
        } else if (!strcmp(a, "--runs")) {
            opt.runs = (int)strtol(v, &end, 10);
        } else if (!strcmp(a, "--readers")) {
            opt.readers = (int)strtol(v, &end, 10);
        } else if (!strcmp(a, "--subscribers")) {
            opt.subscribers = (int)strtol(v, &end, 10);
        } else if (!strcmp(a, "--users")) {
            opt.users = (int)strtol(v, &end, 10);
        } else if (!strcmp(a, "--node-threads")) {
            opt.node_threads = v;
            end = (char *)v + strspn(v, "0123456789");
            if (end == v)
                return false;
        } else if (!strcmp(a, "--store")) {
            opt.store = v;
            end = (char *)v + strlen(v);
        } else if (!strcmp(a, "--processes")) {
            opt.processes = (int)strtol(v, &end, 10);
        } else if (!strcmp(a, "--pacers")) {
            opt.pacers = (int)strtol(v, &end, 10);
        } else if (!strcmp(a, "--rate")) {
            opt.rate = (int)strtol(v, &end, 10);
        } else if (!strcmp(a, "--stream-rate")) {
            opt.stream_rate = (int)strtol(v, &end, 10);
        } else if (!strcmp(a, "--posters")) {
            opt.nposters = 0;
            const char *p = v;
            while (*p && opt.nposters < 8) {
                opt.posters[opt.nposters] = (int)strtol(p, &end, 10);
                if (end == p || opt.posters[opt.nposters] < 1 ||
                    opt.posters[opt.nposters] > MAX_WORKERS)
                    return false;
                opt.nposters++;
                p = *end == ',' ? end + 1 : end;
                if (*end && *end != ',')
                    return false;
            }
            end = (char *)p;
        } else {
            return false;
        }
        if (errno || !end || *end)
            return false;
    }
    return opt.seconds > 0 && opt.seconds <= 600 && opt.latency_seconds > 0 &&
           opt.latency_seconds <= 600 && opt.runs >= 1 && opt.runs <= MAX_RUNS &&
           opt.readers >= 1 && opt.readers <= MAX_WORKERS && opt.subscribers >= 1 &&
           opt.subscribers <= MAX_SUBS && opt.rate >= 1 && opt.rate <= 100000 &&
           opt.stream_rate >= 0 && opt.stream_rate <= 100000 && opt.nposters >= 1 && opt.pacers >= 1 && opt.pacers <= MAX_WORKERS &&
           opt.processes >= 1 && opt.processes <= MAX_NODES;
}

static void print_runs(const char *what, const double *v, int n, const char *unit)
{
    double c[MAX_RUNS];
    printf("%-34s", what);
    for (int i = 0; i < n; i++) {
        printf(" %9.0f", v[i]);
        c[i] = v[i];
    }
    printf("   median %9.0f %s\n", median(c, n), unit);
}

int main(int argc, char **argv)
{
    if (!parse_args(argc, argv)) {
        fprintf(stderr,
                "usage: liaison-node-bench [--liaison PATH] [--seconds S] [--runs N]\n"
                "       [--posters C[,C...]] [--readers N] [--subscribers N]\n"
                "       [--rate R] [--pacers N] [--latency-seconds S] [--stream-rate R]\n"
                "       [--node-threads N] [--store URI] [--users N] [--processes N]\n"
                "       [--keep]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress shows when redirected */
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/liaison-node-bench-XXXXXX");
    if (!mkdtemp(tmp_dir)) {
        perror("node-bench: mkdtemp");
        return 1;
    }
    /* One after the other: the first seeds the demo, the others find the
     * store not empty. */
    for (int k = 0; k < opt.processes; k++) {
        if (!node_start(k)) {
            fprintf(stderr, "node-bench: node process %d did not start (see %s/node%s.log)\n",
                    k + 1, tmp_dir, k ? "-N" : "");
            node_stop();
            return 1;
        }
    }
    if (!load_tokens()) {
        fprintf(stderr, "node-bench: no demo credentials with %s\n", POSTER_USER);
        node_stop();
        return 1;
    }
    int failures = 0;
    for (int k = 0; k < nnodes; k++)
        printf("liaison-node-bench: node %s on 127.0.0.1:%d (pid %d, --threads %s), data %s/data\n",
               opt.liaison, node_ports[k], (int)node_pids[k],
               opt.node_threads ? opt.node_threads : "default", tmp_dir);
    printf("runs %d of %.1f s (latency runs %.1f s at %d posts/s over %d connections); "
           "%d demo users; posts to '%s' by %s, labels cycled "
           "(all nations / NATO+AP4 / NATO only)\n\n", opt.runs, opt.seconds,
           opt.latency_seconds, opt.rate, opt.pacers, nusers,
           POST_CHANNEL, POSTER_USER);

    /* 1. durable posts/s */
    for (int p = 0; p < opt.nposters; p++) {
        double v[MAX_RUNS];
        long failed = 0;
        double cpu_per_post[MAX_RUNS];
        for (int r = 0; r < opt.runs; r++) {
            double c0 = node_cpu_s();
            run_result rr = run_workers(W_POST, opt.posters[p], opt.seconds, 0);
            v[r] = (double)rr.ok / rr.elapsed;
            cpu_per_post[r] = rr.ok ? (node_cpu_s() - c0) / (double)rr.ok * 1e6 : 0;
            failed += rr.failed;
            failures += rr.ok == 0;
        }
        char what[64];
        snprintf(what, sizeof what, "durable posts/s, C = %d", opt.posters[p]);
        print_runs(what, v, opt.runs, "posts/s");
        printf("  (node CPU per post, median: %.0f us)\n", median(cpu_per_post, opt.runs));
        if (failed)
            printf("  (%ld posts not acknowledged with 201)\n", failed);
    }

    /* 2. reads/s */
    {
        double v[MAX_RUNS];
        long failed = 0;
        double cpu_per_read[MAX_RUNS];
        for (int r = 0; r < opt.runs; r++) {
            double c0 = node_cpu_s();
            run_result rr = run_workers(W_READ, opt.readers, opt.seconds, 0);
            v[r] = (double)rr.ok / rr.elapsed;
            cpu_per_read[r] = rr.ok ? (node_cpu_s() - c0) / (double)rr.ok * 1e6 : 0;
            failed += rr.failed;
            failures += rr.ok == 0;
        }
        char what[64];
        snprintf(what, sizeof what, "reads/s (limit 50), %d readers", opt.readers);
        print_runs(what, v, opt.runs, "reads/s");
        printf("  (node CPU per read, median: %.0f us)\n", median(cpu_per_read, opt.runs));
        if (failed)
            printf("  (%ld reads not answered with 200)\n", failed);
    }

    /* 3. stream deliveries/s, and 4. latency at a steady rate. Each run
     * opens its own subscribers, so that one dropped by the node in a run
     * (it fell behind its queue) does not thin the next; the streams the
     * node ended are counted and printed. */
    maxlat = (size_t)opt.subscribers * (size_t)(opt.rate * opt.latency_seconds + 1000);
    lat = malloc(maxlat * sizeof *lat);
    if (!lat) {
        fprintf(stderr, "node-bench: out of memory\n");
        failures++;
    } else {
        int stream_posters = opt.posters[0];
        double v[MAX_RUNS], per_post[MAX_RUNS];
        int sruns = 0, ended = 0;
        for (int r = 0; r < opt.runs; r++) {
            if (!subs_open_or_fail(opt.subscribers, &failures))
                continue;
            atomic_store(&delivered, 0);
            atomic_store(&last_delivery_ns, 0);
            unsigned long t0 = now_ns(), cpu0 = atomic_load(&drain_cpu_ns);
            run_result rr = run_workers(W_POST, stream_posters, opt.seconds, opt.stream_rate);
            double t_post = rr.elapsed;
            wait_quiet();
            unsigned long last = atomic_load(&last_delivery_ns);
            long d = atomic_load(&delivered);
            double span = last > t0 ? (double)(last - t0) / 1e9 : 0;
            int gone = atomic_load(&subs_ended);
            v[sruns] = span > 0 ? (double)d / span : 0;
            per_post[sruns] = rr.ok ? (double)d / (double)rr.ok : 0;
            printf("stream run %d: %ld posts (%.0f/s) in %.1f s, %ld deliveries, the last "
                   "%.1f s after the start; %d of %d streams ended by the node; the "
                   "client's reader thread used %.1f s of CPU\n",
                   r + 1, rr.ok, (double)rr.ok / t_post, t_post, d, span, gone,
                   opt.subscribers, (double)(atomic_load(&drain_cpu_ns) - cpu0) / 1e9);
            ended += gone;
            failures += d == 0;
            sruns++;
            subs_stop();
        }
        if (sruns) {
            char what[80];
            if (opt.stream_rate)
                snprintf(what, sizeof what, "deliveries/s, %d subs, %d posts/s", opt.subscribers,
                         opt.stream_rate);
            else
                snprintf(what, sizeof what, "deliveries/s, %d subs, C = %d", opt.subscribers,
                         stream_posters);
            print_runs(what, v, sruns, "deliveries/s");
            qsort(per_post, (size_t)sruns, sizeof *per_post, cmp_double);
            printf("  (median %.1f deliveries per post: the share of the %d subscribers "
                   "whose clearance admits the label%s)\n", per_post[sruns / 2],
                   opt.subscribers,
                   ended ? "; fewer, as streams fell behind and were ended" : "");
        }

        double p50[MAX_RUNS], p99[MAX_RUNS], mx[MAX_RUNS], rate[MAX_RUNS];
        int lruns = 0;
        for (int r = 0; r < opt.runs; r++) {
            if (!subs_open_or_fail(opt.subscribers, &failures))
                continue;
            nlat = 0;
            atomic_store(&record_latency, 1);
            /* several pacing connections: a post waits for its group
             * commit, so one connection could not keep the pace alone */
            run_result rr = run_workers(W_POST, opt.pacers, opt.latency_seconds, opt.rate);
            wait_quiet();
            atomic_store(&record_latency, 0);
            int gone = atomic_load(&subs_ended);
            subs_stop();
            if (!nlat) {
                failures++;
                continue;
            }
            qsort(lat, nlat, sizeof *lat, cmp_ul);
            p50[lruns] = (double)lat[nlat / 2] / 1e6;
            p99[lruns] = (double)lat[nlat * 99 / 100] / 1e6;
            mx[lruns] = (double)lat[nlat - 1] / 1e6;
            rate[lruns] = (double)rr.ok / rr.elapsed;
            printf("latency run %d: %ld posts in %.1f s (%.0f/s, %ld sent > 1 ms late), "
                   "%zu deliveries (%.1f per post), %d of %d streams ended by the node: "
                   "p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", r + 1, rr.ok, rr.elapsed,
                   rate[lruns], rr.late, nlat, rr.ok ? (double)nlat / (double)rr.ok : 0, gone,
                   opt.subscribers, p50[lruns], p99[lruns], mx[lruns]);
            lruns++;
        }
        if (lruns)
            printf("post-to-delivery at %d posts/s, %d subs: median of %d runs: "
                   "p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", opt.rate, opt.subscribers,
                   lruns, median(p50, lruns), median(p99, lruns), median(mx, lruns));
    }
    int st = node_stop();
    printf("\nnode stopped with SIGTERM: %s %d\n",
           WIFEXITED(st) ? "exit status" : "signal",
           WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? WTERMSIG(st) : -1);
    if (!opt.keep) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", tmp_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "node-bench: could not remove %s\n", tmp_dir);
    } else {
        printf("data kept in %s\n", tmp_dir);
    }
    free(lat);
    for (int i = 0; i < nusers; i++) {
        free(users[i]);
        free(tokens[i]);
    }
    return failures ? 1 : 0;
}
