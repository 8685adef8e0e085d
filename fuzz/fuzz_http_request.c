/* fuzz/fuzz_http_request.c — libFuzzer target: the parts of reading an HTTP
 * request that are ours rather than libmicrohttpd's (src/server/).
 *
 * The input is read as a request head — a request line, then header lines
 * up to an empty line — and a body. libmicrohttpd splits the bytes; what
 * the server then does with the pieces is fuzzed here, with invariants:
 *
 *  - the header-field checks (request_check.h): a request they let through
 *    has only token names, no NUL/CR/LF in a value, at most one
 *    Authorization and one Host, and an unambiguous length — counted again
 *    here independently;
 *  - routing against the node's route table (router.h): a match fills every
 *    {param} with a non-empty segment without '/', shorter than the cap; a
 *    405 comes with a non-empty Allow list;
 *  - the bearer-token parser (auth.h) with a lookup that knows no one: it
 *    never authenticates;
 *  - query numbers (srv_parse_uint) for every name=value of the query: an
 *    accepted value is all digits and within the bound;
 *  - the JSON depth guard (body.h) on the body: never beyond the input's
 *    own bracket count.
 *
 * The harness's own splitting is deliberately plain; it is not under
 * test. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "server/auth.h"
#include "server/body.h"
#include "server/request_check.h"
#include "server/router.h"

static void h_none(srv_request *req, srv_response *resp)
{
    (void)req;
    (void)resp;
}

/* The shapes of the node's route table (src/node/node.c), which is static
 * there: a route added to the node belongs here too. */
static const srv_route routes[] = {
    {SRV_GET, "/", h_none, false, NULL, 0},
    {SRV_GET, "/{file}", h_none, false, NULL, 0},
    {SRV_GET, "/js/{file}", h_none, false, NULL, 0},
    {SRV_GET, "/js/views/{file}", h_none, false, NULL, 0},
    {SRV_GET, "/healthz", h_none, false, NULL, 0},
    {SRV_GET, "/api/v1/me", h_none, true, NULL, 0},
    {SRV_GET, "/api/v1/policy", h_none, true, NULL, 0},
    {SRV_GET, "/api/v1/channels", h_none, true, NULL, 0},
    {SRV_POST, "/api/v1/channels", h_none, true, NULL, 0},
    {SRV_POST, "/api/v1/organisations", h_none, true, NULL, 0},
    {SRV_POST, "/api/v1/users", h_none, true, NULL, 0},
    {SRV_PUT, "/api/v1/users/{name}/certificate", h_none, true, NULL, 0},
    {SRV_DELETE, "/api/v1/users/{name}/certificate", h_none, true, NULL, 0},
    {SRV_GET, "/api/v1/audit", h_none, true, NULL, 0},
    {SRV_POST, "/api/v1/channels/{channel}/items", h_none, true, NULL, 0},
    {SRV_GET, "/api/v1/channels/{channel}/items", h_none, true, NULL, 0},
    {SRV_POST, "/api/v1/labels/mark", h_none, true, NULL, 0},
    {SRV_GET, "/api/v1/items/{id}", h_none, true, NULL, 0},
    {SRV_GET, "/api/v1/items/{id}/attachment", h_none, true, NULL, 0},
    {SRV_GET, "/api/v1/search", h_none, true, NULL, 0},
    {SRV_GET, "/api/v1/stream", h_none, true, NULL, 0},
    {SRV_POST, "/api/v1/items/{id}/release-requests", h_none, true, NULL, 0},
    {SRV_POST, "/api/v1/items/{id}/withdraw", h_none, true, NULL, 0},
    {SRV_POST, "/api/v1/items/{id}/narrow", h_none, true, NULL, 0},
    {SRV_GET, "/api/v1/release-requests", h_none, true, NULL, 0},
    {SRV_GET, "/api/v1/release-requests/{rid}", h_none, true, NULL, 0},
    {SRV_POST, "/api/v1/release-requests/{rid}/concur", h_none, true, NULL, 0},
    {SRV_POST, "/api/v1/release-requests/{rid}/break-silence", h_none, true, NULL, 0},
    {SRV_POST, "/api/v1/release-requests/{rid}/withdraw", h_none, true, NULL, 0},
    {SRV_POST, "/api/v1/release-requests/{rid}/extend", h_none, true, NULL, 0},
    /* The federation listener's routes (src/node/fed_listen.c). */
    {SRV_PUT, "/fed/v1/send/{txn}", h_none, false, NULL, 0},
    {SRV_PUT, "/fed/v1/release/{mid}", h_none, false, NULL, 0},
};
#define NROUTES (sizeof routes / sizeof routes[0])

