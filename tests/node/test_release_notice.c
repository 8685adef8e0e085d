/* tests/node/test_release_notice.c — a release request's changes told live
 * on the stream (issue 13: "the proposer and authorities are told of every
 * change live"), on a real `liaison serve --demo` with a clock the test
 * drives (--release-clock) and the settler's ticks out of the way:
 *  - the proposer, the authority and an auditor each get a
 *    "release-request" notice (no "id:" line) for the request's opening,
 *    its break, another's concurrence and adoption, an extension and a
 *    withdrawal, with the request's state;
 *  - a member who may read the item but is no party, and a reader of
 *    another nation, get nothing: no event, no request id — checked by
 *    ordering, not by waiting: an item posted after the acts reaches their
 *    streams, and nothing of the requests came before it. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"
#include "node_util.h"

static test_node N;
static char CLOCK[300];

#define T0 1900000000000LL /* 2030-03-17T17:46:40Z */

static const char *REL_JPN =
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\"]}]}";
static const char *REL_KOR_JPN =
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"KOR\",\"JPN\"]}]}";

static void set_clock(long long ms)
{
    FILE *f = fopen(CLOCK, "w");
    if (f) {
        fprintf(f, "%lld\n", ms);
        fclose(f);
    }
}

static const char *iso(long long ms, char out[40])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 40 - n, ".%03dZ", (int)(ms % 1000));
    return out;
}

static long call(const char *method, const char *path, const char *tok, const char *json,
                 char *field_out, const char *field)
{
    http_result r = {0};
    if (!tn_http(&N, method, path, tok, json, json ? strlen(json) : 0, &r))
        return -1;
    if (field_out) {
        json_t *j = json_loads(r.body ? r.body : "", 0, NULL);
        const char *v = json_string_value(json_object_get(j, field));
        snprintf(field_out, 37, "%s", v ? v : "");
        json_decref(j);
    }
    free(r.body);
    return r.status;
}

static bool post(const char *tok, const char *label, const char *text, char id[37])
{
    char req[2048];
    snprintf(req, sizeof req, "{\"label\":%s,\"body\":\"%s\"}", label, text);
    return call("POST", "/api/v1/channels/space/items", tok, req, id, "id") == 201 &&
           strlen(id) == 36;
}

static long propose(const char *tok, const char *item, long long deadline, char rid[37])
{
    char req[2048], path[128], when[40];
    snprintf(req, sizeof req, "{\"label\":%s,\"reason\":\"partners need it\",\"deadline\":\"%s\"}",
             REL_KOR_JPN, iso(deadline, when));
    snprintf(path, sizeof path, "/api/v1/items/%s/release-requests", item);
    return call("POST", path, tok, req, rid, "id");
}

static long act(const char *tok, const char *rid, const char *what, const char *json)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/release-requests/%s/%s", rid, what);
    return call("POST", path, tok, json ? json : "{}", NULL, NULL);
}

/* A stream of every channel as tok; the socket, or -1. */
static int stream_open(const char *tok)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)N.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "GET /api/v1/stream HTTP/1.1\r\nHost: x\r\n"
                     "Authorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n", tok);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    return fd;
}

typedef struct reader {
    int fd;
    char acc[65536];
} reader;

/* Read r until `want` appears (at most timeout_ms: a bound on a wait for
 * what must come, not a measure). */
