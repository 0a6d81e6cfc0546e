/*
 * qvlctl_ls.h - `qvlctl ls`: a directory of tensors, one line each.
 */
#ifndef QVLCTL_LS_H
#define QVLCTL_LS_H

/*
 * qvlctl_ls_main() - argv[0] is "ls"; the rest: [-l] [PATH...] (default
 * "."). A directory lists its entries (names starting with '.' left out,
 * sorted by name); any other path lists itself.  Per entry: dtype, shape,
 * size, tier split, codec and ratio (stored bytes, RAM and store together,
 * per byte of size), read from the user.qvl.* attributes; "-" for what a
 * file does not have.  -l gives sizes in bytes and adds the stored split.
 * Prints to stdout, errors to stderr.  Returns 0; 1 when a PATH could not
 * be listed; 2 for bad usage.
 */
int qvlctl_ls_main(int argc, char **argv);

#endif /* QVLCTL_LS_H */
