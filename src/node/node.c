/* node/node.c — `liaison serve`: start-up, the route table, shutdown.
 *
 * Start-up: settings from the server's option table (config file, then
 * flags), the policy (bundled, or --policy FILE), the store (--store URI,
 * default sqlite:DATA/liaison.db, the data directory created 0700:
 * svc_store_open), the service layer over them, optionally the demo data,
 * the stream hub with replay from the store, the publisher, the server.
 * SIGTERM or SIGINT: stop accepting, finish in-flight requests (10 s
 * grace), stop the publisher, close the store (which drains its writes),
 * exit 0. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/error.h"
#include "federation/identity.h"
#include "node.h"
#include "node_internal.h"
#include "server/config.h"
#include "server/errors.h"
#include "server/log.h"

#define NODE_DEFAULT_THREADS 32u
#define NODE_DEMO_NAME "NATO HQ" /* --demo's node, unless --node-name */

#ifndef NODE_WEB_DIR_SOURCE
#define NODE_WEB_DIR_SOURCE "web/public"
#endif
#ifndef NODE_WEB_DIR_INSTALLED
#define NODE_WEB_DIR_INSTALLED "/usr/local/share/liaison/public"
#endif

/* THE route table of the node's API (docs/api/openapi.yaml follows it).
 * The last column is the right the caller needs, an act of the service
 * layer's table of rights (service_roles.c): the server refuses (403) a
 * caller without it before the handler runs. Metrics are
 * not in it: they are served on the metrics listener (--metrics-listen),
 * for operators, never to readers (issue 9). */
