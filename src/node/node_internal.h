/* node/node_internal.h — what the node's files share: the node context,
 * the authenticated reader, the label-decision cache, audit helpers and the
 * handlers of the route table. Internal to src/node. */
#ifndef NODE_NODE_INTERNAL_H
#define NODE_NODE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "core/strbuf.h"
#include "liaison/liaison.h"
#include "server/http_server.h"
#include "store/store.h"
#include "service.h"

#define NODE_LABEL_CACHE_SLOTS 8192u /* direct-mapped, by item id */
#define NODE_LABEL_CACHE_LOCKS 64u
#define NODE_LABEL_TEXT_SLOTS 1024u      /* parsed labels by text, direct-mapped */
#define NODE_LABEL_TEXT_MAX (16u << 10)  /* longer label texts are not kept by text */
#define NODE_PAGE_DEFAULT 100u
#define NODE_PAGE_MAX 1000u
#define NODE_PAGE_BYTES_MAX (4u << 20) /* a page ends early (with its cursor) past this */
#define NODE_PAGES_IN_FLIGHT_MAX (64u << 20) /* all pages made and not yet sent */
#define NODE_QUERY_CHARS_MAX 512u /* q= of a search, in characters */
#define NODE_CURSOR_CHARS 75u     /* base64url of 56 sealed bytes */

/* The rendered-item cache (item_json.c): direct-mapped by id, each text at
 * most ITEM_MAX bytes, all of them at most BYTES (bigger items are rendered
 * each time). */
#define NODE_JSON_CACHE_SLOTS 8192u
#define NODE_JSON_CACHE_LOCKS 64u
#define NODE_JSON_CACHE_ITEM_MAX (64u << 10)
#define NODE_JSON_CACHE_BYTES (32u << 20)

/* A parsed label shared by the items whose label text is identical
 * (decide.c); reference-counted, immutable but for its lazily made JSON. */
typedef struct node_label_entry node_label_entry;
/* A reader's visible label classes (visible.c). */
typedef struct node_visible node_visible;

#define NODE_AUTH_TTL_MS 2000 /* longest a cached reader is trusted (auth.c) */
#define NODE_SESSIONS_MAX 100000u /* web sessions at once (sessions.c) */
/* Failed sign-ins (throttle.c): free failures per user name and per client
 * address, then a closed time from FIRST_S doubling up to MAX_S. */
#define NODE_THROTTLE_FREE_USER 3u
#define NODE_THROTTLE_FREE_ADDR 20u
#define NODE_THROTTLE_FIRST_S 5
#define NODE_THROTTLE_MAX_S 900
/* Password checks at once (each Argon2id verification takes 64 MiB and a
 * core for a moment): more wait outside, answered 503 with Retry-After. */
#define NODE_SIGNINS_AT_ONCE 4u

struct node_label_slot {
    int64_t id;          /* 0: empty */
    node_label_entry *e; /* a reference; its label NULL if it did not parse (denied) */
};

struct node_json_slot {
    int64_t id; /* 0: empty */
    char *text; /* the item's API JSON (list form), NUL-terminated */
    size_t len;
};

