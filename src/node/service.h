/* node/service.h — the node's service layer: what the node does, without
 * any transport.
 *
 * The acceptance of an item (label parsed and validated, within the
 * author's clearance, released no further than the author's role allows,
 * canonical form, markings, durable append with its audit record), the
 * audit log's reading, and administration (organisations, users, channels)
 * live here, once. The HTTP handlers are thin adapters that map a result to
 * a status; the demo loader and the CLI's administrative verbs call the same
 * functions; federation and release requests will too. No second copy of
 * acceptance exists anywhere.
 *
 * Every function returns an lsn_err and fills a svc_result: LSN_OK means
 * done; otherwise result->refusal says which kind of "no" it is (a status
 * for HTTP, an exit code for the CLI) and result->reason is a sentence a
 * person can act on. The service writes every act and every refusal to the
 * audit log itself.
 *
 * Rights: ONE table (svc_acts, service_roles.c) says which role each act
 * needs. The node's route table and the CLI's verb table name an act;
 * svc_allowed() answers from the table; the service checks again inside
 * each function, so that no caller can forget. */
#ifndef NODE_SERVICE_H
#define NODE_SERVICE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "liaison/liaison.h"
#include "store/audit.h"
#include "store/verify.h"
#include "store/store.h"
#include "store/store_fed.h"
#include "store/store_rel.h"

struct fed_identity; /* federation/identity.h */
struct svc_peers;    /* service_peer.c */

/* ---- rights ----------------------------------------------------------- */

/* What an actor asks to do. Routes and CLI verbs name one. */
typedef enum svc_act {
    SVC_ACT_NONE = 0,   /* nothing beyond being signed in (or no token at all) */
    SVC_ACT_READ,       /* read items, channels, the policy; preview a marking */
    SVC_ACT_POST,       /* post an item within one's clearance, released at most
                           to one's own nation and to the policy's own community */
    SVC_ACT_RELEASE,    /* post an item releasable to another nation */
    SVC_ACT_AUDIT,      /* read or verify the audit log */
    SVC_ACT_ADMINISTER, /* add organisations, users, channels */
    SVC_ACT_REQUEST_RELEASE, /* propose to widen an item's release (one may read it);
                                withdraw or extend one's own request */
    SVC_ACT_DECIDE_RELEASE,  /* concur with or break silence on a release request one
                                is an authority of */
    SVC_ACT_CORRECT,         /* withdraw or narrow an item (its author; withdraw: also a
                                release authority of its organisation) */
    SVC_ACT_COUNT
} svc_act;

typedef struct svc_right {
    const char *name; /* "post", "release", ... */
    unsigned role;    /* the STORE_ROLE_* bit it needs; 0: any signed-in user */
    const char *why;  /* the refusal's sentence */
} svc_right;

/* THE table of rights, indexed by svc_act. */
extern const svc_right svc_acts[SVC_ACT_COUNT];

/* true when `roles` (STORE_ROLE_* bits) hold what `act` needs. */
bool svc_allowed(unsigned roles, svc_act act);

/* Role names as the API, the demo data and the CLI spell them: "member",
 * "release_authority" (also "release-authority"), "auditor",
 * "administrator". svc_role_parse gives the bit, false when unknown;
 * svc_role_name the API's spelling of one bit (NULL if not a role). */
bool svc_role_parse(const char *name, unsigned *bit);
const char *svc_role_name(unsigned bit);

/* ---- results ------------------------------------------------------------ */

typedef enum svc_refusal {
    SVC_DONE = 0,
    SVC_MALFORMED, /* the request is not what the act takes (HTTP 400) */
    SVC_FORBIDDEN, /* the actor may not (403) */
    SVC_NOT_FOUND, /* no such channel or organisation (404) */
    SVC_DUPLICATE, /* the name is taken (409) */
    SVC_TOO_LARGE, /* over a limit (413) */
    SVC_INVALID,   /* the label is invalid (422) */
    SVC_FAILED     /* the store or memory failed (500) */
} svc_refusal;

typedef struct svc_result {
    svc_refusal refusal;
    char reason[LSN_ERROR_MESSAGE_MAX]; /* a sentence; "" when done */
} svc_result;

/* An audit record held back to be written with something else: a refused
 * item of a peer's batch is audited in the batch's one transaction
 * (svc_post_commit_batch), so that a batch sent again after a failed
 * commit is audited once. The fields are copies (truncated to fit); svc_audit_or_note
 * fills one. */
typedef struct svc_audit_note {
    bool set;
    int64_t time_ms;
    char actor[300];
    char action[32];
    char object[300];
    char outcome[16];
    char detail[600];
} svc_audit_note;

/* ---- who acts --------------------------------------------------------- */

typedef struct svc_actor {
    const char *name;               /* the audit log's actor: a user, "system", "cli:LOGIN" */
    const char *organisation;       /* NULL when not a user */
    const char *org_category;       /* the organisation's category ("JPN"); may be NULL */
    const lsn_clearance *clearance; /* NULL: may post nothing */
    unsigned roles;                 /* STORE_ROLE_* bits */
} svc_actor;

