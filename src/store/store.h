/* store/store.h — the storage interface of a node.
 *
 * A store holds organisations, users, channels, labelled items and the
 * hash-chained audit log. The server talks to it only through `store_ops`, a
 * table of function pointers (as SQLite's VFS does), so that a PostgreSQL
 * back-end can sit beside the SQLite one without the server changing.
 *
 * The store knows nothing of HTTP and nothing of what a label means: a label
 * is an opaque canonical string (the engine's JSON), with its markings in
 * English and French kept beside it for display. Each distinct label is a
 * *label class*, stored once; items refer to their class. Deciding who may
 * see an item is the node's job: it decides once per class for a reader
 * (the reader's *visible classes*), and the listing and search functions
 * fetch only the items of the classes they are given, through indexes, so
 * that their cost never grows with the items of other classes.
 *
 * Identifiers: an item has a random public id (a UUID, 16 bytes) and an
 * internal one (`id`, increasing in arrival order). The internal id orders
 * and resumes reads; it never leaves the node.
 *
 * Ownership, everywhere in this interface:
 *  - Input strings and buffers are borrowed for the duration of the call
 *    (item_append_async copies what it needs before it returns).
 *  - A record handed to a callback (store_item, store_org, ...) and every
 *    string in it are borrowed: valid only until the callback returns. Copy
 *    what you keep.
 *  - A record returned through an out-parameter (`*out` of a _get / _find
 *    function) is ONE allocation holding the struct and all its strings: free
 *    it with lsn_free(). Not found is not an error: LSN_OK with *out = NULL.
 *
 * Errors: LSN_ERR_IO (the database failed; the message has its reason),
 * LSN_ERR_NOMEM, LSN_ERR_ARG (a NULL or empty required field, an unknown
 * channel or organisation), LSN_ERR_DUPLICATE (a name or token hash already
 * taken), LSN_ERR_LIMIT (a field over its cap).
 *
 * Thread safety: every function may be called from any thread at once, on
 * one store handle, except close. Writes are serialised through one writer
 * thread that commits them in groups; reads run concurrently.
 */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "liaison/error.h"

#define STORE_HASH_LEN 32          /* SHA-256 */
#define STORE_TOKEN_CHARS 43       /* base64url of 32 random bytes, no padding */
#define STORE_FIELD_MAX (1u << 20) /* cap on any text field but an item body */
#define STORE_BODY_MAX (64u << 20) /* cap on a body or an attachment */
#define STORE_FILE_NAME_MAX 255u   /* bytes of an attachment's file name */
#define STORE_UUID_LEN 16          /* an item's public id: a random UUID */

/* User roles: a bitmask. */
enum {
    STORE_ROLE_MEMBER = 1u << 0,
    STORE_ROLE_RELEASE_AUTHORITY = 1u << 1,
    STORE_ROLE_AUDITOR = 1u << 2,
    STORE_ROLE_ADMINISTRATOR = 1u << 3,
};

/* What a callback answers: go on with the next candidate, or stop here
 * (any value but STORE_NEXT stops). */
enum { STORE_NEXT = 0, STORE_STOP = 1 };

typedef struct store_org {
    int64_t id;
    const char *name;     /* "Mission of Japan to NATO" */
    const char *category; /* the releasability value it stands for: "JPN" */
} store_org;

typedef struct store_user {
    int64_t id;
    const char *name;
    const char *organisation; /* an organisation's name */
    const char *clearance;    /* opaque: the engine's JSON clearance */
    unsigned roles;           /* STORE_ROLE_* bits */
    uint8_t token_hash[STORE_HASH_LEN]; /* store_token_hash(token); never the token */
    const char *password_hash; /* crypto_pwhash_str's string; NULL: no password */
    unsigned status;           /* STORE_USER_* */
    bool has_cert;             /* bound to a client certificate ... */
    uint8_t cert_fingerprint[STORE_HASH_LEN]; /* ... with this SHA-256 of its DER */
    /* Bound to any client certificate with this subject (its RFC 4514 DN,
     * as GnuTLS writes it) issued by the CA whose certificate has the
     * SHA-256 cert_issuer; NULL: no such binding. */
    const char *cert_subject;
    uint8_t cert_issuer[STORE_HASH_LEN];
} store_user;

