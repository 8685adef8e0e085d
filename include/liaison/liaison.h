/* liaison/liaison.h — the whole public API of libliaison.
 *
 * libliaison answers three questions about confidentiality labels under a
 * security policy loaded from an Open XML SPIF: is this label valid, how is
 * it marked for a person to read, and may this clearance see it? */
#ifndef LIAISON_H
#define LIAISON_H

#include "alloc.h"
#include "error.h"
#include "policy.h"
#include "label.h"
#include "clearance.h"
#include "access.h"

#define LSN_VERSION "0.1.0"

#endif