static void *lookup_no_one(void *ctx, const uint8_t hash[SRV_TOKEN_HASH_LEN])
{
    (void)ctx;
    (void)hash;
    return NULL;
}

static bool ieq(const char *a, size_t n, const char *lit)
{
    if (strlen(lit) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != lit[i])
            return false;
    }
    return true;
}

/* What the checks must have refused, counted independently. */
typedef struct expect {
    unsigned cl, te, auth, host;
    bool bad_name, bad_value, te_other;
} expect;

static void expect_field(expect *e, const char *name, size_t nl, const char *value, size_t vl)
{
    if (nl == 0)
        e->bad_name = true;
    for (size_t i = 0; i < nl; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= ' ' || c >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", c))
            e->bad_name = true;
    }
    for (size_t i = 0; i < vl; i++)
        if (value[i] == '\0' || value[i] == '\r' || value[i] == '\n')
            e->bad_value = true;
    if (ieq(name, nl, "content-length"))
        e->cl++;
    if (ieq(name, nl, "transfer-encoding")) {
        e->te++;
        e->te_other = !ieq(value, vl, "chunked");
    }
    if (ieq(name, nl, "authorization"))
        e->auth++;
    if (ieq(name, nl, "host"))
        e->host++;
}

static void check_route(srv_method m, const char *path)
{
    srv_request req;
    memset(&req, 0, sizeof req);
    bool known = false;
    char allow[64];
    long r = srv_route_match(routes, NROUTES, m, path, &req, &known, allow, sizeof allow);
    if (r >= 0) {
        FUZZ_CHECK((size_t)r < NROUTES && routes[r].method == m, "route %ld", r);
        for (size_t i = 0; i < req.nparams; i++) {
            size_t l = strlen(req.params[i].value);
            FUZZ_CHECK(l > 0 && l < sizeof req.params[i].value, "param length %zu", l);
            FUZZ_CHECK(!strchr(req.params[i].value, '/'), "param with '/': %s",
                       req.params[i].value);
        }
    } else if (known) {
        FUZZ_CHECK(allow[0] != '\0', "405 without Allow for %s", path);
    }
}