typedef struct node {
    store *st;
    lsn_policy_set *set;
    const lsn_policy *policy; /* the node's policy (in set) */
    srv_server *srv;
    srv_server *fed_srv;      /* the federation listener (fed_listen.c); NULL: none */
    struct node_fed *_Atomic fed; /* the senders to peers (fed_send.c); NULL: none.
                                * Atomic: the API, started first, may read it (a
                                * post wakes the senders, a peer added starts one) */
    srv_sse_hub *hub;
    srv_metrics *metrics;     /* the server's (set after start) */
    size_t body_limit;
    const char *web_dir;      /* the web page's files, or NULL */
    struct node_auth_cache *auth; /* readers by token hash (auth.c); may be NULL */
    struct node_sessions *sessions; /* web sessions (sessions.c); may be NULL */
    struct node_throttle *throttle; /* failed sign-ins (throttle.c); may be NULL */
    _Atomic unsigned signins;       /* password checks running (handlers_session.c) */
    svc svc;                  /* the service layer over st and set (service.h) */
    struct fed_identity *me;  /* the node's identity, with its key (svc.me) */
    struct node_visible_cache *visible; /* visible classes by clearance (visible.c) */
    /* Paging cursors' keys (cursor.c), from DATA_DIR/cursor.key. */
    uint8_t cursor_seal[32], cursor_nonce[32];
    bool cursor_ready;
    _Atomic size_t pages_in_flight; /* bytes of pages being made (handlers_read.c) */

    /* Label cache: the parsed label of an item, so a decision is a few
     * word operations and never a parse. Slot i is guarded by lock i % N.
     * The same entries by label text, so a label seen before costs no
     * parse for a new item (texts, under text_lock). */
    struct node_label_slot *slots;
    pthread_mutex_t locks[NODE_LABEL_CACHE_LOCKS];
    node_label_entry **texts;
    pthread_mutex_t text_lock;

    /* Rendered-item cache: an item's API JSON, the same for every reader
     * allowed to see it. Slot i is guarded by jlocks[i % N]; jbytes is
     * what the slots hold. */
    struct node_json_slot *jslots;
    pthread_mutex_t jlocks[NODE_JSON_CACHE_LOCKS];
    _Atomic size_t jbytes;

    /* Publisher: posts wake it; it lists what became durable after the last
     * published id and publishes in id order (the hub needs increasing ids,
     * and posts complete out of order). */
    pthread_t publisher;
    pthread_mutex_t pub_lock;
    pthread_cond_t pub_cond;
    bool pub_wake, pub_stop, pub_started;
    int64_t published; /* highest id published (under pub_lock) */
    /* The watcher: wakes the publisher when another node process on the
     * same store appended items (store_changes_wait), and every
     * NODE_WATCH_MS in any case (a lost notification loses nothing).
     * Not started on a store no other process appends items to. */
    pthread_t watcher;
    bool watch_started;

    /* The settler of release requests (release_ticker.c). */
    pthread_t rel_thread;
    pthread_mutex_t rel_lock;
    pthread_cond_t rel_cond;
    bool rel_stop, rel_started;
    unsigned rel_interval; /* seconds */
} node;

/* fed_listen.c: the federation listener (mutual TLS, peers only) on
 * `listen`, the identity in data_dir as its certificate; its one route. */
lsn_err node_fed_listen_start(node *n, const char *listen, const char *data_dir,
                              lsn_error *err);
void node_h_fed_send(srv_request *req, srv_response *resp);
/* handlers_fed_release.c: a signed release message from a peer. */
void node_h_fed_release(srv_request *req, srv_response *resp);
/* The API's view of a request of another node (service_fedrel.h's
 * svc_fedrel_remote), with its history when `full`. NULL: out of memory. */
struct svc_fedrel_remote;
json_t *node_fedrel_remote_json(node *n, const struct svc_fedrel_remote *r, bool full);
/* fed_send.c: one sending thread per registered peer (its outbox from its
 * cursor, backoff in ms, probes); wake them (a new item); a peer was heard
 * from (reset its backoff); stop them (before the store closes). */
lsn_err node_fed_start(node *n, const char *data_dir, unsigned retry_min, unsigned retry_max,
                       unsigned probe, lsn_error *err);
/* A peer registered while the node runs (POST /api/v1/peers): its sender
 * starts now (nothing when it has one already, or federation is off). */
void node_fed_add(node *n, const char *peer);
void node_fed_wake(node *n);
void node_fed_heard(node *n, const char *peer);
void node_fed_stop(node *n);

/* The authenticated caller: the store's user, its parsed clearance and its
 * organisation's category (service.h). */
typedef svc_reader node_reader;

/* auth.c: token hash → node_reader (srv_auth lookup/release). A reader is
 * shared by concurrent requests of the same token and must not be changed;
 * it is valid until node_auth_release. node_auth_init makes the reader
 * cache (LSN_ERR_NOMEM); node_auth_free frees it once no request runs. */
void *node_auth_lookup(void *ctx, const uint8_t hash[SRV_TOKEN_HASH_LEN]);
void node_auth_release(void *ctx, void *user);
/* The reader's user name (srv_auth user_name, for the access log). */
const char *node_auth_user_name(void *ctx, void *user);
lsn_err node_auth_init(node *n);
void node_auth_free(node *n);
/* The same for a web session's cookie hash (srv_auth lookup_session). */
void *node_auth_lookup_session(void *ctx, const uint8_t hash[SRV_TOKEN_HASH_LEN]);
/* The same for a client certificate's fingerprint (not cached). */
void *node_auth_lookup_cert(void *ctx, const struct srv_client_cert *cert);
/* Forget every cached reader (an account changed): the next request of
 * each token or session reads the store again. */
void node_auth_invalidate(node *n);