/* A node user as loaded from the store: its record, parsed clearance and
 * organisation category. (The node calls it node_reader.) */
typedef struct svc_reader {
    store_user *user;          /* owned (lsn_free) */
    lsn_clearance *clearance;  /* owned; NULL if it does not parse (sees nothing) */
    char *org_category;        /* owned (lsn_free); may be NULL */
} svc_reader;

/* The actor a reader acts as (borrows from r). */
svc_actor svc_actor_of(const svc_reader *r);

/* ---- the service context ----------------------------------------------- */

typedef struct svc {
    store *st;
    const lsn_policy_set *set;
    size_t body_limit;             /* bytes of an item's body */
    struct svc_label_memo *memo;   /* posted labels (service_label.c); may be NULL */
    struct svc_channels *channels; /* known channels (channels.c); may be NULL */
    /* The node's identity (borrowed; with its key): an accepted post is
     * signed by it (its STANAG 4778 binding, stored with the item). NULL:
     * items are stored without a binding (a store without identity). */
    const struct fed_identity *me;
    /* The peers (service_peer.c): loaded at init, kept by svc_peer_add. */
    struct svc_peers *peers;
    /* Release requests (service_release.c): the default deadline and the
     * bounds a proposer's must lie within (ms from now); the clock — the
     * time in ms read from clock_file when set (tests drive the clock
     * through it: `--release-clock`), else the system's. */
    struct svc_release_cfg {
        int64_t deadline_ms, min_ms, max_ms;
        const char *clock_file;
    } rel;
    /* Hooks, each may be NULL: an access decision on a post was made (metrics);
     * an item became durable (wake the stream's publisher). */
    void (*decided)(void *ctx, bool granted);
    void (*appended)(void *ctx);
    /* A user's account changed (disabled, removed, new clearance, roles,
     * password or token): drop what is cached of them, end their sessions. */
    void (*user_changed)(void *ctx, const char *name);
    /* A token was revoked: forget cached readers (nothing else changes). */
    void (*token_revoked)(void *ctx);
    /* A release request changed (its public id, and what happened: "open",
     * "concur", "break", "withdraw", "extend", "adopt", "close"): tell its
     * parties live (the node's stream, release_notice.c). */
    void (*release_changed)(void *ctx, const uint8_t rid[STORE_UUID_LEN], const char *event);
    void *hook_ctx;
} svc;

/* Set up a service over an open store and policy set (both borrowed). With
 * caches, posted labels and channel names are remembered (a node); without,
 * every call asks afresh (a CLI verb, a test). LSN_ERR_NOMEM. */
lsn_err svc_init(svc *s, store *st, const lsn_policy_set *set, size_t body_limit,
                 bool caches);
void svc_release(svc *s);

/* ---- the store ---------------------------------------------------------- */

#define SVC_DATA_DIR_DEFAULT "./liaison-data"
#define SVC_STORE_FILE "liaison.db" /* the default store inside the data directory */

/* Open a node's store from its URI ("sqlite:PATH"; NULL or "": the default,
 * sqlite:DATA_DIR/liaison.db). The data directory (NULL: the default) is
 * made owner-only when missing and `create` is set; without `create`, a
 * missing directory or SQLite file is an error rather than a new empty
 * store. The one function `liaison serve` and the administrative verbs
 * share. On success *out is to close with store_close. */
lsn_err svc_store_open(const char *data_dir, const char *uri, bool create, store **out,
                       lsn_error *err) LSN_MUST_CHECK;

/* Load user `name` (a reader to release with svc_reader_release). LSN_OK
 * with r->user NULL when there is no such user. */
lsn_err svc_reader_load(svc *s, const char *name, svc_reader *r, lsn_error *err);
/* The same by token hash (the node's authentication). */
lsn_err svc_reader_load_token(svc *s, const uint8_t hash[STORE_HASH_LEN], svc_reader *r,
                              lsn_error *err);
/* The same by a verified client certificate: the user bound to its
 * fingerprint fp, else the one bound to its subject (a DN, "" or NULL:
 * none) under the CA that issued it (issuer: the SHA-256 of that CA's
 * certificate; NULL: none of the trusted CAs issued it directly). */
lsn_err svc_reader_load_cert(svc *s, const uint8_t fp[STORE_HASH_LEN], const char *subject,
                             const uint8_t issuer[STORE_HASH_LEN], svc_reader *r,
                             lsn_error *err);
void svc_reader_release(svc_reader *r);

/* ---- the node's identity (service_identity.c) -------------------------- */

/* The policy set's own spelling of the category value `nation` (any tag
 * set, matched without regard to case: "nato" -> "NATO"), or NULL when no
 * policy of the set knows it (or nation is NULL). */
const char *svc_nation_value(const lsn_policy_set *set, const char *nation);

/* The node's identity in data_dir, with its key: loaded, or — when the
 * directory has neither node.crt nor node.key — made for `name` (NULL:
 * default_name; both NULL: the host's name) and `nation` (NULL: the first policy's own name, when it is
 * a category value), and *created set. A name or nation given that the
 * existing identity does not have is refused (LSN_ERR_ARG): an identity is
 * never overwritten. *out to free with fed_identity_free. */
