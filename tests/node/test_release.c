/* tests/node/test_release.c — release by consensus (issue 13) on a real
 * `liaison serve --demo`, with a clock the test drives (--release-clock
 * FILE: the node reads the time from it) and the settler's own ticks out
 * of the way (--release-settle-interval 3600), so that no outcome depends
 * on wall-clock timing:
 *  - a reader who may not see an item learns nothing of requests on it;
 *  - a proposed label must widen (narrower, higher or invalid: 422);
 *  - adopted at the deadline, not a millisecond before: a new version of
 *    the item under the same id, which the newly admitted nation now reads
 *    and another still does not; the listing has it once;
 *  - a break at T - 1 ms stops it for good (retried: the same); a break at
 *    T + 1 ms is refused (409);
 *  - every organisation concurring adopts early; for alliance staff's item
 *    the authorities are the allied organisations' (one decision each);
 *  - the proposer withdraws, or extends once;
 *  - killed after the deadline and before adoption, a node adopts on start,
 *    once (restarted again: still one version, one adoption audited);
 *  - an item withdrawn is gone for every reader; narrowed, it is gone for
 *    those the new label no longer admits. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"
#include "node_util.h"

static test_node N;
static char CLOCK[300];
static const char *EXE;
static char DIR_[64];
static char EXTRA[400];

#define T0 1900000000000LL /* 2030-03-17T17:46:40Z */

static const char *REL_JPN =
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\"]}]}";
static const char *REL_KOR_JPN =
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"KOR\",\"JPN\"]}]}";
static const char *REL_NATO_ONLY =
    "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\"]}]}";
static const char *CONF_KOR_JPN = /* a higher classification */
    "{\"policy\":\"NATO\",\"classification\":\"CONFIDENTIAL\",\"categories\":["
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"KOR\",\"JPN\"]}]}";
static const char *S_NATO = /* alliance staff's, released to Australia */
    "{\"policy\":\"NATO\",\"classification\":\"SECRET\",\"categories\":["
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"AUS\"]}]}";
static const char *S_NATO_JPN =
    "{\"policy\":\"NATO\",\"classification\":\"SECRET\",\"categories\":["
    "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
    "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"AUS\",\"JPN\"]}]}";

static void set_clock(long long ms)
{
    FILE *f = fopen(CLOCK, "w");
    if (f) {
        fprintf(f, "%lld\n", ms);
        fclose(f);
    }
}

/* "2030-03-17T17:46:40.000Z" for ms. */
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
                 json_t **out)
{
    http_result r = {0};
    if (!tn_http(&N, method, path, tok, json, json ? strlen(json) : 0, &r))
        return -1;
    if (out)
        *out = json_loads(r.body ? r.body : "", 0, NULL);
    free(r.body);
    return r.status;
}

static const char *str(json_t *j, const char *key)
{
    const char *v = json_string_value(json_object_get(j, key));
    return v ? v : "";
}

/* Post as tok; the new item's id into id[37]. */
static bool post(const char *tok, const char *label, const char *text, char id[37])
{
    char req[2048];
    snprintf(req, sizeof req, "{\"label\":%s,\"body\":\"%s\"}", label, text);
    json_t *j = NULL;
    long st = call("POST", "/api/v1/channels/space/items", tok, req, &j);
    snprintf(id, 37, "%s", str(j, "id"));
    if (st != 201)
        printf("# post: %ld %s\n", st, str(json_object_get(j, "error"), "message"));
    json_decref(j);
    return st == 201 && strlen(id) == 36;
}

/* Propose; the request's id into rid[37]; the status. */
static long propose(const char *tok, const char *item, const char *label, long long deadline,
                    char rid[37], json_t **out)
{
    char req[2048], path[128], when[40];
    if (deadline)
        snprintf(req, sizeof req, "{\"label\":%s,\"reason\":\"partners need it\","
                 "\"deadline\":\"%s\"}", label, iso(deadline, when));
    else
        snprintf(req, sizeof req, "{\"label\":%s,\"reason\":\"partners need it\"}", label);
    snprintf(path, sizeof path, "/api/v1/items/%s/release-requests", item);
    json_t *j = NULL;
    long st = call("POST", path, tok, req, &j);
    if (rid)
        snprintf(rid, 37, "%s", str(j, "id"));
    if (out)
        *out = j;
    else
        json_decref(j);
    return st;
}

