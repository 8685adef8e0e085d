/* bench/liaison-bench.c — how fast libliaison answers its questions.
 *
 * With no arguments: on the NATO policy and label of the vectors (or the
 * --policy/--label given), print access decisions/s, markings/s, label
 * parses/s (STANAG 4774 XML and JSON) and the SPIF load time, each the
 * median of several timed batches.
 *
 * With an operation, `liaison-bench OP -n N --policy FILE --label FILE
 * [--clearance FILE]`, OP one of decide, mark, parse-4774, parse-json, load:
 * load and parse once, then run exactly N iterations of that one operation
 * and print the time per operation. Run under callgrind at two values of N,
 * the difference of the instruction counts divided by the difference of N
 * is the cost of one operation with set-up cancelled (docs/PERFORMANCE.md).
 *
 * When no clearance is given, decide uses one built to hold exactly the
 * label's classification and categories (so that the decision grants and
 * runs every check), built with the library's internal clearance builders:
 * that is why this program links the static library. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "liaison/liaison.h"
#include "label/label_model.h"

#ifndef BENCH_DEFAULT_POLICY
#define BENCH_DEFAULT_POLICY "nato-4774-policy.xml"
#endif
#ifndef BENCH_DEFAULT_LABEL
#define BENCH_DEFAULT_LABEL "nato-4774-17-1.nato"
#endif

#define BATCHES 7
#define BATCH_MIN_NS 40000000.0 /* a batch lasts at least 40 ms */
#define FILE_MAX_BYTES (64u * 1024u * 1024u)

typedef enum op {
    OP_DECIDE,
    OP_MARK,
    OP_PARSE_4774,
    OP_PARSE_JSON,
    OP_LOAD,
    OP_COUNT
} op;

static const char *const op_names[OP_COUNT] = {"decide", "mark", "parse-4774",
                                               "parse-json", "load"};

/* Everything an operation needs, prepared once. */
typedef struct bench {
    const char *policy_path;
    char *spif;
    size_t spif_len;
    lsn_policy_set *set;
    lsn_label *label;
    lsn_clearance *clearance;
    const char *lang;
    char *text_4774;  /* the label as STANAG 4774 XML */
    size_t len_4774;
    char *text_json;  /* the label as JSON (lsn_label_write) */
    size_t len_json;
} bench;

/* The timed loops write their results here so that nothing is optimized
 * away. */
static volatile unsigned long sink;

/* The timer: the process's CPU time, so that the figures hold on a shared
 * machine (time spent descheduled is not counted); on an idle machine it
 * agrees with the wall clock, which OP mode prints as well. */
static double clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double now_ns(void)
{
    return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

static _Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static _Noreturn void die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "liaison-bench: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("%s: %s", path, strerror(errno));
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        if (cap >= FILE_MAX_BYTES)
            die("%s: file too large", path);
        char *bigger = realloc(buf, cap * 2 + 1);
        if (!bigger)
            free(buf);
        buf = bigger;
        cap *= 2;
    }
    if (!buf)
        die("%s: out of memory", path);
    if (ferror(f))
        die("%s: read error", path);
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* A clearance holding exactly what the label carries. */
static lsn_clearance *clearance_for(const lsn_label *l)
{
    lsn_clearance *c = clearance_new(l->policy);
    if (!c)
        die("out of memory");
    if (l->cls)
        clearance_add_class(c, l->cls);
    for (size_t i = 0; i < l->ncats; i++)
        if (clearance_add_cat(c, l->cats[i]) != LSN_OK)
            die("cannot build the clearance");
    if (clearance_finish(c) != LSN_OK)
        die("cannot build the clearance");
    return c;
}