lsn_err svc_identity_open(const char *data_dir, const lsn_policy_set *set, const char *name,
                          const char *nation, const char *default_name, bool *created,
                          struct fed_identity **out,
                          lsn_error *err) LSN_MUST_CHECK;

/* ---- channels (channels.c) ---------------------------------------------- */

/* 1 if channel `name` exists, 0 if not, -1 if the store failed. When
 * json_out is given, a yes also writes the name as a JSON string there (-1
 * if it does not fit in json_cap). Found names are remembered (channels are
 * never removed); a miss always asks the store. */
int svc_channel_known(svc *s, const char *name, char *json_out, size_t json_cap);
/* The same, and whether the channel is kept local (*local; false when it
 * is not known). */
int svc_channel_lookup(svc *s, const char *name, char *json_out, size_t json_cap, bool *local);

/* ---- labels (service_label.c) ------------------------------------------ */

/* A label as posted, parsed, validated, written in canonical JSON and
 * marked — remembered by its exact text. Immutable and shared: release
 * with svc_label_release. */
typedef struct svc_label {
    lsn_label *label;   /* for the access and release checks */
    char *canon;        /* canonical JSON (what the store keeps) */
    char *xml4774;      /* STANAG 4774 XML (what an item's binding signs) */
    size_t xml4774_len;
    char *en, *fr;      /* markings */
    char *marking_json; /* "marking":EN,"markingFr":FR as jansson renders them */
    int class_index;    /* lsn_label_class_index */
    char *key;          /* the memo's key: form byte + text */
    size_t key_len;
    _Atomic unsigned refs;
} svc_label;

/* The label of value v (a JSON label object, or a string holding a STANAG
 * 4774 XML label): LSN_OK and *out, or an error with res saying why
 * (SVC_INVALID naming the rule or the parse error; SVC_FAILED). Nothing is
 * audited: a preview is not an act. */
lsn_err svc_label_get(svc *s, json_t *v, svc_label **out, svc_result *res);
void svc_label_release(svc_label *l); /* NULL is a no-op */

/* The nations (and other values) a label releases to that the actor's
 * organisation is not: the values of the label's releasability tag set
 * (the permissive tag set holding the organisation's category; the
 * enumerated one when two do) other than that category and the policy's
 * own name (its community: NATO under the NATO policy). Written to out,
 * comma-separated (truncated to cap); returns how many. Derived from the
 * policy alone: no nation is named in code. An actor whose organisation
 * category no permissive tag set holds (or who has none) counts every
 * permissive value but the policy's name. */
size_t svc_release_foreign(const svc_actor *a, const lsn_label *l, char *out, size_t cap);

/* ---- posting (service_post.c) ------------------------------------------ */

typedef struct svc_post {
    const char *channel;
    json_t *label;             /* a JSON label object, or a string holding 4774 XML */
    const char *body;
    size_t body_len;           /* bytes (a NUL inside is refused) */
    const char *media_type;    /* attachment's; NULL: none */
    const uint8_t *attachment;
    size_t attachment_len;
    const char *attachment_name; /* its file name (store_attachment_name_ok); NULL: none */
    int64_t created_ms;        /* 0: now */
    const char *audit_detail;  /* the post record's detail; NULL: the channel */
    const uint8_t *uuid;       /* the item's public id (STORE_UUID_LEN bytes), as a
                                  peer gives its origin's; NULL: a new one */
    const char *binding;       /* the origin's signed binding, verified by the
                                  caller, stored verbatim (a peer's item); NULL:
                                  this node signs one when it has an identity */
    size_t binding_len;
    const char *from_peer;     /* a peer's item: the peer it came from and ... */
    const char *origin;        /* ... its origin node, whom it is never relayed back to */
    svc_audit_note *defer;     /* a refusal's audit record goes here, to be written
                                     with the batch (service_fed.c); NULL: now */
    const struct store_item_ver *ver; /* a peer's later version of an item
                                         (service_fed_version.c); NULL: a new item */
} svc_post;

/* An accepted post, not yet durable. */
typedef struct svc_pending svc_pending;

/* Accept a post: the actor may post, the channel exists, the body is within
 * the limit, the label is valid, within the actor's clearance, and released
 * no further than the actor's role allows. On LSN_OK *out is the pending
 * post (it borrows p's strings and bytes until committed); otherwise res
 * says why and the refusal is audited. */
lsn_err svc_post_accept(svc *s, const svc_actor *a, const svc_post *p, svc_pending **out,
                        svc_result *res);
/* Copy the author, organisation and post record's detail into pd, so
 * that the actor and post they came from may go (a peer's item, whose
 * names live on the acceptance's stack). LSN_ERR_NOMEM. */
lsn_err svc_pending_keep_names(svc_pending *pd);
/* The accepted label (borrowed from pd). */
const svc_label *svc_pending_label(const svc_pending *pd);
/* The accepted item's public id (UUID text, 36 characters) into out. */
void svc_pending_uuid(const svc_pending *pd, char out[37]);

