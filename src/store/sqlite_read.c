/* store/sqlite_read.c — the pool of reading connections.
 *
 * In WAL mode readers never block the writer nor each other, but a SQLite
 * connection serves one thread at a time: each read takes a connection from
 * the pool (opening one if none is free, up to SQ_READERS_MAX) and gives it
 * back. A callback that reads again takes a second connection. */
#include "store/sqlite_internal.h"

#include "core/alloc.h"
#include "core/error.h"

lsn_err sq_reader_take(sq_store *s, sq_conn **out, lsn_error *err)
{
    pthread_mutex_lock(&s->pool_mu);
    while (!s->pool_free && s->readers >= SQ_READERS_MAX)
        pthread_cond_wait(&s->pool_cv, &s->pool_mu);
    sq_conn *c = s->pool_free;
    if (c) {
        s->pool_free = c->next_free;
        pthread_mutex_unlock(&s->pool_mu);
        *out = c;
        return LSN_OK;
    }
    s->readers++;
    pthread_mutex_unlock(&s->pool_mu);

    lsn_err e = LSN_OK;
    c = core_calloc(1, sizeof *c);
    if (!c)
        e = core_fail(err, LSN_ERR_NOMEM, "out of memory opening a store connection");
    else if ((e = sq_conn_open(c, s->path, 0, err)) == LSN_OK &&
             sqlite3_exec(c->db, "PRAGMA query_only=1", NULL, NULL, NULL) != SQLITE_OK) {
        e = sq_fail(c->db, err, "opening a reader");
        sq_conn_close(c);
    }
    if (e) {
        lsn_free(c);
        pthread_mutex_lock(&s->pool_mu);
        s->readers--;
        pthread_cond_signal(&s->pool_cv);
        pthread_mutex_unlock(&s->pool_mu);
        return e;
    }
    *out = c;
    return LSN_OK;
}

void sq_reader_give(sq_store *s, sq_conn *c)
{
    /* Leave no statement running: an open read transaction would pin the
     * WAL and keep checkpoints from finishing. */
    for (int i = 0; i < SQ_NSTMT; i++)
        if (c->st[i])
            sqlite3_reset(c->st[i]);
    pthread_mutex_lock(&s->pool_mu);
    c->next_free = s->pool_free;
    s->pool_free = c;
    pthread_cond_signal(&s->pool_cv);
    pthread_mutex_unlock(&s->pool_mu);
}

void sq_readers_close(sq_store *s)
{
    sq_conn *c = s->pool_free;
    while (c) {
        sq_conn *next = c->next_free;
        sq_conn_close(c);
        lsn_free(c);
        c = next;
    }
    s->pool_free = NULL;
    s->readers = 0;
}
