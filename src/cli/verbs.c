/* cli/verbs.c — the one table of the command's verbs.
 *
 * Top-level help, per-verb help, option checking and dispatch all derive
 * from this table; its last column is the right a verb needs, an act of the
 * node's table of rights (src/node/service_roles.c), so that the CLI and
 * the node's routes answer from the same table; docs/liaison.1 follows it (tests/cli/cli_test.sh checks
 * that every verb here answers --help and appears in the man page). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "node/service.h"

const cli_verb cli_verbs[] = {
    {"label", "validate", "LABEL", 1, 1, CLI_OPT_POLICY, 0,
     "check a label against its policy",
     "Prints 'valid' and exits 0, or 'invalid: REASON' and exits 1, each "
     "followed by the policy used (name, OID, version). A label "
     "that names an unknown classification or category is invalid too. "
     "LABEL is a file in STANAG 4774 XML, spiffing XML, JSON or BER form "
     "(detected), or '-' for standard input.",
     cli_cmd_label_validate, SVC_ACT_NONE},
    {"label", "mark", "LABEL", 1, 1,
     CLI_OPT_POLICY | CLI_OPT_LANG | CLI_OPT_PORTION | CLI_OPT_FORCE, 0,
     "print a label's display marking",
     "Prints the display marking on one line and exits 0, in the language "
     "TAG (fr-CA falls back to fr, then to the policy's untagged marking "
     "data, which is English); a language the policy has no marking data in "
     "is an error (exit 2). An invalid label prints 'invalid: REASON' and "
     "exits 1; with --force its marking is printed anyway (the reason goes "
     "to standard error) and the exit status is still 1. --portion prints the "
     "portion form, for paragraphs and subject lines ('(NR)', '(NS REL TO "
     "JPN)'), where the policy gives one (exit 2 where it does not).",
     cli_cmd_label_mark, SVC_ACT_NONE},
    {"label", "check", "LABEL", 1, 1, CLI_OPT_POLICY | CLI_OPT_CLEARANCE,
     CLI_OPT_CLEARANCE,
     "decide whether a clearance may see a label",
     "Prints 'granted' and exits 0, or 'denied: REASON' and exits 1. A label "
     "under another policy is translated through the policies' equivalences, "
     "or denied. A label that cannot be read into its policy's terms is "
     "denied.",
     cli_cmd_label_check, SVC_ACT_NONE},
    {"label", "convert", "LABEL", 1, 1,
     CLI_OPT_POLICY | CLI_OPT_TO | CLI_OPT_TO_POLICY, CLI_OPT_TO,
     "write a label in another form or policy",
     "Writes the label in FORM: 4774 (STANAG 4774 XML), spiffing (spiffing "
     "XML) or json. With --to-policy, the label is first translated into the "
     "equivalent policy OID, which must be loaded with --policy.",
     cli_cmd_label_convert, SVC_ACT_NONE},
    {"clearance", "mark", "CLEARANCE", 1, 1, CLI_OPT_POLICY | CLI_OPT_LANG, 0,
     "print a clearance's display marking",
     "Prints the classifications the clearance holds as {A|B}, ordered by "
     "hierarchy, then its categories.",
     cli_cmd_clearance_mark, SVC_ACT_NONE},
    {"policy", "show", "", 0, 0, CLI_OPT_POLICY, 0,
     "list the loaded policies",
     "Prints one line per policy: its OID, its name and its version (when "
     "the SPIF gives one). Without --policy, "
     "the bundled policy.",
     cli_cmd_policy_show, SVC_ACT_NONE},
    {NULL, "conformance", "TESTS.xml", 1, 1, CLI_OPT_POLICY, 0,
     "run a conformance file",
     "Runs a conformance file in the format of spiffing's tests.xml: each "
     "<sequence> starts with no policy loaded (but those given with "
     "--policy), loads its <policy> elements and runs its <test> elements. "
     "File names are relative to TESTS.xml. Prints one line per failing "
     "check and last 'N passed, N failed'; exits 0 only when none failed.",
     cli_cmd_conformance, SVC_ACT_NONE},
    /* --- node (src/node): its own option table, so max_operands is -1 --- */
    {NULL, "serve", "[OPTIONS]", 0, -1, 0, 0,
     "run a node (HTTP API over the store)",
     "Runs a node: the store in DIR/liaison.db (--data-dir, default "
     "./liaison-data, created 0700), the bundled policy or --policy FILE, "
     "listening on --listen (default 127.0.0.1:8470), HTTPS with --tls-cert "
     "and --tls-key, settings from --config FILE. --demo seeds an empty data "
     "directory with demo organisations, users, channels and items and "
     "writes DIR/demo-credentials.json. SIGTERM finishes in-flight requests "
     "and exits 0. 'liaison serve --help' lists every option.",
     cli_cmd_serve, SVC_ACT_NONE},
    /* --- client verbs (cmd_client.c): a node over HTTP --- */