/* Append, blocking until durable (the demo loader). Frees pd. */
lsn_err svc_post_commit(svc *s, svc_pending *pd, int64_t *id_out,
                        uint8_t hash_out[STORE_HASH_LEN], svc_result *res);

/* Completion of an asynchronous commit: rc LSN_OK with id and hash, or the
 * error with res. Runs on the store's writer thread (or the caller's when
 * refused before queueing): keep it short. */
typedef void (*svc_post_done)(void *ctx, lsn_err rc, int64_t id,
                              const uint8_t hash[STORE_HASH_LEN], const svc_result *res);
/* Append without blocking (the node's POST): `done` is called exactly once.
 * Frees pd. */
void svc_post_commit_async(svc *s, svc_pending *pd, svc_post_done done, void *ctx);
/* Drop an accepted post without storing it; NULL is a no-op. */
void svc_pending_free(svc_pending *pd);

/* Accept and commit in one call. */
lsn_err svc_post_now(svc *s, const svc_actor *a, const svc_post *p, int64_t *id_out,
                     svc_result *res);

/* ---- administration (service_admin.c) ---------------------------------- */

/* Each needs SVC_ACT_ADMINISTER; names are non-empty, at most 255 bytes,
 * without control characters; each act and refusal is audited. */
lsn_err svc_org_add(svc *s, const svc_actor *a, const char *name, const char *category,
                    svc_result *res);
/* `local`: the channel is kept local (docs/FEDERATION.md): none of its
 * items goes to a peer, and a peer's item for it is refused. */
lsn_err svc_channel_add(svc *s, const svc_actor *a, const char *name, const char *purpose,
                        bool local, svc_result *res);

typedef struct svc_new_user {
    const char *name;
    const char *organisation;  /* must exist */
    const char *clearance;     /* any clearance form (JSON, spiffing XML...) */
    size_t clearance_len;
    lsn_form clearance_form;   /* LSN_FORM_AUTO: detect */
    unsigned roles;            /* STORE_ROLE_* bits; 0: member */
    const char *password;      /* NULL: no password sign-in (a token only) */
} svc_new_user;
/* Adds the user with its clearance in canonical JSON and a new bearer
 * token, written to token_out (shown once; only its hash is stored: wipe
 * it after use). marking_out (may be NULL, cap marking_cap) receives the
 * clearance's English marking. */
lsn_err svc_user_add(svc *s, const svc_actor *a, const svc_new_user *u,
                     char token_out[STORE_TOKEN_CHARS + 1], char *marking_out,
                     size_t marking_cap, svc_result *res);

/* The administrative acts' common steps (service_admin.c), for the other
 * files of acts: a name's check, the right's check (audited when refused),
 * the act's audit record, a store refusal in words. */
bool svc_admin_text_ok(const char *what, const char *s, size_t max, svc_result *res);
bool svc_admin_may(svc *s, const svc_actor *a, const char *action, const char *object,
                   svc_result *res, lsn_err *rc);
lsn_err svc_admin_finish(svc *s, const svc_actor *a, const char *action, const char *object,
                         const char *detail, lsn_err rc, svc_result *res);
lsn_err svc_admin_store_refused(const char *what, lsn_err rc, const lsn_error *err,
                                svc_result *res);

/* ---- an item's binding (service_binding.c) ----------------------------- */

/* Sign item `it` (its uuid, content and time) with label l as this node
 * (s->me, required): *out (lsn_free) and *len. */
lsn_err svc_binding_sign(svc *s, const store_item *it, const svc_label *l, char **out,
                         size_t *len, lsn_error *err);
/* Item `id`'s binding: the one stored, or — when there is none and the
 * node has an identity — one signed now and kept, the first kept winning
 * (the same bytes ever after). *out NULL: none (no identity, or an item
 * the store withholds: it fails its seal). The caller
 * decides beforehand whether the reader may see the item. */
lsn_err svc_item_binding(svc *s, int64_t id, char **out, size_t *len, lsn_error *err);

/* ---- peers (service_peer.c; the guard: guard.h) ------------------------- */

typedef struct svc_new_peer {
    const char *name;               /* its certificate's node name (CN) */
    const char *url;                /* https://HOST:PORT: its federation listener */
    const char *nation;             /* a category value; its certificate's (OU) */
    const char *certificate;        /* PEM, pinned */
    size_t certificate_len;
    const char *max_classification; /* the highest agreed; NULL: the policy's */
    const char *via;                /* a known peer relaying for it; NULL: direct */
    const char *policy;             /* its node's policy, OID or name, held here and
                                       equivalent to ours; NULL: ours */
} svc_new_peer;

/* Add a peer (needs SVC_ACT_ADMINISTER; audited as peer.add): the checks
 * above, then the store; the guard knows it from the next post on. */
lsn_err svc_peer_add(svc *s, const svc_actor *a, const svc_new_peer *p, svc_result *res);
/* Yield every peer (needs SVC_ACT_ADMINISTER; the listing is audited). */
lsn_err svc_peer_list(svc *s, const svc_actor *a, store_peer_cb cb, void *ctx,
                      svc_result *res);

