/* node/store_open.c — THE way to a node's store: from its URI
 * (`--store sqlite:PATH` or `--store postgresql://...`), by default sqlite:DATA_DIR/liaison.db. `liaison
 * serve` and the administrative verbs (org add, user add, channel add,
 * audit verify) all open their store here, so they cannot disagree on where
 * it is or on the data directory's mode. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "service.h"

lsn_err svc_store_open(const char *data_dir, const char *uri, bool create, store **out,
                       lsn_error *err)
{
    *out = NULL;
    if (!data_dir || !*data_dir)
        data_dir = SVC_DATA_DIR_DEFAULT;
    struct stat st;
    if (stat(data_dir, &st) != 0) {
        if (errno != ENOENT || !create)
            return core_fail(err, LSN_ERR_IO, "%s: %s", data_dir,
                            errno == ENOENT ? "no such data directory" : strerror(errno));
        /* Owner-only: it will hold labelled items and token hashes. */
        if (mkdir(data_dir, 0700) != 0 && errno != EEXIST)
            return core_fail(err, LSN_ERR_IO, "cannot create the data directory %s: %s",
                            data_dir, strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
        return core_fail(err, LSN_ERR_IO, "%s is not a directory", data_dir);
    }
    char dflt[4096];
    if (!uri || !*uri) {
        if ((size_t)snprintf(dflt, sizeof dflt, "sqlite:%s/%s", data_dir, SVC_STORE_FILE) >=
            sizeof dflt)
            return core_fail(err, LSN_ERR_ARG, "the data directory's path is too long");
        uri = dflt;
    }
    /* Without create, a missing SQLite file is an error rather than a new
     * empty store (a mistyped path must not look like an empty node). */
    const char *path = strncmp(uri, "sqlite:", 7) == 0 ? uri + 7 : NULL;
    if (!create && path && access(path, F_OK) != 0)
        return core_fail(err, LSN_ERR_IO, "no store at %s", path);
    lsn_error why = {0};
    /* A store that is not a file (PostgreSQL) keeps its key and anchor in
     * the data directory. */
    lsn_err rc = store_open_keyed(uri, data_dir, out, &why);
    if (rc != LSN_OK) { /* not err: the sentence must not be formatted into itself */
        char shown[1024]; /* never a password in a log */
        store_uri_redact(uri, shown, sizeof shown);
        return core_fail(err, rc, "cannot open the store %s: %s", shown, why.message);
    }
    return LSN_OK;
}
