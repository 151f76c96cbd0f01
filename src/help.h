/* help.c: the usage text, then exit with STATUS. */
#ifndef HELP_H
#define HELP_H

void	usage(int status) __attribute__((noreturn));

#endif /* HELP_H */