/* An item as a peer sends it: the origin's signed binding and the content
 * it binds, for a channel. */
typedef struct svc_peer_item {
    const char *channel;
    const char *binding;       /* the signed STANAG 4778 bytes, kept verbatim */
    size_t binding_len;
    const char *body;
    size_t body_len;
    const char *media_type;    /* NULL: no attachment */
    const uint8_t *attachment;
    size_t attachment_len;
    int kind;                  /* SVC_FED_ITEM, _VERSION or _TOMBSTONE: the batch
                                  entry's; it must match the signed binding */
} svc_peer_item;

/* A batch entry's kind (docs/FEDERATION.md, "Versions and withdrawals"). */
enum { SVC_FED_ITEM = 0, SVC_FED_VERSION = 1, SVC_FED_TOMBSTONE = 2 };

/* Accept an item from peer `peer` (by name) through the one acceptance:
 * its binding verified against the peer's pinned certificate only (the
 * origin must be the peer: relays are to come), the content checked
 * against the signed digest, the label taken from the signed bytes and
 * decided again here — it must release the item to this node (its own
 * peer clearance) and lie within the sender's — then svc_post_* with the
 * origin's UUID and the binding stored as it came. An item already held
 * with the same binding bytes (the same origin and UUID), or the same
 * originator's bytes under another translation, is a duplicate:
 * LSN_OK with *duplicate set and its id; a UUID held with other bytes is
 * refused (SVC_DUPLICATE), so that no peer pre-empts another's item.
 * Refusals are audited (fed.receive). */
lsn_err svc_peer_item_accept(svc *s, const char *peer, const svc_peer_item *in,
                             int64_t *id_out, bool *duplicate, svc_result *res);

/* The same in two steps, for a batch (service_fed.c): the checks, then
 * *out, a pending post to commit (svc_post_commit, svc_post_commit_batch),
 * or — for a duplicate (*duplicate, *id_out) or a refusal — NULL. With
 * `defer`, a refusal's audit record is written there (defer->set) instead
 * of appended, for the caller to commit with its batch. */
lsn_err svc_peer_item_prepare(svc *s, const char *peer, const svc_peer_item *in,
                              svc_pending **out, int64_t *id_out, bool *duplicate,
                              svc_audit_note *defer, svc_result *res);

/* The registry as the transport needs it: peer `name`'s id and the last of
 * its sequences made durable here (false: no such peer); that sequence
 * moved once a batch committed; the name of the peer whose pinned
 * certificate has this fingerprint (colon-separated hex, as
 * fed_identity_fingerprint; false: none). */
bool svc_peer_lookup(svc *s, const char *name, int64_t *id, uint64_t *received);
void svc_peer_received_set(svc *s, int64_t id, uint64_t seq);
bool svc_peer_nation(svc *s, const char *name, char *nation, size_t cap);
bool svc_peer_by_fingerprint(svc *s, const char *fingerprint, char *name, size_t cap);
/* Whether sig verifies over data with peer `peer`'s pinned certificate
 * (federation/message.h; false: no such peer). */
bool svc_peer_message_verify(svc *s, const char *peer, const void *data, size_t len,
                             const uint8_t *sig, size_t sig_len);
/* Whether the guard releases an item of `label` to peer `peer` (and its
 * relay): what svc_peers_outbox decides, for one peer. */
bool svc_peer_releases(svc *s, const char *peer, const lsn_label *label);
/* The binding that goes to peer `peer` for an item of label `label` (its
 * stored canonical form) and binding `binding`: for a peer whose policy is
 * another than the label's, the binding translated into it and signed by
 * this node (translate.h) in *out (lsn_free); else *out NULL: the bytes as
 * they are. A binding received translated (by the node that sent it here)
 * has its translation cut out (fed_binding_original): the originator's
 * bytes in *out for a peer of the originator's policy, else those bytes
 * translated afresh by this node; the originator's label, not the one
 * decided on here, says which. An error (no equivalent, a binding that
 * does not verify against this node or a peer, an originator's policy not
 * held here): nothing to send. */
lsn_err svc_peer_binding_for(svc *s, const char *peer, const char *label, const char *binding,
                             size_t len, char **out, size_t *out_len, lsn_error *err);

/* ---- the federation transport's receiving side (service_fed.c) ---------- */

/* One item of a batch: the sender's sequence number for it and the item. */
typedef struct svc_fed_in {
    uint64_t seq;
    svc_peer_item item;
} svc_fed_in;

typedef struct svc_fed_answer {
    uint64_t acked;    /* the last of the sender's sequences durable here */
    uint64_t expected; /* a gap: the sequence expected next (0: no gap) */
    size_t stored, duplicates, refused;
} svc_fed_answer;

#define SVC_FED_BATCH_MAX 64 /* items in one batch */

