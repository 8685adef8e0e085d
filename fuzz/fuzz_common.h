/* fuzz/fuzz_common.h — what the fuzz targets share.
 *
 * The label and clearance targets parse against a fixed set of policies,
 * built once per process (fuzz_policies). Whatever parses is then pushed
 * through the rest of the library (fuzz_exercise_label/_clearance) with
 * invariants that must hold for ANY input that the library accepted: a
 * written label re-parses to the same marking, a clearance holding
 * everything grants a valid label, lsn_access_check and lsn_access_explain
 * agree, ... A broken invariant aborts, so libFuzzer reports it as a crash.
 *
 * The same sources build two ways: as libFuzzer targets (clang,
 * -Dfuzz=true) and as replay programs (any compiler; replay_main.c supplies
 * main()) that the test suite runs over the committed corpus. */
#ifndef FUZZ_FUZZ_COMMON_H
#define FUZZ_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "liaison/liaison.h"

/* The entry point every target defines (libFuzzer's signature). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort with a message when an invariant does not hold. */
#define FUZZ_CHECK(cond, ...)                                                  \
    do {                                                                       \
        if (!(cond))                                                           \
            fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                 \
    } while (0)

_Noreturn void fuzz_fail(const char *file, int line, const char *cond,
                         const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The policies labels and clearances are parsed against, loaded on first
 * use and kept for the life of the process: the SPIF files named in the
 * environment variable LIAISON_FUZZ_POLICY (colon-separated), or by default
 * the NATO, food, TLP, TLPX, UK demo and BSI policies of the spiffing
 * vectors (FUZZ_VECTORS_DIR, set by the build); then the bundled policy,
 * unless its OID is already loaded. A policy that fails to load aborts:
 * fuzzing without it would silently test nothing. */
const lsn_policy_set *fuzz_policies(void);

/* Check that a failed call left a coherent error: the code returned is the
 * one in err, and there is a message. */
void fuzz_check_error(lsn_err e, const lsn_error *err, const char *what);

/* Validate, mark (several languages, and into a too-small buffer), write in
 * every writable form and re-parse, decide against an all-holding and an
 * empty clearance, and translate into every other loaded policy. */
void fuzz_exercise_label(const lsn_label *label);

/* Mark, write in every form and re-parse, and decide against the sample
 * labels of the clearance's policy. */
void fuzz_exercise_clearance(const lsn_clearance *clearance);

/* One fuzz input read as a label (or a clearance) in `form`: a refusal must
 * carry a code and a message and return nothing; what parses is exercised
 * as above. The per-form targets are one call to these. */
int fuzz_label_input(const uint8_t *data, size_t size, lsn_form form);
int fuzz_clearance_input(const uint8_t *data, size_t size, lsn_form form);

#endif
