/* cli/cmd_federation.c — `liaison node init`, `node show`, `binding sign`,
 * `binding translate` and `binding verify`: a node's identity and the signed STANAG 4778
 * binding of an item, through src/federation (docs/FEDERATION.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli.h"
#include "federation/binding.h"
#include "federation/identity.h"
#include "federation/translate.h"
#include "liaison/introspect.h"
#include "node/service.h"

static const char *data_dir(const cli_args *a)
{
    const char *dir = cli_opt(a, CLI_OPT_DATA);
    return dir ? dir : SVC_DATA_DIR_DEFAULT;
}

static void print_identity(const fed_identity *id)
{
    printf("name: %s\nnation: %s\nfingerprint: SHA-256 %s\n", fed_identity_name(id),
           fed_identity_nation(id), fed_identity_fingerprint(id));
}

int cli_cmd_node_init(const cli_verb *v, const cli_args *a)
{
    (void)v;
    const char *dir = data_dir(a);
    lsn_policy_set *set = cli_policy_set(a);
    if (!set)
        return CLI_EXIT_ERROR;
    const char *nation = svc_nation_value(set, cli_opt(a, CLI_OPT_NATION));
    if (!nation) {
        cli_error("--nation", "%s: not a category value of the policy",
                  cli_opt(a, CLI_OPT_NATION));
        lsn_policy_set_free(set);
        return CLI_EXIT_ERROR;
    }
    fed_identity *id = NULL;
    lsn_error err = {0};
    lsn_err rc = fed_identity_create(dir, cli_opt(a, CLI_OPT_NAME), nation, &id, &err);
    lsn_policy_set_free(set);
    if (rc != LSN_OK) {
        cli_error("node init", "%s", err.message);
        return CLI_EXIT_ERROR;
    }
    printf("node identity created in %s (%s, %s)\n", dir, FED_CERT_FILE, FED_KEY_FILE);
    print_identity(id);
    fed_identity_free(id);
    return CLI_EXIT_OK;
}

int cli_cmd_node_show(const cli_verb *v, const cli_args *a)
{
    (void)v;
    fed_identity *id = NULL;
    lsn_error err = {0};
    if (fed_identity_load(data_dir(a), false, &id, &err) != LSN_OK) {
        cli_error("node show", "%s", err.message);
        return CLI_EXIT_ERROR;
    }
    print_identity(id);
    fed_identity_free(id);
    return CLI_EXIT_OK;
}

/* Read the content file (the item's body). */
static int read_content(const char *path, char **data, size_t *len)
{
    int e = cli_read_file(path, CLI_FILE_MAX, data, len);
    if (e != 0)
        cli_error(path, "%s", e == EFBIG ? "file too large" : strerror(e));
    return e;
}

int cli_cmd_binding_sign(const cli_verb *v, const cli_args *a)
{
    (void)v;
    int status = CLI_EXIT_ERROR;
    lsn_error err = {0};
    lsn_label *label = NULL;
    fed_identity *id = NULL;
    char *content = NULL, *xml = NULL, *binding = NULL;
    size_t content_len = 0, xml_len = 0, binding_len = 0;
    lsn_policy_set *set = cli_policy_set(a);
    if (!set)
        return CLI_EXIT_ERROR;
    const char *label_path = cli_opt(a, CLI_OPT_LABEL);
    if (cli_label_load(set, label_path, &label, &err) != LSN_OK) {
        cli_error(label_path, "%s", err.message);
        status = err.code == LSN_ERR_IO ? CLI_EXIT_ERROR : CLI_EXIT_NO;
        goto done;
    }
    bool valid = false;
    char why[512];
    if (lsn_label_validate(label, &valid, why, sizeof why) != LSN_OK || !valid) {
        printf("invalid: %s\n", valid ? "the label cannot be validated" : why);
        status = CLI_EXIT_NO;
        goto done;
    }
    if (read_content(cli_opt(a, CLI_OPT_CONTENT), &content, &content_len) != 0)
        goto done;
    if (fed_identity_load(data_dir(a), true, &id, &err) != LSN_OK) {
        cli_error("binding sign", "%s", err.message);
        goto done;
    }
    if (lsn_label_write(label, LSN_FORM_4774, &xml, &xml_len, &err) != LSN_OK) {
        cli_error(label_path, "%s", err.message);
        goto done;
    }
    fed_content c = {.body = content, .body_len = content_len};
    if (fed_binding_sign(id, cli_opt(a, CLI_OPT_UUID), cli_opt(a, CLI_OPT_CHANNEL), xml,
                         xml_len, &c, 0, &binding,
                         &binding_len, &err) != LSN_OK) {
        cli_error("binding sign", "%s", err.message);
        goto done;
    }
    if (fwrite(binding, 1, binding_len, stdout) != binding_len || fflush(stdout) != 0) {
        cli_error("binding sign", "cannot write the binding: %s", strerror(errno));
        goto done;
    }
    status = CLI_EXIT_OK;
done:
    lsn_free(binding);
    lsn_free(xml);
    free(content);
    fed_identity_free(id);
    lsn_label_free(label);
    lsn_policy_set_free(set);
    return status;
}

