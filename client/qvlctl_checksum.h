/*
 * qvlctl_checksum.h - `qvlctl checksum`: the content sum of any file, the
 * value user.qvl.checksum gives inside a mount.
 */
#ifndef QVLCTL_CHECKSUM_H
#define QVLCTL_CHECKSUM_H

/*
 * qvlctl_checksum_main() - argv[0] is "checksum"; the rest: FILE...  Prints
 * "SUM  FILE" per file (16 hex digits, as user.qvl.checksum), reading only
 * the data a filesystem reports with SEEK_DATA/SEEK_HOLE, so a sparse file
 * costs its data.  Returns 0; 1 when a FILE could not be read; 2 for bad
 * usage.
 */
int qvlctl_checksum_main(int argc, char **argv);

#endif /* QVLCTL_CHECKSUM_H */
