/*
 * qvl_record.h - a log of every change the daemon makes to its store, for
 * simulated power cuts (tests/integration/power_cut.sh, after ALICE and
 * CrashMonkey, at the application level: there is no device-mapper here).
 *
 * QVL_RECORD=LOG in the daemon's environment appends a record to LOG for
 * every write (with its bytes), fsync/fdatasync, truncate, hole punch,
 * unlink, file creation and mkdir in the store: the backing files through
 * tiers/nvme*.c, the catalog through an SQLite VFS shim (catalog_vfs.c).
 * Paths are relative to the store.  A record is one write(2) to an
 * O_APPEND descriptor, so another process (the test's workload) may add
 * its own markers to the same log in order.
 *
 * Record: u8 kind, u8 pad[3], u32 path length, u64 a, u64 b, then the
 * path, then for a write b bytes of data.  Little-endian.
 *   'W' write b bytes at offset a      'S' fsync (or fdatasync)
 *   'T' truncate to a                  'P' punch a hole of b bytes at a
 *   'U' unlink                         'C' create (if missing) a file
 *   'D' mkdir                          'M' a marker (path is its text)
 */
#ifndef QVL_RECORD_H
#define QVL_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* qvl_record_start() - start logging to @log the changes under @store.
 * 0 or -errno. */
int qvl_record_start(const char *log, const char *store);

/* qvl_record_on() - whether a log is being written. */
bool qvl_record_on(void);

/* Log one change to @rel under the directory open as @dirfd, or with
 * @rel NULL to the file open as @dirfd (paths found through /proc). */
void qvl_record_at(int dirfd, const char *rel, char kind, uint64_t a,
		   uint64_t b, const void *data);

/* Log one change to @path, absolute or relative to the store. */
void qvl_record_path(const char *path, char kind, uint64_t a, uint64_t b,
		     const void *data);

#endif /* QVL_RECORD_H */
