/*
 * qvlmem_cuda.c - libqvlmem_cuda: device pointers to files on a mount's
 * GPU tier (qvlmem_cuda.h).
 *
 * A map is a descriptor of the file kept open and a QVL_IOC_CUDA_MAP on
 * it: the daemon counts this process as a mapper until the UNMAP or the
 * descriptor's close, which the kernel does for a process that died.
 * The arena's IPC handle is opened once per process (cudaIpcOpenMemHandle
 * may be called once per handle and process) and kept: every file of the
 * mount is an offset into it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "qvlmem_cuda.h"

/* cudaIpcMemHandle_t, passed by value as CUDA's runtime takes it. */
typedef struct {
	char reserved[64];
} ipc_handle;

#define IPC_LAZY_PEER_ACCESS 1 /* cudaIpcMemLazyEnablePeerAccess */
#define MAX_ARENAS 8

struct cudart {
	int tried, ok;
	int (*set_device)(int);
	int (*ipc_open)(void **, ipc_handle, unsigned);
};

struct arena {
	int dev, fake;
	unsigned char handle[64];
	char *base;
	size_t len; /* the test device's mapping */
};

struct mapping {
	struct mapping *next;
	char *dptr;
	int fd;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct cudart rt;
static struct arena arenas[MAX_ARENAS];
static unsigned narenas;
static struct mapping *maps;

static int load_cudart(void)
{
	static const char *const names[] = {
		"libcudart.so", "libcudart.so.13", "libcudart.so.12",
		"libcudart.so.11.0",
	};
	if (rt.tried)
		return rt.ok ? 0 : -ENODEV;
	rt.tried = 1;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
		if (!h)
			continue;
		*(void **)&rt.set_device = dlsym(h, "cudaSetDevice");
		*(void **)&rt.ipc_open = dlsym(h, "cudaIpcOpenMemHandle");
		if (rt.set_device && rt.ipc_open) {
			rt.ok = 1;
			return 0;
		}
		dlclose(h);
	}
	return -ENODEV;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
				      : -1;
}

int qvlmem_cuda_info(const char *path, struct qvl_cuda_ipc_info *info)
{
	char v[512], hex[129];
	ssize_t n = getxattr(path, QVL_XATTR_CUDA_IPC, v, sizeof(v) - 1);
	if (n < 0)
		return -errno;
	v[n] = '\0';
	memset(info, 0, sizeof(*info));
	if (sscanf(v, "dev=%" SCNd32 " handle=%128s offset=%" SCNu64
		      " size=%" SCNu64 " arena=%" SCNu64,
		   &info->dev, hex, &info->offset, &info->size,
		   &info->arena) != 5 ||
	    strlen(hex) != 128)
		return -EPROTO;
	for (int i = 0; i < 64; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EPROTO;
		info->handle[i] = (unsigned char)(hi << 4 | lo);
	}
	info->fake = !memcmp(info->handle, "qvlfake", 8);
	return 0;
}

/* The test device: its arena file, named in the handle, mapped read-only
 * here (the daemon writes it). */
static int open_fake(struct arena *a, uint64_t len)
{
	char path[64];
	memcpy(path, a->handle + 8, 56);
	path[56] = '\0';
	if (!path[0])
		return -ENOTSUP;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	a->base = p;
	a->len = len;
	return 0;
}

/* The arena of @info, opened in this process once. */
static int arena_of(const struct qvl_cuda_ipc_info *info, char **base)
{
	for (unsigned i = 0; i < narenas; i++) {
		if (arenas[i].dev == info->dev &&
		    !memcmp(arenas[i].handle, info->handle, 64)) {
			*base = arenas[i].base;
			return 0;
		}
	}
	if (narenas == MAX_ARENAS)
		return -EMFILE;
	struct arena *a = &arenas[narenas];
	memset(a, 0, sizeof(*a));
	a->dev = info->dev;
	a->fake = (int)info->fake;
	memcpy(a->handle, info->handle, 64);
	int rc;
	if (a->fake) {
		rc = open_fake(a, info->arena);
	} else if (!(rc = load_cudart())) {
		ipc_handle h;
		void *p = NULL;
		memcpy(h.reserved, info->handle, 64);
		if (rt.set_device(info->dev) ||
		    rt.ipc_open(&p, h, IPC_LAZY_PEER_ACCESS) || !p)
			rc = -EIO;
		a->base = p;
	}
	if (rc)
		return rc;
	narenas++;
	*base = a->base;
	return 0;
}

int qvlmem_cuda_map(const char *path, void **dptr, size_t *size)
{
	struct qvl_cuda_ipc_info info;
	*dptr = NULL;
	*size = 0;
	struct mapping *m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		free(m);
		return -e;
	}
	if (ioctl(fd, QVL_IOC_CUDA_MAP, &info)) {
		int e = errno == ENOTTY ? ENODEV : errno; /* not a qvlmemfs */
		close(fd);
		free(m);
		return -e;
	}
	char *base;
	pthread_mutex_lock(&mu);
	int rc = arena_of(&info, &base);
	if (!rc) {
		m->dptr = base + info.offset;
		m->fd = fd;
		m->next = maps;
		maps = m;
	}
	pthread_mutex_unlock(&mu);
	if (rc) {
		ioctl(fd, QVL_IOC_CUDA_UNMAP);
		close(fd);
		free(m);
		return rc;
	}
	*dptr = m->dptr;
	*size = info.size;
	return 0;
}

int qvlmem_cuda_unmap(void *dptr)
{
	pthread_mutex_lock(&mu);
	struct mapping **pp = &maps;
	while (*pp && (*pp)->dptr != dptr)
		pp = &(*pp)->next;
	struct mapping *m = *pp;
	if (m)
		*pp = m->next;
	pthread_mutex_unlock(&mu);
	if (!m)
		return -EINVAL;
	int rc = ioctl(m->fd, QVL_IOC_CUDA_UNMAP) ? -errno : 0;
	close(m->fd);
	free(m);
	return rc;
}