/* A user's status: only an active user signs in or is authenticated. */
enum { STORE_USER_ACTIVE = 0, STORE_USER_DISABLED = 1, STORE_USER_REMOVED = 2 };

/* A named access token of a user (for programs); only its hash is stored. */
typedef struct store_token {
    const char *user;
    const char *name;
    int64_t created_ms;
    int64_t expires_ms; /* 0: never */
    /* token_list: the token's stored hash (STORE_HASH_LEN bytes, valid during
     * the callback), so that `store migrate` can copy it; never the token,
     * and never shown (the API and CLI list names and times only).
     * token_add takes the hash as its own argument and ignores this. */
    const uint8_t *hash;
} store_token;
typedef int (*store_token_cb)(void *ctx, const store_token *token);

/* A change to an account: each field NULL (or -1) leaves its column as is. */
typedef struct store_user_change {
    const char *password_hash;       /* "" removes the password */
    int status;                      /* STORE_USER_*, or -1 */
    const char *clearance;           /* canonical JSON */
    int64_t roles;                   /* STORE_ROLE_* bits, or -1 */
    const uint8_t *token_hash;       /* a new bearer token's hash (STORE_HASH_LEN) */
    const uint8_t *cert_fingerprint; /* bind a client certificate (STORE_HASH_LEN) */
    const char *cert_subject;        /* bind certificates by subject ... */
    const uint8_t *cert_issuer;      /* ... issued by this CA (STORE_HASH_LEN); both or none */
    bool clear_cert;                 /* unbind every client certificate */
} store_user_change;

typedef struct store_channel {
    int64_t id;
    const char *name;    /* "cyber-defence" */
    const char *purpose; /* a sentence */
    bool local;          /* kept local: never sent to a peer, never taken from one */
} store_channel;

typedef struct store_item {
    int64_t id;               /* set by the store on append; increases; internal */
    uint8_t uuid[STORE_UUID_LEN]; /* public id: on append, all zero = the store
                                     makes a random one (federation gives the
                                     origin's) */
    int64_t class_id;         /* the label's class: set by the store */
    const char *channel;      /* a channel's name; must exist */
    const char *author;       /* a user's name (not checked: opaque) */
    const char *organisation; /* the author's organisation (opaque) */
    const char *label;        /* canonical label string (opaque) */
    const char *marking_en;   /* display marking, English */
    const char *marking_fr;   /* display marking, French */
    int classification;       /* the policy's classification index; -1 if none */
    const char *body;         /* text, NUL-terminated */
    const char *media_type;   /* attachment's media type; NULL if none */
    const uint8_t *attachment; /* attachment bytes; NULL if none */
    size_t attachment_len;
    const char *attachment_name; /* its file name as posted (store_attachment_name_ok);
                                    NULL if none (older items, or not given) */
    int64_t created_ms;       /* Unix time in milliseconds */
    uint8_t content_hash[STORE_HASH_LEN]; /* set by the store on append */
    /* Federation (store_fed.h), written with the item in its transaction;
     * all zero: none. Reads leave it zero (store_item_binding, the outbox
     * reads have them). */
    struct store_item_fed {
        const char *binding;   /* the signed STANAG 4778 bytes, kept verbatim */
        size_t binding_len;
        const int64_t *outbox; /* peers (ids) the item is queued for */
        size_t outbox_n;
    } fed;
    /* Versions (store_rel.h). On a read: `version` is the item's version
     * (1: as first posted) and `uuid` the item's public id. On append, all
     * zero for a new item; for a later version of an item: `version` (2,
     * 3 ...), `of` the item's public id (uuid is then the row's own, a new
     * one), `supersedes` the row it replaces (hidden from reads in the same
     * transaction) and `adopts` the release request it adopts (0: none),
     * moved from open to adopted in the same transaction. */
    struct store_item_ver {
        int version;
        uint8_t of[STORE_UUID_LEN];
        int64_t supersedes;
        int64_t adopts;
    } ver;
} store_item;

