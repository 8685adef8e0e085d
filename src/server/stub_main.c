/* server/stub_main.c — liaison-server-stub: the HTTP plumbing with stub
 * handlers, for trying the server by hand until `liaison serve` exists.
 *
 *   liaison-server-stub [--listen 127.0.0.1:8470] [--config FILE] ...
 *
 * It prints a fresh bearer token, serves /healthz, /api/v1/me
 * (needs the token), POST /api/v1/echo (echoes a JSON body), POST
 * /api/v1/publish (publishes its body to the stream) and /api/v1/stream
 * (SSE), metrics on their own listener (--metrics-listen, GET /metrics),
 * and stops gracefully on SIGTERM or SIGINT. --help lists the
 * options, --markdown prints them as a table, --routes the route table. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include "core/alloc.h"
#include "server/body.h"
#include "server/config.h"
#include "server/errors.h"
#include "server/http_server.h"

static uint8_t stub_hash[SRV_TOKEN_HASH_LEN];
static char stub_user[] = "stub-user";
static _Atomic uint64_t next_id = 1;

static void *lookup(void *ctx, const uint8_t hash[SRV_TOKEN_HASH_LEN])
{
    (void)ctx;
    return srv_token_hash_equal(hash, stub_hash) ? stub_user : NULL;
}

static void h_me(srv_request *req, srv_response *resp)
{
    srv_resp_json(resp, 200, json_pack("{s:s}", "user", (const char *)req->user));
}

static void h_echo(srv_request *req, srv_response *resp)
{
    json_t *body;
    if (srv_json_body(req, resp, &body))
        srv_resp_json(resp, 200, json_pack("{s:o}", "echo", body));
}

static void h_publish(srv_request *req, srv_response *resp)
{
    json_t *body;
    if (!srv_json_body(req, resp, &body))
        return;
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    uint64_t id = atomic_fetch_add(&next_id, 1);
    long n = text ? srv_sse_publish(req->hub, id, "item", text, strlen(text), NULL) : -1;
    free(text); /* jansson's allocator */
    srv_resp_json(resp, 201, json_pack("{s:I, s:i}", "id", (json_int_t)id, "delivered", (int)n));
}

static bool accept_all(void *reader, const void *meta)
{
    (void)reader;
    (void)meta;
    return true;
}

static void h_stream(srv_request *req, srv_response *resp)
{
    srv_resp_sse(req, resp, NULL, accept_all, NULL);
}

static const srv_route routes[] = {
    {SRV_GET, "/healthz", srv_handle_healthz, false, "liveness", 0},
    {SRV_GET, "/api/v1/me", h_me, true, "the caller", 0},
    {SRV_POST, "/api/v1/echo", h_echo, true, "echo a JSON object", 0},
    {SRV_POST, "/api/v1/publish", h_publish, true, "publish a JSON object to the stream", 0},
    {SRV_GET, "/api/v1/stream", h_stream, true, "live events (SSE)", 0},
};

int main(int argc, char **argv)
{
    srv_config cfg;
    lsn_error err;
    if (srv_config_init(&cfg, &err)) {
        fprintf(stderr, "liaison-server-stub: %s\n", err.message);
        return 1;
    }
    int nrest = 0;
    int rest[64];
    if (argc - 1 > 64 || srv_config_args(&cfg, argc - 1, argv + 1, rest, &nrest, &err)
        || srv_config_check(&cfg, &err)) {
        fprintf(stderr, "liaison-server-stub: %s\n", argc - 1 > 64 ? "too many arguments" : err.message);
        srv_config_release(&cfg);
        return 2;
    }
    for (int i = 0; i < nrest; i++) {
        const char *a = argv[rest[i] + 1];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("usage: liaison-server-stub [options]\n");
            srv_config_help(stdout);
        } else if (strcmp(a, "--markdown") == 0) {
            srv_config_markdown(stdout);
        } else if (strcmp(a, "--routes") == 0) {
            srv_routes_markdown(stdout, routes, sizeof routes / sizeof routes[0]);
        } else {
            fprintf(stderr, "liaison-server-stub: unknown argument '%s'\n", a);
            srv_config_release(&cfg);
            return 2;
        }
        srv_config_release(&cfg);
        return 0;
    }

    char token[SRV_TOKEN_LEN + 1];
    if (srv_token_generate(token, stub_hash, &err)) {
        fprintf(stderr, "liaison-server-stub: %s\n", err.message);
        srv_config_release(&cfg);
        return 1;
    }
    srv_signals_block();
    srv_sse_hub *hub = srv_sse_hub_new(&(srv_sse_hub_opts){.queue_max = cfg.stream_queue});
    srv_server_opts o = {
        .listen = cfg.listen, .tls_cert = cfg.tls_cert, .tls_key = cfg.tls_key,
        .body_limit = cfg.body_limit, .threads = cfg.threads,
        .max_connections = cfg.max_connections, .timeout = cfg.timeout,
        .conn_memory = cfg.conn_memory, .per_address = cfg.per_address,
        .request_deadline = cfg.request_deadline, .max_waiting = cfg.waiting_connections,
        .metrics_listen = srv_config_metrics_address(&cfg), .routes = routes,
        .nroutes = sizeof routes / sizeof routes[0],
        .auth = {.lookup = lookup}, .hub = hub,
    };
    srv_server *s = hub ? srv_server_start(&o, &err) : NULL;
    if (!s) {
        fprintf(stderr, "liaison-server-stub: %s\n", hub ? err.message : "out of memory");
        srv_sse_hub_free(hub);
        srv_config_release(&cfg);
        return 1;
    }
    printf("listening on port %u\n", srv_server_port(s));
    if (srv_server_metrics_port(s))
        printf("metrics on port %u\n", srv_server_metrics_port(s));
    printf("token: %s\n", token);
    fflush(stdout);
    srv_wipe(token, sizeof token);
    int sig = srv_signals_wait();
    fprintf(stderr, "liaison-server-stub: signal %d, stopping\n", sig);
    srv_server_stop(s, 10000);
    srv_sse_hub_free(hub);
    srv_config_release(&cfg);
    return 0;
}
