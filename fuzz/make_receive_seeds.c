/* fuzz/make_receive_seeds.c — write the seed inputs of fuzz_binding_receive:
 * a binding signed by the test node of fuzz/binding-node/ (a key made for
 * this and nothing else) with a NATO label, the same translated by that node
 * into the illustrative Japanese policy, and altered copies that must be
 * refused (a flipped alternative label, a third container, the translation
 * before the originator's, its reference to the originator's binding
 * removed, xml:id in it).
 *
 * usage: make_receive_seeds BINDING_NODE_DIR JPN_POLICY OUT_DIR
 * (built with the tests, not run by them; docs/FUZZING.md) */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "federation/binding.h"
#include "federation/identity.h"
#include "federation/translate.h"
#include "liaison/liaison.h"

#define JPN_OID "2.25.251642713772810140366533035959921199786"

static void put(const char *dir, const char *name, const char *s, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(s, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
}

/* s with the first `from` replaced by `to` (NULL when absent: exit). */
static char *swap(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    if (!at) {
        fprintf(stderr, "no '%s' to replace\n", from);
        exit(2);
    }
    char *out = NULL;
    if (asprintf(&out, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from)) < 0)
        exit(2);
    return out;
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    char tmp[] = "/tmp/liaison-seeds-XXXXXX", cmd[8192];
    if (!mkdtemp(tmp))
        return 2;
    /* The key must be owner-only to be used; git keeps it 0644. */
    snprintf(cmd, sizeof cmd, "cp '%s/node.crt' '%s/node.key' '%s/' && chmod 600 '%s/node.key'",
             argv[1], argv[1], tmp, tmp);
    if (system(cmd) != 0)
        return 2;
    fed_identity *me = NULL;
    lsn_policy_set *set = lsn_policy_set_new();
    lsn_policy *nato = NULL;
    lsn_error err = {0};
    if (fed_identity_load(tmp, true, &me, &err) != LSN_OK ||
        lsn_policy_load_default(&nato, &err) != LSN_OK ||
        lsn_policy_set_add(set, nato, &err) != LSN_OK ||
        lsn_policy_set_load_file(set, argv[2], &err) != LSN_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 2;
    }
    lsn_policy_unref(nato);
    static const char json[] =
        "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["
        "{\"tagSet\":\"Context\",\"values\":[\"Releasable\"]},"
        "{\"tagSet\":\"Releasable To\",\"values\":[\"JPN\",\"NATO\"]}]}";
    lsn_label *l = NULL;
    char *label = NULL, *plain = NULL, *tr = NULL;
    size_t plain_len = 0, tr_len = 0;
    fed_content c = {.body = "Exercise briefing, Tokyo, 14:00.\n", .body_len = 33};
    if (lsn_label_parse(set, json, strlen(json), LSN_FORM_JSON, &l, &err) != LSN_OK ||
        lsn_label_write(l, LSN_FORM_4774, &label, NULL, &err) != LSN_OK ||
        fed_binding_sign(me, "0f8e2a52-6c1b-4d0e-9a7c-3b5d1e2f4a6b", "cyber-defence", label,
                         strlen(label), &c,
                         1796300000, &plain, &plain_len, &err) != LSN_OK ||
        fed_binding_translate(me, me, plain, plain_len, set, JPN_OID, 1796300100, &tr, &tr_len,
                              &err) != LSN_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 2;
    }
    mkdir(argv[3], 0755);
    put(argv[3], "seed-untranslated.xml", plain, plain_len);
    put(argv[3], "seed-translated.xml", tr, tr_len);
    char *s;
    s = swap(tr, "<Classification>TORIATSUKAI CHUI<", "<Classification>OPEN<");
    put(argv[3], "seed-flipped-alternative.xml", s, strlen(s));
    free(s);
    /* The translation's container, twice. */
    const char *c2 = strstr(strstr(tr, "</mb:MetadataBindingContainer>") + 1,
                            "<mb:MetadataBindingContainer");
    const char *end = strstr(c2, "</mb:BindingInformation>");
    char *twice = NULL;
    if (asprintf(&twice, "%.*s%.*s%s", (int)(end - tr), tr, (int)(end - c2), c2, end) < 0)
        return 2;
    put(argv[3], "seed-third-container.xml", twice, strlen(twice));
    free(twice);
    /* The translation first. */
    const char *c1 = strstr(tr, "<mb:MetadataBindingContainer");
    char *first = NULL;
    if (asprintf(&first, "%.*s%.*s%.*s%s", (int)(c1 - tr), tr, (int)(end - c2), c2,
                 (int)(c2 - c1), c1, end) < 0)
        return 2;
    put(argv[3], "seed-translation-first.xml", first, strlen(first));
    free(first);
    s = swap(tr, "<ds:Reference URI=\"#binding-", "<ds:Reference URI=\"#properties-");
    put(argv[3], "seed-wrong-origin-reference.xml", s, strlen(s));
    free(s);
    s = swap(tr, "<mb:MetadataBinding Id=\"translation-",
             "<mb:MetadataBinding xml:id=\"x\" Id=\"translation-");
    put(argv[3], "seed-xml-id.xml", s, strlen(s));
    free(s);
    lsn_free(tr);
    lsn_free(plain);
    lsn_free(label);
    lsn_label_free(l);
    lsn_policy_set_free(set);
    fed_identity_free(me);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : 2;
}