/* A label class: one distinct canonical label, with its markings. Ids
 * increase from 1 as classes are added, and a class never changes. */
typedef struct store_label_class {
    int64_t id;
    const char *label;
    const char *marking_en;
    const char *marking_fr;
    int classification; /* -1 if none */
} store_label_class;

/* A reader's visible classes, for the reads below: `ids` sorted increasing,
 * `n` of them — or, when all_upto > 0, every class with id <= all_upto
 * (a reader who may see every class decided so far; classes added since
 * are left out until decided). A NULL set means every class (the node's
 * own reads: the publisher, tests). */
typedef struct store_classes {
    const int64_t *ids;
    size_t n;
    int64_t all_upto;
} store_classes;

/* Where an item is: its internal id and its class (item_find). */
typedef struct store_item_ref {
    int64_t id;       /* 0: no such item */
    int64_t class_id;
} store_item_ref;

typedef struct store_audit_event {
    uint64_t seq;        /* set by the store: 1, 2, 3 ... with no gap */
    int64_t time_ms;     /* Unix time in milliseconds */
    const char *actor;   /* who: a user name, "system", a peer */
    const char *action;  /* what: "post", "read", "deny", "user.add" ... */
    const char *object;  /* on what: "item:42", "user:alice"; NULL on an item's
                            post record = "item:ID" filled in by the store */
    const char *outcome; /* "ok", "denied", "refused", "error" */
    const char *detail;  /* free text; may be NULL (stored as "") */
    uint8_t hash[STORE_HASH_LEN]; /* set by the store: the chain hash */
} store_audit_event;

/* The audit chain's anchor (anchor.h) as read back from its file. */
typedef enum store_anchor_state {
    STORE_ANCHOR_NONE, /* no anchor yet (an empty log, or a store never anchored) */
    STORE_ANCHOR_OK,   /* read, and its signature verifies */
    STORE_ANCHOR_BAD,  /* unreadable, malformed or forged: `why` says */
} store_anchor_state;

typedef struct store_anchor {
    store_anchor_state state;
    uint64_t seq;                 /* the head's sequence number */
    uint8_t hash[STORE_HASH_LEN]; /* ... and its chain hash */
    char why[256];
} store_anchor;

/* Called when a stored item fails its seal check (seal.h) as it is read:
 * the item is withheld (answered as absent) and the store has queued an
 * audit record of it; `uuid` is the public id its row holds, `why` a short
 * reason ("body altered"). May be called from any reading thread, never
 * from the writer. */
typedef void (*store_alarm_cb)(void *ctx, int64_t item_id,
                               const uint8_t uuid[STORE_UUID_LEN], const char *why);

typedef int (*store_org_cb)(void *ctx, const store_org *org);
typedef int (*store_user_cb)(void *ctx, const store_user *user);
typedef int (*store_channel_cb)(void *ctx, const store_channel *channel);
typedef int (*store_item_cb)(void *ctx, const store_item *item);
typedef int (*store_audit_cb)(void *ctx, const store_audit_event *event);
typedef int (*store_class_cb)(void *ctx, const store_label_class *cls);

/* Completion of an asynchronous append: rc is LSN_OK and id, hash and seq
 * (the post record's sequence number, 0 without one) are set, or rc is the
 * error and err says why. Everything passed is borrowed for the call. (A
 * caller that needs the public id gives one: store_uuid_new.) */
typedef void (*store_append_cb)(void *ctx, lsn_err rc, int64_t id,
                                const uint8_t hash[STORE_HASH_LEN], uint64_t seq,
                                const lsn_error *err);

