/*
 * main.c - the qvlmemfs daemon: options, the store lock, mounting, the
 * session loop and a clean shutdown.  The only file here that talks to
 * people.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpu_tier.h"
#include "ops_i.h"
#include "qvl_fault.h"
#include "qvl_record.h"

struct qvl_cli {
	char *ram;
	char *store;
	char *chunk;
	char *flush;
	char *ram_min;
	char *remote, *remote_auth, *remote_timeout;
	char *gpu, *gpu_dev;
	int repair;
	char *pos[2]; /* the non-option arguments: [SOURCE] MOUNTPOINT */
	int npos;
};

#define CLI_OPT(t, p) { t, offsetof(struct qvl_cli, p), 1 }
static const struct fuse_opt cli_spec[] = {
	CLI_OPT("ram=%s", ram),
	CLI_OPT("store=%s", store),
	CLI_OPT("chunk=%s", chunk),
	CLI_OPT("flush=%s", flush),
	CLI_OPT("ram_min=%s", ram_min),
	CLI_OPT("remote=%s", remote),
	CLI_OPT("remote_auth=%s", remote_auth),
	CLI_OPT("remote_timeout=%s", remote_timeout),
	CLI_OPT("gpu=%s", gpu),
	CLI_OPT("gpu_dev=%s", gpu_dev),
	CLI_OPT("repair", repair),
	FUSE_OPT_END
};

/*
 * mount(8) and /etc/fstab run a FUSE filesystem through mount.fuse3 as
 * `qvlmemfs SOURCE MOUNTPOINT -o OPTS`.  SOURCE ("none", "qvlmemfs")
 * means nothing to a store that is a local directory (store= names it),
 * so it is dropped: the non-options are kept here, and the last one goes
 * back into the arguments as the mountpoint for fuse_parse_cmdline().
 */
static int cli_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	struct qvl_cli *cli = data;
	(void)outargs;

	if (key != FUSE_OPT_KEY_NONOPT)
		return 1;
	if (cli->npos == 2) {
		fprintf(stderr, "qvlmemfs: too many arguments at '%s': "
				"[SOURCE] MOUNTPOINT\n", arg);
		return -1;
	}
	cli->pos[cli->npos] = strdup(arg);
	return cli->pos[cli->npos++] ? 0 : -1;
}

/* -o remote=URL[,remote_auth=FILE,remote_timeout=SECONDS]: the handle,
 * and a warning (not a failure: local data works without it) when the
 * server does not answer now. */
static int open_remote(const struct qvl_cli *cli, struct qvl_remote **out)
{
	struct qvl_remote_opts o = { .url = cli->remote,
				     .auth_file = cli->remote_auth };
	char err[256] = "", *end;
	if (cli->remote_timeout) {
		double s = strtod(cli->remote_timeout, &end);
		if (*end || !(s >= 0.01 && s <= 600)) {
			fprintf(stderr, "qvlmemfs: bad remote_timeout=%s: "
					"seconds from 0.01 to 600\n",
				cli->remote_timeout);
			return -1;
		}
		o.timeout_ms = (unsigned)(s * 1000 + 0.5);
	}
	if (qvl_remote_open(&o, out, err, sizeof(err))) {
		fprintf(stderr, "qvlmemfs: remote=%s: %s\n", cli->remote, err);
		return -1;
	}
	if (qvl_remote_ping(*out)) {
		qvl_remote_error(*out, err, sizeof(err));
		fprintf(stderr, "qvlmemfs: remote tier %s does not answer (%s); "
				"mounting anyway: remote chunks read as EIO "
				"until it does\n", cli->remote, err);
	}
	return 0;
}

/* Share of MemAvailable the RAM tier takes when ram= is not given. */
#define QVL_RAM_DEFAULT_PCT 50
#define QVL_READ_AHEAD_KB 1024
#define QVL_FLUSH_DEFAULT_MS 5000