/* Take a batch from peer `peer` (the name its client certificate proved):
 * items in sequence order; those at or below what is already durable are
 * skipped; the first that does not follow is a gap (the rest is left, and
 * ans->expected says which sequence to send). Each item goes through
 * svc_peer_item_prepare (verified against the origin's pinned certificate,
 * decided again here); a refused item is audited and passed over, never
 * blocking those behind it; the accepted ones and the peer's new received
 * sequence are stored in one transaction. One batch at a time per node.
 * LSN_OK with ans filled; an error (the store failed, an unknown peer)
 * with res. */
lsn_err svc_fed_receive(svc *s, const char *peer, const svc_fed_in *items, size_t n,
                        svc_fed_answer *ans, svc_result *res);

/* ---- versions and withdrawals to and from peers (service_fed_version.c) -- */

/* The origin: the peers a new version of item `old` (its row, label
 * `from`) with label `to` is queued for — those `to` releases it to (they
 * receive the version) and those `from` released it to (the sender sends
 * them a tombstone when `to` does not: svc_fed_tombstone_due). None for a
 * peer's item (only its origin versions it), an item of a channel kept
 * local, or a node with no identity. *ids (lsn_free) may be NULL. */
lsn_err svc_fed_version_outbox(svc *s, const store_item *old, const char *to_canon,
                               int64_t **ids, size_t *n);
/* The origin: the peers a withdrawal of `it` (its current row) is queued
 * for — those its label releases it to — and, when there are any, the
 * tombstone signed here, kept with the withdrawal (*tombstone, lsn_free). */
lsn_err svc_fed_withdraw_outbox(svc *s, const store_item *it, int64_t **ids, size_t *n,
                                char **tombstone, size_t *len);

/* The sender: whether outbox entry `it` (a row, as store_item_get reads
 * it: its item's public id and version) goes to `peer` as a tombstone —
 * the item is withdrawn, or the guard no longer releases this row's label
 * to the peer — and then *out (lsn_free): the tombstone kept with the
 * withdrawal (the origin's, or the one a relay received), else one signed
 * now by this node when it is the origin; NULL with LSN_OK when there is
 * none (the entry goes out without binding). *why NULL: send the row. */
lsn_err svc_fed_tombstone_due(svc *s, const char *peer, const store_item *it,
                              const char **why, char **out, size_t *len, lsn_error *err);

/* The receiver, from svc_peer_item_prepare once the binding verified: a
 * later version or a tombstone (b; or an entry whose kind says so). A
 * tombstone is applied here (the item's copy hidden, audited, and queued
 * with the origin's bytes for the peers this node released it to: a
 * relay forwards it): LSN_OK with *done. A version: LSN_OK with *ver filled (the version to append: its
 * number, the item, the row it supersedes here) unless it is older than or
 * the same as what is held (*duplicate). Refusals audited, as res. */
struct fed_binding;
lsn_err svc_fed_later_check(svc *s, const char *peer, const svc_peer_item *in,
                            const struct fed_binding *b, struct store_item_ver *ver,
                            bool *done, bool *duplicate, svc_result *res);
/* A version this node's guard refused: the copy it would have replaced is
 * hidden too (the origin changed the label: fail closed), and audited. */
void svc_fed_version_refused(svc *s, const char *peer, const struct store_item_ver *ver,
                             const char *origin);

/* Commit accepted posts pds[0..n), the audit records of the batch's
 * refused items notes[0..nnotes) and peer `peer`'s received sequence `seq`
 * in one transaction (service_post.c); frees every pds[i]. ids (n)
 * receive the items' internal ids. */
lsn_err svc_post_commit_batch(svc *s, svc_pending **pds, size_t n,
                              const svc_audit_note *const *notes, size_t nnotes, int64_t peer,
                              uint64_t seq, int64_t *ids, svc_result *res);

/* The peers' clearances in memory (svc_init loads them; svc_release frees
 * them). */
lsn_err svc_peers_init(svc *s, lsn_error *err);
void svc_peers_free(svc *s);
/* The peers (ids) the guard releases an item of `label` to: each peer's
 * clearance grants it, and its relay's too; never the peers named not_a
 * or not_b (may be NULL: a relayed item's sender and origin). *ids (lsn_free) holds *n of
 * them; NULL when none. LSN_ERR_NOMEM. */
lsn_err svc_peers_outbox(svc *s, const lsn_label *label, const char *not_a, const char *not_b,
                         int64_t **ids, size_t *n);

/* The guard's decision for an item, for its post record: "released to
 * A, B; withheld from C" over every registered peer, given the ids the
 * item goes to. Returns the number of peers (0: nothing written). */
size_t svc_peers_release_note(svc *s, const int64_t *ids, size_t n, char *out, size_t cap);

/* ---- release requests and corrections (service_release.c) -------------- */

#define SVC_RELEASE_DEADLINE_DEFAULT (24 * 3600 * 1000LL) /* 24 h */
#define SVC_RELEASE_DEADLINE_MIN (60 * 1000LL)            /* a minute */
#define SVC_RELEASE_DEADLINE_MAX (30 * 24 * 3600 * 1000LL) /* 30 days */

/* The node's clock for release requests (ms): s->rel.clock_file's number
 * when set and readable, else the system's time. */