typedef struct store store;

/* The version of this interface. A back-end's table says which version it
 * implements (store_ops.version) and store_open refuses any other: a
 * back-end built against an older table must not be called through a newer
 * one. Bump it whenever an entry is added, removed or changes meaning. */
#define STORE_OPS_VERSION 9u

/* The back-end's table. Every entry is required. `err` may be NULL. */
typedef struct store_ops {
    unsigned version; /* STORE_OPS_VERSION */
    const char *name; /* "sqlite" */

    /* Finish queued writes (the `done` of every queued asynchronous append
     * is called before close returns), stop the writer, release everything.
     * No other call may be running or follow. */
    void (*close)(store *s);

    /* Organisations. */
    lsn_err (*org_add)(store *s, const char *name, const char *category,
                       int64_t *id_out, lsn_error *err);
    lsn_err (*org_get)(store *s, const char *name, store_org **out, lsn_error *err);
    lsn_err (*org_list)(store *s, store_org_cb cb, void *ctx, lsn_error *err);

    /* Users. user->id is ignored on add. */
    lsn_err (*user_add)(store *s, const store_user *user, int64_t *id_out,
                        lsn_error *err);
    lsn_err (*user_get)(store *s, const char *name, store_user **out, lsn_error *err);
    lsn_err (*user_find_by_token)(store *s, const uint8_t hash[STORE_HASH_LEN],
                                  store_user **out, lsn_error *err);
    lsn_err (*user_list)(store *s, store_user_cb cb, void *ctx, lsn_error *err);
    /* The user bound to the client certificate with this fingerprint. */
    lsn_err (*user_find_by_cert)(store *s, const uint8_t fp[STORE_HASH_LEN],
                                 store_user **out, lsn_error *err);
    /* The user bound to certificates with this subject DN issued by the CA
     * whose certificate's SHA-256 is issuer. */
    lsn_err (*user_find_by_cert_subject)(store *s, const char *subject,
                                         const uint8_t issuer[STORE_HASH_LEN],
                                         store_user **out, lsn_error *err);
    /* Change user `name` durably (LSN_ERR_NOT_FOUND-like LSN_ERR_ARG "no
     * such user" when there is none). */
    lsn_err (*user_update)(store *s, const char *name, const store_user_change *ch,
                           lsn_error *err);
    /* Named access tokens: add one (the user must exist; LSN_ERR_DUPLICATE
     * when the user has a token of that name), list a user's (by name),
     * revoke one (LSN_ERR_ARG "no such token" when absent). A named token
     * finds its user through user_find_by_token until it expires. */
    lsn_err (*token_add)(store *s, const store_token *t, const uint8_t hash[STORE_HASH_LEN],
                         lsn_error *err);
    lsn_err (*token_list)(store *s, const char *user, store_token_cb cb, void *ctx,
                          lsn_error *err);
    lsn_err (*token_revoke)(store *s, const char *user, const char *name, lsn_error *err);

    /* Channels. */
    /* `local`: the channel is kept local (docs/FEDERATION.md): the guard
     * queues none of its items to a peer, and a peer's item for it is
     * refused. */
    lsn_err (*channel_add)(store *s, const char *name, const char *purpose, bool local,
                           int64_t *id_out, lsn_error *err);
    lsn_err (*channel_get)(store *s, const char *name, store_channel **out,
                           lsn_error *err);
    lsn_err (*channel_list)(store *s, store_channel_cb cb, void *ctx, lsn_error *err);

    /* Append an item, durably: returns only once the item (and, if `post`
     * is not NULL, its audit record, in the same transaction) is committed
     * to disk. item->id, class_id and content_hash are ignored; its label
     * class is found or added; its uuid is kept, or made if all zero. The
     * new id, content hash and audit sequence number are written to
     * *id_out, hash_out (may be NULL) and post->seq / post->hash. A post
     * record without an object gets "item:UUID". */
    lsn_err (*item_append)(store *s, const store_item *item,
                           store_audit_event *post, int64_t *id_out,
                           uint8_t hash_out[STORE_HASH_LEN], lsn_error *err);
    /* The same append without blocking the caller, for an event-driven
     * server: the item and the post record are copied, the write is queued,
     * and `done` is called exactly once, on the store's writer thread, when
     * the item is durable (or has failed) — keep it short (resume a
     * suspended request, post to a queue), and never call a blocking write
     * of the same store from it (the writer would wait for itself). Returns an error without calling
     * `done` if the item is refused before queueing (missing field, too
     * large, out of memory). */
    lsn_err (*item_append_async)(store *s, const store_item *item,
                                 const store_audit_event *post,
                                 store_append_cb done, void *ctx, lsn_error *err);
    /* Every item a read entry below hands out (item_get, item_label,
     * item_list, item_search) has passed its seal check (seal.h); one that
     * fails is left out as if absent, audited, and the alarm
     * (store_set_alarm) is raised. */
    /* An item by internal id, whole (with its attachment's bytes). */
    lsn_err (*item_get)(store *s, int64_t id, store_item **out, lsn_error *err);
    /* Where the item with public id `uuid` is (ref->id 0 if none): its
     * class, for the reader's decision, read before anything else of the
     * row, so that deciding on an item one may not see costs the same
     * whatever its body or attachment. */
    lsn_err (*item_find)(store *s, const uint8_t uuid[STORE_UUID_LEN],
                         store_item_ref *ref, lsn_error *err);
    /* Only an item's label (*out, freed with lsn_free; NULL when there is
     * no such item). */
    lsn_err (*item_label)(store *s, int64_t id, char **out, lsn_error *err);
    /* Yield the items of `channel` (NULL: every channel) whose class is in
     * `vis` (NULL: any class), with id > after, in increasing id order,
     * until `limit` were yielded (0: no limit), the callback answers
     * STORE_STOP or none is left. Only items of those classes are read:
     * the cost grows with the items yielded and the number of classes in
     * vis (log N each), never with the items of other classes. Listed
     * items carry no attachment bytes: `attachment` is NULL and
     * `attachment_len` the attachment's size (item_get has the bytes). */
    lsn_err (*item_list)(store *s, const char *channel, const store_classes *vis,
                         int64_t after, size_t limit, store_item_cb cb, void *ctx,
                         lsn_error *err);
    /* Full-text search of bodies: yield the items whose body holds every
     * word of `query` (plain words, not a query language: quotes and
     * operators are searched for as text), with id > after, in increasing id
     * order, restricted to `channel` unless NULL and to the classes of
     * `vis` unless NULL — in the query itself (SQLite: the full-text
     * query; PostgreSQL: the classes' index), so that matches of other
     * classes cost nothing. Same callback contract. A query with
     * no word is LSN_ERR_ARG. */
    lsn_err (*item_search)(store *s, const char *query, const char *channel,
                           const store_classes *vis, int64_t after, store_item_cb cb,
                           void *ctx, lsn_error *err);
    /* The highest item id (0 when empty). */
    lsn_err (*item_last_id)(store *s, int64_t *id_out, lsn_error *err);
    /* Yield the label classes with id > after in increasing id order. */
    lsn_err (*class_list)(store *s, int64_t after, store_class_cb cb, void *ctx,
                          lsn_error *err);
    /* The highest label class id (0 when there is none). */
    lsn_err (*class_last_id)(store *s, int64_t *id_out, lsn_error *err);

    /* Append an audit event durably; sets ev->seq and ev->hash. */
    lsn_err (*audit_append)(store *s, store_audit_event *ev, lsn_error *err);
    /* Yield audit events with seq > after in increasing seq order, exactly as
     * stored (no checking: see audit_verify). */
    lsn_err (*audit_list)(store *s, uint64_t after, store_audit_cb cb, void *ctx,
                          lsn_error *err);

    /* Federation: bindings, peers, outboxes, the transport's writes (store_fed.h;
     * version 4 added its peer_note and receive). */
    const struct store_fed_ops *fed;
    /* Release requests and item versions (store_rel.h). */
    const struct store_rel_ops *rel;
    /* Signed release messages exchanged with peers (store_fedrel.h;
     * version 7). */
    const struct store_fedrel_ops *fedrel;
    /* Read the audit chain's signed anchor (anchor.h): *out says whether
     * there is one, whether its signature verifies, and the head it names.
     * An error only if it could not be read at all. */
    lsn_err (*anchor)(store *s, store_anchor *out, lsn_error *err);
    /* Wait, up to timeout_ms, for a sign that another process may have
     * appended items to this store (several node processes on one
     * PostgreSQL database: every writer notifies once per transaction
     * that appended items). *woken tells whether a sign came; it is only
     * a wake-up: the items are read from the store after the last one
     * seen, and a caller polls on timeouts too, since a sign can be lost.
     * LSN_ERR_ARG from a back-end that no other process appends items to
     * (SQLite): nothing to wait for. One calling thread at a time. */
    lsn_err (*changes_wait)(store *s, int timeout_ms, bool *woken, lsn_error *err);
} store_ops;

