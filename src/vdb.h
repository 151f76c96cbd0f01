/* vdb.c: Gentoo's installed-package database. */
#ifndef VDB_H
#define VDB_H

/* 0 when mail-mta/postfix is installed with USE=ssl under ROOT, else -1. */
int	vdb_check_ssl(const char *root);

#endif /* VDB_H */