static void setup(bench *b, const char *policy_path, const char *label_path,
                  const char *clearance_path)
{
    lsn_error err = {0};
    lsn_policy *p = NULL;
    b->policy_path = policy_path;
    b->spif = read_file(policy_path, &b->spif_len);
    if (lsn_policy_load_memory(b->spif, b->spif_len, policy_path, &p, &err) != LSN_OK)
        die("%s: %s", policy_path, err.message);
    b->set = lsn_policy_set_new();
    if (!b->set || lsn_policy_set_add(b->set, p, &err) != LSN_OK)
        die("%s: %s", policy_path, err.message);
    lsn_policy_unref(p);

    size_t len;
    char *text = read_file(label_path, &len);
    /* parse-4774 times the label file itself when it is in that form, else
     * the label written in it. */
    if (lsn_label_parse(b->set, text, len, LSN_FORM_4774, &b->label, NULL) == LSN_OK) {
        b->text_4774 = text;
        b->len_4774 = len;
    } else {
        if (lsn_label_parse(b->set, text, len, LSN_FORM_AUTO, &b->label, &err) != LSN_OK)
            die("%s: %s", label_path, err.message);
        free(text);
        char *w = NULL;
        if (lsn_label_write(b->label, LSN_FORM_4774, &w, &b->len_4774, &err) != LSN_OK)
            die("%s: cannot write it as 4774: %s", label_path, err.message);
        b->text_4774 = strdup(w);
        lsn_free(w);
    }
    char *w = NULL;
    if (lsn_label_write(b->label, LSN_FORM_JSON, &w, &b->len_json, &err) != LSN_OK)
        die("%s: cannot write it as JSON: %s", label_path, err.message);
    b->text_json = strdup(w);
    lsn_free(w);
    if (!b->text_4774 || !b->text_json)
        die("out of memory");
    lsn_label *check = NULL;
    if (lsn_label_parse(b->set, b->text_json, b->len_json, LSN_FORM_JSON, &check, &err) != LSN_OK)
        die("the label's JSON form does not parse back: %s", err.message);
    lsn_label_free(check);

    if (clearance_path) {
        char *ctext = read_file(clearance_path, &len);
        if (lsn_clearance_parse(b->set, ctext, len, LSN_FORM_AUTO, &b->clearance, &err) !=
            LSN_OK)
            die("%s: %s", clearance_path, err.message);
        free(ctext);
    } else {
        b->clearance = clearance_for(b->label);
    }
}

static void teardown(bench *b)
{
    lsn_clearance_free(b->clearance);
    lsn_label_free(b->label);
    lsn_policy_set_free(b->set);
    free(b->spif);
    free(b->text_4774);
    free(b->text_json);
}

/* Run op n times. Each loop is written out so that the loop itself costs
 * a handful of instructions next to the operation. Any error is fatal: a
 * benchmark of a failing operation measures nothing. */
static void run(const bench *b, op o, uint64_t n)
{
    unsigned long acc = 0;
    switch (o) {
    case OP_DECIDE: {
        /* Errors are or-ed and checked after the loop: a branch per
         * iteration would be counted as part of the decision. */
        const lsn_policy_set *set = b->set;
        const lsn_label *label = b->label;
        const lsn_clearance *clearance = b->clearance;
        unsigned bad = 0;
        for (uint64_t i = 0; i < n; i++) {
            lsn_decision d;
            bad |= (unsigned)lsn_access_check(set, label, clearance, &d);
            acc += (unsigned long)d;
        }
        if (bad)
            die("decide: error");
        break;
    }
    case OP_MARK:
        for (uint64_t i = 0; i < n; i++) {
            char buf[1024];
            if (lsn_label_marking(b->label, b->lang, buf, sizeof buf, NULL) != LSN_OK)
                die("mark: error");
            acc += (unsigned char)buf[0];
        }
        break;
    case OP_PARSE_4774:
    case OP_PARSE_JSON: {
        const char *text = o == OP_PARSE_4774 ? b->text_4774 : b->text_json;
        size_t len = o == OP_PARSE_4774 ? b->len_4774 : b->len_json;
        lsn_form form = o == OP_PARSE_4774 ? LSN_FORM_4774 : LSN_FORM_JSON;
        for (uint64_t i = 0; i < n; i++) {
            lsn_label *l = NULL;
            if (lsn_label_parse(b->set, text, len, form, &l, NULL) != LSN_OK)
                die("%s: error", op_names[o]);
            acc += (unsigned long)(uintptr_t)l;
            lsn_label_free(l);
        }
        break;
    }
    case OP_LOAD:
        for (uint64_t i = 0; i < n; i++) {
            lsn_policy *p = NULL;
            if (lsn_policy_load_memory(b->spif, b->spif_len, b->policy_path, &p, NULL) !=
                LSN_OK)
                die("load: error");
            acc += (unsigned long)(uintptr_t)p;
            lsn_policy_unref(p);
        }
        break;
    case OP_COUNT:
        break;
    }
    sink += acc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nanoseconds per operation: the median of BATCHES batches, each of as many
 * iterations as make it last at least BATCH_MIN_NS. */
static double median_ns(const bench *b, op o)
{
    uint64_t n = 1;
    for (;;) {
        double t0 = now_ns();
        run(b, o, n);
        double t = now_ns() - t0;
        if (t >= BATCH_MIN_NS / 4 || n >= (1ull << 40))
            break;
        n *= 2;
    }
    n *= 4;
    double per[BATCHES];
    for (int i = 0; i < BATCHES; i++) {
        double t0 = now_ns();
        run(b, o, n);
        per[i] = (now_ns() - t0) / (double)n;
    }
    qsort(per, BATCHES, sizeof per[0], cmp_double);
    return per[BATCHES / 2];
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: liaison-bench [--policy FILE] [--label FILE] [--clearance FILE] [--lang TAG]\n"
            "       liaison-bench OP -n N [--policy FILE] [--label FILE] [--clearance FILE]\n"
            "                           [--lang TAG]\n"
            "OP: decide | mark | parse-4774 | parse-json | load\n"
            "\n"
            "Without OP: median rates of every operation. With OP: exactly N iterations\n"
            "of it after loading and parsing once, and the time per operation (for\n"
            "callgrind: Ir(N2) - Ir(N1) over N2 - N1 is the cost of one).\n"
            "Defaults: --policy %s\n"
            "          --label %s\n"
            "Without --clearance, decide uses a clearance holding exactly the label's\n"
            "classification and categories (a granting decision).\n",
            BENCH_DEFAULT_POLICY, BENCH_DEFAULT_LABEL);
}

