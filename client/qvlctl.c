/*
 * qvlctl.c - the qvlmemfs command line: one tensor's state (info), a
 * mount's tier table (stat), and dispatch to the other subcommands
 * (ls, import, export, checksum, estimate, push, pull, ls-remote).
 *
 * Exit status: 0 success, 1 a command failed, 2 a usage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "qvlctl_checksum.h"
#include "qvlctl_ls.h"
#include "qvlctl_util.h"
#include "qvlctl_model.h"
#include "qvlctl_remote.h"
#include "qvlmem.h"

#if __has_include("qvlctl_estimate.h") && !defined(QVLCTL_NO_ESTIMATE)
#include "qvlctl_estimate.h"
#define QVLCTL_HAVE_ESTIMATE 1
#endif

#ifndef QVL_VERSION
#define QVL_VERSION "unknown"
#endif

#define EXIT_USAGE 2

static const char usage_text[] =
	"usage: qvlctl COMMAND [ARGS]\n"
	"\n"
	"commands:\n"
	"  info FILE...      size, dtype, shape and every user.* attribute of each FILE\n"
	"  ls [-l] [PATH...] per tensor: dtype, shape, size, tier split, codec and\n"
	"                    ratio (stored bytes / size); -l: sizes in bytes and\n"
	"                    the stored split\n"
	"  stat MOUNT        the tier table of a qvlmemfs mount (MOUNT/.qvl/stats.json)\n"
	"  import [-q] MODEL DIR\n"
	"                    one file per tensor of a .safetensors (or a sharded\n"
	"                    set's model.safetensors.index.json) or .gguf file\n"
	"                    under DIR, with dtype and shape set\n"
	"  export [-q] DIR OUT\n"
	"                    the tensors of DIR back into one .safetensors or\n"
	"                    .gguf file (byte-identical after an unchanged import)\n"
	"  checksum FILE...  the content sum of each FILE, anywhere: the value\n"
	"                    user.qvl.checksum gives for the same bytes\n"
	"  estimate [--dtype DTYPE] FILE...\n"
	"                    what the codecs would make of each FILE (its own\n"
	"                    user.qvl.dtype unless --dtype; qvlctl estimate --help)\n"
	"  push [-q] [-r URL] [-a AUTHFILE] [-c CHUNK] DIR NAME\n"
	"                    the tree DIR into the remote tier as snapshot NAME;\n"
	"                    sends only the chunks the remote lacks (run it again\n"
	"                    to resume an interrupted push)\n"
	"  pull NAME DIR     snapshot NAME into DIR (new or empty) of a mount\n"
	"                    started with -o remote=URL; bytes come on first read\n"
	"  ls-remote [-r URL] [-a AUTHFILE]\n"
	"                    the snapshots in the remote: size, files, frames,\n"
	"                    stored bytes, ratio\n"
	"                    URL: redis://HOST[:PORT] or unix:PATH; default\n"
	"                    $QVL_REMOTE (auth: $QVL_REMOTE_AUTH), else (push)\n"
	"                    the remote of the mount DIR is in\n"
	"\n"
	"options:\n"
	"  -h, --help        this text\n"
	"  -V, --version     the version\n"
	"\n"
	"Exit status: 0 ok, 1 a command failed, 2 usage error.\n";

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("qvlctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(qvlctl --help for usage)\n", stderr);
	return EXIT_USAGE;
}

/* ---- info ---- */

/* An attribute value for people: text as is, anything else in hex. */
static void print_value(const char *v, size_t n)
{
	bool text = true;

	while (n > 0 && v[n - 1] == '\0')
		n--;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			text = false;
	if (text) {
		printf("%.*s", (int)n, v);
		return;
	}
	fputs("0x", stdout);
	for (size_t i = 0; i < n; i++)
		printf("%02x", (unsigned char)v[i]);
}