#define NODE_OPTS (CLI_OPT_URL | CLI_OPT_TOKEN | CLI_OPT_CACERT)
    {NULL, "post", "", 0, 0,
     NODE_OPTS | CLI_OPT_CHANNEL | CLI_OPT_LABEL | CLI_OPT_BODY | CLI_OPT_BODY_FILE,
     CLI_OPT_CHANNEL | CLI_OPT_LABEL,
     "post a labelled item to a node's channel",
     "Posts an item with the label FILE (the JSON label form, or STANAG "
     "4774 XML) or inline JSON (starting with '{'), and the text of --body, "
     "--body-file or standard input. Prints 'ID MARKING'. The node refuses "
     "an invalid label (422) or one beyond the poster's clearance (403): "
     "exit 1; other errors exit 2.",
     cli_cmd_post, SVC_ACT_NONE},
    {NULL, "read", "", 0, 0,
     NODE_OPTS | CLI_OPT_CHANNEL | CLI_OPT_AFTER | CLI_OPT_LIMIT | CLI_OPT_LANG,
     CLI_OPT_CHANNEL,
     "print the items of a channel that you may see",
     "Prints each item, oldest first: its marking in a banner line, '#ID "
     "CHANNEL - AUTHOR (ORGANISATION) TIME', the body, the banner again. "
     "--after ID pages on; --limit N (1-1000) caps the page; --lang fr "
     "prints the French markings.",
     cli_cmd_read, SVC_ACT_NONE},
    {NULL, "tail", "", 0, 0,
     NODE_OPTS | CLI_OPT_CHANNEL | CLI_OPT_AFTER | CLI_OPT_LIMIT | CLI_OPT_LANG,
     CLI_OPT_CHANNEL,
     "follow a channel's live stream",
     "Prints items as they arrive (Server-Sent Events), as 'read' does. A "
     "dropped connection is resumed with Last-Event-ID after a delay that "
     "doubles up to 30 s, so nothing is missed or repeated. --after ID "
     "starts after that item; --limit N exits after N items.",
     cli_cmd_tail, SVC_ACT_NONE},
    {NULL, "search", "QUERY", 1, 1, NODE_OPTS | CLI_OPT_LIMIT | CLI_OPT_LANG, 0,
     "full-text search over the items you may see",
     "Prints the matching items as 'read' does. Every word of QUERY must "
     "occur; it is not a query language.",
     cli_cmd_search, SVC_ACT_NONE},
    {"release", "request", "ITEM", 1, 1,
     NODE_OPTS | CLI_OPT_LABEL | CLI_OPT_REASON | CLI_OPT_DEADLINE,
     CLI_OPT_LABEL | CLI_OPT_REASON,
     "propose to widen an item's release (silence procedure)",
     "Proposes the wider --label for item ITEM (its id) with --reason, and "
     "--deadline or the node's default. Prints 'RID STATE DEADLINE MARKING', "
     "then each authority. A label that does not widen is refused (exit 1). "
     "docs/RELEASE.md.",
     cli_cmd_release_request, SVC_ACT_NONE},
    {"release", "list", "", 0, 0, NODE_OPTS | CLI_OPT_STATE, 0,
     "the release requests you proposed or decide on",
     "Prints 'RID STATE DEADLINE ITEM MARKING' per request, newest first.",
     cli_cmd_release_list, SVC_ACT_NONE},
    {"release", "show", "RID", 1, 1, NODE_OPTS, 0,
     "a release request: state, authorities and history",
     "For its proposer, its authorities and auditors.",
     cli_cmd_release_show, SVC_ACT_NONE},
    {"release", "concur", "RID", 1, 1, NODE_OPTS, 0,
     "concur with a release request (an authority of it)",
     "Every organisation concurring adopts it at once.",
     cli_cmd_release_concur, SVC_ACT_NONE},
    {"release", "break", "RID", 1, 1, NODE_OPTS | CLI_OPT_REASON, CLI_OPT_REASON,
     "break silence on a release request, with a reason: it stops",
     "Counts if it reaches the node before the deadline; after it, refused.",
     cli_cmd_release_break, SVC_ACT_NONE},
    {"release", "withdraw", "RID", 1, 1, NODE_OPTS, 0,
     "withdraw your open release request", NULL, cli_cmd_release_withdraw, SVC_ACT_NONE},
    {"release", "extend", "RID", 1, 1, NODE_OPTS | CLI_OPT_DEADLINE, CLI_OPT_DEADLINE,
     "extend your open release request's deadline, once", NULL,
     cli_cmd_release_extend, SVC_ACT_NONE},
    {"item", "withdraw", "ITEM", 1, 1, NODE_OPTS, 0,
     "withdraw an item (its author, or a release authority of its organisation)",
     "The item disappears for every reader; the audit log keeps that it existed.",
     cli_cmd_item_withdraw, SVC_ACT_NONE},
    {"item", "narrow", "ITEM", 1, 1, NODE_OPTS | CLI_OPT_LABEL, CLI_OPT_LABEL,
     "narrow an item's label at once (its author): a new version",
     "Prints 'ITEM VERSION'. Readers the new label no longer admits stop seeing it.",
     cli_cmd_item_narrow, SVC_ACT_NONE},