/* GET a request's state as tok ("" when not 200). */
static const char *state_of(const char *tok, const char *rid, long *status)
{
    static char out[32];
    char path[128];
    snprintf(path, sizeof path, "/api/v1/release-requests/%s", rid);
    json_t *j = NULL;
    long st = call("GET", path, tok, NULL, &j);
    if (status)
        *status = st;
    snprintf(out, sizeof out, "%s", st == 200 ? str(j, "state") : "");
    json_decref(j);
    return out;
}

static long act(const char *tok, const char *rid, const char *what, const char *json)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/release-requests/%s/%s", rid, what);
    return call("POST", path, tok, json, NULL);
}

/* The item as tok sees it: status, and its version in *version. */
static long item_of(const char *tok, const char *id, int *version)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/items/%s", id);
    json_t *j = NULL;
    long st = call("GET", path, tok, NULL, &j);
    if (version)
        *version = (int)json_integer_value(json_object_get(j, "version"));
    json_decref(j);
    return st;
}

/* How many times item id is in the channel's listing as tok sees it. */
static int listed(const char *tok, const char *id)
{
    json_t *j = NULL;
    int n = 0;
    if (call("GET", "/api/v1/channels/space/items?limit=500", tok, NULL, &j) != 200) {
        json_decref(j);
        return -1;
    }
    json_t *it;
    size_t i;
    json_array_foreach(json_object_get(j, "items"), i, it)
        n += strcmp(str(it, "id"), id) == 0;
    json_decref(j);
    return n;
}

static size_t count_requests(const char *tok, const char *query)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/release-requests%s", query);
    json_t *j = NULL;
    size_t n = call("GET", path, tok, NULL, &j) == 200
                   ? json_array_size(json_object_get(j, "requests"))
                   : SIZE_MAX;
    json_decref(j);
    return n;
}

static size_t audited(const char *auditor, const char *action, const char *object)
{
    char path[300];
    snprintf(path, sizeof path, "/api/v1/audit?limit=1000&action=%s&object=%s", action, object);
    json_t *j = NULL;
    size_t n = call("GET", path, auditor, NULL, &j) == 200
                   ? json_array_size(json_object_get(j, "records"))
                   : SIZE_MAX;
    json_decref(j);
    return n;
}

/* A stream of channel `space` as tok, resuming after Last-Event-ID lei
 * (NULL: live only); the socket, or -1. */
static int stream_open(const char *tok, const char *lei)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)N.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char req[1024], last[80] = "";
    if (lei)
        snprintf(last, sizeof last, "Last-Event-ID: %s\r\n", lei);
    int n = snprintf(req, sizeof req,
                     "GET /api/v1/stream?channel=space HTTP/1.1\r\nHost: x\r\n"
                     "Authorization: Bearer %s\r\n%sAccept: text/event-stream\r\n\r\n",
                     tok, last);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Read fd into acc until `want` appears (at most timeout_ms: a bound on a
 * wait for what must come, not a measure). */
static bool stream_until(int fd, char *acc, size_t cap, const char *want, int timeout_ms)
{
    size_t len = strlen(acc);
    for (int waited = 0; waited < timeout_ms && !strstr(acc, want); waited += 100) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t r = read(fd, acc + len, cap - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        acc[len] = '\0';
    }
    return strstr(acc, want) != NULL;
}