static const srv_route node_routes[] = {
    {SRV_GET, "/", node_h_index, false, "the web page", SVC_ACT_NONE},
    {SRV_GET, "/{file}", node_h_static, false, "the web page's files", SVC_ACT_NONE},
    {SRV_GET, "/js/{file}", node_h_static_js, false, "the web page's modules", SVC_ACT_NONE},
    {SRV_GET, "/js/views/{file}", node_h_static_views, false, "the web page's view modules", SVC_ACT_NONE},
    {SRV_GET, "/healthz", srv_handle_healthz, false, "liveness", SVC_ACT_NONE},
    {SRV_GET, "/api/v1/me", node_h_me, true, "the caller: name, organisation, clearance, roles", SVC_ACT_NONE},
    {SRV_GET, "/api/v1/policy", node_h_policy, true, "the policy: classifications and categories, for a label picker", SVC_ACT_READ},
    {SRV_GET, "/api/v1/channels", node_h_channels, true, "the channels", SVC_ACT_READ},
    {SRV_POST, "/api/v1/channels", node_h_channel_add, true, "add a channel", SVC_ACT_ADMINISTER},
    {SRV_POST, "/api/v1/organisations", node_h_org_add, true, "add an organisation", SVC_ACT_ADMINISTER},
    {SRV_POST, "/api/v1/users", node_h_user_add, true, "add a user (its token is in the answer, once)", SVC_ACT_ADMINISTER},
    {SRV_GET, "/api/v1/peers", node_h_peers, true, "the peer nodes: state, last contact, items waiting, last acknowledged, last error", SVC_ACT_ADMINISTER},
    {SRV_POST, "/api/v1/peers", node_h_peer_add, true, "register a peer node (its certificate pinned)", SVC_ACT_ADMINISTER},
    {SRV_GET, "/api/v1/users", node_h_users, true, "every user (administrators)", SVC_ACT_ADMINISTER},
    {SRV_GET, "/api/v1/users/{name}", node_h_user_show, true, "one user (administrators)", SVC_ACT_ADMINISTER},
    {SRV_PATCH, "/api/v1/users/{name}", node_h_user_update, true, "change a user's status, clearance or roles", SVC_ACT_ADMINISTER},
    {SRV_DELETE, "/api/v1/users/{name}", node_h_user_remove, true, "remove a user (the name stays taken)", SVC_ACT_ADMINISTER},
    {SRV_PUT, "/api/v1/users/{name}/password", node_h_user_password, true, "set a user's password", SVC_ACT_ADMINISTER},
    {SRV_PUT, "/api/v1/users/{name}/certificate", node_h_user_certificate, true, "bind a user to a client certificate, or to a subject under a CA", SVC_ACT_ADMINISTER},
    {SRV_DELETE, "/api/v1/users/{name}/certificate", node_h_user_certificate_remove, true, "unbind a user's client certificates", SVC_ACT_ADMINISTER},
    {SRV_POST, "/api/v1/users/{name}/token", node_h_user_token, true, "a new bearer token for a user (in the answer, once)", SVC_ACT_ADMINISTER},
    {SRV_GET, "/api/v1/users/{name}/tokens", node_h_tokens, true, "a user's named access tokens (the user or an administrator)", SVC_ACT_NONE},
    {SRV_POST, "/api/v1/users/{name}/tokens", node_h_token_add, true, "a new named access token with an expiry (in the answer, once)", SVC_ACT_NONE},
    {SRV_DELETE, "/api/v1/users/{name}/tokens/{token}", node_h_token_revoke, true, "revoke a named access token", SVC_ACT_NONE},
    {SRV_POST, "/api/v1/session", node_h_signin, false, "sign in with a password: a session cookie and its CSRF token", SVC_ACT_NONE},
    {SRV_GET, "/api/v1/session", node_h_session, true, "the caller's session and its CSRF token", SVC_ACT_NONE},
    {SRV_DELETE, "/api/v1/session", node_h_signout, true, "sign out: the session ends on the node", SVC_ACT_NONE},
    {SRV_GET, "/api/v1/audit", node_h_audit, true, "the audit log", SVC_ACT_AUDIT},
    {SRV_POST, "/api/v1/channels/{channel}/items", node_h_post, true, "post a labelled item", SVC_ACT_POST},
    {SRV_GET, "/api/v1/channels/{channel}/items", node_h_list, true, "a channel's items the caller may see", SVC_ACT_READ},
    {SRV_POST, "/api/v1/labels/mark", node_h_mark, true, "validate a label and give its markings (nothing stored)", SVC_ACT_READ},
    {SRV_GET, "/api/v1/items/{id}", node_h_item, true, "one item (404 if absent or not visible)", SVC_ACT_READ},
    {SRV_GET, "/api/v1/items/{id}/attachment", node_h_attachment, true, "an item's attachment as raw bytes (404 as for the item)", SVC_ACT_READ},
    {SRV_GET, "/api/v1/items/{id}/binding", node_h_binding, true, "an item's signed STANAG 4778 binding, verbatim (404 as for the item)", SVC_ACT_READ},
    {SRV_GET, "/api/v1/search", node_h_search, true, "full-text search over visible items", SVC_ACT_READ},
    {SRV_GET, "/api/v1/stream", node_h_stream, true, "live visible items (Server-Sent Events)", SVC_ACT_READ},
    {SRV_POST, "/api/v1/items/{id}/release-requests", node_h_release_request, true, "propose to widen an item's release (silence procedure; 404 as for the item)", SVC_ACT_REQUEST_RELEASE},
    {SRV_GET, "/api/v1/release-requests", node_h_release_list, true, "the release requests the caller proposed or decides on", SVC_ACT_READ},
    {SRV_GET, "/api/v1/release-requests/{rid}", node_h_release_show, true, "a release request: state, authorities, history (its parties and auditors)", SVC_ACT_READ},
    {SRV_POST, "/api/v1/release-requests/{rid}/concur", node_h_release_concur, true, "concur with a release request", SVC_ACT_DECIDE_RELEASE},
    {SRV_POST, "/api/v1/release-requests/{rid}/break-silence", node_h_release_break, true, "break silence (with a reason): the request stops", SVC_ACT_DECIDE_RELEASE},
    {SRV_POST, "/api/v1/release-requests/{rid}/withdraw", node_h_release_withdraw, true, "withdraw one's open request", SVC_ACT_REQUEST_RELEASE},
    {SRV_POST, "/api/v1/release-requests/{rid}/extend", node_h_release_extend, true, "extend one's open request's deadline, once", SVC_ACT_REQUEST_RELEASE},
    {SRV_POST, "/api/v1/items/{id}/withdraw", node_h_item_withdraw, true, "withdraw an item (its author or a release authority of its organisation)", SVC_ACT_CORRECT},
    {SRV_POST, "/api/v1/items/{id}/narrow", node_h_item_narrow, true, "narrow an item's label at once (its author): a new version", SVC_ACT_CORRECT},
};

