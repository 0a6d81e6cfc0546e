/*
 * catalog_vfs.c - an SQLite VFS shim that logs the catalog's writes,
 * truncates, syncs, creations and deletions (qvl_record.h), passing every
 * call through to the default VFS.  SQLite's documented way to watch its
 * I/O; registered as the default VFS only when QVL_RECORD is set, so the
 * catalog is opened through it and nothing else changes.
 */
#include <errno.h>
#include <sqlite3.h>
#include <string.h>

#include "qvl_catalog.h"
#include "qvl_record.h"

struct rec_file {
	sqlite3_file base;
	sqlite3_file *real; /* the default VFS's file, right after this */
	const char *path;   /* SQLite keeps it valid until close */
};

static sqlite3_vfs *orig;

#define REAL(f) (((struct rec_file *)(f))->real)

static void note(sqlite3_file *f, char kind, sqlite3_int64 a,
		 sqlite3_int64 b, const void *data)
{
	const char *path = ((struct rec_file *)f)->path;
	if (path)
		qvl_record_path(path, kind, (uint64_t)a, (uint64_t)b, data);
}

static int rec_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}

static int rec_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xRead(REAL(f), buf, amt, off);
}

static int rec_write(sqlite3_file *f, const void *buf, int amt,
		     sqlite3_int64 off)
{
	int rc = REAL(f)->pMethods->xWrite(REAL(f), buf, amt, off);
	if (rc == SQLITE_OK)
		note(f, 'W', off, amt, buf);
	return rc;
}

static int rec_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	int rc = REAL(f)->pMethods->xTruncate(REAL(f), size);
	if (rc == SQLITE_OK)
		note(f, 'T', size, 0, NULL);
	return rc;
}

static int rec_sync(sqlite3_file *f, int flags)
{
	int rc = REAL(f)->pMethods->xSync(REAL(f), flags);
	if (rc == SQLITE_OK)
		note(f, 'S', 0, 0, NULL);
	return rc;
}

static int rec_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int rec_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}

static int rec_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}

static int rec_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int rec_fcntl(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int rec_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int rec_devchar(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int rec_shm_map(sqlite3_file *f, int pg, int pgsz, int extend,
		       void volatile **p)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, pgsz, extend, p);
}

static int rec_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}

static void rec_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int rec_shm_unmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

/* Memory-mapped reads stay off (the catalog sets no mmap_size): without
 * them SQLite falls back to xRead. */
static int rec_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp)
{
	(void)f;
	(void)off;
	(void)amt;
	*pp = NULL;
	return SQLITE_OK;
}

static int rec_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	(void)f;
	(void)off;
	(void)p;
	return SQLITE_OK;
}

static const sqlite3_io_methods rec_io = {
	.iVersion = 3,
	.xClose = rec_close,
	.xRead = rec_read,
	.xWrite = rec_write,
	.xTruncate = rec_truncate,
	.xSync = rec_sync,
	.xFileSize = rec_size,
	.xLock = rec_lock,
	.xUnlock = rec_unlock,
	.xCheckReservedLock = rec_reserved,
	.xFileControl = rec_fcntl,
	.xSectorSize = rec_sector,
	.xDeviceCharacteristics = rec_devchar,
	.xShmMap = rec_shm_map,
	.xShmLock = rec_shm_lock,
	.xShmBarrier = rec_shm_barrier,
	.xShmUnmap = rec_shm_unmap,
	.xFetch = rec_fetch,
	.xUnfetch = rec_unfetch,
};

static int rec_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f,
		    int flags, int *out_flags)
{
	struct rec_file *rf = (struct rec_file *)f;
	(void)vfs;
	rf->real = (sqlite3_file *)(rf + 1);
	rf->path = name;
	int rc = orig->xOpen(orig, name, rf->real, flags, out_flags);
	if (rc != SQLITE_OK || !rf->real->pMethods) {
		f->pMethods = NULL; /* nothing to close */
		return rc;
	}
	f->pMethods = &rec_io;
	if (name && (flags & SQLITE_OPEN_CREATE))
		qvl_record_path(name, 'C', 0, 0, NULL);
	return SQLITE_OK;
}

static int rec_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	int rc = orig->xDelete(orig, name, sync_dir);
	if (rc == SQLITE_OK)
		qvl_record_path(name, 'U', 0, 0, NULL);
	return rc;
}

static sqlite3_vfs rec_vfs;

int qvl_catalog_record(void)
{
	if (orig)
		return 0;
	orig = sqlite3_vfs_find(NULL);
	if (!orig)
		return -ENOSYS;
	rec_vfs = *orig;
	rec_vfs.zName = "qvl-record";
	rec_vfs.szOsFile = (int)sizeof(struct rec_file) + orig->szOsFile;
	rec_vfs.pNext = NULL;
	rec_vfs.xOpen = rec_open;
	rec_vfs.xDelete = rec_delete;
	return sqlite3_vfs_register(&rec_vfs, 1) == SQLITE_OK ? 0 : -EIO;
}