/* `liaison ARGS --url THE-NODE` as tok: its exit status, its output in out. */
static int cli(const char *tok, const char *args, char *out, size_t cap)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "LIAISON_TOKEN='%s' '%s' %s --url http://127.0.0.1:%d 2>&1", tok,
             EXE, args, N.port);
    FILE *p = popen(cmd, "r");
    size_t len = 0;
    out[0] = '\0';
    if (!p)
        return -1;
    size_t r;
    while (len + 1 < cap && (r = fread(out + len, 1, cap - 1 - len, p)) > 0)
        len += r;
    out[len] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A break racing the deadline: threads break silence while the clock
 * crosses the deadline and others settle; whatever interleaving, one
 * outcome. */
typedef struct racer {
    const char *tok, *rid;
    bool breaker;
    long status;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    r->status = r->breaker ? act(r->tok, r->rid, "break-silence", "{\"reason\":\"race\"}")
                           : (state_of(r->tok, r->rid, &r->status), r->status);
    return NULL;
}

static bool start(void)
{
    return tn_start(&N, EXE, DIR_, EXTRA);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_release LIAISON\n");
        return 2;
    }
    EXE = argv[1];
    snprintf(DIR_, sizeof DIR_, "/tmp/liaison-release-XXXXXX");
    if (!mkdtemp(DIR_))
        return 2;
    snprintf(CLOCK, sizeof CLOCK, "%s.clock", DIR_);
    snprintf(EXTRA, sizeof EXTRA, "--release-clock %s --release-settle-interval 3600", CLOCK);
    char bad[700];
    snprintf(bad, sizeof bad, "'%s' serve --data-dir '%s/bad' --listen 127.0.0.1:0 "
             "--metrics-listen none --release-deadline-min 100 --release-deadline 60 "
             ">/dev/null 2>&1", EXE, DIR_);
    int bst = system(bad);
    ok(WIFEXITED(bst) && WEXITSTATUS(bst) == 2,
       "a_default_deadline_outside_the_bounds_is_refused_at_start");
    set_clock(T0);
    if (!ok(start(), "node_starts_with_a_clock_the_test_drives"))
        return 1;
    char *kenji = tn_token(&N, "kenji.watanabe"), *yui = tn_token(&N, "yui.nakamura"),
         *minjun = tn_token(&N, "min-jun.park"), *sarah = tn_token(&N, "sarah.mitchell"),
         *marco = tn_token(&N, "marco.bellini"), *claire = tn_token(&N, "claire.dubois"),
         *mette = tn_token(&N, "mette.sorensen"), *ingrid = tn_token(&N, "ingrid.halvorsen");

    /* --- the proposal, and what a reader who may not see learns --- */
    char x[37], rid[37];
    ok(post(kenji, REL_JPN, "release candidate one", x), "kenji_posts_an_item_for_jpn");
    ok(item_of(minjun, x, NULL) == 404, "korea_does_not_see_it");
    long st = propose(minjun, x, REL_KOR_JPN, 0, NULL, NULL);
    char unknown[] = "01890000-0000-7000-8000-000000000000";
    long st2 = propose(minjun, unknown, REL_KOR_JPN, 0, NULL, NULL);
    ok(st == 404 && st2 == 404,
       "a_request_on_an_item_one_may_not_see_is_404_as_on_an_unknown_one (%ld, %ld)", st, st2);
    ok(propose(kenji, x, REL_NATO_ONLY, 0, NULL, NULL) == 422, "a_narrower_label_is_refused");
    ok(propose(kenji, x, CONF_KOR_JPN, 0, NULL, NULL) == 422, "a_higher_classification_is_refused");
    ok(propose(kenji, x, "{\"policy\":\"NATO\",\"classification\":\"NOPE\"}", 0, NULL, NULL) ==
           422, "an_invalid_label_is_refused");
    ok(propose(kenji, x, REL_KOR_JPN, T0 + 1000, NULL, NULL) == 422,
       "a_deadline_before_the_operators_minimum_is_refused");
    long long D = T0 + 3600 * 1000LL;
    json_t *j = NULL;
    st = propose(kenji, x, REL_KOR_JPN, D, rid, &j);
    json_t *auths = json_object_get(j, "authorities");
    ok(st == 201 && strcmp(str(j, "state"), "open") == 0 && json_array_size(auths) == 1 &&
           strcmp(str(json_array_get(auths, 0), "user"), "yui.nakamura") == 0 &&
           strcmp(str(j, "kind"), "release") == 0,
       "a_member_proposes_and_the_authority_is_the_organisations_release_authority (%ld)", st);
    json_decref(j);
    long s1, s2;
    state_of(minjun, rid, &s1);
    state_of(sarah, rid, &s2);
    ok(s1 == 404 && s2 == 404 && count_requests(minjun, "") == 0,
       "a_stranger_neither_reads_nor_lists_the_request (%ld, %ld)", s1, s2);
    ok(strcmp(state_of(yui, rid, NULL), "open") == 0 && count_requests(yui, "?state=open") == 1,
       "the_authority_reads_and_lists_it");
    ok(act(kenji, rid, "concur", NULL) == 403, "the_proposer_may_not_concur_without_the_role");

    /* --- adopted at the deadline, not before --- */
    /* Korea's live stream, open before adoption (it sees the first heartbeat
     * or nothing of X yet). */
    int live = stream_open(minjun, NULL);
    static char acc[1 << 16], acc2[1 << 16];
    char want[80];
    snprintf(want, sizeof want, "\"id\":\"%s\"", x);
    set_clock(D - 1);
    ok(strcmp(state_of(kenji, rid, NULL), "open") == 0, "open_at_T_minus_1ms");
    set_clock(D);
    ok(strcmp(state_of(kenji, rid, NULL), "adopted") == 0, "adopted_at_T");
    int v = 0;
    ok(item_of(minjun, x, &v) == 200 && v == 2,
       "korea_now_reads_the_item_under_the_same_id_as_version_2 (v%d)", v);
    ok(item_of(sarah, x, NULL) == 404, "australia_still_does_not");
    ok(item_of(kenji, x, &v) == 200 && v == 2, "the_author_reads_version_2");
    ok(listed(minjun, x) == 1 && listed(kenji, x) == 1 && listed(sarah, x) == 0,
       "listings_hold_the_item_once (%d, %d)", listed(minjun, x), listed(kenji, x));
    ok(act(yui, rid, "break-silence", "{\"reason\":\"too late\"}") == 409,
       "a_break_after_adoption_is_refused");
    ok(live >= 0 && stream_until(live, acc, sizeof acc, want, 15000) &&
           strstr(strstr(acc, want), "\"version\":2"),
       "the_new_version_reaches_koreas_live_stream_as_a_new_item");
    if (live >= 0)
        close(live);
    /* The author last saw version 1 (event id X): resuming after it he gets
     * version 2, not a stream that skips it. */
    char lei[40];
    snprintf(lei, sizeof lei, "%s", x);
    int resumed = stream_open(kenji, lei);
    ok(resumed >= 0 && stream_until(resumed, acc2, sizeof acc2, want, 15000) &&
           strstr(strstr(acc2, want), "\"version\":2"),
       "a_reader_resuming_after_version_1_receives_version_2");
    if (resumed >= 0)
        close(resumed);

    /* --- a break at T - 1 stops it; at T + 1 it is refused --- */
    char y[37], rid2[37];
    set_clock(T0);
    ok(post(kenji, REL_JPN, "release candidate two", y), "kenji_posts_a_second_item");
    ok(propose(kenji, y, REL_KOR_JPN, D, rid2, NULL) == 201, "second_request");
    set_clock(D - 1);
    ok(act(yui, rid2, "break-silence", "{}") == 400, "breaking_silence_needs_a_reason");
    ok(act(yui, rid2, "break-silence", "{\"reason\":\"the source is sensitive\"}") == 200,
       "a_break_at_T_minus_1ms_counts");
    ok(act(yui, rid2, "break-silence", "{\"reason\":\"the source is sensitive\"}") == 200,
       "a_retried_break_is_the_same");
    set_clock(D + 1);
    ok(strcmp(state_of(kenji, rid2, NULL), "silence-broken") == 0 && item_of(minjun, y, NULL) == 404,
       "a_broken_request_is_never_adopted");
    char path[200];
    snprintf(path, sizeof path, "/api/v1/release-requests/%s", rid2);
    j = NULL;
    call("GET", path, kenji, NULL, &j);
    json_t *a0 = json_array_get(json_object_get(j, "authorities"), 0);
    ok(strcmp(str(a0, "answer"), "break") == 0 &&
           strcmp(str(a0, "reason"), "the source is sensitive") == 0 &&
           json_array_size(json_object_get(j, "history")) == 2,
       "the_proposer_sees_who_broke_silence_and_why");
    json_decref(j);

    char z[37], rid3[37];
    set_clock(T0);
    ok(post(kenji, REL_JPN, "release candidate three", z) &&
           propose(kenji, z, REL_KOR_JPN, D, rid3, NULL) == 201, "third_request");
    set_clock(D + 1);
    ok(act(yui, rid3, "break-silence", "{\"reason\":\"late\"}") == 409,
       "a_break_at_T_plus_1ms_is_refused");
    ok(strcmp(state_of(kenji, rid3, NULL), "adopted") == 0, "and_the_request_is_adopted");

    /* --- early, unanimous; withdraw; extend once --- */
    char w[37], rid4[37], rid5[37], when[40], ext[120];
    set_clock(T0);
    ok(post(kenji, REL_JPN, "release candidate four", w) &&
           propose(kenji, w, REL_KOR_JPN, D, rid4, NULL) == 201, "fourth_request");
    ok(act(yui, rid4, "concur", NULL) == 200 &&
           strcmp(state_of(kenji, rid4, NULL), "adopted") == 0 && item_of(minjun, w, NULL) == 200,
       "every_authority_concurring_adopts_early");
    ok(propose(kenji, w, "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["
                         "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
                         "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"KOR\",\"JPN\",\"AUS\"]}]}",
               D, rid5, NULL) == 201, "a_request_on_version_2");
    snprintf(ext, sizeof ext, "{\"deadline\":\"%s\"}", iso(D + 60000, when));
    ok(act(yui, rid5, "extend", ext) == 403, "only_the_proposer_extends");
    ok(act(kenji, rid5, "extend", ext) == 200, "the_proposer_extends");
    snprintf(ext, sizeof ext, "{\"deadline\":\"%s\"}", iso(D + 120000, when));
    ok(act(kenji, rid5, "extend", ext) == 409, "once");
    set_clock(D + 1);
    ok(strcmp(state_of(kenji, rid5, NULL), "open") == 0, "the_extended_request_is_still_open");
    ok(act(kenji, rid5, "withdraw", NULL) == 200 &&
           strcmp(state_of(kenji, rid5, NULL), "withdrawn") == 0 && item_of(sarah, w, NULL) == 404,
       "the_proposer_withdraws");

    /* --- alliance staff: the allied organisations decide --- */
    char m[37], rid6[37];
    set_clock(T0);
    ok(post(ingrid, S_NATO, "alliance staff note", m), "alliance_staff_posts_for_nato_and_aus");
    j = NULL;
    st = propose(ingrid, m, S_NATO_JPN, D, rid6, &j);
    auths = json_object_get(j, "authorities");
    bool fra = false, dnk = false, other = false;
    size_t i;
    json_t *au;
    json_array_foreach(auths, i, au)
    {
        fra |= strcmp(str(au, "user"), "claire.dubois") == 0;
        dnk |= strcmp(str(au, "user"), "mette.sorensen") == 0;
        other |= strcmp(str(au, "user"), "claire.dubois") != 0 &&
                 strcmp(str(au, "user"), "mette.sorensen") != 0;
    }
    ok(st == 201 && fra && dnk && !other,
       "for_alliance_staff_the_allied_organisations_release_authorities_decide (%ld)", st);
    json_decref(j);
    ok(item_of(kenji, m, NULL) == 404, "japan_does_not_see_the_nato_item");
    ok(act(claire, rid6, "concur", NULL) == 200 &&
           strcmp(state_of(ingrid, rid6, NULL), "open") == 0,
       "one_ally_concurring_is_not_consensus");
    ok(act(yui, rid6, "concur", NULL) == 404, "a_partner_is_not_an_authority_of_it");
    ok(act(mette, rid6, "concur", NULL) == 200 &&
           strcmp(state_of(ingrid, rid6, NULL), "adopted") == 0 && item_of(kenji, m, NULL) == 200,
       "every_ally_concurring_adopts_and_japan_reads_it");

    /* --- a break racing the deadline has one outcome --- */
    char rr[37], rrid[37];
    set_clock(T0);
    ok(post(kenji, REL_JPN, "release candidate race", rr) &&
           propose(kenji, rr, REL_KOR_JPN, D, rrid, NULL) == 201, "a_request_to_race");
    set_clock(D - 1);
    racer rc8[8];
    pthread_t th[8];
    for (int t = 0; t < 8; t++) {
        rc8[t] = (racer){.tok = t % 2 ? yui : kenji, .rid = rrid, .breaker = t % 2 == 1};
        pthread_create(&th[t], NULL, race, &rc8[t]);
        if (t == 3)
            set_clock(D); /* the deadline passes mid-race */
    }
    for (int t = 0; t < 8; t++)
        pthread_join(th[t], NULL);
    const char *outcome = state_of(kenji, rrid, NULL);
    bool adopted = strcmp(outcome, "adopted") == 0, broken = strcmp(outcome, "silence-broken") == 0;
    int breaks_ok = 0, breaks_late = 0;
    for (int t = 1; t < 8; t += 2) {
        breaks_ok += rc8[t].status == 200;
        breaks_late += rc8[t].status == 409;
    }
    int rv = 0;
    long seen_korea = item_of(minjun, rr, &rv);
    ok((adopted && breaks_ok == 0 && breaks_late == 4 && seen_korea == 200 && rv == 2) ||
           (broken && breaks_ok >= 1 && breaks_ok + breaks_late == 4 && seen_korea == 404),
       "a_break_racing_the_deadline_has_one_outcome (%s, %d breaks counted, %d late, korea %ld)",
       outcome, breaks_ok, breaks_late, seen_korea);

    /* --- killed between the deadline and adoption --- */
    char k[37], rid7[37];
    set_clock(T0);
    ok(post(kenji, REL_JPN, "release candidate crash", k) &&
           propose(kenji, k, REL_KOR_JPN, D, rid7, NULL) == 201, "a_request_before_the_crash");
    set_clock(D + 5);
    tn_stop(&N, SIGKILL); /* no route touched it since the deadline: not adopted */
    bool conform1 = tn_openapi_conforms(&N);
    ok(start(), "node_restarts_after_sigkill");
    ok(strcmp(state_of(kenji, rid7, NULL), "adopted") == 0 && item_of(minjun, k, &v) == 200 && v == 2,
       "the_restarted_node_adopted_it_on_start");
    tn_stop(&N, SIGTERM);
    bool conform2 = tn_openapi_conforms(&N);
    ok(start(), "node_restarts_again");
    char object[64];
    snprintf(object, sizeof object, "item:%s", k);
    ok(item_of(minjun, k, &v) == 200 && v == 2 && listed(minjun, k) == 1 &&
           audited(marco, "release.adopt", object) == 1,
       "adopted_once (v%d, %zu)", v, audited(marco, "release.adopt", object));

    /* --- corrections --- */
    snprintf(path, sizeof path, "/api/v1/items/%s/narrow", x);
    char req[1024];
    snprintf(req, sizeof req, "{\"label\":%s}", REL_JPN);
    ok(call("POST", path, yui, req, NULL) == 403, "only_the_author_narrows");
    ok(call("POST", path, kenji, req, NULL) == 200 && item_of(minjun, x, NULL) == 404 &&
           item_of(kenji, x, &v) == 200 && v == 3,
       "narrowed_korea_no_longer_reads_it_and_it_is_version_3");
    snprintf(path, sizeof path, "/api/v1/items/%s/withdraw", x);
    ok(call("POST", path, minjun, NULL, NULL) == 404, "a_reader_who_may_not_see_may_not_withdraw");
    ok(call("POST", path, sarah, NULL, NULL) == 404, "nor_may_a_stranger");
    ok(call("POST", path, yui, NULL, NULL) == 200, "a_release_authority_of_its_organisation_withdraws");
    ok(item_of(kenji, x, NULL) == 404 && item_of(yui, x, NULL) == 404 && listed(kenji, x) == 0,
       "a_withdrawn_item_is_gone_for_every_reader");
    snprintf(object, sizeof object, "item:%s", x);
    ok(audited(marco, "item.withdraw&actor=yui.nakamura", object) == 1,
       "the_withdrawal_is_audited");
    ok(call("POST", path, kenji, NULL, NULL) == 404, "withdrawn_once");
    snprintf(object, sizeof object, "release:%s", rid);
    ok(audited(marco, "release.read&actor=sarah.mitchell", object) == 1 &&
           audited(marco, "release.request&actor=kenji.watanabe", object) == 1 &&
           audited(marco, "release.break&actor=yui.nakamura", object) == 1,
       "reads_and_acts_on_a_request_are_audited_refusals_too");

    /* --- the same through the command line --- */
    char c[37], out[4096], args[1024], crid[37] = "";
    set_clock(T0);
    ok(post(kenji, REL_JPN, "release candidate cli", c), "kenji_posts_for_the_cli");
    snprintf(args, sizeof args, "release request %s --label '%s' --reason 'for the cli' "
             "--deadline %s", c, REL_KOR_JPN, iso(D, when));
    int rc = cli(kenji, args, out, sizeof out);
    sscanf(out, "%36s", crid);
    ok(rc == 0 && strstr(out, " open ") && strstr(out, "authority yui.nakamura"),
       "cli_release_request_prints_the_request_and_its_authorities (%d: %s)", rc, out);
    rc = cli(yui, "release list --state open", out, sizeof out);
    ok(rc == 0 && strstr(out, crid), "cli_release_list_shows_it_to_the_authority (%d)", rc);
    snprintf(args, sizeof args, "release concur %s", crid);
    rc = cli(yui, args, out, sizeof out);
    ok(rc == 0 && strstr(out, " adopted "), "cli_release_concur_adopts (%d: %s)", rc, out);
    snprintf(args, sizeof args, "release show %s", crid);
    rc = cli(kenji, args, out, sizeof out);
    ok(rc == 0 && strstr(out, "concur") && strstr(out, " adopt "),
       "cli_release_show_prints_the_history (%d: %s)", rc, out);
    snprintf(args, sizeof args, "release break %s --reason 'too late'", crid);
    ok(cli(yui, args, out, sizeof out) == 2, "cli_a_break_on_a_closed_request_exits_2");
    snprintf(args, sizeof args, "item narrow %s --label '%s'", c, REL_JPN);
    rc = cli(kenji, args, out, sizeof out);
    ok(rc == 0 && strstr(out, " 3"), "cli_item_narrow_prints_the_new_version (%d: %s)", rc, out);
    snprintf(args, sizeof args, "item withdraw %s", c);
    rc = cli(kenji, args, out, sizeof out);
    ok(rc == 0 && strstr(out, "withdrawn") && item_of(kenji, c, NULL) == 404,
       "cli_item_withdraw (%d: %s)", rc, out);

    tn_stop(&N, SIGTERM);
    ok(conform1 && conform2 && tn_openapi_conforms(&N), "every_exchange_matches_the_openapi_spec");
    free(kenji), free(yui), free(minjun), free(sarah), free(marco), free(claire), free(mette), free(ingrid);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", DIR_, CLOCK);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", DIR_);
    return tap_done();
}
