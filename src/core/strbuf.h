/* core/strbuf.h — a growable string with a hard cap fixed at init (curl's
 * dynbuf): untrusted input can never make it grow without bound. */
#ifndef CORE_STRBUF_H
#define CORE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include "liaison/error.h"

typedef struct strbuf {
    char *data;   /* NUL-terminated when not NULL */
    size_t len;
    size_t alloc;
    size_t cap;   /* maximum len */
    bool failed;  /* an append hit the cap or ran out of memory */
    lsn_err why;  /* LSN_ERR_LIMIT or LSN_ERR_NOMEM when failed */
} strbuf;

void strbuf_init(strbuf *b, size_t cap);
/* Appends fail sticky: after a failure, later appends do nothing. */
void strbuf_add(strbuf *b, const char *s, size_t n);
void strbuf_adds(strbuf *b, const char *s); /* NULL adds nothing */
void strbuf_addc(strbuf *b, char c);
void strbuf_addf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s with XML escaping of & < > " '. */
void strbuf_add_xml(strbuf *b, const char *s);
/* Hand the string to the caller (lsn_free) and reset; NULL if failed. */
char *strbuf_take(strbuf *b, size_t *len);
void strbuf_release(strbuf *b);

#endif