/* Print dtype and shape and whether they agree with the size. */
static void info_tensor(const char *path, uint64_t size)
{
	char *dt_s = NULL, *sh_s = NULL;
	ssize_t dn = qvlctl_xattr_get(path, QVL_XATTR_DTYPE, &dt_s, 0);
	ssize_t sn = qvlctl_xattr_get(path, QVL_XATTR_SHAPE, &sh_s, 0);
	enum qvl_dtype dt = QVL_DTYPE_NONE;
	uint64_t dims[QVL_MAX_DIMS], bytes, n = 1;
	int nd = -EINVAL;

	if (dn >= 0) {
		while (dn > 0 && (dt_s[dn - 1] == '\0' || dt_s[dn - 1] == '\n'))
			dn--;
		dt = qvl_dtype_from_name(dt_s, (size_t)dn);
		printf("  dtype       %.*s%s\n", (int)dn, dt_s,
		       dt == QVL_DTYPE_NONE ? "  (unknown dtype)" : "");
	} else {
		printf("  dtype       (not set: reads as u8)\n");
	}
	if (sn >= 0) {
		while (sn > 0 && (sh_s[sn - 1] == '\0' || sh_s[sn - 1] == '\n'))
			sn--;
		/* "" is a scalar, which qvlmem_shape_parse() leaves to us. */
		nd = sn ? qvlmem_shape_parse(sh_s, (size_t)sn, dims) : 0;
		if (sn)
			printf("  shape       %.*s", (int)sn, sh_s);
		else
			printf("  shape       \"\" (a scalar)");
		if (nd < 0) {
			printf("  (malformed)\n");
		} else {
			for (int i = 0; i < nd; i++)
				n = n > 0 && dims[i] > UINT64_MAX / n ? UINT64_MAX : n * dims[i];
			printf("  (%" PRIu64 " element%s", n, n == 1 ? "" : "s");
			if (dt == QVL_DTYPE_NONE && dn < 0)
				dt = QVL_DTYPE_U8;
			if (dt != QVL_DTYPE_NONE) {
				if (qvlmem_shape_bytes(dt, nd, dims, &bytes))
					printf(", not a valid %s shape",
					       qvl_dtype_table[dt].name);
				else if (bytes == size)
					printf(", matches the size");
				else
					printf(", MISMATCH: needs %" PRIu64 " bytes",
					       bytes);
			}
			printf(")\n");
		}
	} else {
		printf("  shape       (not set)\n");
	}
	free(dt_s);
	free(sh_s);
}

/* The user.qvl attributes a getxattr answers.  listxattr lists only the
 * hints that were set (so copy tools can set them again); info asks for
 * every one by name. */
static const char *const qvl_names[] = {
	QVL_XATTR_DTYPE, QVL_XATTR_SHAPE, QVL_XATTR_TIER, QVL_XATTR_PIN,
	QVL_XATTR_LIFETIME, QVL_XATTR_TTL, QVL_XATTR_PRIORITY,
	QVL_XATTR_CODEC, QVL_XATTR_STORED, QVL_XATTR_CHECKSUM,
};

static void print_attr(const char *path, const char *name, const char *note)
{
	char *v = NULL;
	ssize_t vn = qvlctl_xattr_get(path, name, &v, 0);
	if (vn == -ENODATA && note == NULL) {
		free(v);
		return; /* a hint that does not apply here (no shape yet) */
	}
	printf("    %-20s ", name);
	if (vn < 0)
		printf("(%s)", qvlmem_strerror((int)vn));
	else
		print_value(v, (size_t)vn);
	printf("%s\n", note ? note : "");
	free(v);
}

static int info_one(const char *path)
{
	char *names = NULL, sz[32];
	struct stat st;
	ssize_t len;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "qvlctl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("%s\n", path);
	printf("  type        %s\n", S_ISREG(st.st_mode) ? "file" :
	       S_ISDIR(st.st_mode) ? "directory" : "other");
	printf("  size        %" PRIu64 " (%s)\n", (uint64_t)st.st_size,
	       qvlctl_human((uint64_t)st.st_size, sz, sizeof(sz)));
	if (S_ISREG(st.st_mode))
		info_tensor(path, (uint64_t)st.st_size);

	len = qvlctl_xattr_get(path, NULL, &names, 0);
	if (len < 0) {
		printf("  attributes  (%s)\n", qvlmem_strerror((int)len));
		return len == -ENOTSUP ? 0 : 1;
	}
	printf("  attributes\n");
	for (size_t i = 0; i < sizeof(qvl_names) / sizeof(*qvl_names); i++)
		if (S_ISREG(st.st_mode) || i != 2) /* a directory has no tier */
			print_attr(path, qvl_names[i], NULL);
	for (ssize_t off = 0; off < len; off += (ssize_t)strlen(names + off) + 1) {
		const char *name = names + off;
		if (strncmp(name, "user.", 5) ||
		    !strncmp(name, QVL_XATTR_PREFIX, strlen(QVL_XATTR_PREFIX)))
			continue; /* shown above, or not ours to show */
		print_attr(path, name, "   [other user.* attribute]");
	}
	free(names);
	return 0;
}