/* The web page's directory when --web-dir is not given: the installed
 * copy if there is one, else the source tree's (an uninstalled build). */
static const char *default_web_dir(void)
{
    struct stat st;
    if (stat(NODE_WEB_DIR_INSTALLED "/index.html", &st) == 0 && S_ISREG(st.st_mode))
        return NODE_WEB_DIR_INSTALLED;
    return NODE_WEB_DIR_SOURCE;
}

static void usage(void)
{
    printf("usage: liaison serve [--demo] [--demo-file FILE] [options]\n\n"
           "Run a node. Options (also as `key = value` lines in --config FILE):\n");
    srv_config_help(stdout);
    printf("  --demo                      seed an empty data directory with the demo data\n"
           "  --demo-file FILE            the demo data [the built-in data set]\n"
           "  --web-dir DIR               the web page served at / ('none': no page) [%s]\n",
           default_web_dir());
}

/* data/jpn-illustrative-policy.xml, compiled in (src/node/meson.build) for
 * --demo: an illustrative national policy, not an official one. */
#define JPN_ILLUSTRATIVE_OID "2.25.251642713772810140366533035959921199786"
extern const char node_jpn_policy_data[];
extern const size_t node_jpn_policy_data_len;

/* Add one policy to the node's set: from a file, or the bundled one (path
 * NULL), or the compiled-in illustrative Japanese policy (jpn). */
static lsn_err add_policy(node *n, const char *path, bool jpn, lsn_error *err)
{
    lsn_policy *p = NULL;
    lsn_err rc = path ? lsn_policy_load_file(path, &p, err)
                 : jpn ? lsn_policy_load_memory(node_jpn_policy_data, node_jpn_policy_data_len,
                                                "jpn-illustrative-policy.xml (built in)", &p, err)
                       : lsn_policy_load_default(&p, err);
    if (rc != LSN_OK)
        return rc;
    rc = lsn_policy_set_add(n->set, p, err);
    lsn_policy_unref(p); /* the set holds its own reference */
    return rc;
}

/* The node's policy set: the first --policy (else the bundled policy) is
 * the node's own, the one its users' clearances and the label picker use;
 * the other --policy files, and with --demo the illustrative Japanese
 * policy, are loaded beside it so that labels under them are read and
 * translated through their equivalences (docs/NODE.md, "Several
 * policies"). */
static lsn_err load_policies(node *n, const srv_strings *files, bool demo, lsn_error *err)
{
    n->set = lsn_policy_set_new();
    if (!n->set)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    lsn_err rc = add_policy(n, files->n ? files->v[0] : NULL, false, err);
    for (size_t i = 1; rc == LSN_OK && i < files->n; i++)
        rc = add_policy(n, files->v[i], false, err);
    if (rc == LSN_OK && demo &&
        !lsn_policy_set_find_id(n->set, JPN_ILLUSTRATIVE_OID))
        rc = add_policy(n, NULL, true, err);
    if (rc == LSN_OK)
        n->policy = lsn_policy_set_at(n->set, 0);
    return rc;
}

/* The service layer's hooks: a post's access decision (metrics), an item
 * made durable (metrics; wake the stream's publisher). */
static void on_decided(void *ctx, bool granted)
{
    node *n = ctx;
    if (n->metrics)
        srv_metrics_decision(n->metrics, granted);
}

static void on_appended(void *ctx)
{
    node *n = ctx;
    if (n->metrics)
        srv_metrics_items(n->metrics, 1);
    node_publisher_wake(n);
    node_fed_wake(n); /* a new item may be in a peer's outbox */
}

static int count_cb(void *ctx, const store_user *u)
{
    (void)u;
    ++*(size_t *)ctx;
    return STORE_STOP;
}

