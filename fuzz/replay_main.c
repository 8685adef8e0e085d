/* fuzz/replay_main.c — main() for replaying a fuzz target's corpus without
 * libFuzzer: every file of the directories (or the files) given on the
 * command line is fed once to LLVMFuzzerTestOneInput, in name order. Each
 * input is one TAP test point, so the test log names the input a crash or
 * a sanitizer report came from. Built with any compiler, it lets the normal
 * (ASan + UBSan) test run replay the committed corpus. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

/* Inputs larger than this are not corpus entries; refuse to replay them. */
#define REPLAY_MAX_BYTES (16u * 1024u * 1024u)

static int n_run;

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("not ok %d - %s: %s\n", ++n_run, path, strerror(errno));
        return 1;
    }
    size_t cap = 4096, len = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len < cap || cap >= REPLAY_MAX_BYTES)
            break;
        unsigned char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int ferr = ferror(f);
    fclose(f);
    if (!buf || ferr || len >= REPLAY_MAX_BYTES) {
        printf("not ok %d - %s: cannot read it whole\n", ++n_run, path);
        free(buf);
        return 1;
    }
    /* Say which input runs before running it: a crash ends the log here. */
    printf("# %s (%zu bytes)\n", path, len);
    fflush(stdout);
    /* A copy of exactly len bytes, so that ASan catches a read past the end
     * (libFuzzer does the same). */
    unsigned char *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return 1;
    }
    memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    printf("ok %d - %s\n", ++n_run, path);
    fflush(stdout);
    return 0;
}

static int replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        printf("not ok %d - %s: %s\n", ++n_run, dir, strerror(errno));
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int failed = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **bigger = realloc(names, cap * sizeof *names);
            if (!bigger) {
                failed = 1;
                break;
            }
            names = bigger;
        }
        names[n] = strdup(de->d_name);
        if (!names[n]) {
            failed = 1;
            break;
        }
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        size_t plen = strlen(dir) + strlen(names[i]) + 2;
        char *path = malloc(plen);
        if (path) {
            snprintf(path, plen, "%s/%s", dir, names[i]);
            struct stat st;
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
                failed |= replay_file(path);
            free(path);
        } else {
            failed = 1;
        }
        free(names[i]);
    }
    free(names);
    return failed;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE...\n"
                        "Feed every file to the fuzz target once (TAP output).\n",
                argv[0]);
        return 2;
    }
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
            failed |= replay_dir(argv[i]);
        else
            failed |= replay_file(argv[i]);
    }
    printf("1..%d\n", n_run);
    return failed;
}