static bool until(reader *r, const char *want, int timeout_ms)
{
    size_t len = strlen(r->acc);
    for (int waited = 0; waited < timeout_ms && !strstr(r->acc, want); waited += 100) {
        struct pollfd p = {.fd = r->fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t k = read(r->fd, r->acc + len, sizeof r->acc - 1 - len);
        if (k <= 0)
            break;
        len += (size_t)k;
        r->acc[len] = '\0';
    }
    return strstr(r->acc, want) != NULL;
}

/* The notice of `event` on request rid, with state: present in r (read
 * until it comes), as its own frame without an id line. */
static bool told(reader *r, const char *rid, const char *event, const char *state)
{
    char want[300];
    snprintf(want, sizeof want,
             "\nevent: release-request\ndata: {\"id\":\"%s\",\"event\":\"%s\",\"state\":\"%s\"",
             rid, event, state);
    if (until(r, want, 15000))
        return true;
    printf("# wanted %s\n# in: %.1500s\n", want, r->acc);
    return false;
}

/* No notice in acc has an "id:" line (the line before its "event:"; the
 * chunked transfer's size lines are not the stream's). */
static bool no_id_line(const char *acc)
{
    size_t k = 0;
    for (const char *p = acc; (p = strstr(p, "\nevent: release-request")); p++, k++) {
        const char *line = p;
        while (line > acc && line[-1] != '\n')
            line--;
        if (strncmp(line, "id:", 3) == 0)
            return false;
    }
    return k > 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_release_notice LIAISON\n");
        return 2;
    }
    char dir[64] = "/tmp/liaison-notice-XXXXXX", extra[400];
    if (!mkdtemp(dir))
        return 2;
    snprintf(CLOCK, sizeof CLOCK, "%s.clock", dir);
    snprintf(extra, sizeof extra, "--release-clock %s --release-settle-interval 3600", CLOCK);
    set_clock(T0);
    if (!ok(tn_start(&N, argv[1], dir, extra), "node_starts"))
        return 1;
    char *kenji = (tn_token(&N, "kenji.watanabe")), *yui = (tn_token(&N, "yui.nakamura")),
         *marco = (tn_token(&N, "marco.bellini")),
         *ingrid = (tn_token(&N, "ingrid.halvorsen")),
         *minjun = (tn_token(&N, "min-jun.park"));

    /* Streams of the proposer, the authority, an auditor, and two
     * outsiders: NATO staff (who may read the item) and Korea (who may
     * not). Each is registered once its "retry:" line came. */
    static reader pk, py, pm, oi, om;
    reader *all[] = {&pk, &py, &pm, &oi, &om};
    const char *toks[] = {kenji, yui, marco, ingrid, minjun};
    bool up = true;
    for (int i = 0; i < 5; i++) {
        all[i]->fd = stream_open(toks[i]);
        up = up && all[i]->fd >= 0 && until(all[i], "retry:", 15000);
    }
    ok(up, "five_streams_open");

    char x[37], rid[37], y[37], rid2[37], marker[37];
    ok(post(kenji, REL_JPN, "notice candidate one", x) &&
       propose(kenji, x, T0 + 3600 * 1000LL, rid) == 201, "kenji_proposes");
    ok(told(&py, rid, "open", "open"), "the_authority_is_told_of_the_new_request");
    ok(told(&pm, rid, "open", "open"), "the_auditor_is_told_of_it");
    ok(told(&pk, rid, "open", "open"), "the_proposer_is_told_of_it");
    ok(act(yui, rid, "break-silence", "{\"reason\":\"the source is sensitive\"}") == 200 &&
       told(&pk, rid, "break", "silence-broken"),
       "the_proposer_is_told_live_that_silence_was_broken");
    ok(no_id_line(pk.acc) && no_id_line(py.acc), "a_notice_has_no_event_id");

    ok(post(kenji, REL_JPN, "notice candidate two", y) &&
       propose(kenji, y, T0 + 3600 * 1000LL, rid2) == 201 && told(&py, rid2, "open", "open"),
       "a_second_request");
    char ext[120], when[40];
    snprintf(ext, sizeof ext, "{\"deadline\":\"%s\"}", iso(T0 + 7200 * 1000LL, when));
    ok(act(kenji, rid2, "extend", ext) == 200 && told(&py, rid2, "extend", "open"),
       "the_authority_is_told_of_an_extension");
    ok(act(yui, rid2, "concur", NULL) == 200 && told(&pk, rid2, "concur", "open") &&
       told(&pk, rid2, "adopt", "adopted") && told(&pm, rid2, "adopt", "adopted"),
       "the_proposer_and_auditor_are_told_of_the_concurrence_and_adoption");

    char z[37], rid3[37];
    ok(post(kenji, REL_JPN, "notice candidate three", z) &&
       propose(kenji, z, T0 + 3600 * 1000LL, rid3) == 201 && act(kenji, rid3, "withdraw", NULL) == 200 &&
       told(&py, rid3, "withdraw", "withdrawn"),
       "the_authority_is_told_of_a_withdrawal");

    /* The outsiders: an item posted after every act reaches them (ordered
     * delivery); nothing of any request came before it. */
    ok(post(yui, REL_KOR_JPN, "marker after the requests", marker), "a_marker_item");
    ok(until(&oi, marker, 15000) && until(&om, marker, 15000), "the_outsiders_get_the_marker");
    ok(!strstr(oi.acc, "release-request") && !strstr(oi.acc, rid) && !strstr(oi.acc, rid2) &&
       !strstr(oi.acc, rid3),
       "nato_staff_who_may_read_the_item_but_are_no_party_get_no_notice");
    ok(!strstr(om.acc, "release-request") && !strstr(om.acc, rid) && !strstr(om.acc, rid2) &&
       !strstr(om.acc, rid3),
       "korea_gets_no_notice");
    /* The notices did not move the parties' event ids: the marker's id is
     * the only id after the items they saw. */
    ok(until(&pk, marker, 15000), "the_proposer_gets_the_marker_too");

    for (int i = 0; i < 5; i++)
        close(all[i]->fd);
    int st = tn_stop(&N, SIGTERM);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "node_stops_cleanly");
    ok(tn_openapi_conforms(&N), "every_exchange_conforms_to_the_openapi_spec");
    free(kenji), free(yui), free(marco), free(ingrid), free(minjun);
    return tap_done();
}