static void usage(const char *prog)
{
	printf("usage: %s [options] [SOURCE] MOUNTPOINT\n\n"
	       "SOURCE (\"none\", as mount -t fuse.qvlmemfs passes one) is "
	       "ignored.\n\n"
	       "qvlmemfs options:\n"
	       "    -o ram=SIZE        RAM tier budget: bytes with k/M/G/T suffix,\n"
	       "                       or N%% of MemAvailable (default %d%%)\n"
	       "    -o store=DIR       store directory, created 0700 and locked\n"
	       "                       (default /var/lib/qvlmemfs as root,\n"
	       "                       ~/.local/state/qvlmemfs otherwise)\n"
	       "    -o chunk=SIZE      chunk size, a power of two from 64K to 64M\n"
	       "                       (default 1M; fixed when the store is made)\n"
	       "    -o flush=SECONDS   write dirty data back at least this often\n"
	       "                       (default %g)\n"
	       "    -o ram_min=SIZE    the least memory pressure shrinks the RAM\n"
	       "                       tier to: a size or N%% of ram= (default 25%%)\n"
	       "    -o gpu=SIZE        a GPU tier: a device arena of SIZE, or N%% of\n"
	       "                       the device's free memory (needs a CUDA build)\n"
	       "    -o gpu_dev=N       the CUDA device for it (default 0)\n"
	       "    -o repair          delete orphaned backing files and dangling\n"
	       "                       catalog rows found at mount\n"
	       "    -o remote=URL      a shared remote tier in Redis (qvlctl push,\n"
	       "                       pull): redis://HOST[:PORT] or unix:PATH\n"
	       "    -o remote_auth=FILE  Redis ACL \"[USER] PASSWORD\" (mode 0600)\n"
	       "    -o remote_timeout=SECONDS  connect and reply timeout "
	       "(default 2)\n\n",
	       prog, QVL_RAM_DEFAULT_PCT, QVL_FLUSH_DEFAULT_MS / 1000.0);
}

static uint64_t mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long long kb = 0;
	char line[256];
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb * 1024;
}

/* mkdir -p, the last component with @mode. */
static int make_dirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

static char *default_store(void)
{
	char buf[PATH_MAX];
	const char *home = getenv("HOME");
	if (getuid() == 0 || !home)
		return strdup("/var/lib/qvlmemfs");
	snprintf(buf, sizeof(buf), "%s/.local/state/qvlmemfs", home);
	return strdup(buf);
}

/*
 * Take the store's lock so two daemons never share one store.  The lock is
 * an flock on DIR/lock, held by the open descriptor for the daemon's life
 * (fork in daemonize keeps it).  Returns the descriptor or -1 after saying
 * why.
 */
#define QVL_LOCK_WAIT_S 10

static int lock_store(const char *store)
{
	char path[PATH_MAX], pid[32] = "";
	int rc = make_dirs(store, 0700);
	if (rc) {
		fprintf(stderr, "qvlmemfs: cannot create store %s: %s\n", store,
			strerror(-rc));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/lock", store);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "qvlmemfs: cannot open %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	/* A daemon unmounted a moment ago may still be writing back (umount
	 * returns first): wait for it a while, saying so, before giving up. */
	for (int tenths = 0; flock(fd, LOCK_EX | LOCK_NB); tenths++) {
		ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (tenths == 0)
			fprintf(stderr, "qvlmemfs: store %s is in use by another "
					"qvlmemfs%s%s%s; waiting up to %d s for "
					"it to finish\n",
				store, *pid ? " (pid " : "", pid,
				*pid ? ")" : "", QVL_LOCK_WAIT_S);
		if (tenths == QVL_LOCK_WAIT_S * 10) {
			fprintf(stderr, "qvlmemfs: store %s is still in use by "
					"another qvlmemfs%s%s%s\n",
				store, *pid ? " (pid " : "", pid,
				*pid ? ")" : "");
			close(fd);
			return -1;
		}
		usleep(100 * 1000);
	}
	return fd;
}

static void note_pid(int fd)
{
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) < 0)
		return; /* informational only */
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *d = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] && s[3]) {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

/*
 * Is @mountpoint a mount whose line in mountinfo has @what (" - fuse": the
 * filesystem type)?  The last such mount wins (the one on top); its device
 * (major:minor) goes to @dev.  Returns 1 or 0.
 */
static int find_mount(const char *mountpoint, const char *what, char *dev,
		      size_t devlen)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096];
	int found = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char mdev[32], mpoint[PATH_MAX];
		if (sscanf(line, "%*s %*s %31s %*s %4095s", mdev, mpoint) != 2)
			continue;
		unescape(mpoint);
		if (strcmp(mpoint, mountpoint) == 0 && strstr(line, what)) {
			snprintf(dev, devlen, "%s", mdev);
			found = 1;
		}
	}
	fclose(f);
	return found;
}