#undef NODE_OPTS
    /* --- end client verbs --- */
    /* --- administrative verbs (cmd_admin.c): a node's data directory --- */
    {"org", "add", "NAME", 1, 1, CLI_OPT_DATA | CLI_OPT_STORE | CLI_OPT_NATION | CLI_OPT_POLICY,
     CLI_OPT_NATION,
     "add an organisation to a node's data directory",
     "Adds the organisation NAME, standing for the policy category value "
     "VALUE (the nation or body in Releasable To: JPN, FRA, NATO, ...), which "
     "must be a value of a releasability category of the policy (--policy, "
     "else the bundled one): --nation ATL is refused. The data directory is "
     "created when missing. The act is recorded in the audit log.",
     cli_cmd_org_add, SVC_ACT_ADMINISTER},
    {"user", "add", "NAME", 1, 1,
     CLI_OPT_DATA | CLI_OPT_STORE | CLI_OPT_ORG | CLI_OPT_CLEARANCE | CLI_OPT_ROLE |
         CLI_OPT_POLICY,
     CLI_OPT_ORG | CLI_OPT_CLEARANCE,
     "add a user and print their bearer token once",
     "Adds the user NAME of organisation ORG with the clearance FILE (any "
     "clearance form) or inline JSON (starting with '{'), checked against "
     "the policy (--policy, else the bundled one) and stored in canonical "
     "JSON. Roles default to member. A new bearer token is printed ONCE on "
     "standard output; the node keeps only its SHA-256 hash. The act is "
     "recorded in the audit log.",
     cli_cmd_user_add, SVC_ACT_ADMINISTER},
