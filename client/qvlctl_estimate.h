/*
 * qvlctl_estimate.h - `qvlctl estimate`: how much will my model shrink?
 */
#ifndef QVLCTL_ESTIMATE_H
#define QVLCTL_ESTIMATE_H

/*
 * qvlctl_estimate_main() - argv[0] is "estimate"; the rest:
 *   [--dtype DTYPE] [--policy NAME] [--chunk KIB] FILE...
 * Compresses each file chunk by chunk (default 256 KiB, policy auto, one
 * thread) as DTYPE, or without --dtype as the file's own user.qvl.dtype
 * (bytes, u8, when it has none: what the daemon does), decodes every chunk
 * back and checks it, and prints a line per file ("FILE dtype=D bytes=N
 * stored=N ratio=R ...") and a last line "total ratio=R encode_MBps=E
 * decode_MBps=D" (ratio = compressed / original).
 * Returns 0; 1 when a round trip failed; 2 for bad usage or unreadable
 * files.
 */
int qvlctl_estimate_main(int argc, char **argv);

#endif /* QVLCTL_ESTIMATE_H */
