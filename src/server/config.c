/* server/config.c — the option table and its readers. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "core/alloc.h"
#include "core/error.h"
#include "server/config.h"
#include "server/log.h"

/* OPT_LIST: a repeatable string option; each use (flag or file line) adds
 * a value to an srv_strings, in order (the file's first, then the flags'). */
typedef enum opt_type { OPT_STRING, OPT_SIZE, OPT_UINT, OPT_LIST } opt_type;

typedef struct option {
    const char *key;
    opt_type type;
    size_t offset;          /* into srv_config */
    const char *def;        /* default as text; NULL: unset */
    unsigned long long min, max; /* numeric bounds */
    const char *arg;        /* the value's name in help */
    const char *help;
} option;

#define OFF(f) offsetof(srv_config, f)

/* THE table. Add an option here and it is parsed, documented and helped. */
static const option options[] = {
    {"data-dir", OPT_STRING, OFF(data_dir), "./liaison-data", 0, 0, "DIR",
     "directory holding the node's store and audit log"},
    {"listen", OPT_STRING, OFF(listen), "127.0.0.1:8470", 0, 0, "HOST:PORT",
     "address to listen on; [::1]:8470 for IPv6, port 0 picks a free port"},
    {"policy", OPT_LIST, OFF(policies), NULL, 0, 0, "FILE",
     "SPIF policy file; repeatable: the first is the node's own policy (default: the "
     "bundled policy), the others are loaded beside it so that labels under them "
     "are read and translated"},
    {"store", OPT_STRING, OFF(store), NULL, 0, 0, "URI",
     "the store: sqlite:PATH (default: sqlite:DATA_DIR/liaison.db) or postgresql://..."},
    {"tls-cert", OPT_STRING, OFF(tls_cert), NULL, 0, 0, "FILE",
     "PEM certificate chain; serve HTTPS (needs tls-key)"},
    {"tls-key", OPT_STRING, OFF(tls_key), NULL, 0, 0, "FILE",
     "PEM private key for tls-cert"},
    {"tls-client-ca", OPT_STRING, OFF(tls_client_ca), NULL, 0, 0, "FILE",
     "PEM of the CAs whose client certificates sign users in (users bound with "
     "'liaison user set-certificate'); needs tls-cert"},
    {"body-limit", OPT_SIZE, OFF(body_limit), "1048576", 1024, 1ull << 30, "BYTES",
     "largest request body accepted (larger: 413)"},
    {"threads", OPT_UINT, OFF(threads), "0", 0, 256, "N",
     "server threads (0: one per CPU)"},
    {"max-connections", OPT_UINT, OFF(max_connections), "1024", 1, 1000000, "N",
     "concurrent connections, streams included"},
    {"timeout", OPT_UINT, OFF(timeout), "30", 1, 86400, "SECONDS",
     "idle time after which a connection is closed"},
    {"connection-memory", OPT_SIZE, OFF(conn_memory), "65536", 8192, 16u << 20, "BYTES",
     "memory per connection for request line and headers (larger: 431/413)"},
    {"metrics-listen", OPT_STRING, OFF(metrics_listen), "127.0.0.1:8471", 0, 0, "HOST:PORT",
     "address of the metrics listener (GET /metrics, for operators only: keep it on "
     "loopback); 'none': no metrics"},
    {"access-log", OPT_STRING, OFF(access_log), "none", 0, 0, "FILE",
     "JSON lines access log, one line per answered request (time, client, user, method, "
     "route pattern, status, bytes, duration_ms); '-': standard output; 'none': off"},
    {"log-level", OPT_STRING, OFF(log_level), "info", 0, 0, "LEVEL",
     "the node's messages on standard error: error, warn, info or debug"},
    {"per-address-connections", OPT_UINT, OFF(per_address), "128", 0, 1000000, "N",
     "concurrent connections from one client address (0: no cap, e.g. behind a proxy)"},
    {"request-deadline", OPT_UINT, OFF(request_deadline), "30", 1, 3600, "SECONDS",
     "time for a request to arrive whole (headers and body), from connecting or from the "
     "previous answer; then the connection is closed"},
    {"waiting-connections", OPT_UINT, OFF(waiting_connections), "0", 0, 1000000, "N",
     "connections that may wait for their request at once, the rest kept for requests "
     "that arrived whole; when full, the longest waiting is closed (0: half of "
     "max-connections)"},
    {"stream-queue", OPT_UINT, OFF(stream_queue), "4096", 16, 1u << 20, "N",
     "events queued per stream client before it is dropped as too slow"},
    {"node-name", OPT_STRING, OFF(node_name), NULL, 0, 0, "NAME",
     "the name of the node identity made when the data directory has none (default: "
     "the host's name; --demo: NATO HQ)"},
    {"node-nation", OPT_STRING, OFF(node_nation), NULL, 0, 0, "CODE",
     "the nation of the node identity made when the data directory has none, a category "
     "value of the policy (default: the policy's own name, e.g. NATO)"},
    {"federation-listen", OPT_STRING, OFF(federation_listen), NULL, 0, 0, "HOST:PORT",
     "the federation listener: HTTPS with mutual TLS, the node's identity as its "
     "certificate, only registered peers' pinned certificates admitted (default: none)"},
    {"federation-retry-min", OPT_UINT, OFF(federation_retry_min), "2000", 1, 3600000, "MS",
     "a peer that failed is retried after a random delay below this, doubled at each "
     "failure in a row (full jitter)"},
    {"federation-retry-max", OPT_UINT, OFF(federation_retry_max), "600000", 1, 86400000, "MS",
     "the cap of that delay (about ten minutes)"},
    {"federation-probe", OPT_UINT, OFF(federation_probe), "30000", 10, 86400000, "MS",
     "an idle peer is probed (an empty batch) this often"},
    {"session-idle", OPT_UINT, OFF(session_idle), "1800", 60, 86400, "SECONDS",
     "a web session unused this long ends (sign in again)"},
    {"session-max", OPT_UINT, OFF(session_max), "43200", 300, 604800, "SECONDS",
     "a web session ends this long after sign-in, used or not"},
    {"release-deadline", OPT_UINT, OFF(release_deadline), "86400", 60, 2592000, "SECONDS",
     "a release request's deadline when its proposer sets none (docs/RELEASE.md)"},
    {"release-deadline-min", OPT_UINT, OFF(release_deadline_min), "60", 1, 2592000, "SECONDS",
     "the earliest deadline a proposer may set, from now"},
    {"release-deadline-max", OPT_UINT, OFF(release_deadline_max), "2592000", 60, 31536000,
     "SECONDS", "the latest deadline a proposer may set (or extend to), from now"},
    {"release-settle-interval", OPT_UINT, OFF(release_settle), "1", 1, 86400, "SECONDS",
     "how often the node adopts release requests whose deadline passed (also at start "
     "and on every release route)"},
    {"release-clock", OPT_STRING, OFF(release_clock), NULL, 0, 0, "FILE",
     "for tests: the node's clock for release requests is the number of milliseconds "
     "since 1970 in FILE, read at each use (default: the system's clock)"},
};
#define NOPTIONS (sizeof options / sizeof options[0])

