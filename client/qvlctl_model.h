/*
 * qvlctl_model.h - `qvlctl import` and `qvlctl export`, and what the two
 * share: opening a model file, copying byte ranges through one buffer, the
 * safetensors header writer, the progress line.
 *
 * THE SIDECAR.  An import leaves the model's own header beside the tensors,
 * in DIR/.qvl-model.safetensors or DIR/.qvl-model.gguf: the original
 * header's bytes exactly (everything before the data section: safetensors'
 * length and JSON with __metadata__, GGUF's key/values, tensor order and
 * alignment), or for a sharded safetensors set one header for all shards.
 * It is a valid header of its format with no data, so export reads it with
 * the same parser.  No tensor can be called that: names with a component
 * starting ".qvl-" are refused at import.  Export writes the sidecar's
 * bytes back verbatim when every tensor still has the dtype, shape and size
 * the sidecar gives, which makes an unchanged import export to the original
 * file byte for byte; otherwise it writes a new header from the tensors as
 * they are.
 */
#ifndef QVLCTL_MODEL_H
#define QVLCTL_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"

#define QVLCTL_SIDECAR_ST ".qvl-model.safetensors"
#define QVLCTL_SIDECAR_GGUF ".qvl-model.gguf"
#define QVLCTL_TMP_PREFIX ".qvl-tmp."
#define QVLCTL_COPY_BUF (1u << 20)

/* argv[0] is the command's name; return the exit status (0, 1, 2). */
int qvlctl_import_main(int argc, char **argv);
int qvlctl_export_main(int argc, char **argv);

/*
 * A progress line on stderr: bytes done of the total, rate, ETA, redrawn
 * at most 5 times a second; only when stderr is a terminal and not quiet.
 */
struct qvlctl_progress {
	bool on;
	uint64_t total, done;
	double t0, last;
};
void qvlctl_progress_start(struct qvlctl_progress *p, uint64_t total,
			   bool quiet);
void qvlctl_progress_add(struct qvlctl_progress *p, uint64_t n);
void qvlctl_progress_end(struct qvlctl_progress *p);

/* Set by SIGINT/SIGTERM once qvlctl_catch_signals() ran; copies stop. */
extern volatile int qvlctl_interrupted;
void qvlctl_catch_signals(void);

/* A struct qvl_model_src read callback over a file descriptor (*(int *)arg). */
int qvlctl_fd_read(void *arg, uint64_t off, void *buf, size_t len);

/*
 * qvlctl_model_open() - open @path and parse its header as @format (0:
 * by its first bytes: "GGUF" or else safetensors).  On failure prints
 * "qvlctl: CMD: PATH: offset N: reason" and returns -errno; on success
 * *fd is open on the file.
 */
int qvlctl_model_open(const char *cmd, const char *path, int format,
		      unsigned flags, struct qvl_model **m, int *fd);

/* write(2) all of @len, retrying short writes; 0 or -errno. */
int qvlctl_write_all(int fd, const void *buf, size_t len);

/*
 * qvlctl_copy() - copy @len bytes from @in (at @off, or from its current
 * position when @off is UINT64_MAX) to @out, through @buf of
 * QVLCTL_COPY_BUF bytes.  Returns 0, -EIO when @in ends early, -EINTR
 * when interrupted, or -errno; *@in_err says which side failed.
 */
int qvlctl_copy(int in, uint64_t off, uint64_t len, int out, uint8_t *buf,
		struct qvlctl_progress *p, bool *in_err);

/* Write @n zero bytes to @out. */
int qvlctl_zeros(int out, uint64_t n);

/*
 * qvlctl_st_header() - a safetensors header (the 8-byte length, then JSON
 * padded with spaces to a multiple of 8) for @nt tensors laid out in this
 * order from data offset 0, with @meta (@meta_len bytes of a JSON object,
 * or NULL) as __metadata__.  Sets each tensor's offset (relative to the
 * data section).  Returns 0 with a malloc'd *@out, or -ENOMEM, or -EINVAL
 * when a dtype has no safetensors name.
 */
int qvlctl_st_header(struct qvl_model_tensor *t, size_t nt, const char *meta,
		     size_t meta_len, char **out, size_t *out_len);

/*
 * qvlctl_write_file_at() - write @len bytes to @dirfd/@name through a
 * temporary name and rename; 0 or -errno.
 */
int qvlctl_write_file_at(int dirfd, const char *name, const void *data,
			 size_t len);

#endif /* QVLCTL_MODEL_H */