int cli_cmd_binding_translate(const cli_verb *v, const cli_args *a)
{
    (void)v;
    int status = CLI_EXIT_ERROR;
    fed_identity *me = NULL, *origin = NULL;
    char *data = NULL, *out = NULL;
    size_t len = 0, out_len = 0;
    lsn_error err = {0};
    lsn_policy_set *set = cli_policy_set(a);
    if (!set)
        return CLI_EXIT_ERROR;
    const lsn_policy *to = lsn_policy_set_find_id(set, a->to_policy);
    if (!to)
        to = lsn_policy_set_find_name(set, a->to_policy);
    if (!to) {
        cli_error("--to-policy", "%s: not a policy loaded", a->to_policy);
        goto done;
    }
    if (fed_identity_load(data_dir(a), true, &me, &err) != LSN_OK ||
        (cli_opt(a, CLI_OPT_CERTIFICATE) &&
         fed_identity_load_certificate(cli_opt(a, CLI_OPT_CERTIFICATE), &origin, &err) !=
             LSN_OK)) {
        cli_error("binding translate", "%s", err.message);
        goto done;
    }
    int e = cli_read_file(a->operands[0], FED_BINDING_MAX_BYTES, &data, &len);
    if (e != 0) {
        cli_error(a->operands[0], "%s", strerror(e));
        goto done;
    }
    if (fed_binding_translate(me, origin ? origin : me, data, len, set, lsn_policy_id(to), 0,
                              &out, &out_len, &err) != LSN_OK) {
        printf("refused: %s\n", err.message);
        status = CLI_EXIT_NO;
        goto done;
    }
    if (fwrite(out, 1, out_len, stdout) != out_len || fflush(stdout) != 0) {
        cli_error("binding translate", "cannot write the binding: %s", strerror(errno));
        goto done;
    }
    status = CLI_EXIT_OK;
done:
    lsn_free(out);
    free(data);
    fed_identity_free(origin);
    fed_identity_free(me);
    lsn_policy_set_free(set);
    return status;
}

/* The decision on a verified binding's label under the receiver's policy:
 * it must parse and validate. Prints the refusal; returns the marking. */
static char *decide_label(const lsn_policy_set *set, const fed_binding *b, const char *lang)
{
    lsn_label *label = NULL;
    lsn_error err = {0};
    if (lsn_label_parse(set, b->label_xml, b->label_len, LSN_FORM_4774, &label, &err) !=
        LSN_OK) {
        printf("refused: the signed label does not parse under the policy: %s\n",
               err.message);
        return NULL;
    }
    bool valid = false;
    char why[512];
    char *mark = NULL;
    if (lsn_label_validate(label, &valid, why, sizeof why) != LSN_OK || !valid)
        printf("refused: the signed label is not valid: %s\n",
               valid ? "it cannot be validated" : why);
    else if (!(mark = cli_label_marking(label, lang, &err)))
        printf("refused: the signed label cannot be marked: %s\n", err.message);
    lsn_label_free(label);
    return mark;
}

int cli_cmd_binding_verify(const cli_verb *v, const cli_args *a)
{
    (void)v;
    const char *path = a->operands[0];
    int status = CLI_EXIT_ERROR;
    fed_identity *pinned = NULL;
    fed_binding *b = NULL;
    char *data = NULL, *content = NULL, *mark = NULL;
    size_t len = 0, content_len = 0;
    lsn_error err = {0};
    lsn_policy_set *set = cli_policy_set(a);
    if (!set)
        return CLI_EXIT_ERROR;
    if (fed_identity_load_certificate(cli_opt(a, CLI_OPT_CERTIFICATE), &pinned, &err) !=
        LSN_OK) {
        cli_error("--certificate", "%s", err.message);
        goto done;
    }
    int e = cli_read_file(path, FED_BINDING_MAX_BYTES, &data, &len);
    if (e == EFBIG) {
        printf("refused: the binding is larger than %u bytes\n", FED_BINDING_MAX_BYTES);
        status = CLI_EXIT_NO;
        goto done;
    }
    if (e != 0) {
        cli_error(path, "%s", strerror(e));
        goto done;
    }
    if (cli_opt(a, CLI_OPT_CONTENT) &&
        read_content(cli_opt(a, CLI_OPT_CONTENT), &content, &content_len) != 0)
        goto done;
    char reason[512];
    if (fed_binding_verify(pinned, data, len, &b, reason, sizeof reason) != LSN_OK) {
        cli_error(path, "cannot verify: %s", reason[0] ? reason : "out of memory");
        goto done;
    }
    status = CLI_EXIT_NO;
    if (!b) {
        printf("refused: %s\n", reason);
        goto done;
    }
    /* Verified: now, and only now, what it signs is parsed. */
    if (!(mark = decide_label(set, b, a->lang)))
        goto done;
    if (content) {
        fed_content c = {.body = content, .body_len = content_len};
        if (!fed_binding_content_matches(b, &c)) {
            printf("refused: the content does not match the signed digest\n");
            goto done;
        }
    }
    char when[32];
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&b->signing_time, &tm));
    printf("verified\norigin: %s\nuuid: %s\nchannel: %s\nmarking: %s\nsigned: %s\n",
           b->origin, b->uuid, b->channel, mark, when);
    if (content)
        printf("content: matches the signed digest\n");
    status = CLI_EXIT_OK;
done:
    free(mark);
    fed_binding_free(b);
    free(content);
    free(data);
    fed_identity_free(pinned);
    lsn_policy_set_free(set);
    return status;
}
