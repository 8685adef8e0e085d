/* cli/io.c — reading input files with a size cap.
 *
 * Labels and clearances come from anywhere (a file, a pipe); the command
 * reads them whole, but never more than the cap, so that a huge or endless
 * input is refused rather than exhausting memory. The CLI is a client of
 * the library, so its own buffers use the C library's allocator. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_read_file(const char *path, size_t cap, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f)
        return errno ? errno : EIO;

    size_t size = 0, alloc = 4096;
    char *buf = malloc(alloc);
    int rc = 0;
    if (!buf) {
        rc = ENOMEM;
        goto out;
    }
    for (;;) {
        if (size + 1 >= alloc) {
            if (alloc > cap) {
                rc = EFBIG;
                goto out;
            }
            size_t next = alloc * 2 > cap + 2 ? cap + 2 : alloc * 2;
            char *nb = realloc(buf, next);
            if (!nb) {
                rc = ENOMEM;
                goto out;
            }
            buf = nb;
            alloc = next;
        }
        size_t got = fread(buf + size, 1, alloc - 1 - size, f);
        size += got;
        if (size > cap) {
            rc = EFBIG;
            goto out;
        }
        if (got == 0) {
            if (ferror(f))
                rc = errno ? errno : EIO;
            break;
        }
    }
out:
    if (!is_stdin)
        fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[size] = '\0';
    *data = buf;
    *len = size;
    return 0;
}
