/* liaison/export.h — which symbols libliaison exports.
 *
 * The library is built with hidden visibility: only declarations marked
 * LSN_API — the public API in these headers, all named lsn_* — are in
 * libliaison.so's dynamic symbol table. Everything else (core helpers,
 * the policy, label and engine layers' own functions) stays inside it.
 * tests/check_exports.py checks that the exported symbols are exactly the
 * LSN_API declarations. */
#ifndef LIAISON_EXPORT_H
#define LIAISON_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define LSN_API __attribute__((visibility("default")))
#else
#define LSN_API
#endif

#endif