static void node_release(node *n)
{
    node_release_ticker_stop(n);
    if (n->fed_srv)
        srv_server_stop(n->fed_srv, 0);
    n->fed_srv = NULL;
    node_fed_stop(n);
    node_publisher_stop(n);
    if (n->st)
        store_close(n->st);
    srv_sse_hub_free(n->hub);
    node_cache_free(n);
    node_auth_free(n);
    node_sessions_free(n);
    node_throttle_free(n);
    svc_release(&n->svc);
    fed_identity_free(n->me);
    node_visible_free(n);
    sodium_memzero(n->cursor_seal, sizeof n->cursor_seal);
    sodium_memzero(n->cursor_nonce, sizeof n->cursor_nonce);
    lsn_policy_set_free(n->set);
}

static int fail(node *n, srv_config *cfg, const char *what, const lsn_error *err)
{
    srv_log(SRV_LOG_ERROR, "serve: %s%s%s", what, err ? ": " : "", err ? err->message : "");
    if (n->srv)
        srv_server_stop(n->srv, 0);
    node_release(n);
    srv_config_release(cfg);
    return 2;
}

int node_serve_main(int argc, char **argv)
{
    node n;
    memset(&n, 0, sizeof n);
    srv_config cfg;
    lsn_error err;
    int rest[256], nrest = 0;
    bool demo = false;
    const char *demo_file = NULL; /* the built-in data set */
    const char *web_dir = default_web_dir();

    if (srv_config_init(&cfg, &err) != LSN_OK) {
        srv_log(SRV_LOG_ERROR, "serve: %s", err.message);
        return 2;
    }
    if (argc - 1 > (int)(sizeof rest / sizeof rest[0])) {
        srv_config_release(&cfg);
        srv_log(SRV_LOG_ERROR, "serve: too many arguments");
        return 2;
    }
    if (srv_config_args(&cfg, argc - 1, argv + 1, rest, &nrest, &err) != LSN_OK)
        return fail(&n, &cfg, "bad option", &err);
    for (int i = 0; i < nrest; i++) {
        const char *a = argv[1 + rest[i]];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            srv_config_release(&cfg);
            return 0;
        } else if (strcmp(a, "--demo") == 0) {
            demo = true;
        } else if (strcmp(a, "--demo-file") == 0 && i + 1 < nrest &&
                   rest[i + 1] == rest[i] + 1) {
            demo_file = argv[1 + rest[++i]];
        } else if (strncmp(a, "--demo-file=", 12) == 0) {
            demo_file = a + 12;
        } else if (strcmp(a, "--web-dir") == 0 && i + 1 < nrest && rest[i + 1] == rest[i] + 1) {
            web_dir = argv[1 + rest[++i]];
        } else if (strncmp(a, "--web-dir=", 10) == 0) {
            web_dir = a + 10;
        } else {
            srv_log(SRV_LOG_ERROR, "serve: %s: unknown option (try 'liaison serve --help')", a);
            srv_config_release(&cfg);
            return 2;
        }
    }
    if (srv_config_check(&cfg, &err) != LSN_OK)
        return fail(&n, &cfg, "bad settings", &err);
    /* A request's default deadline must lie within the bounds a proposer's
     * must (docs/RELEASE.md). */
    if (cfg.release_deadline_min > cfg.release_deadline ||
        cfg.release_deadline > cfg.release_deadline_max) {
        lsn_error e = {0};
        snprintf(e.message, sizeof e.message,
                 "--release-deadline-min <= --release-deadline <= --release-deadline-max "
                 "(%u, %u, %u)", cfg.release_deadline_min, cfg.release_deadline,
                 cfg.release_deadline_max);
        return fail(&n, &cfg, "bad settings", &e);
    }
    srv_log_level level = SRV_LOG_INFO;
    (void)srv_log_level_parse(cfg.log_level, &level); /* checked just above */
    srv_log_set_level(level);

    /* Before any thread starts, so that every thread inherits the mask and
     * the signals reach only sigwait. */
    srv_signals_block();

    if (srv_crypto_init(&err) != LSN_OK)
        return fail(&n, &cfg, "start-up", &err);
    if (load_policies(&n, &cfg.policies, demo, &err) != LSN_OK)
        return fail(&n, &cfg, "policy", &err);
    if (svc_store_open(cfg.data_dir, cfg.store, true, &n.st, &err) != LSN_OK)
        return fail(&n, &cfg, "store", &err);
    store_set_alarm(n.st, node_integrity_alarm, &n);
    if (svc_init(&n.svc, n.st, n.set, cfg.body_limit, true) != LSN_OK ||
        node_cache_init(&n) != LSN_OK || node_auth_init(&n) != LSN_OK ||
        node_visible_init(&n) != LSN_OK ||
        node_sessions_init(&n, cfg.session_idle, cfg.session_max) != LSN_OK ||
        node_throttle_init(&n) != LSN_OK)
        return fail(&n, &cfg, "out of memory", NULL);
    n.svc.decided = on_decided;
    n.svc.user_changed = node_user_changed;
    n.svc.token_revoked = node_token_revoked;
    n.svc.hook_ctx = &n;
    /* The node's identity signs every item it accepts: made on first start. */
    bool made = false;
    if (svc_identity_open(cfg.data_dir, n.set, cfg.node_name, cfg.node_nation,
                          demo ? NODE_DEMO_NAME : NULL, &made, &n.me, &err) != LSN_OK)
        return fail(&n, &cfg, "node identity", &err);
    n.svc.me = n.me;
    if (made)
        printf("liaison: node identity created in %s: %s (%s), SHA-256 %s\n", cfg.data_dir,
               fed_identity_name(n.me), fed_identity_nation(n.me),
               fed_identity_fingerprint(n.me));
    if (node_cursor_init(&n, cfg.data_dir, &err) != LSN_OK)
        return fail(&n, &cfg, "cursor key", &err);
    n.body_limit = cfg.body_limit;
    n.web_dir = strcmp(web_dir, "none") == 0 ? NULL : web_dir;

    if (demo) {
        size_t users = 0;
        if (store_user_list(n.st, count_cb, &users, &err) != LSN_OK)
            return fail(&n, &cfg, "store", &err);
        if (users == 0) {
            if (node_demo_seed(&n, demo_file, cfg.data_dir, &err) != LSN_OK)
                return fail(&n, &cfg, "demo", &err);
            printf("liaison: demo data seeded; credentials in %s/demo-credentials.json\n",
                   cfg.data_dir);
        } else {
            printf("liaison: the data directory is not empty; demo data not seeded\n");
        }
    }

    srv_sse_hub_opts ho = {.queue_max = cfg.stream_queue, .replay = node_stream_replay,
                           .replay_ctx = &n, .event_id = node_stream_event_id};
    n.hub = srv_sse_hub_new(&ho);
    if (!n.hub)
        return fail(&n, &cfg, "cannot start the stream hub", NULL);
    if (node_publisher_start(&n, &err) != LSN_OK)
        return fail(&n, &cfg, "publisher", &err);
    n.svc.appended = on_appended; /* from here on, items wake the publisher */
    n.svc.release_changed = node_release_changed; /* requests' notices to their parties */
    /* Release requests: the operator's deadlines and clock; what became due
     * while the node was down is adopted now, then every interval. */
    n.svc.rel.deadline_ms = (int64_t)cfg.release_deadline * 1000;
    n.svc.rel.min_ms = (int64_t)cfg.release_deadline_min * 1000;
    n.svc.rel.max_ms = (int64_t)cfg.release_deadline_max * 1000;
    n.svc.rel.clock_file = cfg.release_clock;
    if (node_release_ticker_start(&n, cfg.release_settle) != LSN_OK)
        return fail(&n, &cfg, "release requests' settler", NULL);

    srv_server_opts o = {
        .listen = cfg.listen, .tls_cert = cfg.tls_cert, .tls_key = cfg.tls_key,
        .tls_client_ca = cfg.tls_client_ca,
        .body_limit = cfg.body_limit,
        /* Posts wait for their commit without a thread (deferred answers),
         * but reads still wait for the durable audit records they append,
         * so the node wants more threads than CPUs: those waits overlap
         * and the store's group commit batches them. */
        .threads = cfg.threads ? cfg.threads : NODE_DEFAULT_THREADS,
        .max_connections = cfg.max_connections, .timeout = cfg.timeout,
        .conn_memory = cfg.conn_memory, .per_address = cfg.per_address,
        .request_deadline = cfg.request_deadline, .max_waiting = cfg.waiting_connections,
        .metrics_listen = srv_config_metrics_address(&cfg),
        .access_log = srv_config_access_log(&cfg), .routes = node_routes,
        .nroutes = sizeof node_routes / sizeof node_routes[0],
        .auth = {.lookup = node_auth_lookup, .release = node_auth_release,
                 .allow = node_auth_allow, .lookup_session = node_auth_lookup_session,
                 .lookup_cert = node_auth_lookup_cert, .user_name = node_auth_user_name,
                 .ctx = &n},
        .hub = n.hub, .app = &n,
    };
    n.srv = srv_server_start(&o, &err);
    if (!n.srv)
        return fail(&n, &cfg, "server", &err);
    n.metrics = srv_server_metrics(n.srv);
    /* Federation: the senders to the registered peers, and the listener
     * for theirs (docs/FEDERATION.md). */
    if (node_fed_start(&n, cfg.data_dir, cfg.federation_retry_min, cfg.federation_retry_max,
                       cfg.federation_probe, &err) != LSN_OK)
        return fail(&n, &cfg, "federation", &err);
    if (cfg.federation_listen &&
        node_fed_listen_start(&n, cfg.federation_listen, cfg.data_dir, &err) != LSN_OK)
        return fail(&n, &cfg, "federation listener", &err);
    (void)node_audit(&n, "system", "node.start", cfg.listen, "ok", NULL);

    char host[256];
    unsigned short port;
    if (srv_parse_listen(cfg.listen, host, sizeof host, &port, &err) != LSN_OK)
        host[0] = '\0';
    bool v6 = strchr(host, ':') != NULL;
    const char *ml = srv_config_metrics_address(&cfg);
    char mhost[256];
    unsigned short mport;
    if (ml && srv_parse_listen(ml, mhost, sizeof mhost, &mport, &err) == LSN_OK) {
        bool mv6 = strchr(mhost, ':') != NULL;
        printf("liaison: metrics on http://%s%s%s:%u/metrics\n", mv6 ? "[" : "",
               mhost[0] ? mhost : "0.0.0.0", mv6 ? "]" : "",
               (unsigned)srv_server_metrics_port(n.srv));
    }
    if (n.fed_srv) {
        char fhost[256];
        unsigned short fport;
        if (srv_parse_listen(cfg.federation_listen, fhost, sizeof fhost, &fport, &err) != LSN_OK)
            fhost[0] = '\0';
        bool fv6 = strchr(fhost, ':') != NULL;
        printf("liaison: federation on https://%s%s%s:%u\n", fv6 ? "[" : "",
               fhost[0] ? fhost : "0.0.0.0", fv6 ? "]" : "",
               (unsigned)srv_server_port(n.fed_srv));
    }
    printf("liaison: listening on %s://%s%s%s:%u\n", cfg.tls_cert ? "https" : "http",
           v6 ? "[" : "", host[0] ? host : "0.0.0.0", v6 ? "]" : "",
           (unsigned)srv_server_port(n.srv));
    fflush(stdout);

    int sig = srv_signals_wait();
    srv_log(SRV_LOG_INFO, "signal %d: stopping", sig);
    if (n.fed_srv)
        srv_server_stop(n.fed_srv, 10000);
    n.fed_srv = NULL;
    node_fed_stop(&n);
    srv_server_stop(n.srv, 10000);
    n.srv = NULL;
    n.metrics = NULL;
    node_publisher_stop(&n);
    (void)node_audit(&n, "system", "node.stop", cfg.listen, "ok", NULL);
    node_release(&n);
    srv_config_release(&cfg);
    return 0;
}