int64_t svc_now_ms(const svc *s);

/* A proposal: widen item `item`'s release to `label`. */
typedef struct svc_release_proposal {
    const uint8_t *item;     /* the item's public id (STORE_UUID_LEN bytes) */
    json_t *label;           /* the proposed label (as a post's) */
    const char *reason;      /* required, at most 4000 bytes */
    int64_t deadline_ms;     /* 0: the default; else within the bounds from now */
} svc_release_proposal;

/* Propose (needs SVC_ACT_REQUEST_RELEASE, and that the actor may read the
 * item: otherwise SVC_NOT_FOUND, as for an unknown item). The label must be
 * valid, under the item's policy, and admit everyone the item's admits and
 * someone more at the same classification ("release"), or at a lower one
 * ("downgrade", the same procedure); anything narrower is SVC_INVALID. The
 * authorities: the active release authorities of the item's organisation;
 * for an item of alliance staff (an organisation whose category is the
 * policy's own name, NATO) under the node's policy, those of every allied
 * organisation on the node (one whose release authorities are cleared for
 * the policy's own name), deciding one per organisation. *out (lsn_free)
 * is the request as stored. Audited (release.request). */
lsn_err svc_release_propose(svc *s, const svc_actor *a, const svc_release_proposal *p,
                            store_release **out, svc_result *res);
/* Concur, break silence (reason required), withdraw or extend (to
 * deadline_ms, once) request rid, as the store's act (store_rel.h) at the
 * node's clock. A request the actor is no party of is SVC_NOT_FOUND; a
 * closed or late one SVC_DUPLICATE (409); a retried answer is done. A
 * concurrence that completes every organisation's adopts at once. Audited,
 * refusals too. */
lsn_err svc_release_act(svc *s, const svc_actor *a, const uint8_t rid[STORE_UUID_LEN],
                        store_rel_act_kind kind, const char *reason, int64_t deadline_ms,
                        svc_result *res);
/* Request rid (*out, lsn_free) for its proposer, its authorities and
 * auditors; SVC_NOT_FOUND for anyone else, as for an unknown one. Settles
 * what is due first, so that its state is the clock's. */
lsn_err svc_release_get(svc *s, const svc_actor *a, const uint8_t rid[STORE_UUID_LEN],
                        store_release **out, svc_result *res);
/* The requests the actor proposed or decides on, in state `state` (NULL:
 * any), to cb. */
lsn_err svc_release_list(svc *s, const svc_actor *a, const char *state, store_release_cb cb,
                         void *ctx, svc_result *res);
/* Adopt every request due at the node's clock (the deadline passed with no
 * break, or every organisation concurred): a new version of the item with
 * the proposed label, in one transaction with the request's adoption — at
 * most once, whoever settles (the ticker, a request's route, the start).
 * A request whose item changed since (withdrawn, another version) is closed
 * instead. Returns how many were adopted. */
size_t svc_release_settle(svc *s);

/* Withdraw item `item` (its author, or a release authority of its
 * organisation; SVC_NOT_FOUND when the actor may not read it): gone from
 * every read, kept in the store and the audit log. */
lsn_err svc_item_withdraw(svc *s, const svc_actor *a, const uint8_t item[STORE_UUID_LEN],
                          svc_result *res);
/* Narrow item `item` to `label` at once (its author only): the label must
 * admit no one the current one does not; a new version. *version_out (may
 * be NULL) is its number. */
lsn_err svc_item_narrow(svc *s, const svc_actor *a, const uint8_t item[STORE_UUID_LEN],
                        json_t *label, int *version_out, svc_result *res);

/* ---- accounts (service_users.c) ---------------------------------------- */

#define SVC_PASSWORD_MIN 10
#define SVC_PASSWORD_MAX 256
#define SVC_PASSWORD_HASH_MAX 128 /* crypto_pwhash_STRBYTES */

/* Hash a password (SVC_PASSWORD_MIN..MAX bytes) with Argon2id into out. */
lsn_err svc_password_hash(const char *password, char out[SVC_PASSWORD_HASH_MAX],
                          svc_result *res);
/* Set user name's password: an administrator, or the user themself. */
lsn_err svc_user_passwd(svc *s, const svc_actor *a, const char *name, const char *password,
                        svc_result *res);
/* Enable, disable or remove (STORE_USER_*) user name: an administrator,
 * never on themself. A removed user's token and password stop working for
 * good; the name stays taken. */
lsn_err svc_user_set_status(svc *s, const svc_actor *a, const char *name, unsigned status,
                            svc_result *res);
/* A new clearance (any form), validated against the policy. */
lsn_err svc_user_set_clearance(svc *s, const svc_actor *a, const char *name,
                               const char *clearance, size_t len, lsn_form form,
                               svc_result *res);
/* New roles (STORE_ROLE_* bits; 0: member). */
lsn_err svc_user_set_roles(svc *s, const svc_actor *a, const char *name, unsigned roles,
                           svc_result *res);
/* A new bearer token for user name (the old one stops working), written to
 * token_out once: an administrator, or the user themself. */