/* A back-end's handle begins with this. */
struct store {
    const store_ops *ops;
    /* The integrity alarm (store_set_alarm); NULL: a line on stderr. */
    store_alarm_cb alarm;
    void *alarm_ctx;
};

/* Set the function told of every item that fails its seal check. Call it
 * before the store is used from several threads. */
static inline void store_set_alarm(store *s, store_alarm_cb cb, void *ctx)
{
    s->alarm = cb;
    s->alarm_ctx = ctx;
}

/* Open the store named by `where`: "sqlite:PATH", or a plain PATH (a SQLite
 * database file, created with its schema if absent). On success *out is a
 * handle to close with store_close(). Other schemes answer LSN_ERR_ARG; a
 * back-end whose table is not STORE_OPS_VERSION is closed and refused
 * (LSN_ERR_ARG). A node and its administrative verbs open their store
 * through svc_store_open (src/node/service.h), which names the default. */
lsn_err store_open(const char *where, store **out, lsn_error *err) LSN_MUST_CHECK;
/* The same, for every back-end: `key_dir` is where a store that is not a
 * file keeps its key and anchor (PostgreSQL: KEY_DIR/postgresql.key and
 * .anchor; the node gives its data directory). SQLite keeps them beside
 * its file and ignores it. store_open is store_open_keyed(where, NULL):
 * a PostgreSQL URI needs a key_dir ("postgresql://..." or "postgres://...",
 * or "postgresql:" followed by libpq's key=value form). */