/* sessions.c: web sessions in memory, by the hash of their cookie. */
lsn_err node_sessions_init(node *n, unsigned idle_s, unsigned max_s);
void node_sessions_free(node *n);
/* A new session for user: its cookie value into token (shown once, in the
 * Set-Cookie) and its hash. LSN_ERR_LIMIT when NODE_SESSIONS_MAX live. */
lsn_err node_session_new(node *n, const char *user, char token[SRV_TOKEN_LEN + 1],
                         uint8_t hash[SRV_TOKEN_HASH_LEN]);
/* The user of a live session (into user, cap bytes), marking it used;
 * false when there is none or it has expired (then it is gone). */
bool node_session_user(node *n, const uint8_t hash[SRV_TOKEN_HASH_LEN], char *user,
                       size_t cap);
/* End one session (sign-out); false when there was none. */
bool node_session_end(node *n, const uint8_t hash[SRV_TOKEN_HASH_LEN]);
/* End every session of user. */
void node_sessions_end_user(node *n, const char *user);
unsigned node_sessions_idle_s(const node *n);
unsigned node_sessions_max_s(const node *n);

/* throttle.c: failed sign-ins slowed per user name and client address. */
lsn_err node_throttle_init(node *n);
void node_throttle_free(node *n);
/* Seconds before user may try again from client (0: now). */
unsigned node_throttle_wait(node *n, const char *user, const char *client);
void node_throttle_failed(node *n, const char *user, const char *client);
void node_throttle_succeeded(node *n, const char *user);

/* channels.c: svc_channel_known answering for a handler: true if the
 * channel exists; else false with resp holding 404 "No such channel." or a
 * 500 (store failed). */
bool node_channel_exists(node *n, const char *name, char *json_out, size_t json_cap,
                         srv_response *resp);

/* decide.c: may this reader see the item with this id and label string?
 * Parses the label once per id (cached), records the decision in the
 * metrics. Never errors: anything that fails is a denial. */
bool node_may_see(node *n, const node_reader *r, int64_t id, const char *label);
/* The same decision for one item and many readers (the stream's fan-out):
 * node_label_get gives the item's shared label entry once (a reference to
 * release with node_label_json_release; NULL when out of memory), and
 * node_may_see_entry decides on it without the cache's locks. A NULL entry
 * denies. */
node_label_entry *node_label_get(node *n, int64_t id, const char *label);
bool node_may_see_entry(node *n, const node_reader *r, const node_label_entry *e);
/* The compact JSON text (rendered by jansson) of item id's label, shared by
 * every item with the same label text; NULL when the label does not parse
 * or out of memory. The text stays valid until node_label_json_release(*ref)
 * (*ref NULL when the answer is NULL). */
const char *node_label_json(node *n, int64_t id, const char *label, node_label_entry **ref);
void node_label_json_release(node_label_entry *ref);
/* The portion marking ("(NR)", "(NS REL TO JPN)") of an entry's label in
 * lang, as a new JSON string; JSON null when the policy gives none (or the
 * label did not parse). */
json_t *node_label_portion(const node_label_entry *e, const char *lang);
/* The display marking of an entry's label in lang, as a new JSON string,
 * only when the label's policy has marking data in that language (NULL
 * otherwise: no field rather than another language's words). */
json_t *node_label_marking_in(const node_label_entry *e, const char *lang);
/* When an entry's label is under another policy of the set than the
 * node's own: its equivalent under the node's policy (lsn_label_translate)
 * as {"policy", "classification", "marking", "markingFr"}; NULL when the label is under the
 * node's policy or has no equivalent. */
json_t *node_label_equivalent(const node *n, const node_label_entry *e);
/* The same two for a label of the node's set (the preview of a label being
 * composed, POST /api/v1/labels/mark). */
json_t *node_marking_in(const lsn_label *l, const char *lang);
json_t *node_equivalent(const node *n, const lsn_label *l);
/* Set up / release the node's caches (labels and rendered items). */
/* integrity.c: the store's alarm for an item that fails its seal (a
 * store_alarm_cb; ctx is the node): a line on stderr, a metric. */
void node_integrity_alarm(void *ctx, int64_t item_id, const uint8_t uuid[STORE_UUID_LEN],
                          const char *why);

lsn_err node_cache_init(node *n);
void node_cache_free(node *n);

/* visible.c: the label classes reader r may see, decided by the engine
 * once per class and clearance and cached (a reference: release it with
 * node_visible_release); NULL with err set when the store failed or out
 * of memory. A reader without a clearance sees no class. */