lsn_err svc_user_token_new(svc *s, const svc_actor *a, const char *name,
                           char token_out[STORE_TOKEN_CHARS + 1], svc_result *res);
/* User name's record (*out, lsn_free): an administrator or the user. */
lsn_err svc_user_get(svc *s, const svc_actor *a, const char *name, store_user **out,
                     svc_result *res);
/* Every user to cb (administrators). */
lsn_err svc_user_list(svc *s, const svc_actor *a, store_user_cb cb, void *ctx,
                      svc_result *res);
/* Bind user name to the client certificate with SHA-256 fingerprint fp
 * (NULL: unbind): presenting it over TLS signs them in. Administrators. */
lsn_err svc_user_set_certificate(svc *s, const svc_actor *a, const char *name,
                                 const uint8_t fp[STORE_HASH_LEN], svc_result *res);
/* Bind user name to every client certificate with this subject (a DN in
 * canonical form: srv_cert_dn_canonical) issued by the CA whose
 * certificate has the SHA-256 issuer: smart cards reissued under the same
 * name keep signing their holder in. One user per (subject, issuer).
 * Administrators; audited. */
lsn_err svc_user_set_certificate_subject(svc *s, const svc_actor *a, const char *name,
                                         const char *subject,
                                         const uint8_t issuer[STORE_HASH_LEN],
                                         svc_result *res);
/* Named access tokens (for programs), by their owner or an administrator:
 * add one (a name of 1..64 characters, unique for the user; expires_ms 0:
 * never) and write it to token_out once (only its hash is stored); list a
 * user's (names and times, never the tokens); revoke one by name (it stops
 * on the next request: the user_changed hook). Audited. */
lsn_err svc_token_add(svc *s, const svc_actor *a, const char *user, const char *name,
                      int64_t expires_ms, char token_out[STORE_TOKEN_CHARS + 1],
                      svc_result *res);
lsn_err svc_token_list(svc *s, const svc_actor *a, const char *user, store_token_cb cb,
                       void *ctx, svc_result *res);
lsn_err svc_token_revoke(svc *s, const svc_actor *a, const char *user, const char *name,
                         svc_result *res);
/* Check a password sign-in: LSN_OK when user name is active and the
 * password is theirs; otherwise SVC_FORBIDDEN with one sentence whatever
 * the reason (and the same cost: a dummy hash is verified). Audited, with
 * the client's address (may be NULL). Slowing repeated failures down is
 * the caller's (the node's throttle). */
lsn_err svc_sign_in(svc *s, const char *name, const char *password, const char *client,
                    svc_result *res);

/* ---- the audit log (service_audit.c) ----------------------------------- */

/* Which audit records a reading wants: every field NULL or 0 is no
 * filter; actor, action and object match exactly; since <= time < until
 * (Unix milliseconds; until 0: no end). */
typedef struct svc_audit_filter {
    const char *actor, *action, *object;
    int64_t since_ms, until_ms;
} svc_audit_filter;

/* Yield up to `limit` audit records with seq > after that match *f (NULL:
 * all) (needs SVC_ACT_AUDIT); the reading is itself audited. The one
 * filter of the API's GET /api/v1/audit and `liaison audit show/export`. */
lsn_err svc_audit_read(svc *s, const svc_actor *a, uint64_t after, size_t limit,
                       const svc_audit_filter *f, store_audit_cb cb, void *ctx,
                       svc_result *res);
/* Verify the audit chain and its signed anchor (needs SVC_ACT_AUDIT) into
 * *report (report->ok: nothing failed); the verification is itself audited
 * with the head it saw. On LSN_OK res->reason holds the line to show
 * ("audit: N entries, chain intact, head HEX", "... chain intact but
 * TRUNCATED ..." or names the first bad entry). */
lsn_err svc_audit_verify(svc *s, const svc_actor *a, store_verify_report *report,
                         svc_result *res);
/* Verify the whole store (needs SVC_ACT_AUDIT): every item against its
 * seal, every posted item still there, the audit chain and its anchor
 * (store_verify). The verification is itself audited, after it looked, with
 * what it found. store_verify_lines(report, ...) gives the lines to show. */
lsn_err svc_store_verify(svc *s, const svc_actor *a, store_verify_report *report,
                         svc_result *res);

/* Append one audit record now (acts not covered above: node start and stop,
 * reads). false when the store failed (reported on stderr). */
bool svc_audit(svc *s, const char *actor, const char *action, const char *object,
               const char *outcome, const char *detail);


/* The record into *note when note is given (set; nothing appended), else
 * appended now as svc_audit. */
bool svc_audit_or_note(svc *s, svc_audit_note *note, const char *actor, const char *action,
                       const char *object, const char *outcome, const char *detail);
/* The store's view of a note (pointing into it). */
store_audit_event svc_audit_note_event(const svc_audit_note *note);

/* Fill res and return the code matching a refusal (LSN_ERR_ARG for
 * refusals, LSN_ERR_NOMEM / LSN_ERR_IO as given for failures). */
lsn_err svc_refuse(svc_result *res, svc_refusal why, lsn_err rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