lsn_err store_open_keyed(const char *where, const char *key_dir, store **out,
                         lsn_error *err) LSN_MUST_CHECK;

/* The SQLite back-end (store_sqlite.c). */
lsn_err store_sqlite_open(const char *path, store **out, lsn_error *err) LSN_MUST_CHECK;
/* The PostgreSQL back-end (store_pg.c): `conninfo` is libpq's (a URI or
 * key=value pairs); the database must be UTF8 with the C collation. */
lsn_err store_pg_open(const char *conninfo, const char *key_dir, store **out,
                      lsn_error *err) LSN_MUST_CHECK;

/* `uri` as it may be shown (a log, an error): a password in it (a URI's
 * user:PASSWORD@, or password=... of libpq's key=value form) becomes "***".
 * Always NUL-terminated; cut at n - 1 bytes. */
void store_uri_redact(const char *uri, char *out, size_t n);

/* Close a store; NULL is a no-op. */
void store_close(store *s);

/* Whether name may be an attachment's file name: 1 to STORE_FILE_NAME_MAX
 * bytes of UTF-8, not "." or "..", without '/', '\\' or a control
 * character (C0, DEL, C1, U+2028/9). NULL (no name) is allowed. */
bool store_attachment_name_ok(const char *name);

/* SHA-256 over a canonical, length-prefixed encoding of (label, body,
 * media type, attachment): the hash that binds an item's label to its
 * content. NULL media type / attachment differ from empty ones. */
