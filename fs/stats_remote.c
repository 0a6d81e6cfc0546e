/*
 * stats_remote.c - the remote tier in .qvl/stats and .qvl/stats.json:
 * where it is, whether it answered last, what was fetched and what failed.
 * qvlctl push reads "url" and "auth_file" from stats.json to find the
 * remote of the mount it pushes from.
 */
#include <inttypes.h>
#include <stdio.h>

#include "stats_i.h"

/* @s as a JSON string (the URL and path come from the command line). */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void qvl_remote_stats_text(struct qvl_fs *fs, const struct qvl_stats_snap *s,
			   FILE *f)
{
	struct qvl_remote_stats r;
	if (!fs->remote)
		return;
	qvl_remote_get_stats(fs->remote, &r);
	fprintf(f, "remote: %s  %s  nodes %u  files %" PRIu64
		   "  frames there only %" PRIu64 " bytes\n",
		qvl_remote_url(fs->remote), r.up ? "up" : "down", r.nodes,
		s->remote_files, s->remote_used);
	fprintf(f, "  fetched %" PRIu64 " frames (%" PRIu64 " bytes)  failed %"
		   PRIu64 "  missing %" PRIu64 "  errors %" PRIu64
		   "  timeouts %" PRIu64 "  reconnects %" PRIu64
		   "  redirects %" PRIu64 "  copies dropped %" PRIu64 "\n",
		s->tm.remote_fetched, s->tm.remote_bytes, s->tm.remote_failed,
		r.missing, r.errors, r.timeouts, r.reconnects, r.redirects,
		s->tm.remote_dropped);
}

void qvl_remote_stats_json(struct qvl_fs *fs, const struct qvl_stats_snap *s,
			   FILE *f)
{
	struct qvl_remote_stats r;
	if (!fs->remote)
		return;
	qvl_remote_get_stats(fs->remote, &r);
	fprintf(f, "\"remote\":{\"url\":");
	json_str(f, qvl_remote_url(fs->remote));
	fprintf(f, ",\"auth_file\":");
	json_str(f, fs->remote_auth ? fs->remote_auth : "");
	fprintf(f, ",\"up\":%s,\"nodes\":%u,\"files\":%" PRIu64
		   ",\"bytes\":%" PRIu64 ",\"fetched\":%" PRIu64
		   ",\"fetched_bytes\":%" PRIu64 ",\"failed\":%" PRIu64
		   ",\"missing\":%" PRIu64 ",\"errors\":%" PRIu64
		   ",\"timeouts\":%" PRIu64 ",\"reconnects\":%" PRIu64
		   ",\"redirects\":%" PRIu64 ",\"copies_dropped\":%" PRIu64 "},",
		r.up ? "true" : "false", r.nodes, s->remote_files,
		s->remote_used, s->tm.remote_fetched, s->tm.remote_bytes,
		s->tm.remote_failed, r.missing, r.errors, r.timeouts,
		r.reconnects, r.redirects, s->tm.remote_dropped);
}