static int cmd_info(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2)
		return usage_error("info: needs at least one FILE");
	for (int i = 1; i < argc; i++) {
		if (i > 1)
			putchar('\n');
		rc |= info_one(argv[i]);
	}
	return rc;
}

/* ---- stat ---- */

static int cmd_stat(int argc, char **argv)
{
	const char *mount;
	struct qvlmem_stats s;
	struct stat st;
	char b1[32], b2[32], b3[32];
	int rc;

	if (argc != 2)
		return usage_error("stat: needs exactly one MOUNT");
	mount = argv[1];
	if (stat(mount, &st) < 0) {
		fprintf(stderr, "qvlctl: %s: %s\n", mount, strerror(errno));
		return 1;
	}
	rc = qvlmem_mount_stats(mount, &s);
	if (rc == -ENOENT || rc == -ENOTDIR) {
		fprintf(stderr, "qvlctl: %s is not a qvlmemfs mount "
			"(no " QVL_CTL_DIR "/stats.json)\n", mount);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "qvlctl: %s/" QVL_CTL_DIR "/stats.json: %s\n",
			mount, qvlmem_strerror(rc));
		return 1;
	}
	printf("%-6s %-8s %12s %12s %7s %8s\n", "tier", "present", "budget",
	       "used", "use%", "files");
	for (int t = 0; t < QVLMEM_TIER_COUNT; t++) {
		const struct qvlmem_tier_stats *ts = &s.tier[t];
		char pct[16];

		if (ts->budget)
			snprintf(pct, sizeof(pct), "%.1f%%",
				 100.0 * (double)ts->used / (double)ts->budget);
		else
			snprintf(pct, sizeof(pct), "-");
		printf("%-6s %-8s %12s %12s %7s %8" PRIu64 "\n",
		       qvlmem_tier_name((enum qvlmem_tier)t),
		       ts->present ? "yes" : "no",
		       qvlctl_human(ts->budget, b1, sizeof(b1)),
		       qvlctl_human(ts->used, b2, sizeof(b2)), pct, ts->files);
	}
	printf("\nfiles %" PRIu64 "  dirs %" PRIu64 "  bytes %s", s.files,
	       s.dirs, qvlctl_human(s.bytes, b3, sizeof(b3)));
	if (s.version[0])
		printf("  (qvlmemfs %s, chunk %s)", s.version,
		       qvlctl_human(s.chunk_size, b1, sizeof(b1)));
	putchar('\n');
	return 0;
}

static int cmd_estimate(int argc, char **argv)
{
#ifdef QVLCTL_HAVE_ESTIMATE
	return qvlctl_estimate_main(argc, argv);
#else
	(void)argc;
	(void)argv;
	fprintf(stderr, "qvlctl: estimate: not built\n");
	return 1;
#endif
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2)
		return usage_error("no command given");
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf("qvlctl %s (libqvlmem %s)\n", QVL_VERSION, qvlmem_version());
		return 0;
	}
	if (!strcmp(cmd, "info"))
		return cmd_info(argc - 1, argv + 1);
	if (!strcmp(cmd, "ls"))
		return qvlctl_ls_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "stat"))
		return cmd_stat(argc - 1, argv + 1);
	if (!strcmp(cmd, "import"))
		return qvlctl_import_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "export"))
		return qvlctl_export_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "checksum"))
		return qvlctl_checksum_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "estimate"))
		return cmd_estimate(argc - 1, argv + 1);
	if (!strcmp(cmd, "push"))
		return qvlctl_push_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "pull"))
		return qvlctl_pull_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "ls-remote"))
		return qvlctl_ls_remote_main(argc - 1, argv + 1);
	return usage_error("unknown command '%s'", cmd);
}