/*
 * Raise the mount's read_ahead_kb to QVL_READ_AHEAD_KB when allowed: the
 * kernel sends buffered and mmap reads in pieces no larger than it, and at
 * the default 128 KiB cold reads run ten times slower.  Returns the value
 * in force afterwards, or -1 when it cannot be read.
 */
static int raise_read_ahead(const char *mountpoint)
{
	char dev[32], path[PATH_MAX];
	FILE *f;
	if (!find_mount(mountpoint, " - fuse", dev, sizeof(dev)))
		return -1;
	snprintf(path, sizeof(path), "/sys/class/bdi/%s/read_ahead_kb", dev);
	int kb = -1;
	if ((f = fopen(path, "r"))) {
		if (fscanf(f, "%d", &kb) != 1)
			kb = -1;
		fclose(f);
	}
	if (kb >= 0 && kb < QVL_READ_AHEAD_KB && (f = fopen(path, "w"))) {
		fprintf(f, "%d\n", QVL_READ_AHEAD_KB);
		if (fclose(f) == 0)
			kb = QVL_READ_AHEAD_KB;
	}
	return kb;
}

static int parse_budget(const char *s, uint64_t *out)
{
	if (!s) {
		*out = mem_available() / 100 * QVL_RAM_DEFAULT_PCT;
		return *out ? 0 : -EINVAL;
	}
	return qvl_parse_size(s, mem_available(), out);
}

static int parse_chunk(const char *s, unsigned *shift)
{
	uint64_t v;
	*shift = QVL_CHUNK_SHIFT_DEFAULT;
	if (!s)
		return 0;
	if (qvl_parse_size(s, 0, &v) || !v || (v & (v - 1)))
		return -EINVAL;
	unsigned sh = (unsigned)__builtin_ctzll(v);
	if (sh < QVL_CHUNK_SHIFT_MIN || sh > QVL_CHUNK_SHIFT_MAX)
		return -EINVAL;
	*shift = sh;
	return 0;
}

/* gpu=SIZE or N% (of the device's free memory), gpu_dev=N. */
static int parse_gpu(const struct qvl_cli *cli, struct qvl_gpu_config *g)
{
	const char *s = cli->gpu;
	size_t n = strlen(s);
	uint64_t v;
	char *end;
	memset(g, 0, sizeof(*g));
	if (n && s[n - 1] == '%') {
		if (qvl_parse_size(s, 100, &v) || !v || v > 100)
			return -EINVAL;
		g->percent = (unsigned)v;
	} else if (qvl_parse_size(s, 0, &v) || !v) {
		return -EINVAL;
	} else {
		g->budget = v;
	}
	if (cli->gpu_dev) {
		long d = strtol(cli->gpu_dev, &end, 10);
		if (*end || end == cli->gpu_dev || d < 0 || d > 255)
			return -EINVAL;
		g->dev = (int)d;
	}
	return 0;
}

static int parse_flush(const char *s, unsigned *ms)
{
	char *end;
	*ms = QVL_FLUSH_DEFAULT_MS;
	if (!s)
		return 0;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0.01 && v <= 3600))
		return -EINVAL;
	*ms = (unsigned)(v * 1000);
	return 0;
}