static void check_query(const char *q)
{
    char *copy = strdup(q);
    if (!copy)
        return;
    char *save = NULL;
    for (char *kv = strtok_r(copy, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        const char *v = eq ? eq + 1 : "";
        uint64_t n = 12345;
        if (srv_parse_uint(v, 1000, &n)) {
            FUZZ_CHECK(n <= 1000 && *v && strspn(v, "0123456789") == strlen(v),
                       "accepted '%s' as %llu", v, (unsigned long long)n);
        } else {
            FUZZ_CHECK(n == 12345, "refused '%s' but wrote the result", v);
        }
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool crypto;
    if (!crypto) {
        lsn_error err;
        FUZZ_CHECK(srv_crypto_init(&err) == LSN_OK, "libsodium: %s", err.message);
        crypto = true;
    }
    if (size > 65536)
        return 0;
    const char *p = (const char *)data, *end = p + size;

    /* The request line: METHOD SP TARGET SP VERSION. */
    const char *eol = memchr(p, '\n', size);
    const char *line_end = eol ? eol : end;
    const char *sp1 = memchr(p, ' ', (size_t)(line_end - p));
    char method[16] = "", target[SRV_MAX_PATH + 64] = "";
    if (sp1) {
        size_t ml = (size_t)(sp1 - p);
        memcpy(method, p, ml < sizeof method - 1 ? ml : sizeof method - 1);
        const char *t = sp1 + 1;
        const char *sp2 = memchr(t, ' ', (size_t)(line_end - t));
        size_t tl = (size_t)((sp2 ? sp2 : line_end) - t);
        if (tl >= sizeof target)
            tl = sizeof target - 1;
        memcpy(target, t, tl);
        target[strcspn(target, "\r")] = '\0'; /* and stops at a NUL, as C strings do */
    }
    p = eol ? eol + 1 : end;

    /* Header lines up to an empty one: checked as the server checks them. */
    srv_field_check fc;
    srv_field_check_init(&fc);
    expect e = {0};
    char authz[SRV_TOKEN_MAX + 64];
    bool have_authz = false;
    while (p < end) {
        eol = memchr(p, '\n', (size_t)(end - p));
        line_end = eol ? eol : end;
        const char *le = line_end;
        if (le > p && le[-1] == '\r')
            le--;
        if (le == p) {
            p = eol ? eol + 1 : end;
            break;
        }
        const char *colon = memchr(p, ':', (size_t)(le - p));
        const char *name = p, *value = colon ? colon + 1 : le;
        size_t nl = (size_t)((colon ? colon : le) - p);
        while (value < le && (*value == ' ' || *value == '\t'))
            value++;
        size_t vl = (size_t)(le - value);
        while (vl && (value[vl - 1] == ' ' || value[vl - 1] == '\t'))
            vl--;
        srv_field_check_add(&fc, name, nl, value, vl);
        expect_field(&e, name, nl, value, vl);
        if (ieq(name, nl, "authorization") && !have_authz) {
            size_t c = vl < sizeof authz - 1 ? vl : sizeof authz - 1;
            memcpy(authz, value, c);
            authz[c] = '\0';
            have_authz = true;
        }
        p = eol ? eol + 1 : end;
    }
    const char *verdict = srv_field_check_verdict(&fc);
    bool must_refuse = e.bad_name || e.bad_value || e.auth > 1 || e.host > 1 ||
                       (e.cl && e.te) || e.cl > 1 || e.te > 1 || (e.te == 1 && e.te_other);
    FUZZ_CHECK(!verdict == !must_refuse, "verdict %s, but expected %s",
               verdict ? verdict : "(pass)", must_refuse ? "a refusal" : "a pass");
    FUZZ_CHECK(!verdict || strlen(verdict) > 10, "a refusal without a sentence");

    /* Routing, as the server would for what passed (and for what did not:
     * the router must hold up either way). */
    char *q = strchr(target, '?');
    if (q)
        *q++ = '\0';
    srv_method m = srv_method_from(method);
    check_route(m, target);
    check_route(SRV_POST, target);
    if (q)
        check_query(q);

    /* The bearer token: a lookup that knows no one never authenticates. */
    srv_auth a = {.lookup = lookup_no_one};
    void *user = NULL;
    srv_auth_result ar = srv_authenticate(&a, have_authz ? authz : NULL, &user);
    FUZZ_CHECK(ar != SRV_AUTH_OK && user == NULL, "authenticated with no user known");
    FUZZ_CHECK(have_authz || ar == SRV_AUTH_MISSING, "no header but result %d", (int)ar);

    /* The body's depth guard never counts more than the body's brackets. */
    size_t blen = (size_t)(end - p), opens = 0;
    for (size_t i = 0; i < blen; i++)
        opens += p[i] == '[' || p[i] == '{';
    size_t d = srv_json_depth(p, blen, 32);
    FUZZ_CHECK(d <= opens, "depth %zu from %zu brackets", d, opens);
    return 0;
}