void store_content_hash(const char *label, const char *body,
                        const char *media_type, const uint8_t *attachment,
                        size_t attachment_len, uint8_t out[STORE_HASH_LEN]);

/* Recompute an item's content hash and compare it (in constant time) with
 * the stored one: 1 if intact, 0 if not. */
int store_item_intact(const store_item *item) LSN_MUST_CHECK;

/* The hash a user's bearer token is stored and looked up by (SHA-256: tokens
 * are 256 random bits, so no salt or stretching is needed). */
void store_token_hash(const char *token, uint8_t out[STORE_HASH_LEN]);

/* A new bearer token: STORE_TOKEN_CHARS base64url characters of 32 random
 * bytes, NUL-terminated, written to out. */
lsn_err store_token_new(char out[STORE_TOKEN_CHARS + 1], lsn_error *err) LSN_MUST_CHECK;

/* A new public id: a version 7 UUID (the time in ms, then 74 random bits). */
void store_uuid_new(uint8_t out[STORE_UUID_LEN]);
/* A UUID as its 36-character text (lower-case hex, dashes) into out[37]. */
void store_uuid_text(const uint8_t uuid[STORE_UUID_LEN], char out[37]);
/* Parse the 36-character text form; false for anything else. */
bool store_uuid_parse(const char *text, uint8_t out[STORE_UUID_LEN]);

