/* cli/cmd_conformance.c — `liaison conformance TESTS.xml`.
 *
 * Runs a conformance file in the format of spiffing's tests.xml (see
 * ../shared/vectors/spiffing/README.md): <sequence>s, each starting from an
 * empty policy set, loading its <policy> elements and then running its
 * <test> elements step by step. Every policy and every test is one check;
 * a failing check prints one line saying which element, which step, what
 * we got and what was wanted.
 *
 * The conformance file is the command's own input, so it is read here with
 * libxml2 directly: no network, no entity substitution, and a document
 * with a DTD is refused (so no entity can be declared at all). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "cli.h"

#define MSG_MAX 1024

typedef struct conf {
    const char *file;     /* TESTS.xml as given, for messages */
    char dir[PATH_MAX];   /* its directory: file names are relative to it */
    const cli_args *args;
    unsigned passed, failed;
} conf;

/* How a test ended: the step that failed and why. */
typedef struct outcome {
    const char *step;     /* NULL when every step passed */
    char msg[MSG_MAX];
} outcome;

static void set_outcome(outcome *o, const char *step, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_outcome(outcome *o, const char *step, const char *fmt, ...)
{
    va_list ap;
    o->step = step;
    va_start(ap, fmt);
    vsnprintf(o->msg, sizeof o->msg, fmt, ap);
    va_end(ap);
}

/* An attribute's value (caller frees with xmlFree), NULL when absent. */
static char *attr(xmlNode *n, const char *name)
{
    return (char *)xmlGetNoNsProp(n, (const xmlChar *)name);
}

static bool is_elem(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* Resolve a file name relative to the conformance file's directory. */
static bool resolve(const conf *c, const char *name, char *out, size_t size)
{
    int n = name[0] == '/' ? snprintf(out, size, "%s", name)
                           : snprintf(out, size, "%s/%s", c->dir, name);
    return n >= 0 && (size_t)n < size;
}

/* Read a label or clearance file; a missing file reads as empty (so that
 * the parser says "No data to parse", as the conformance file expects). */
static bool read_input(const conf *c, const char *name, char **data, size_t *len,
                       outcome *o, const char *step)
{
    char path[PATH_MAX];
    if (!resolve(c, name, path, sizeof path)) {
        set_outcome(o, step, "file name too long");
        return false;
    }
    int rc = cli_read_file(path, CLI_FILE_MAX, data, len);
    if (rc == ENOENT) {
        *data = NULL;
        *len = 0;
        return true;
    }
    if (rc != 0) {
        set_outcome(o, step, "%s: %s", name, rc == EFBIG ? "file too large" : strerror(rc));
        return false;
    }
    return true;
}

/* Compare a marking; on mismatch record got vs want. */
static bool same(outcome *o, const char *step, const char *got, const char *want)
{
    if (strcmp(got, want) == 0)
        return true;
    set_outcome(o, step, "got \"%s\", want \"%s\"", got, want);
    return false;
}

/* Run the steps of one <test> in order; stop at the first failure. */
static void run_steps(const conf *c, const lsn_policy_set *set, xmlNode *t, outcome *o)
{
    char *label_f = attr(t, "label"), *valid = attr(t, "valid");
    char *lang = (char *)xmlGetNsProp(t, (const xmlChar *)"lang", XML_XML_NAMESPACE);
    char *label_m = attr(t, "label-marking"), *encrypt = attr(t, "encrypt");
    char *encrypt_m = attr(t, "encrypt-marking"), *clear_f = attr(t, "clearance");
    char *clear_m = attr(t, "clearance-marking"), *acdf = attr(t, "acdf-result");
    lsn_label *label = NULL, *translated = NULL;
    lsn_clearance *clr = NULL;
    char *data = NULL, *m = NULL;
    size_t len = 0;
    lsn_error err = {0};

    /* 1. the label */
    if (!label_f) {
        set_outcome(o, "label", "no label= attribute");
        goto out;
    }
    if (!read_input(c, label_f, &data, &len, o, "label"))
        goto out;
    if (lsn_label_parse(set, data ? data : "", len, LSN_FORM_AUTO, &label, &err) != LSN_OK) {
        set_outcome(o, "label", "%s", err.message);
        goto out;
    }
    free(data);
    data = NULL;

    /* 2. validity */
    if (valid) {
        bool want = strcmp(valid, "true") == 0, got = false;
        char reason[LSN_ERROR_MESSAGE_MAX] = "";
        lsn_err e = lsn_label_validate(label, &got, reason, sizeof reason);
        if (e != LSN_OK) {
            set_outcome(o, "valid", "%s", lsn_strerror(e));
            goto out;
        }
        if (got != want) {
            set_outcome(o, "valid", "got %s%s%s, want %s", got ? "valid" : "invalid",
                        got ? "" : ": ", got ? "" : reason, want ? "valid" : "invalid");
            goto out;
        }
    }

    /* 3-4. the label's marking, in the test's language */
    if (label_m) {
        if (!(m = cli_label_marking(label, lang, &err))) {
            set_outcome(o, "label-marking", "%s", err.message);
            goto out;
        }
        if (!same(o, "label-marking", m, label_m))
            goto out;
        free(m);
        m = NULL;
    }

    /* 5-6. translation into an equivalent policy */
    if (encrypt) {
        if (lsn_label_translate(label, set, encrypt, &translated, &err) != LSN_OK) {
            set_outcome(o, "encrypt", "%s", err.message);
            goto out;
        }
        lsn_label_free(label);
        label = translated;
        translated = NULL;
    }
    if (encrypt_m) {
        if (!encrypt) {
            set_outcome(o, "encrypt-marking", "no encrypt= attribute");
            goto out;
        }
        if (!(m = cli_label_marking(label, lang, &err))) {
            set_outcome(o, "encrypt-marking", "%s", err.message);
            goto out;
        }
        if (!same(o, "encrypt-marking", m, encrypt_m))
            goto out;
        free(m);
        m = NULL;
    }

    /* 7. the clearance, its marking, and the decision */
    if (clear_f) {
        if (!read_input(c, clear_f, &data, &len, o, "clearance"))
            goto out;
        if (lsn_clearance_parse(set, data ? data : "", len, LSN_FORM_AUTO, &clr, &err) !=
            LSN_OK) {
            set_outcome(o, "clearance", "%s", err.message);
            goto out;
        }
        if (clear_m) {
            if (!(m = cli_clearance_marking(clr, NULL, &err))) {
                set_outcome(o, "clearance-marking", "%s", err.message);
                goto out;
            }
            if (!same(o, "clearance-marking", m, clear_m))
                goto out;
        }
        if (acdf) {
            lsn_decision d = LSN_DENY;
            char reason[LSN_ERROR_MESSAGE_MAX] = "";
            lsn_err e = lsn_access_explain(set, label, clr, &d, reason, sizeof reason);
            if (e != LSN_OK) {
                set_outcome(o, "acdf-result", "%s%s%s", lsn_strerror(e),
                            reason[0] ? ": " : "", reason);
                goto out;
            }
            bool want = strcmp(acdf, "1") == 0;
            if ((d == LSN_GRANT) != want) {
                set_outcome(o, "acdf-result", "got %s%s%s, want %s",
                            d == LSN_GRANT ? "granted" : "denied",
                            d == LSN_GRANT ? "" : ": ", d == LSN_GRANT ? "" : reason,
                            want ? "granted" : "denied");
                goto out;
            }
        }
    } else if (clear_m || acdf) {
        set_outcome(o, clear_m ? "clearance-marking" : "acdf-result",
                    "no clearance= attribute");
    }
out:
    free(data);
    free(m);
    lsn_clearance_free(clr);
    lsn_label_free(translated);
    lsn_label_free(label);
    xmlFree(label_f);
    xmlFree(valid);
    xmlFree(lang);
    xmlFree(label_m);
    xmlFree(encrypt);
    xmlFree(encrypt_m);
    xmlFree(clear_f);
    xmlFree(clear_m);
    xmlFree(acdf);
}

static void count(conf *c, bool pass)
{
    if (pass)
        c->passed++;
    else
        c->failed++;
}

/* 8. A test with exception= passes when a step failed with a message that
 * contains it; without, when no step failed. */
static void run_test(conf *c, const lsn_policy_set *set, xmlNode *t)
{
    outcome o = {0};
    run_steps(c, set, t, &o);
    char *exc = attr(t, "exception"), *label_f = attr(t, "label");
    bool pass;
    if (exc)
        pass = o.step && strstr(o.msg, exc);
    else
        pass = !o.step;
    count(c, pass);
    if (!pass) {
        printf("%s:%ld: test label=%s: ", c->file, xmlGetLineNo(t),
               label_f ? label_f : "(none)");
        if (exc && !o.step)
            printf("want failure \"%s\", got none\n", exc);
        else if (exc)
            printf("%s: got failure \"%s\", want \"%s\"\n", o.step, o.msg, exc);
        else
            printf("%s: %s\n", o.step, o.msg);
    }
    xmlFree(exc);
    xmlFree(label_f);
}

static void load_policy(conf *c, lsn_policy_set *set, xmlNode *p)
{
    char *spif = attr(p, "spif"), *exc = attr(p, "exception");
    char path[PATH_MAX];
    lsn_error err = {0};
    bool loaded = false, pass;
    if (spif && resolve(c, spif, path, sizeof path))
        loaded = lsn_policy_set_load_file(set, path, &err) == LSN_OK;
    else
        snprintf(err.message, sizeof err.message, "%s",
                 spif ? "file name too long" : "no spif= attribute");
    if (exc)
        pass = !loaded && strstr(err.message, exc);
    else
        pass = loaded;
    count(c, pass);
    if (!pass) {
        printf("%s:%ld: policy spif=%s: ", c->file, xmlGetLineNo(p), spif ? spif : "(none)");
        if (exc && loaded)
            printf("want failure \"%s\", got none\n", exc);
        else if (exc)
            printf("got failure \"%s\", want \"%s\"\n", err.message, exc);
        else
            printf("%s\n", err.message);
    }
    xmlFree(spif);
    xmlFree(exc);
}

/* One sequence: a fresh set (with the --policy files), policies, tests. */
static int run_sequence(conf *c, xmlNode *seq)
{
    lsn_policy_set *set = lsn_policy_set_new();
    if (!set) {
        cli_error(c->file, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < c->args->npolicies; i++) {
        lsn_error err = {0};
        if (lsn_policy_set_load_file(set, c->args->policies[i], &err) != LSN_OK) {
            cli_error(c->args->policies[i], "%s", err.message);
            lsn_policy_set_free(set);
            return -1;
        }
    }
    for (xmlNode *n = seq->children; n; n = n->next)
        if (is_elem(n, "policy"))
            load_policy(c, set, n);
    for (xmlNode *n = seq->children; n; n = n->next)
        if (is_elem(n, "test"))
            run_test(c, set, n);
    lsn_policy_set_free(set);
    return 0;
}

int cli_cmd_conformance(const cli_verb *v, const cli_args *a)
{
    (void)v;
    conf c = {.file = a->operands[0], .args = a};
    char *data = NULL;
    size_t len = 0;

    const char *slash = strrchr(c.file, '/');
    if (!slash)
        snprintf(c.dir, sizeof c.dir, ".");
    else if (slash == c.file)
        snprintf(c.dir, sizeof c.dir, "/");
    else
        snprintf(c.dir, sizeof c.dir, "%.*s", (int)(slash - c.file), c.file);

    int rc = cli_read_file(c.file, CLI_FILE_MAX, &data, &len);
    if (rc != 0) {
        cli_error(c.file, "%s", rc == EFBIG ? "file too large" : strerror(rc));
        return CLI_EXIT_ERROR;
    }
    if (len == 0 || len > INT_MAX) {
        cli_error(c.file, "%s", len ? "file too large" : "empty file");
        free(data);
        return CLI_EXIT_ERROR;
    }
    /* No XML_PARSE_NOENT (no entity substitution), no DTD loading, no
     * network; libxml2's own messages are kept quiet and reported by us. */
    xmlDoc *doc = xmlReadMemory(data, (int)len, NULL, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR |
                                    XML_PARSE_NOWARNING);
    free(data);
    if (!doc) {
        const xmlError *xe = xmlGetLastError();
        char msg[256] = "not well-formed XML";
        if (xe && xe->message) {
            snprintf(msg, sizeof msg, "%s", xe->message);
            size_t n = strlen(msg);
            while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
                msg[--n] = '\0';
        }
        cli_error(c.file, "line %d: %s", xe ? xe->line : 0, msg);
        return CLI_EXIT_ERROR;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    if (doc->intSubset || doc->extSubset) {
        cli_error(c.file, "a document type declaration is not allowed");
        xmlFreeDoc(doc);
        return CLI_EXIT_ERROR;
    }
    if (!root || !is_elem(root, "tests")) {
        cli_error(c.file, "the root element is not <tests>");
        xmlFreeDoc(doc);
        return CLI_EXIT_ERROR;
    }
    for (xmlNode *n = root->children; n; n = n->next) {
        if (is_elem(n, "sequence") && run_sequence(&c, n) != 0) {
            xmlFreeDoc(doc);
            return CLI_EXIT_ERROR;
        }
    }
    xmlFreeDoc(doc);
    printf("%u passed, %u failed\n", c.passed, c.failed);
    return c.failed == 0 ? CLI_EXIT_OK : CLI_EXIT_NO;
}
