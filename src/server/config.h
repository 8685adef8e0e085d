/* server/config.h — the settings of `liaison serve`, from ONE table of
 * options: defaults, the configuration file, command-line flags, the help
 * text and the documentation all derive from it.
 *
 * Configuration file format (docs/SERVER.md): UTF-8 text, one setting per
 * line as `key = value`; blank lines and lines starting with '#' are
 * ignored; surrounding spaces are trimmed; a value may be wrapped in double
 * quotes to keep leading or trailing spaces; keys are the long flag names
 * without "--" (e.g. `listen = 127.0.0.1:8470`). Unknown keys are errors, so
 * a typo never silently falls back to a default. Flags override the file. */
#ifndef SERVER_CONFIG_H
#define SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "liaison/error.h"

/* The values of a repeatable option, in the order given. */
#define SRV_STRINGS_MAX 16u
typedef struct srv_strings {
    char *v[SRV_STRINGS_MAX];
    size_t n;
} srv_strings;

typedef struct srv_config {
    char *data_dir;        /* --data-dir   (default ./liaison-data) */
    char *listen;          /* --listen     (default 127.0.0.1:8470) */
    srv_strings policies;  /* --policy, repeatable (none: the bundled policy) */
    char *store;           /* --store      URI (NULL: sqlite:DATA_DIR/liaison.db) */
    char *tls_cert;        /* --tls-cert   PEM file, or NULL */
    char *tls_key;         /* --tls-key    PEM file, or NULL */
    char *tls_client_ca;   /* --tls-client-ca PEM file, or NULL */
    size_t body_limit;     /* --body-limit bytes (default 1 MiB) */
    unsigned threads;      /* --threads    (0: number of CPUs) */
    unsigned max_connections;  /* --max-connections */
    unsigned timeout;      /* --timeout    idle seconds per connection */
    size_t conn_memory;    /* --connection-memory bytes per connection */
    unsigned session_idle; /* --session-idle seconds (node/sessions.c) */
    unsigned session_max;  /* --session-max seconds */
    unsigned stream_queue; /* --stream-queue events per stream client */
    char *metrics_listen;  /* --metrics-listen (default 127.0.0.1:8471; "none": off) */
    char *access_log;      /* --access-log FILE, "-" stdout, "none" (default) */
    char *log_level;       /* --log-level error|warn|info|debug (default info) */
    unsigned per_address;  /* --per-address-connections (0: no cap) */
    unsigned request_deadline;    /* --request-deadline seconds */
    unsigned waiting_connections; /* --waiting-connections (0: half of max) */
    char *node_name;       /* --node-name   a new identity's name (NULL: the host's) */
    char *node_nation;     /* --node-nation a new identity's nation (NULL: the policy's) */
    unsigned release_deadline;     /* --release-deadline seconds: a request's default */
    unsigned release_deadline_min; /* --release-deadline-min seconds */
    unsigned release_deadline_max; /* --release-deadline-max seconds */
    unsigned release_settle;       /* --release-settle-interval seconds */
    char *release_clock;           /* --release-clock FILE (tests): the node's clock */
} srv_config;

/* Fill cfg with the defaults (allocates; release with srv_config_release). */
lsn_err srv_config_init(srv_config *cfg, lsn_error *err) LSN_MUST_CHECK;
void srv_config_release(srv_config *cfg);

/* Set one option by key (without "--") from its text value. Errors name the
 * key and why the value is refused. */
lsn_err srv_config_set(srv_config *cfg, const char *key, const char *value,
                       lsn_error *err) LSN_MUST_CHECK;

/* Read a configuration file (format above; at most 64 KiB). Errors name the
 * file and line. */
lsn_err srv_config_load_file(srv_config *cfg, const char *path, lsn_error *err) LSN_MUST_CHECK;

/* Apply argv[0..argc) flags: `--key value`, `--key=value`, and `--config
 * FILE`, which is read first wherever it appears so that flags override the
 * file. Arguments that are not options of this table are left alone: their
 * indices are written to rest (if not NULL, up to argc) and their count to
 * *nrest, for the caller's own parsing. */
lsn_err srv_config_args(srv_config *cfg, int argc, char **argv, int *rest,
                        int *nrest, lsn_error *err) LSN_MUST_CHECK;

/* Check settings that depend on each other (tls-cert without tls-key...). */
lsn_err srv_config_check(const srv_config *cfg, lsn_error *err) LSN_MUST_CHECK;

/* The metrics listener's address, or NULL when metrics-listen is "none"
 * (or empty). */
const char *srv_config_metrics_address(const srv_config *cfg);

/* The access log's file ("-": stdout), or NULL when access-log is "none"
 * (or empty). */
const char *srv_config_access_log(const srv_config *cfg);

/* Help text for the options (one per line, with default), and a Markdown
 * table of them for docs. */
void srv_config_help(FILE *out);
void srv_config_markdown(FILE *out);

/* Split a listen address "host:port", "[v6]:port" or ":port" into host
 * (NUL-terminated, brackets removed, "" for any) and port. */
lsn_err srv_parse_listen(const char *text, char *host, size_t host_len,
                         unsigned short *port, lsn_error *err) LSN_MUST_CHECK;

#endif