node_visible *node_visible_get(node *n, const node_reader *r, lsn_error *err);
void node_visible_release(node_visible *v); /* NULL is a no-op */
/* Whether class_id is one of v's. */
bool node_visible_has(const node_visible *v, int64_t class_id);
/* v as the store's read filter, in buf (valid while v is held). */
const store_classes *node_visible_classes(const node_visible *v, store_classes *buf);
lsn_err node_visible_init(node *n);
void node_visible_free(node *n);
/* decide.c: does the engine grant clearance c the label with this text
 * (parsed once per distinct text, cached)? Anything that fails denies. */
bool node_label_grants(node *n, const lsn_clearance *c, const char *label);

/* cursor.c: load (or make, on first start) DATA_DIR/cursor.key. */
lsn_err node_cursor_init(node *n, const char *data_dir, lsn_error *err);
/* The cursor after item `uuid` for this reader (a user name) and context
 * ("list:CHANNEL", "search"): NODE_CURSOR_CHARS characters, NUL-ended. */
void node_cursor_seal(const node *n, const char *reader, const char *context,
                      const uint8_t uuid[STORE_UUID_LEN], char out[NODE_CURSOR_CHARS + 1]);
/* Open a cursor: true and the item's uuid only if it was sealed by this
 * node for this reader and context; false for anything else, alike. */
bool node_cursor_open(const node *n, const char *reader, const char *context,
                      const char *text, uint8_t uuid[STORE_UUID_LEN]);

/* audit.c: append an audit event (durable) through the service layer
 * (svc_audit). Failure is reported on stderr and answered by the caller as
 * 500 where it matters (returns false). */
bool node_audit(node *n, const char *actor, const char *action, const char *object,
                const char *outcome, const char *detail);

/* item_json.c: an item as its API JSON text, compact, NUL-terminated: the
 * label as its JSON object, the attachment as {mediaType, size}, plus its
 * base64 data when with_data. Returns text the caller frees with lsn_free,
 * its length in *len; NULL when out of memory. Not cached: see below. */
char *node_item_render(node *n, const store_item *it, bool with_data, size_t *len);
char *node_item_fragment(node *n, const store_item *it, size_t *len);
/* The same text appended to out (no copy of its own); false when out of
 * memory or out failed (hit its cap). */
bool node_item_fragment_add(node *n, const store_item *it, strbuf *out);
lsn_err node_item_cache_init(node *n);
void node_item_cache_free(node *n);
/* A time (Unix ms) as RFC 3339 UTC with milliseconds into out[32]. */
void node_rfc3339(int64_t ms, char out[32]);
/* Hex of a hash into out[65]. */
void node_hex(const uint8_t *h, size_t len, char *out);

/* publish.c: the publisher thread and the stream's replay/filter. */
lsn_err node_publisher_start(node *n, lsn_error *err);
void node_publisher_stop(node *n);
void node_publisher_wake(node *n);
void node_stream_replay(void *ctx, void *reader, uint64_t after, srv_sse_emit emit,
                        void *emit_ctx);
/* The SSE "id:" of a published item: its public id (hub option event_id). */
size_t node_stream_event_id(const void *meta, char *buf, size_t cap);
void node_h_stream(srv_request *req, srv_response *resp);
/* End the live streams of a user (account changed) or of one session
 * (signed out): the page then reconnects and is refused. */
void node_streams_end_user(node *n, const char *user);
void node_streams_end_session(node *n, const uint8_t hash[SRV_TOKEN_HASH_LEN]);

/* release_notice.c: a release request's changes told live to its parties.
 * The parties of one request, read from the store when it changed: its
 * proposer and authorities by name (auditors are admitted by role). */
typedef struct node_parties {
    const char *proposer;
    const char *const *users; /* its authorities */
    size_t n;
} node_parties;
/* The service's release_changed hook: a "release-request" notice on the
 * stream, {"id", "event", "state", "deadline"}, to the request's parties. */
void node_release_changed(void *ctx, const uint8_t rid[STORE_UUID_LEN], const char *event);
/* Whether the stream of `user` (with roles) may be told of the request:
 * its proposer, one of its authorities, or an auditor. */
bool node_parties_admit(const node_parties *p, const char *user, unsigned roles);
/* publish.c: send a notice (no event id, never replayed) to the streams
 * whose user p admits, each decided by its own connection's user. */
void node_stream_notice(node *n, const char *event, const char *data, size_t len,
                        const node_parties *p);

