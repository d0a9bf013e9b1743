/* vseen.h - the chunks of one LMDB snapshot already found sound (header
 * and directory checksum matched, directory entries in order and in
 * range), so that a chunk opened again in the same snapshot is not checked
 * again.
 *
 * A snapshot's pages never change while it is the newest committed tree
 * or a reader holds it (no writer reuses them), so bytes found sound once
 * stay sound: a long list's chunk is checked the first time a query of
 * that snapshot opens it, as a file system verifies a block when it comes
 * off the disk and not on every hit in its cache. What failed is not noted
 * (it fails again, with its message, each time). The table belongs to one
 * snapshot (reader.c keeps it beside the snapshot's length table and drops
 * it with it) and may only be given ranges inside that snapshot's map
 * (values a read transaction returns: LMDB never copies them): a heap
 * buffer's bytes may change under the same address. It is safe to share
 * between threads: each slot is one atomic 64-bit fingerprint of (address,
 * length, stored checksum), and a lost or overwritten slot costs only a
 * check. */
#ifndef TRAWL_VSEEN_H
#define TRAWL_VSEEN_H

#include <stddef.h>
#include <stdint.h>

typedef struct tr_vseen tr_vseen;

/* An empty table; NULL when out of memory (then nothing is remembered). */
tr_vseen *tr_vseen_new(void);
void tr_vseen_free(tr_vseen *vs);

/* Was p[0, n), whose stored checksum is want, found sound before? Always 0
 * for a NULL table or a range too short to be worth remembering (checking
 * it costs less than the lookup). */
int tr_vseen_has(const tr_vseen *vs, const void *p, size_t n, uint32_t want);
/* p[0, n) was found sound: remember it. */
void tr_vseen_note(tr_vseen *vs, const void *p, size_t n, uint32_t want);

#endif