#define USER_OPTS (CLI_OPT_DATA | CLI_OPT_STORE)
    {"user", "list", "", 0, 0, USER_OPTS, 0,
     "list a node's users",
     "Prints one line per user: name, organisation, roles (comma-separated) "
     "and status (active, disabled or removed), separated by tabs.",
     cli_cmd_user_list, SVC_ACT_ADMINISTER},
    {"user", "show", "NAME", 1, 1, USER_OPTS, 0,
     "print one user's account",
     "Prints name, organisation, roles, status, whether a password is set, "
     "and the clearance in canonical JSON, one 'key: value' line each.",
     cli_cmd_user_show, SVC_ACT_ADMINISTER},
    {"user", "disable", "NAME", 1, 1, USER_OPTS, 0,
     "stop a user signing in or using their token",
     "The user's token and password stop working (a running node sees it "
     "within 2 s; its administrator's API acts at once) and their web "
     "sessions end. 'user enable' undoes it. Audited.",
     cli_cmd_user_disable, SVC_ACT_ADMINISTER},
    {"user", "enable", "NAME", 1, 1, USER_OPTS, 0,
     "let a disabled user in again",
     "The user's token and password work again. A removed user cannot be "
     "enabled. Audited.",
     cli_cmd_user_enable, SVC_ACT_ADMINISTER},
    {"user", "remove", "NAME", 1, 1, USER_OPTS, 0,
     "remove a user for good",
     "The user's token and password are destroyed and their sessions end; "
     "the name stays taken, since items and audit records name it. Audited.",
     cli_cmd_user_remove, SVC_ACT_ADMINISTER},
    {"user", "passwd", "NAME", 1, 1, USER_OPTS, 0,
     "set a user's password for the web page's sign-in",
     "Reads the new password (10 to 256 characters) from the first line of "
     "standard input (not echoed on a terminal) and stores its Argon2id "
     "hash. The user's web sessions end. Audited.",
     cli_cmd_user_passwd, SVC_ACT_ADMINISTER},
    {"user", "token", "NAME", 1, 1, USER_OPTS, 0,
     "give a user a new bearer token",
     "Prints a new token ONCE on standard output (only its SHA-256 is "
     "stored); the user's old token stops working. Audited.",
     cli_cmd_user_token, SVC_ACT_ADMINISTER},
    {"user", "set-clearance", "NAME", 1, 1, USER_OPTS | CLI_OPT_CLEARANCE | CLI_OPT_POLICY,
     CLI_OPT_CLEARANCE,
     "change a user's clearance",
     "The clearance FILE (any clearance form) or inline JSON is checked "
     "against the policy (--policy, else the bundled one) and stored in "
     "canonical JSON; an invalid one is refused. Audited.",
     cli_cmd_user_set_clearance, SVC_ACT_ADMINISTER},
    {"user", "set-roles", "NAME", 1, 1, USER_OPTS | CLI_OPT_ROLE, 0,
     "change a user's roles",
     "Replaces the user's roles by those given with --role (repeatable: "
     "member, release-authority, auditor, administrator). Audited.",
     cli_cmd_user_set_roles, SVC_ACT_ADMINISTER},
    {"user", "set-certificate", "NAME", 1, 1,
     USER_OPTS | CLI_OPT_CERTIFICATE | CLI_OPT_SUBJECT | CLI_OPT_ISSUER, 0,
     "bind a user to a client certificate (smart card)",
     "With --certificate FILE, binds the user to the certificate in FILE "
     "(PEM or DER) by its SHA-256 fingerprint, printed; 'none' unbinds every "
     "certificate. With --subject DN --issuer CAFILE, binds the user to every "
     "certificate with that subject issued directly by the CA in CAFILE (one "
     "of --tls-client-ca's), whatever its key and serial: a smart card "
     "reissued under the same name still signs its holder in, one with that "
     "subject from another CA does not. With TLS and --tls-client-ca, a "
     "client presenting a bound certificate (chained to a trusted CA) is "
     "signed in as the user; a binding by fingerprint comes first. One user "
     "per certificate, and per subject under a CA. Audited.",
     cli_cmd_user_set_certificate, SVC_ACT_ADMINISTER},
    {"token", "add", "USER", 1, 1, USER_OPTS | CLI_OPT_NAME | CLI_OPT_EXPIRES, CLI_OPT_NAME,
     "give a user a named access token, with an expiry",
     "Prints a new access token named NAME (unique for the user) ONCE on "
     "standard output; only its SHA-256 is stored. With --expires DAYS it "
     "stops working after that many days. For programs; the user's own "
     "token (user add, user token) is not touched. Audited.",
     cli_cmd_token_add, SVC_ACT_ADMINISTER},
    {"token", "list", "USER", 1, 1, USER_OPTS, 0,
     "list a user's named access tokens",
     "Prints one line per token: its name, when it was made and when it "
     "expires (or 'never'), in UTC; never the token itself.",
     cli_cmd_token_list, SVC_ACT_ADMINISTER},
    {"token", "revoke", "USER", 1, 1, USER_OPTS | CLI_OPT_NAME, CLI_OPT_NAME,
     "revoke a user's named access token",
     "The token NAME of USER stops working (a running node sees it within "
     "2 s; through the API at once). Audited.",
     cli_cmd_token_revoke, SVC_ACT_ADMINISTER},
