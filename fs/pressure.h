/*
 * pressure.h - the machine's memory pressure shrinks the RAM tier
 * (pressure.c).  start/stop run the watcher thread beside the flusher
 * (bg.c: stop after bg_stop is set and broadcast); start sets ram_min to
 * a quarter of ram= when it was not given.  The stats functions print
 * the "pressure" numbers.
 */
#ifndef QVL_PRESSURE_H
#define QVL_PRESSURE_H

#include <stdio.h>

#include "fs_i.h"

int qvl_pressure_start(struct qvl_fs *fs);
void qvl_pressure_stop(struct qvl_fs *fs);
void qvl_pressure_stats_text(struct qvl_fs *fs, FILE *f);
void qvl_pressure_stats_json(struct qvl_fs *fs, FILE *f);

#endif /* QVL_PRESSURE_H */
