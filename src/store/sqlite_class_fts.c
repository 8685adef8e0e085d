/* store/sqlite_class_fts.c — the tokenizer of the per-class full-text
 * index (items_cfts, schema step 10): a posting list per (class, channel,
 * word), so that the search of a reader who sees a few classes reads only
 * their postings.
 *
 * Why: in items_fts a word's postings hold every class. A reader who sees
 * 1 item in 1,000 asks for `word AND kCLASShCHANNEL`, and FTS5 then seeks
 * in the word's long list once per match — a page of that list per
 * result, 4x the time of a reader who sees everything (docs/PERFORMANCE.md,
 * "Search by class"). In items_cfts each word of an item is a token
 * "kCLASShCHANNEL word", read in order like any word.
 *
 * The text indexed is "kCLASShCHANNEL BODY" (sqlite_conn.c, SQ_CFTS_INDEX);
 * a query string is "kCLASShCHANNEL WORD". The tokenizer takes the first
 * space-separated word as the prefix (letters and digits, at most
 * CLASS_PREFIX_MAX bytes; otherwise the text gives no token), tokenizes the
 * rest with unicode61 (its arguments as given) and prefixes every token
 * with it and a space, a byte no unicode61 token holds, so no two
 * (prefix, word) pairs give one token. Phrases still match: the tokens keep
 * their positions. Registered on every connection (sq_conn_open): a
 * connection without it cannot read or write items_cfts. */
#include "store/sqlite_internal.h"

#include <string.h>

#include "core/alloc.h"

#define CLASS_PREFIX_MAX 40
#define TOKEN_BUF 256 /* tokens longer than this are built in an allocation */

typedef struct class_tok {
    fts5_tokenizer inner;
    Fts5Tokenizer *in;
} class_tok;

typedef struct tok_call {
    void *ctx;
    int (*emit)(void *, int, const char *, int, int, int);
    const char *prefix;
    int plen; /* prefix and its space */
    int shift; /* bytes of the text before the body */
} tok_call;

static int class_create(void *api_ptr, const char **args, int nargs, Fts5Tokenizer **out)
{
    fts5_api *api = api_ptr;
    void *ud = NULL;
    class_tok *t = core_calloc(1, sizeof *t);
    if (!t)
        return SQLITE_NOMEM;
    int rc = api->xFindTokenizer(api, "unicode61", &ud, &t->inner);
    if (rc == SQLITE_OK)
        rc = t->inner.xCreate(ud, args, nargs, &t->in);
    if (rc != SQLITE_OK) {
        lsn_free(t);
        return rc;
    }
    *out = (Fts5Tokenizer *)t;
    return SQLITE_OK;
}

static void class_delete(Fts5Tokenizer *p)
{
    class_tok *t = (class_tok *)p;
    t->inner.xDelete(t->in);
    lsn_free(t);
}

static int prefixed(void *ctx, int flags, const char *tok, int n, int start, int end)
{
    tok_call *c = ctx;
    char stack[TOKEN_BUF];
    char *b = stack;
    if (n < 0)
        return SQLITE_ERROR;
    if ((size_t)c->plen + (size_t)n > sizeof stack && !(b = core_malloc((size_t)c->plen + (size_t)n)))
        return SQLITE_NOMEM;
    memcpy(b, c->prefix, (size_t)c->plen - 1);
    b[c->plen - 1] = ' ';
    memcpy(b + c->plen, tok, (size_t)n);
    int rc = c->emit(c->ctx, flags, b, c->plen + n, start + c->shift, end + c->shift);
    if (b != stack)
        lsn_free(b);
    return rc;
}

static int class_tokenize(Fts5Tokenizer *p, void *ctx, int flags, const char *text, int n,
                          int (*emit)(void *, int, const char *, int, int, int))
{
    class_tok *t = (class_tok *)p;
    int k = 0;
    while (k < n && k <= CLASS_PREFIX_MAX &&
           ((text[k] >= 'a' && text[k] <= 'z') || (text[k] >= '0' && text[k] <= '9')))
        k++;
    if (k == 0 || k > CLASS_PREFIX_MAX || k >= n || text[k] != ' ')
        return SQLITE_OK; /* no prefix: no token */
    tok_call c = { .ctx = ctx, .emit = emit, .prefix = text, .plen = k + 1, .shift = k + 1 };
    return t->inner.xTokenize(t->in, &c, flags, text + k + 1, n - k - 1, prefixed);
}

lsn_err sq_class_fts_register(sqlite3 *db)
{
    fts5_api *api = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
        (void)sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (!api || api->iVersion < 2)
        return LSN_ERR_IO;
    static fts5_tokenizer tok = { class_create, class_delete, class_tokenize };
    return api->xCreateTokenizer(api, "lsn_class", api, &tok, NULL) == SQLITE_OK ? LSN_OK
                                                                                 : LSN_ERR_IO;
}