/* Thin wrappers, so that callers read `store_item_get(s, ...)`. */
static inline lsn_err store_org_add(store *s, const char *name, const char *category,
                                    int64_t *id, lsn_error *err)
{ return s->ops->org_add(s, name, category, id, err); }
static inline lsn_err store_org_get(store *s, const char *name, store_org **out,
                                    lsn_error *err)
{ return s->ops->org_get(s, name, out, err); }
static inline lsn_err store_org_list(store *s, store_org_cb cb, void *ctx, lsn_error *err)
{ return s->ops->org_list(s, cb, ctx, err); }
static inline lsn_err store_user_add(store *s, const store_user *u, int64_t *id,
                                     lsn_error *err)
{ return s->ops->user_add(s, u, id, err); }
static inline lsn_err store_user_get(store *s, const char *name, store_user **out,
                                     lsn_error *err)
{ return s->ops->user_get(s, name, out, err); }
static inline lsn_err store_user_find_by_token(store *s, const uint8_t h[STORE_HASH_LEN],
                                               store_user **out, lsn_error *err)
{ return s->ops->user_find_by_token(s, h, out, err); }
static inline lsn_err store_user_update(store *s, const char *name,
                                        const store_user_change *ch, lsn_error *err)
{ return s->ops->user_update(s, name, ch, err); }
static inline lsn_err store_token_add(store *s, const store_token *t,
                                      const uint8_t h[STORE_HASH_LEN], lsn_error *err)
{ return s->ops->token_add(s, t, h, err); }
static inline lsn_err store_token_list(store *s, const char *user, store_token_cb cb,
                                       void *ctx, lsn_error *err)
{ return s->ops->token_list(s, user, cb, ctx, err); }
static inline lsn_err store_token_revoke(store *s, const char *user, const char *name,
                                         lsn_error *err)
{ return s->ops->token_revoke(s, user, name, err); }
static inline lsn_err store_user_find_by_cert(store *s, const uint8_t fp[STORE_HASH_LEN],
                                              store_user **out, lsn_error *err)
{ return s->ops->user_find_by_cert(s, fp, out, err); }
static inline lsn_err store_user_find_by_cert_subject(store *s, const char *subject,
                                                      const uint8_t issuer[STORE_HASH_LEN],
                                                      store_user **out, lsn_error *err)
{ return s->ops->user_find_by_cert_subject(s, subject, issuer, out, err); }
static inline lsn_err store_user_list(store *s, store_user_cb cb, void *ctx, lsn_error *err)
{ return s->ops->user_list(s, cb, ctx, err); }
static inline lsn_err store_channel_add(store *s, const char *name, const char *purpose,
                                        int64_t *id, lsn_error *err)
{ return s->ops->channel_add(s, name, purpose, false, id, err); }
static inline lsn_err store_channel_add_local(store *s, const char *name, const char *purpose,
                                              bool local, int64_t *id, lsn_error *err)
{ return s->ops->channel_add(s, name, purpose, local, id, err); }
static inline lsn_err store_channel_get(store *s, const char *name, store_channel **out,
                                        lsn_error *err)
{ return s->ops->channel_get(s, name, out, err); }
static inline lsn_err store_channel_list(store *s, store_channel_cb cb, void *ctx,
                                         lsn_error *err)
{ return s->ops->channel_list(s, cb, ctx, err); }
static inline lsn_err store_item_append(store *s, const store_item *item,
                                        store_audit_event *post, int64_t *id,
                                        uint8_t hash_out[STORE_HASH_LEN], lsn_error *err)
{ return s->ops->item_append(s, item, post, id, hash_out, err); }
static inline lsn_err store_item_append_async(store *s, const store_item *item,
                                              const store_audit_event *post,
                                              store_append_cb done, void *ctx,
                                              lsn_error *err)
{ return s->ops->item_append_async(s, item, post, done, ctx, err); }
static inline lsn_err store_item_get(store *s, int64_t id, store_item **out, lsn_error *err)
{ return s->ops->item_get(s, id, out, err); }
static inline lsn_err store_item_find(store *s, const uint8_t uuid[STORE_UUID_LEN],
                                      store_item_ref *ref, lsn_error *err)
{ return s->ops->item_find(s, uuid, ref, err); }
static inline lsn_err store_item_label(store *s, int64_t id, char **out, lsn_error *err)
{ return s->ops->item_label(s, id, out, err); }
static inline lsn_err store_item_list(store *s, const char *channel,
                                      const store_classes *vis, int64_t after,
                                      size_t limit, store_item_cb cb, void *ctx,
                                      lsn_error *err)
{ return s->ops->item_list(s, channel, vis, after, limit, cb, ctx, err); }
static inline lsn_err store_item_search(store *s, const char *query, const char *channel,
                                        const store_classes *vis, int64_t after,
                                        store_item_cb cb, void *ctx, lsn_error *err)
{ return s->ops->item_search(s, query, channel, vis, after, cb, ctx, err); }
static inline lsn_err store_item_last_id(store *s, int64_t *id, lsn_error *err)
{ return s->ops->item_last_id(s, id, err); }
static inline lsn_err store_class_list(store *s, int64_t after, store_class_cb cb,
                                       void *ctx, lsn_error *err)
{ return s->ops->class_list(s, after, cb, ctx, err); }
static inline lsn_err store_class_last_id(store *s, int64_t *id, lsn_error *err)
{ return s->ops->class_last_id(s, id, err); }
static inline lsn_err store_audit_append(store *s, store_audit_event *ev, lsn_error *err)
{ return s->ops->audit_append(s, ev, err); }
static inline lsn_err store_audit_list(store *s, uint64_t after, store_audit_cb cb,
                                       void *ctx, lsn_error *err)
{ return s->ops->audit_list(s, after, cb, ctx, err); }
static inline lsn_err store_anchor_read(store *s, store_anchor *out, lsn_error *err)
{ return s->ops->anchor(s, out, err); }
static inline lsn_err store_changes_wait(store *s, int timeout_ms, bool *woken, lsn_error *err)
{ return s->ops->changes_wait(s, timeout_ms, woken, err); }

#endif