static int run_loop(struct fuse_session *se, const struct fuse_cmdline_opts *o)
{
	if (o->singlethread)
		return fuse_session_loop(se);
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	if (!cfg)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(cfg, (unsigned)o->clone_fd);
	fuse_loop_cfg_set_max_threads(cfg, o->max_threads);
	int rc = fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return rc;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts = { 0 };
	struct qvl_cli cli = { 0 };
	struct fuse_lowlevel_ops ops;
	struct fuse_session *se = NULL;
	struct qvl_fs *fs = NULL;
	char mnt[PATH_MAX];
	uint64_t budget;
	unsigned shift, flush_ms;
	char err[512] = "";
	int ret = 1, lockfd = -1;

	if (fuse_opt_parse(&args, &cli, cli_spec, cli_proc) ||
	    (cli.npos && fuse_opt_add_arg(&args, cli.pos[cli.npos - 1])) ||
	    fuse_parse_cmdline(&args, &opts)) {
		fprintf(stderr, "qvlmemfs: bad options (see --help)\n");
		ret = 2;
		goto out_args;
	}
	if (opts.show_help) {
		usage(argv[0]);
		fuse_cmdline_help();
		fuse_lowlevel_help();
		ret = 0;
		goto out_args;
	}
	if (opts.show_version) {
		printf("qvlmemfs %s\n", QVL_VERSION);
		fuse_lowlevel_version();
		ret = 0;
		goto out_args;
	}
	if (!opts.mountpoint) {
		fprintf(stderr, "usage: %s [options] [SOURCE] MOUNTPOINT (see "
				"--help)\n",
			argv[0]);
		ret = 2;
		goto out_args;
	}
	if (parse_budget(cli.ram, &budget)) {
		fprintf(stderr, "qvlmemfs: bad ram=%s: a size (2G, 512M) or a "
				"percentage of MemAvailable (25%%)\n", cli.ram);
		goto out_args;
	}
	if (parse_chunk(cli.chunk, &shift)) {
		fprintf(stderr, "qvlmemfs: bad chunk=%s: a power of two from "
				"64K to 64M\n", cli.chunk);
		goto out_args;
	}
	if (budget < (2ull << shift)) {
		/* Below two chunks nothing can be written or fetched. */
		fprintf(stderr, "qvlmemfs: ram=%s is below the minimum of two "
				"chunks, %llu KiB (chunk=%lluK; a smaller chunk= "
				"lowers it)\n",
			cli.ram ? cli.ram : "(default)",
			(unsigned long long)(2ull << shift) >> 10,
			(unsigned long long)(1ull << shift) >> 10);
		goto out_args;
	}
	/* The floor memory pressure may shrink the RAM tier to (pressure.c):
	 * a size, or a percentage of ram=; a quarter of ram= by default. */
	uint64_t ram_min = budget / 4;
	if (cli.ram_min && (qvl_parse_size(cli.ram_min, budget, &ram_min) ||
			    ram_min > budget || ram_min < (2ull << shift))) {
		fprintf(stderr, "qvlmemfs: bad ram_min=%s: a size or a "
				"percentage of ram=, from two chunks up to "
				"ram=\n", cli.ram_min);
		goto out_args;
	}
	struct qvl_gpu_config gcfg;
	if ((cli.gpu || cli.gpu_dev) && (!cli.gpu || parse_gpu(&cli, &gcfg))) {
		fprintf(stderr, "qvlmemfs: bad gpu=%s%s%s: gpu= a size (3G) or "
				"a percentage of the device's free memory (80%%), "
				"gpu_dev= a device number\n",
			cli.gpu ? cli.gpu : "(none)",
			cli.gpu_dev ? ",gpu_dev=" : "",
			cli.gpu_dev ? cli.gpu_dev : "");
		goto out_args;
	}
	if (parse_flush(cli.flush, &flush_ms)) {
		fprintf(stderr, "qvlmemfs: bad flush=%s: seconds from 0.01 to "
				"3600\n", cli.flush);
		goto out_args;
	}
	if (!realpath(opts.mountpoint, mnt)) {
		fprintf(stderr, "qvlmemfs: mountpoint %s: %s\n", opts.mountpoint,
			strerror(errno));
		goto out_args;
	}
	if (!cli.store && !(cli.store = default_store()))
		goto out_args;
	/* A second mount on top would hide the first one's files behind an
	 * empty (or another) store: almost always a mistake. */
	char dev[32];
	if (find_mount(mnt, " - fuse.qvlmemfs ", dev, sizeof(dev))) {
		fprintf(stderr, "qvlmemfs: %s is a qvlmemfs mount already; "
				"unmount it first (fusermount3 -u %s)\n",
			mnt, mnt);
		goto out_args;
	}
	lockfd = lock_store(cli.store);
	if (lockfd < 0)
		goto out_args;
	/* Everything the daemon creates in the store is its owner's alone
	 * (the parents lock_store made keep the usual modes). */
	umask(077);
	if (qvl_store_make_private(cli.store, err, sizeof(err))) {
		fprintf(stderr, "qvlmemfs: store %s: %s\n", cli.store, err);
		goto out_unlock;
	}

	/* Tests simulating power cuts log every change to the store
	 * (tiers/qvl_record.h), the catalog's opening included. */
	const char *record = getenv("QVL_RECORD");
	if (record && *record &&
	    (qvl_record_start(record, cli.store) || qvl_catalog_record())) {
		fprintf(stderr, "qvlmemfs: cannot record to QVL_RECORD=%s\n",
			record);
		goto out_unlock;
	}

	/* Permission checks by the kernel, against the modes we keep. */
	if (fuse_opt_add_arg(&args, "-odefault_permissions,fsname=qvlmemfs,"
				    "subtype=qvlmemfs,max_read=1048576"))
		goto out_unlock;
	struct qvl_fs_config cfg = {
		.ram_budget = budget, .chunk_shift = shift, .store = cli.store,
		.flush_ms = flush_ms, .repair = cli.repair,
		.remote_auth = cli.remote_auth,
	};
	if (cli.remote && open_remote(&cli, &cfg.remote))
		goto out_unlock;
	int rc = qvl_fs_create(&cfg, &fs, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "qvlmemfs: store %s: %s\n", cli.store,
			*err ? err : strerror(-rc));
		goto out_unlock;
	}
	if (fs->orphans || fs->dangling)
		fprintf(stderr, "qvlmemfs: store %s: %llu orphaned and %llu "
				"dangling entries %s\n", cli.store,
			(unsigned long long)fs->orphans,
			(unsigned long long)fs->dangling,
			cli.repair ? "repaired" : "found (mount with -o repair "
						  "to delete them)");
	if (fs->dangling && !cli.repair)
		fprintf(stderr, "qvlmemfs: store %s: the catalog has damaged "
				"rows: mounted read-only (what they name reads "
				"as EIO or as its data says); mount with -o "
				"repair to set them right\n", cli.store);
	/* Tests make the store's I/O fail on purpose (tiers/qvl_fault.h);
	 * armed after loading, so the count starts with serving. */
	const char *fault = getenv("QVL_FAULT");
	if (fault && *fault) {
		if (qvl_fault_arm(fault)) {
			fprintf(stderr, "qvlmemfs: bad QVL_FAULT=%s: OP:N[:KIND"
					"[:COUNT]],... (tiers/qvl_fault.h)\n",
				fault);
			goto out_fs;
		}
		fprintf(stderr, "qvlmemfs: fault injection armed: %s\n",
			fault);
	}
	fs->ram_min = ram_min;
	fs->store = realpath(cli.store, NULL);
	fs->mountpoint = strdup(mnt);
	qvl_fs_ops(&ops);
	se = fuse_session_new(&args, &ops, sizeof(ops), fs);
	if (!se)
		goto out_fs;
	fs->se = se;
	if (fuse_set_signal_handlers(se))
		goto out_session;
	if (fuse_session_mount(se, mnt))
		goto out_signals;
	fs->read_ahead_kb = raise_read_ahead(mnt);
	if (fuse_daemonize(opts.foreground))
		goto out_unmount;
	note_pid(lockfd);
	/* After daemonizing too: CUDA may not be used across a fork (nor
	 * the test device's threads), and before the loop, so no request
	 * finds the tier half made.  Says why when there is none (also in
	 * .qvl/stats, for a daemon whose stderr went with the fork). */
	if (cli.gpu)
		qvl_fs_gpu_open(fs, &gcfg);
	/* After daemonizing (a fork keeps no threads): the flusher and the
	 * page-cache invalidator; qvl_destroy() stops them. */
	rc = qvl_bg_start(fs);
	if (rc) {
		fprintf(stderr, "qvlmemfs: cannot start the flusher: %s\n",
			strerror(-rc));
		goto out_unmount;
	}
	rc = run_loop(se, &opts);
	/* libfuse 3.14 returns the signal that ended the loop as its error:
	 * SIGTERM, SIGINT and SIGHUP are how a daemon is asked to stop. */
	ret = rc == 0 || rc == SIGTERM || rc == SIGINT || rc == SIGHUP ? 0 : 1;

out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out_fs:
	/* After the unmount's last commit (destroy runs by now): a catalog
	 * that failed is the exit status of whoever started us. */
	/* A mount read-only from the start (damaged rows) lost nothing. */
	if (!ret && (fs->cat_errors ||
		     (fs->unmount_rc && fs->unmount_rc != -EROFS)))
		ret = 3;
	qvl_fs_destroy(fs);
out_unlock:
	close(lockfd);
out_args:
	free(opts.mountpoint);
	free(cli.ram);
	free(cli.store);
	free(cli.chunk);
	free(cli.flush);
	free(cli.ram_min);
	free(cli.remote);
	free(cli.remote_auth);
	free(cli.remote_timeout);
	free(cli.gpu);
	free(cli.gpu_dev);
	free(cli.pos[0]);
	free(cli.pos[1]);
	fuse_opt_free_args(&args);
	return ret;
}
