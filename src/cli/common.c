/* cli/common.c — what every verb needs: error reports, the policy set,
 * reading labels and clearances, and markings into allocated strings. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "liaison/introspect.h"

void cli_error(const char *what, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "liaison: %s: ", what);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

lsn_policy_set *cli_policy_set(const cli_args *args)
{
    lsn_error err = {0};
    lsn_policy_set *set = lsn_policy_set_new();
    if (!set) {
        cli_error("policy", "out of memory");
        return NULL;
    }
    if (args->npolicies == 0) {
        lsn_policy *p = NULL;
        if (lsn_policy_load_default(&p, &err) != LSN_OK) {
            cli_error("bundled policy", "%s", err.message);
            lsn_policy_set_free(set);
            return NULL;
        }
        lsn_err rc = lsn_policy_set_add(set, p, &err);
        lsn_policy_unref(p); /* the set holds its own reference */
        if (rc != LSN_OK) {
            cli_error("bundled policy", "%s", err.message);
            lsn_policy_set_free(set);
            return NULL;
        }
        return set;
    }
    for (size_t i = 0; i < args->npolicies; i++) {
        if (lsn_policy_set_load_file(set, args->policies[i], &err) != LSN_OK) {
            /* The library's message names the file already, mostly; name
             * it again only when it does not. */
            if (strstr(err.message, args->policies[i]))
                fprintf(stderr, "liaison: %s\n", err.message);
            else
                cli_error(args->policies[i], "%s", err.message);
            lsn_policy_set_free(set);
            return NULL;
        }
    }
    return set;
}

/* Read `path` into memory, turning a system error into an lsn_error. */
static lsn_err load(const char *path, char **data, size_t *len, lsn_error *err)
{
    int rc = cli_read_file(path, CLI_FILE_MAX, data, len);
    if (rc == 0)
        return LSN_OK;
    err->code = rc == EFBIG ? LSN_ERR_LIMIT : LSN_ERR_IO;
    if (rc == EFBIG)
        snprintf(err->message, sizeof err->message, "larger than %u bytes",
                 CLI_FILE_MAX);
    else
        snprintf(err->message, sizeof err->message, "%s", strerror(rc));
    return err->code;
}

lsn_err cli_label_load(const lsn_policy_set *set, const char *path,
                       lsn_label **out, lsn_error *err)
{
    char *data;
    size_t len;
    *out = NULL;
    lsn_err rc = load(path, &data, &len, err);
    if (rc != LSN_OK)
        return rc;
    rc = lsn_label_parse(set, data, len, LSN_FORM_AUTO, out, err);
    free(data);
    return rc;
}

lsn_err cli_clearance_load(const lsn_policy_set *set, const char *path,
                           lsn_clearance **out, lsn_error *err)
{
    char *data;
    size_t len;
    *out = NULL;
    lsn_err rc = load(path, &data, &len, err);
    if (rc != LSN_OK)
        return rc;
    rc = lsn_clearance_parse(set, data, len, LSN_FORM_AUTO, out, err);
    free(data);
    return rc;
}

/* Markings: try a stack buffer, then one of the size the library asked for.
 * One body serves labels and clearances through this adapter type. */
#define MARK_FIRST 512

typedef lsn_err (*mark_fn)(const void *obj, const char *lang, char *buf, size_t size,
                           size_t *needed);

static lsn_err mark_label(const void *obj, const char *lang, char *buf, size_t size,
                          size_t *needed)
{
    return lsn_label_marking(obj, lang, buf, size, needed);
}

static lsn_err mark_clearance(const void *obj, const char *lang, char *buf, size_t size,
                              size_t *needed)
{
    return lsn_clearance_marking(obj, lang, buf, size, needed);
}

static lsn_err mark_portion(const void *obj, const char *lang, char *buf, size_t size,
                            size_t *needed)
{
    return lsn_label_portion_marking(obj, lang, buf, size, needed);
}

static char *marking(mark_fn mark, const void *obj, const char *what, const char *lang,
                     lsn_error *err)
{
    char small[MARK_FIRST];
    size_t needed = 0;
    lsn_err rc = mark(obj, lang, small, sizeof small, &needed);
    if (rc == LSN_OK) {
        char *copy = strdup(small);
        if (!copy) {
            err->code = LSN_ERR_NOMEM;
            snprintf(err->message, sizeof err->message, "out of memory");
        }
        return copy;
    }
    if (rc == LSN_ERR_LIMIT && needed >= sizeof small && needed < CLI_FILE_MAX) {
        char *big = malloc(needed + 1);
        if (big && mark(obj, lang, big, needed + 1, NULL) == LSN_OK)
            return big;
        free(big);
    }
    err->code = rc;
    snprintf(err->message, sizeof err->message, "cannot mark the %s: %s", what,
             lsn_strerror(rc));
    return NULL;
}

/* A language the policy has no marking data in is an error, not English. */
static bool speaks(const lsn_policy *p, const char *lang, lsn_error *err)
{
    if (lsn_policy_speaks(p, lang))
        return true;
    err->code = LSN_ERR_ARG;
    snprintf(err->message, sizeof err->message,
             "unknown language '%.32s': the policy %s (%s) has no marking data in it", lang,
             lsn_policy_name(p), lsn_policy_id(p));
    return false;
}

char *cli_label_marking(const lsn_label *l, const char *lang, lsn_error *err)
{
    if (!speaks(lsn_label_policy(l), lang, err))
        return NULL;
    return marking(mark_label, l, "label", lang, err);
}

char *cli_label_portion_marking(const lsn_label *l, const char *lang, lsn_error *err)
{
    if (!speaks(lsn_label_policy(l), lang, err))
        return NULL;
    char *m = marking(mark_portion, l, "label", lang, err);
    if (!m && err->code == LSN_ERR_POLICY)
        snprintf(err->message, sizeof err->message,
                 "the policy %s (%s) gives no portion marking for this classification",
                 lsn_policy_name(lsn_label_policy(l)), lsn_policy_id(lsn_label_policy(l)));
    return m;
}

char *cli_clearance_marking(const lsn_clearance *c, const char *lang, lsn_error *err)
{
    if (!speaks(lsn_clearance_policy(c), lang, err))
        return NULL;
    return marking(mark_clearance, c, "clearance", lang, err);
}