static const option *find(const char *key, size_t len)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (strlen(options[i].key) == len && memcmp(options[i].key, key, len) == 0)
            return &options[i];
    return NULL;
}

/* Decimal number with an optional K/M/G suffix (powers of 1024) for sizes. */
static bool parse_number(const char *s, bool suffix, unsigned long long *out)
{
    unsigned long long v = 0;
    if (*s < '0' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (ULLONG_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    unsigned shift = 0;
    if (suffix && *s) {
        switch (*s) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        default: return false;
        }
        s++;
    }
    if (*s || (shift && v > (ULLONG_MAX >> shift)))
        return false;
    *out = v << shift;
    return true;
}

static lsn_err set_opt(srv_config *cfg, const option *o, const char *value, lsn_error *err)
{
    void *field = (char *)cfg + o->offset;
    if (o->type == OPT_LIST) {
        srv_strings *l = field;
        if (!value || !*value)
            return core_fail(err, LSN_ERR_ARG, "%s needs a value", o->key);
        if (l->n >= SRV_STRINGS_MAX)
            return core_fail(err, LSN_ERR_LIMIT, "%s is given more than %u times", o->key,
                             SRV_STRINGS_MAX);
        if (!(l->v[l->n] = core_strdup(value)))
            return core_fail(err, LSN_ERR_NOMEM, "out of memory setting %s", o->key);
        l->n++;
        return LSN_OK;
    }
    if (o->type == OPT_STRING) {
        char *copy = NULL;
        if (value && *value) {
            copy = core_strdup(value);
            if (!copy)
                return core_fail(err, LSN_ERR_NOMEM, "out of memory setting %s", o->key);
        }
        char **slot = field;
        lsn_free(*slot);
        *slot = copy;
        return LSN_OK;
    }
    unsigned long long v;
    if (!value || !parse_number(value, o->type == OPT_SIZE, &v))
        return core_fail(err, LSN_ERR_ARG, "%s must be a whole number%s, not '%.64s'",
                        o->key, o->type == OPT_SIZE ? " (K, M or G allowed)" : "",
                        value ? value : "");
    if (v < o->min || v > o->max)
        return core_fail(err, LSN_ERR_ARG, "%s must be between %llu and %llu, not %llu",
                        o->key, o->min, o->max, v);
    if (o->type == OPT_SIZE)
        *(size_t *)field = (size_t)v;
    else
        *(unsigned *)field = (unsigned)v;
    return LSN_OK;
}

lsn_err srv_config_init(srv_config *cfg, lsn_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (!options[i].def)
            continue;
        lsn_err rc = set_opt(cfg, &options[i], options[i].def, err);
        if (rc) {
            srv_config_release(cfg);
            return rc;
        }
    }
    return LSN_OK;
}