#undef USER_OPTS
    {"channel", "add", "NAME", 1, 1, CLI_OPT_DATA | CLI_OPT_STORE | CLI_OPT_PURPOSE | CLI_OPT_LOCAL, 0,
     "add a channel to a node's data directory",
     "Adds the channel NAME with a purpose (default: its name). With --local "
     "the channel is kept local: none of its items is sent to a peer, and a "
     "peer's item for a channel of that name is refused. The act is "
     "recorded in the audit log.",
     cli_cmd_channel_add, SVC_ACT_ADMINISTER},
    {"audit", "verify", "", 0, 0, CLI_OPT_DATA | CLI_OPT_STORE, 0,
     "verify the hash chain of a node's audit log and its anchor",
     "Walks the audit log and prints 'audit: N entries, chain intact, head "
     "HASH' (exit 0), or names the first altered, removed or reordered entry "
     "(exit 1). Entries cut off at the end are found through the log's "
     "signed anchor (DIR/liaison.db.anchor): 'chain intact but TRUNCATED' "
     "(exit 1). The verification is itself recorded.",
     cli_cmd_audit_verify, SVC_ACT_AUDIT},
    {"audit", "show", "", 0, 0,
     CLI_OPT_DATA | CLI_OPT_STORE | CLI_OPT_ACTOR | CLI_OPT_ACTION | CLI_OPT_OBJECT |
         CLI_OPT_SINCE | CLI_OPT_UNTIL,
     0, "print a node's audit log, filtered, one record a line",
     "Prints the records of the audit log that match every filter given, "
     "oldest first, one a line: 'SEQ TIME ACTOR ACTION OBJECT OUTCOME — "
     "DETAIL' (TIME in UTC). --actor, --action and --object match exactly; "
     "--since and --until bound the time (since <= time < until), as Unix "
     "milliseconds or YYYY-MM-DDTHH:MM:SSZ. The reading is itself recorded.",
     cli_cmd_audit_show, SVC_ACT_AUDIT},
    {"audit", "export", "", 0, 0,
     CLI_OPT_DATA | CLI_OPT_STORE | CLI_OPT_ACTOR | CLI_OPT_ACTION | CLI_OPT_OBJECT |
         CLI_OPT_SINCE | CLI_OPT_UNTIL,
     0, "export a node's audit log as JSON lines",
     "The same records as 'audit show' (the same filters), one JSON object a "
     "line: seq, time (Unix milliseconds), actor, action, object, outcome, "
     "detail and hash, the record's chain hash (hex). An unfiltered export "
     "can be checked against the chain independently (docs/STORE.md gives "
     "the hash); its last hash is the head 'audit verify' prints. The "
     "reading is itself recorded.",
     cli_cmd_audit_export, SVC_ACT_AUDIT},
    {"peer", "add", "NAME", 1, 1,
     CLI_OPT_DATA | CLI_OPT_STORE | CLI_OPT_URL | CLI_OPT_NATION | CLI_OPT_CERTIFICATE |
         CLI_OPT_MAX_CLASS | CLI_OPT_VIA | CLI_OPT_POLICY | CLI_OPT_TO_POLICY,
     CLI_OPT_URL | CLI_OPT_NATION | CLI_OPT_CERTIFICATE,
     "add a peer node to a node's data directory",
     "Adds the peer NAME (its certificate's node name) reached at URL "
     "(https://HOST:PORT, its federation listener), standing for NATION (a "
     "category value of the policy; its certificate's), with its "
     "certificate FILE pinned (compare its fingerprint, `liaison node show` "
     "on the peer, over another channel first). The guard sends it what a "
     "label releases to its nation, at most --max-classification; --via "
     "names a known peer that relays for it. --to-policy (an OID or a name "
     "of a policy loaded with --policy, declared equivalent to the node's "
     "own both ways) is the policy the peer's node decides under: the guard "
     "decides on the equivalent label, at most --max-classification in that "
     "policy's names, and the batch carries the translation signed by this "
     "node (default: the node's own policy). A running node learns of it at "
     "its next start (the API's POST /api/v1/peers at once). Recorded in the "
     "audit log.",
     cli_cmd_peer_add, SVC_ACT_ADMINISTER},
    {"peer", "list", "", 0, 0, CLI_OPT_DATA | CLI_OPT_STORE | CLI_OPT_POLICY, 0,
     "list a node's peers and their outboxes",
     "Prints one line per peer: name, nation, URL, relay, policy, state, last "
     "contact, items waiting, last acknowledged sequence, last error.",
     cli_cmd_peer_list, SVC_ACT_ADMINISTER},
    {NULL, "verify", "", 0, 0, CLI_OPT_DATA | CLI_OPT_STORE, 0,
     "verify a node's whole store: items, posts, audit chain and anchor",
     "Checks every item against its seal (a keyed MAC over its ids, "
     "channel, author, label, markings, time and content, with a key kept "
     "outside the database: DIR/liaison.db.key), that every item the audit "
     "log says was posted is still there, the audit log's hash chain, and "
     "its signed anchor (so that records cut off at the end are seen). "
     "Prints one line per check and per failure and exits 0 when the store "
     "is intact, 1 naming what failed. The verification is itself recorded.",
     cli_cmd_verify, SVC_ACT_AUDIT},
    {"store", "migrate", "", 0, 0, CLI_OPT_DATA | CLI_OPT_FROM | CLI_OPT_TO,
     CLI_OPT_FROM | CLI_OPT_TO,
     "copy a node's whole store into another back-end",
     "Copies the store at --from (sqlite:PATH, postgresql://...) into the one "
     "at --to: organisations, channels, users, peers with their delivery "
     "state (sequences sent, acknowledged and received), label classes, "
     "items (public ids, times, attachments, bindings, outboxes; every "
     "version, hidden ones too, and withdrawn items), release requests "
     "(answers and history, each compared with the source's) and the audit "
     "log record for record. The source's chain must verify; afterwards the "
     "target's must verify to the same head, with as many items. The target "
     "must be empty, or what an interrupted run left (it resumes); another "
     "is refused. Every item is checked against its seal as it is read from "
     "the source, and sealed again by the target with its own key (a "
     "PostgreSQL store's is DIR/postgresql.key, --data-dir). Named access "
     "tokens are not copied (their hashes are not given out): issue them "
     "again. Stop the node first.",
     cli_cmd_store_migrate, SVC_ACT_ADMINISTER},
    /* --- end administrative verbs --- */
    /* --- federation verbs (cmd_federation.c, src/federation) --- */
    {"node", "init", "", 0, 0, CLI_OPT_DATA | CLI_OPT_NAME | CLI_OPT_NATION | CLI_OPT_POLICY,
     CLI_OPT_NAME | CLI_OPT_NATION,
     "make a node's identity: key pair and certificate",
     "Makes an ECDSA P-256 key pair and a self-signed X.509 certificate "
     "(subject CN=NAME, OU=NATION) in DIR/node.crt and DIR/node.key (mode "
     "0600), and prints name, nation and the certificate's SHA-256 "
     "fingerprint. NATION must be a category value of the policy (--policy, "
     "else the bundled one). An existing identity is never overwritten "
     "(exit 2).",
     cli_cmd_node_init, SVC_ACT_NONE},
    {"node", "show", "", 0, 0, CLI_OPT_DATA, 0,
     "print a node's name, nation and certificate fingerprint",
     "Reads DIR/node.crt and prints 'name: NAME', 'nation: NATION' and "
     "'fingerprint: SHA-256 FINGERPRINT' (compare it with the peer's over "
     "another channel before pinning its certificate).",
     cli_cmd_node_show, SVC_ACT_NONE},
    {"binding", "sign", "", 0, 0,
     CLI_OPT_DATA | CLI_OPT_LABEL | CLI_OPT_CONTENT | CLI_OPT_UUID | CLI_OPT_POLICY |
         CLI_OPT_CHANNEL,
     CLI_OPT_LABEL | CLI_OPT_CONTENT | CLI_OPT_CHANNEL,
     "sign a STANAG 4778 binding of a label to content",
     "Writes to standard output the signed binding (docs/FEDERATION.md) of "
     "the label FILE (any label form, checked against the policy) to the "
     "content FILE, with the node's key from --data-dir: origin the node's "
     "name, the --channel the item is filed in, the item's UUID, a SHA-384 "
     "digest of the content and the signing time. An invalid label is refused (exit 1). For tests and "
     "demonstrations: a node signs its items itself.",
     cli_cmd_binding_sign, SVC_ACT_NONE},
    {"binding", "translate", "FILE", 1, 1,
     CLI_OPT_DATA | CLI_OPT_CERTIFICATE | CLI_OPT_POLICY | CLI_OPT_TO_POLICY,
     CLI_OPT_TO_POLICY,
     "add the equivalent label under another policy to a signed binding",
     "Writes to standard output the binding FILE (an originator's, which "
     "must verify against --certificate, the origin's pinned certificate; "
     "default: this node's) with its label's equivalent under --to-policy (an "
     "OID or a name of a policy loaded with --policy) added as an "
     "alternativeConfidentialityLabel signed with the node's key from "
     "--data-dir, as a node's boundary does for a peer of that policy "
     "(docs/FEDERATION.md). The originator's bytes are unchanged. No "
     "equivalent, or a binding that does not verify: 'refused: REASON', "
     "exit 1. For tests and inspection.",
     cli_cmd_binding_translate, SVC_ACT_NONE},
    {"binding", "verify", "FILE", 1, 1,
     CLI_OPT_CERTIFICATE | CLI_OPT_CONTENT | CLI_OPT_POLICY | CLI_OPT_LANG,
     CLI_OPT_CERTIFICATE,
     "verify a signed binding against a pinned certificate",
     "Verifies the binding FILE with the origin's certificate CERT only "
     "(never one carried in the message) and prints 'verified', origin, "
     "uuid, the signed label's marking and the signing time (exit 0). With "
     "--content, the content must match the signed digest. Anything else is "
     "refused: 'refused: REASON' and exit 1 (a bad signature, another key, "
     "an algorithm outside the profile, a reference outside the document, a "
     "label that does not parse or validate under the policy).",
     cli_cmd_binding_verify, SVC_ACT_NONE},
    /* --- end federation verbs --- */
};

const size_t cli_nverbs = sizeof cli_verbs / sizeof cli_verbs[0];

const cli_verb *cli_verb_find(int argc, char **argv, int *used)
{
    if (argc < 1)
        return NULL;
    for (size_t i = 0; i < cli_nverbs; i++) {
        const cli_verb *v = &cli_verbs[i];
        if (!v->group) {
            if (strcmp(argv[0], v->name) == 0) {
                *used = 1;
                return v;
            }
        } else if (argc >= 2 && strcmp(argv[0], v->group) == 0 &&
                   strcmp(argv[1], v->name) == 0) {
            *used = 2;
            return v;
        }
    }
    return NULL;
}