/* handlers: the route table's entries. */
void node_h_me(srv_request *req, srv_response *resp);
void node_h_policy(srv_request *req, srv_response *resp);
void node_h_channels(srv_request *req, srv_response *resp);
void node_h_post(srv_request *req, srv_response *resp);
void node_h_mark(srv_request *req, srv_response *resp);
void node_h_list(srv_request *req, srv_response *resp);
void node_h_item(srv_request *req, srv_response *resp);
void node_h_attachment(srv_request *req, srv_response *resp);
void node_h_binding(srv_request *req, srv_response *resp);
void node_h_peers(srv_request *req, srv_response *resp);
void node_h_peer_add(srv_request *req, srv_response *resp);
void node_h_search(srv_request *req, srv_response *resp);
/* release_ticker.c: adopt due release requests at start and every
 * `interval` seconds, until stopped (before the store closes). */
lsn_err node_release_ticker_start(node *n, unsigned interval);
void node_release_ticker_stop(node *n);
/* handlers_release.c: release requests and corrections (docs/RELEASE.md). */
void node_h_release_request(srv_request *req, srv_response *resp);
void node_h_release_list(srv_request *req, srv_response *resp);
void node_h_release_show(srv_request *req, srv_response *resp);
void node_h_release_concur(srv_request *req, srv_response *resp);
void node_h_release_break(srv_request *req, srv_response *resp);
void node_h_release_withdraw(srv_request *req, srv_response *resp);
void node_h_release_extend(srv_request *req, srv_response *resp);
void node_h_item_withdraw(srv_request *req, srv_response *resp);
void node_h_item_narrow(srv_request *req, srv_response *resp);
/* handlers_admin.c: administration and the audit log over HTTP. */
void node_h_org_add(srv_request *req, srv_response *resp);
void node_h_user_add(srv_request *req, srv_response *resp);
void node_h_channel_add(srv_request *req, srv_response *resp);
void node_h_audit(srv_request *req, srv_response *resp);
/* handlers_session.c: sign-in, the session, sign-out. */
void node_h_signin(srv_request *req, srv_response *resp);
void node_h_session(srv_request *req, srv_response *resp);
void node_h_signout(srv_request *req, srv_response *resp);
/* handlers_users.c: the administrator's accounts. */
void node_h_users(srv_request *req, srv_response *resp);
void node_h_user_show(srv_request *req, srv_response *resp);
void node_h_user_update(srv_request *req, srv_response *resp);
void node_h_user_remove(srv_request *req, srv_response *resp);
void node_h_user_password(srv_request *req, srv_response *resp);
void node_h_user_certificate(srv_request *req, srv_response *resp);
void node_h_user_certificate_remove(srv_request *req, srv_response *resp);
void node_h_user_token(srv_request *req, srv_response *resp);
/* Roles (STORE_ROLE_* bits) as the API's list of names (handlers_read.c). */
json_t *node_roles_json(unsigned roles);
/* The service's user_changed hook: drop cached readers, end sessions. */
void node_user_changed(void *ctx, const char *name);
/* The service's token_revoked hook: drop cached readers. */
void node_token_revoked(void *ctx);
/* handlers_users.c: named access tokens (their owner or an administrator). */
void node_h_tokens(srv_request *req, srv_response *resp);
void node_h_token_add(srv_request *req, srv_response *resp);
void node_h_token_revoke(srv_request *req, srv_response *resp);
/* The answer of a service refusal: its status, error code and sentence. */
void node_resp_refusal(srv_response *resp, const svc_result *res);
/* The right a route needs (node.c's route table names an act): NULL when
 * the caller holds it, else the refusal's sentence. */
const char *node_auth_allow(void *ctx, void *user, unsigned act);

/* handlers_admin.c: the request's JSON object (its shape named in the 400
 * "A request is SHAPE."), or false with resp holding the 400. */
bool node_body_object(srv_request *req, srv_response *resp, json_t **in, const char *shape);

/* static.c: the web page. */
void node_h_index(srv_request *req, srv_response *resp);
void node_h_static(srv_request *req, srv_response *resp);
void node_h_static_js(srv_request *req, srv_response *resp);
void node_h_static_views(srv_request *req, srv_response *resp);

/* demo.c: seed an empty store from the demo file (NULL: the built-in demo
 * data, data/demo.json compiled in); writes DATA/demo-credentials.json
 * (0600). */
lsn_err node_demo_seed(node *n, const char *demo_file, const char *data_dir,
                       lsn_error *err);

#endif