void srv_config_release(srv_config *cfg)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (options[i].type == OPT_STRING) {
            char **slot = (char **)((char *)cfg + options[i].offset);
            lsn_free(*slot);
            *slot = NULL;
        } else if (options[i].type == OPT_LIST) {
            srv_strings *l = (srv_strings *)((char *)cfg + options[i].offset);
            for (size_t k = 0; k < l->n; k++)
                lsn_free(l->v[k]);
            l->n = 0;
        }
}

lsn_err srv_config_set(srv_config *cfg, const char *key, const char *value, lsn_error *err)
{
    const option *o = find(key, strlen(key));
    if (!o)
        return core_fail(err, LSN_ERR_ARG, "unknown setting '%.64s'", key);
    return set_opt(cfg, o, value, err);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

lsn_err srv_config_load_file(srv_config *cfg, const char *path, lsn_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return core_fail(err, LSN_ERR_IO, "cannot open configuration file %s: %s", path,
                        strerror(errno));
    enum { MAX = 64 * 1024 };
    char *text = core_malloc(MAX + 1);
    if (!text) {
        fclose(f);
        return core_fail(err, LSN_ERR_NOMEM, "out of memory reading %s", path);
    }
    size_t len = fread(text, 1, MAX + 1, f);
    bool bad = ferror(f);
    fclose(f);
    if (bad || len > MAX) {
        lsn_free(text);
        return core_fail(err, bad ? LSN_ERR_IO : LSN_ERR_LIMIT,
                        bad ? "cannot read configuration file %s"
                            : "configuration file %s is larger than 64 KiB", path);
    }
    text[len] = '\0';
    if (memchr(text, '\0', len)) {
        lsn_free(text);
        return core_fail(err, LSN_ERR_SYNTAX, "configuration file %s contains a NUL byte", path);
    }
    lsn_err rc = LSN_OK;
    unsigned lineno = 0;
    for (char *line = text; line && !rc;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        char *s = line;
        line = nl ? nl + 1 : NULL;
        while (is_space(*s))
            s++;
        size_t n = strlen(s);
        while (n && is_space(s[n - 1]))
            s[--n] = '\0';
        if (n == 0 || s[0] == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = core_fail(err, LSN_ERR_SYNTAX, "%s:%u: expected 'key = value'", path, lineno);
            break;
        }
        char *kend = eq;
        while (kend > s && is_space(kend[-1]))
            kend--;
        char *v = eq + 1;
        while (is_space(*v))
            v++;
        size_t vl = strlen(v);
        if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
            v[vl - 1] = '\0';
            v++;
        }
        const option *o = find(s, (size_t)(kend - s));
        if (!o) {
            *kend = '\0';
            rc = core_fail(err, LSN_ERR_ARG, "%s:%u: unknown setting '%.64s'", path, lineno, s);
            break;
        }
        lsn_error e2;
        if (set_opt(cfg, o, v, &e2))
            rc = core_fail(err, e2.code, "%s:%u: %s", path, lineno, e2.message);
    }
    lsn_free(text);
    return rc;
}

lsn_err srv_config_args(srv_config *cfg, int argc, char **argv, int *rest,
                        int *nrest, lsn_error *err)
{
    int nr = 0;
    /* Pass 0 reads --config; pass 1 applies every other option over it. */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < argc; i++) {
            const char *a = argv[i];
            if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
                if (pass == 1 && rest)
                    rest[nr] = i;
                nr += pass;
                continue;
            }
            const char *key = a + 2;
            const char *eq = strchr(key, '=');
            size_t kl = eq ? (size_t)(eq - key) : strlen(key);
            bool is_config = kl == 6 && memcmp(key, "config", 6) == 0;
            const option *o = is_config ? NULL : find(key, kl);
            if (!is_config && !o) {
                if (pass == 1 && rest)
                    rest[nr] = i;
                nr += pass;
                continue;
            }
            const char *value = eq ? eq + 1 : NULL;
            if (!value) {
                if (i + 1 >= argc)
                    return core_fail(err, LSN_ERR_ARG, "--%.*s needs a value", (int)kl, key);
                value = argv[++i];
            }
            lsn_err rc = LSN_OK;
            if (is_config && pass == 0)
                rc = srv_config_load_file(cfg, value, err);
            else if (o && pass == 1)
                rc = set_opt(cfg, o, value, err);
            if (rc)
                return rc;
        }
    }
    if (nrest)
        *nrest = nr;
    return LSN_OK;
}