static const char *basename_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

int main(int argc, char **argv)
{
    const char *policy = BENCH_DEFAULT_POLICY, *label = BENCH_DEFAULT_LABEL;
    const char *clearance = NULL, *lang = NULL;
    int which = -1;
    uint64_t n = 0;
    bool have_n = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "-n") == 0 && next) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(next, &end, 10);
            if (errno || end == next || *end || next[0] == '-')
                die("-n %s: not a count", next);
            n = v;
            have_n = true;
            i++;
        } else if (strcmp(a, "--policy") == 0 && next) {
            policy = next;
            i++;
        } else if (strcmp(a, "--label") == 0 && next) {
            label = next;
            i++;
        } else if (strcmp(a, "--clearance") == 0 && next) {
            clearance = next;
            i++;
        } else if (strcmp(a, "--lang") == 0 && next) {
            lang = next;
            i++;
        } else if (a[0] != '-' && which < 0) {
            for (int o = 0; o < OP_COUNT; o++)
                if (strcmp(a, op_names[o]) == 0)
                    which = o;
            if (which < 0)
                die("unknown operation '%s' (see --help)", a);
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (which >= 0 && !have_n)
        die("%s needs -n N", op_names[which]);

    bench b = {0};
    b.lang = lang;
    setup(&b, policy, label, clearance);

    lsn_decision d = LSN_DENY;
    if (lsn_access_check(b.set, b.label, b.clearance, &d) != LSN_OK)
        die("the access decision fails");

    if (which >= 0) {
        double w0 = clock_ns(CLOCK_MONOTONIC), t0 = now_ns();
        run(&b, (op)which, n);
        double t = now_ns() - t0, w = clock_ns(CLOCK_MONOTONIC) - w0;
        printf("%s: %llu iterations, %.1f ns/op (CPU time; wall clock %.1f ns/op)\n",
               op_names[which], (unsigned long long)n, n ? t / (double)n : 0.0,
               n ? w / (double)n : 0.0);
        teardown(&b);
        return 0;
    }

    printf("liaison-bench %s: policy %s, label %s, %s decision; median of %d batches"
           " (CPU time)\n",
           LSN_VERSION, basename_of(policy), basename_of(label),
           d == LSN_GRANT ? "granting" : "denying", BATCHES);
    static const char *const what[OP_COUNT] = {"decisions", "markings",
                                               "4774 parses", "JSON parses", ""};
    for (int o = 0; o < OP_LOAD; o++) {
        double ns = median_ns(&b, (op)o);
        printf("  %-12s %12.0f %-12s/s  (%9.1f ns each)\n", op_names[o], 1e9 / ns,
               what[o], ns);
    }
    double ns = median_ns(&b, OP_LOAD);
    printf("  %-12s %12.1f us per SPIF load (%s, %zu bytes)\n", "load", ns / 1000.0,
           basename_of(policy), b.spif_len);
    teardown(&b);
    return 0;
}