lsn_err srv_parse_listen(const char *text, char *host, size_t host_len,
                         unsigned short *port, lsn_error *err)
{
    if (!text || !*text)
        return core_fail(err, LSN_ERR_ARG, "listen address is empty");
    const char *colon;
    const char *h = text;
    size_t hl;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':')
            return core_fail(err, LSN_ERR_ARG,
                            "listen address '%.64s' must be [IPv6]:PORT", text);
        h = text + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
        if (hl == 0)
            return core_fail(err, LSN_ERR_ARG, "listen address '%.64s' has an empty IPv6 host", text);
    } else {
        colon = strrchr(text, ':');
        if (!colon)
            return core_fail(err, LSN_ERR_ARG, "listen address '%.64s' must be HOST:PORT", text);
        hl = (size_t)(colon - text);
        if (memchr(text, ':', hl))
            return core_fail(err, LSN_ERR_ARG,
                            "listen address '%.64s': put an IPv6 host in brackets, [::1]:PORT", text);
    }
    if (hl + 1 > host_len)
        return core_fail(err, LSN_ERR_ARG, "listen address '%.64s' has too long a host", text);
    unsigned long long p;
    if (!parse_number(colon + 1, false, &p) || p > 65535)
        return core_fail(err, LSN_ERR_ARG,
                        "listen address '%.64s' needs a port from 0 to 65535", text);
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (unsigned short)p;
    return LSN_OK;
}

lsn_err srv_config_check(const srv_config *cfg, lsn_error *err)
{
    char host[256];
    unsigned short port;
    lsn_err rc = srv_parse_listen(cfg->listen, host, sizeof host, &port, err);
    if (rc)
        return rc;
    if (!cfg->tls_cert != !cfg->tls_key)
        return core_fail(err, LSN_ERR_ARG, "tls-cert and tls-key must be given together");
    if (cfg->tls_client_ca && !cfg->tls_cert)
        return core_fail(err, LSN_ERR_ARG, "tls-client-ca needs tls-cert and tls-key");
    if (!cfg->data_dir)
        return core_fail(err, LSN_ERR_ARG, "data-dir must not be empty");
    const char *ml = srv_config_metrics_address(cfg);
    lsn_error why;
    if (ml && srv_parse_listen(ml, host, sizeof host, &port, &why))
        return core_fail(err, LSN_ERR_ARG, "metrics-listen: %s", why.message);
    srv_log_level level;
    if (!srv_log_level_parse(cfg->log_level ? cfg->log_level : "info", &level))
        return core_fail(err, LSN_ERR_ARG, "log-level: '%s' is not error, warn, info or debug",
                         cfg->log_level);
    return LSN_OK;
}

const char *srv_config_access_log(const srv_config *cfg)
{
    const char *a = cfg->access_log;
    return a && *a && strcmp(a, "none") != 0 ? a : NULL;
}

const char *srv_config_metrics_address(const srv_config *cfg)
{
    const char *ml = cfg->metrics_listen;
    return ml && *ml && strcmp(ml, "none") != 0 ? ml : NULL;
}

void srv_config_help(FILE *out)
{
    fprintf(out, "  --config FILE%*s read settings from FILE (key = value lines)\n", 14, "");
    for (size_t i = 0; i < NOPTIONS; i++) {
        const option *o = &options[i];
        int w = fprintf(out, "  --%s %s", o->key, o->arg);
        fprintf(out, "%*s %s", w < 29 ? 29 - w : 1, "", o->help);
        if (o->def)
            fprintf(out, " [%s]", o->def);
        fputc('\n', out);
    }
}

void srv_config_markdown(FILE *out)
{
    fprintf(out, "| key / flag | value | default | meaning |\n|---|---|---|---|\n");
    for (size_t i = 0; i < NOPTIONS; i++) {
        const option *o = &options[i];
        fprintf(out, "| `%s` / `--%s` | %s | %s | %s |\n", o->key, o->key, o->arg,
                o->def ? o->def : "(none)", o->help);
    }
}
